/* fuzz_sn.c - libFuzzer harness for the MQTT-SN 1.2 codec: a differential round trip.
 *
 * Decode the input; when it decodes, encode it again and require that (1) the size function and
 * the encoder agree, (2) the bytes decode to the same fields, (3) the bytes equal the input
 * (every flag bit is kept), except that a 3-byte Length below 256 comes back in the 1-byte
 * form. An encapsulated message's inner message goes through the same check, one level deep. */
#include "sn/mqttsn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_sn: %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool view_eq(struct mqtt_str a, struct mqtt_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool flags_eq(const struct mqttsn_flags *a, const struct mqttsn_flags *b)
{
	return a->dup == b->dup && a->qos == b->qos && a->retain == b->retain &&
	       a->will == b->will && a->clean_session == b->clean_session &&
	       a->topic_id_type == b->topic_id_type;
}

/* Every field of the message's type; views compared by content. */
static bool msg_eq(const struct mqttsn_msg *a, const struct mqttsn_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MQTTSN_ADVERTISE:
		return a->advertise.gw_id == b->advertise.gw_id &&
		       a->advertise.duration == b->advertise.duration;
	case MQTTSN_SEARCHGW:
		return a->searchgw.radius == b->searchgw.radius;
	case MQTTSN_GWINFO:
		return a->gwinfo.gw_id == b->gwinfo.gw_id &&
		       view_eq(a->gwinfo.gw_add, b->gwinfo.gw_add);
	case MQTTSN_CONNECT:
		return flags_eq(&a->connect.flags, &b->connect.flags) &&
		       a->connect.duration == b->connect.duration &&
		       view_eq(a->connect.client_id, b->connect.client_id);
	case MQTTSN_CONNACK:
	case MQTTSN_WILLTOPICRESP:
	case MQTTSN_WILLMSGRESP:
		return a->ret.code == b->ret.code;
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		return a->willtopic.empty == b->willtopic.empty &&
		       flags_eq(&a->willtopic.flags, &b->willtopic.flags) &&
		       view_eq(a->willtopic.topic, b->willtopic.topic);
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLMSGUPD:
		return view_eq(a->willmsg.msg, b->willmsg.msg);
	case MQTTSN_REGISTER:
		return a->reg.topic_id == b->reg.topic_id && a->reg.msg_id == b->reg.msg_id &&
		       view_eq(a->reg.topic_name, b->reg.topic_name);
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		return a->topic_ack.topic_id == b->topic_ack.topic_id &&
		       a->topic_ack.msg_id == b->topic_ack.msg_id &&
		       a->topic_ack.code == b->topic_ack.code;
	case MQTTSN_PUBLISH:
		return flags_eq(&a->publish.flags, &b->publish.flags) &&
		       a->publish.topic_id == b->publish.topic_id &&
		       a->publish.msg_id == b->publish.msg_id &&
		       view_eq(a->publish.data, b->publish.data);
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
	case MQTTSN_UNSUBACK:
		return a->msg_id.msg_id == b->msg_id.msg_id;
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		return flags_eq(&a->subscribe.flags, &b->subscribe.flags) &&
		       a->subscribe.msg_id == b->subscribe.msg_id &&
		       a->subscribe.topic_id == b->subscribe.topic_id &&
		       view_eq(a->subscribe.topic_name, b->subscribe.topic_name);
	case MQTTSN_SUBACK:
		return flags_eq(&a->suback.flags, &b->suback.flags) &&
		       a->suback.topic_id == b->suback.topic_id &&
		       a->suback.msg_id == b->suback.msg_id && a->suback.code == b->suback.code;
	case MQTTSN_PINGREQ:
		return view_eq(a->pingreq.client_id, b->pingreq.client_id);
	case MQTTSN_DISCONNECT:
		return a->disconnect.has_duration == b->disconnect.has_duration &&
		       a->disconnect.duration == b->disconnect.duration;
	case MQTTSN_ENCAPSULATED:
		return a->encap.ctrl == b->encap.ctrl &&
		       view_eq(a->encap.node_id, b->encap.node_id) &&
		       view_eq(a->encap.inner, b->encap.inner);
	default: /* WILLTOPICREQ, WILLMSGREQ, PINGRESP */
		return true;
	}
}

/* The round trip of one decoded message `m` taken from d[0..len). */
static void check_round_trip(const uint8_t *d, size_t len, const struct mqttsn_msg *m)
{
	static uint8_t out[65535 + 256];
	struct mqttsn_msg again;

	long size = mqttsn_encoded_size(m);
	REQUIRE(size > 0 && (size_t)size <= sizeof(out));
	REQUIRE(mqttsn_encode(m, out, (size_t)size - 1) == -ENOBUFS);
	REQUIRE(mqttsn_encode(m, out, sizeof(out)) == size);
	REQUIRE(mqttsn_decode(out, (size_t)size, &again) == 0);
	REQUIRE(msg_eq(m, &again));

	/* Byte for byte, but for a 3-byte Length whose message fits the 1-byte form: the same
	 * message is then 2 bytes shorter, so inputs up to 257 bytes shrink (§5.2.1). */
	if (d[0] == MQTTSN_LEN3_MARK && len - 2 <= 255) {
		REQUIRE((size_t)size == len - 2);
		REQUIRE(out[0] == size && memcmp(out + 1, d + 3, len - 3) == 0);
	} else {
		REQUIRE((size_t)size == len && memcmp(out, d, len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqttsn_msg m, inner;

	int err = mqttsn_decode(data, size, &m);
	REQUIRE(err == 0 || err == -EBADMSG || err == -EPROTONOSUPPORT || err == -ENOTSUP);
	if (err)
		return 0;
	check_round_trip(data, size, &m);
	if (m.type != MQTTSN_ENCAPSULATED)
		return 0;

	err = mqttsn_decode_inner(&m.encap, &inner);
	REQUIRE(err == 0 || err == -EBADMSG || err == -EPROTONOSUPPORT || err == -ENOTSUP);
	if (err == 0) {
		REQUIRE(inner.type != MQTTSN_ENCAPSULATED);
		check_round_trip(m.encap.inner.p, m.encap.inner.len, &inner);
	}
	return 0;
}
