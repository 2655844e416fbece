/* fuzz_mqtt.c - libFuzzer harness: decode one packet, re-encode it, decode again, compare.
 *
 * Input: [version byte] [packet]. The version is 3 + byte % 3 (3.1, 3.1.1 or 5.0). When the
 * packet decodes, mqtt_encoded_size() and mqtt_encode() must succeed and agree, the encoding must
 * decode to the same fields (not necessarily the same bytes: the encoder may choose shorter
 * forms), and encoding that second decode must give byte-for-byte the first encoding. Any
 * mismatch aborts with a message naming the field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_mqtt: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool str_eq(struct mqtt_str a, struct mqtt_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void props_eq(const struct mqtt_props *a, const struct mqtt_props *b)
{
	REQUIRE(a->present == b->present);
	REQUIRE(a->payload_format == b->payload_format);
	REQUIRE(a->maximum_qos == b->maximum_qos);
	REQUIRE(a->receive_maximum == b->receive_maximum);
	REQUIRE(a->topic_alias == b->topic_alias);
	REQUIRE(a->topic_alias_maximum == b->topic_alias_maximum);
	REQUIRE(a->message_expiry == b->message_expiry);
	REQUIRE(a->session_expiry == b->session_expiry);
	REQUIRE(a->will_delay == b->will_delay);
	REQUIRE(a->maximum_packet_size == b->maximum_packet_size);
	REQUIRE(str_eq(a->content_type, b->content_type));
	REQUIRE(str_eq(a->response_topic, b->response_topic));
	REQUIRE(str_eq(a->correlation_data, b->correlation_data));
	REQUIRE(str_eq(a->auth_method, b->auth_method));
	REQUIRE(str_eq(a->auth_data, b->auth_data));
	REQUIRE(str_eq(a->reason_string, b->reason_string));
	REQUIRE(a->user_count == b->user_count);
	REQUIRE(a->sub_id_count == b->sub_id_count);

	uint32_t ca = 0, cb = 0;
	struct mqtt_user_prop ua, ub;
	int ra, rb;
	while ((ra = mqtt_props_next_user(a, &ca, &ua)) == 1) {
		rb = mqtt_props_next_user(b, &cb, &ub);
		REQUIRE(rb == 1);
		REQUIRE(str_eq(ua.key, ub.key) && str_eq(ua.value, ub.value));
	}
	REQUIRE(ra == 0 && mqtt_props_next_user(b, &cb, &ub) == 0);

	uint32_t ia, ib;
	ca = cb = 0;
	while ((ra = mqtt_props_next_sub_id(a, &ca, &ia)) == 1) {
		REQUIRE(mqtt_props_next_sub_id(b, &cb, &ib) == 1);
		REQUIRE(ia == ib);
	}
	REQUIRE(ra == 0 && mqtt_props_next_sub_id(b, &cb, &ib) == 0);
}

static void connect_eq(const struct mqtt_connect *a, const struct mqtt_connect *b)
{
	REQUIRE(a->version == b->version);
	REQUIRE(a->clean_start == b->clean_start);
	REQUIRE(a->keep_alive == b->keep_alive);
	REQUIRE(str_eq(a->client_id, b->client_id));
	REQUIRE(a->has_will == b->has_will);
	if (a->has_will) {
		REQUIRE(str_eq(a->will.topic, b->will.topic));
		REQUIRE(str_eq(a->will.payload, b->will.payload));
		REQUIRE(a->will.qos == b->will.qos);
		REQUIRE(a->will.retain == b->will.retain);
		props_eq(&a->will.props, &b->will.props);
	}
	REQUIRE(a->has_username == b->has_username);
	REQUIRE(!a->has_username || str_eq(a->username, b->username));
	REQUIRE(a->has_password == b->has_password);
	REQUIRE(!a->has_password || str_eq(a->password, b->password));
	props_eq(&a->props, &b->props);
}

static void publish_eq(const struct mqtt_publish *a, const struct mqtt_publish *b)
{
	REQUIRE(a->qos == b->qos);
	REQUIRE(a->dup == b->dup);
	REQUIRE(a->retain == b->retain);
	REQUIRE(str_eq(a->topic, b->topic));
	REQUIRE(a->qos == 0 || a->packet_id == b->packet_id);
	REQUIRE(a->payload_len == b->payload_len);
	REQUIRE(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
	props_eq(&a->props, &b->props);
}

static void subscribe_eq(const struct mqtt_subscribe *a, const struct mqtt_subscribe *b)
{
	uint32_t ca = 0, cb = 0;
	struct mqtt_subscription sa, sb;

	REQUIRE(a->packet_id == b->packet_id);
	REQUIRE(a->count == b->count);
	props_eq(&a->props, &b->props);
	while (mqtt_subscribe_next(a, &ca, &sa) == 1) {
		REQUIRE(mqtt_subscribe_next(b, &cb, &sb) == 1);
		REQUIRE(str_eq(sa.filter, sb.filter));
		REQUIRE(sa.qos == sb.qos && sa.no_local == sb.no_local);
		REQUIRE(sa.retain_as_published == sb.retain_as_published);
		REQUIRE(sa.retain_handling == sb.retain_handling);
	}
	REQUIRE(mqtt_subscribe_next(b, &cb, &sb) == 0);
}

static void unsubscribe_eq(const struct mqtt_unsubscribe *a, const struct mqtt_unsubscribe *b)
{
	uint32_t ca = 0, cb = 0;
	struct mqtt_str fa, fb;

	REQUIRE(a->packet_id == b->packet_id);
	REQUIRE(a->count == b->count);
	props_eq(&a->props, &b->props);
	while (mqtt_unsubscribe_next(a, &ca, &fa) == 1) {
		REQUIRE(mqtt_unsubscribe_next(b, &cb, &fb) == 1);
		REQUIRE(str_eq(fa, fb));
	}
	REQUIRE(mqtt_unsubscribe_next(b, &cb, &fb) == 0);
}

static void packet_eq(const struct mqtt_packet *a, const struct mqtt_packet *b)
{
	REQUIRE(a->type == b->type);
	switch (a->type) {
	case MQTT_CONNECT:
		connect_eq(&a->connect, &b->connect);
		break;
	case MQTT_CONNACK:
		REQUIRE(a->connack.session_present == b->connack.session_present);
		REQUIRE(a->connack.reason == b->connack.reason);
		props_eq(&a->connack.props, &b->connack.props);
		break;
	case MQTT_PUBLISH:
		publish_eq(&a->publish, &b->publish);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		REQUIRE(a->ack.packet_id == b->ack.packet_id);
		REQUIRE(a->ack.reason == b->ack.reason);
		props_eq(&a->ack.props, &b->ack.props);
		break;
	case MQTT_SUBSCRIBE:
		subscribe_eq(&a->subscribe, &b->subscribe);
		break;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		REQUIRE(a->suback.packet_id == b->suback.packet_id);
		REQUIRE(a->suback.count == b->suback.count);
		REQUIRE(a->suback.count == 0 ||
		        memcmp(a->suback.reasons, b->suback.reasons, a->suback.count) == 0);
		props_eq(&a->suback.props, &b->suback.props);
		break;
	case MQTT_UNSUBSCRIBE:
		unsubscribe_eq(&a->unsubscribe, &b->unsubscribe);
		break;
	case MQTT_DISCONNECT:
	case MQTT_AUTH: /* same struct mqtt_reason_only in the union */
		REQUIRE(a->disconnect.reason == b->disconnect.reason);
		props_eq(&a->disconnect.props, &b->disconnect.props);
		break;
	default: /* PINGREQ, PINGRESP */
		break;
	}
}

/* Encodes pkt into a buffer of exactly mqtt_encoded_size() bytes; returns it (owned) and its
 * length in *len. Aborts when the encoder rejects a packet its own decoder accepted. */
static uint8_t *encode_exact(const struct mqtt_packet *pkt, uint8_t version, size_t *len)
{
	long size = mqtt_encoded_size(pkt, version);
	if (size < 0)
		fprintf(stderr, "fuzz_mqtt: encoded_size(%s) = %ld\n", mqtt_type_name(pkt->type),
		        size);
	REQUIRE(size > 0);
	uint8_t *out = malloc((size_t)size);
	REQUIRE(out != NULL);
	long n = mqtt_encode(pkt, version, out, (size_t)size);
	REQUIRE(n == size);
	*len = (size_t)n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqtt_packet a, b, c;
	uint8_t reason = 0;

	if (size < 1)
		return 0;
	uint8_t version = (uint8_t)(MQTT_V31 + data[0] % 3);
	data++;
	size--;

	memset(&a, 0, sizeof(a));
	if (mqtt_decode(data, size, version, &a, &reason) < 0) {
		(void)mqtt_type_name(reason); /* the reason path must not crash either */
		(void)mqtt_reason_name(reason);
		return 0;
	}
	size_t len1, len2;
	uint8_t *enc1 = encode_exact(&a, version, &len1);

	memset(&b, 0, sizeof(b));
	int err = mqtt_decode(enc1, len1, version, &b, &reason);
	if (err < 0)
		fprintf(stderr, "fuzz_mqtt: re-decode of %s failed: %d\n", mqtt_type_name(a.type),
		        err);
	REQUIRE(err == 0);
	packet_eq(&a, &b);

	/* Encoding is a fixed point after one round. */
	uint8_t *enc2 = encode_exact(&b, version, &len2);
	REQUIRE(len1 == len2 && memcmp(enc1, enc2, len1) == 0);
	memset(&c, 0, sizeof(c));
	REQUIRE(mqtt_decode(enc2, len2, version, &c, &reason) == 0);
	packet_eq(&a, &c);

	/* One byte short must be refused, not overflowed. */
	REQUIRE(mqtt_encode(&a, version, enc2, len2 - 1) == -ENOBUFS);
	free(enc2);
	free(enc1);
	return 0;
}
