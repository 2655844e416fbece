/* connect.c - MQTT-SN connection setup and the Will: CONNECT, CONNACK, WILLTOPICREQ, WILLTOPIC,
 * WILLMSGREQ, WILLMSG, WILLTOPICUPD, WILLTOPICRESP, WILLMSGUPD, WILLMSGRESP
 * (MQTT-SN 1.2 §5.4.4-9, §5.4.22-25). */
#include "sncodec.h"

#include <errno.h>

/* §5.4.4: Flags, ProtocolId, Duration, ClientId. */
static int connect_decode(struct mqtt_reader *r, struct mqttsn_connect *c)
{
	uint8_t flags, proto;
	int err;

	err = mqtt_read_u8(r, &flags);
	if (!err)
		err = mqtt_read_u8(r, &proto);
	if (!err)
		err = mqtt_read_u16(r, &c->duration);
	if (err)
		return err;
	if (proto != MQTTSN_PROTOCOL_ID)
		return -EPROTONOSUPPORT; /* §5.3.8: 0x01 is the only ProtocolId */
	mqttsn_flags_decode(flags, &c->flags);
	/* §5.3.1 asks for 1..23 characters; the broker applies that policy. */
	mqttsn_read_rest(r, &c->client_id);
	return 0;
}

/* §5.4.7, §5.4.22: Flags, WillTopic; or nothing at all (the 2-octet "empty" form). */
static int willtopic_decode(struct mqtt_reader *r, struct mqttsn_willtopic *t)
{
	uint8_t flags;

	if (mqtt_reader_left(r) == 0) {
		t->empty = true;
		return 0;
	}
	int err = mqtt_read_u8(r, &flags);
	if (err)
		return err;
	mqttsn_flags_decode(flags, &t->flags);
	mqttsn_read_rest(r, &t->topic);
	return 0;
}

int mqttsn_connect_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out)
{
	switch (type) {
	case MQTTSN_CONNECT:
		return connect_decode(r, &out->connect);
	case MQTTSN_CONNACK:       /* §5.4.5 */
	case MQTTSN_WILLTOPICRESP: /* §5.4.24 */
	case MQTTSN_WILLMSGRESP:   /* §5.4.25 */
		return mqtt_read_u8(r, &out->ret.code);
	case MQTTSN_WILLTOPICREQ: /* §5.4.6: no body */
	case MQTTSN_WILLMSGREQ:   /* §5.4.8: no body */
		return 0;
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		return willtopic_decode(r, &out->willtopic);
	case MQTTSN_WILLMSG:    /* §5.4.9: WillMsg */
	case MQTTSN_WILLMSGUPD: /* §5.4.23: WillMsg */
		mqttsn_read_rest(r, &out->willmsg.msg);
		return 0;
	default:
		return -ENOTSUP;
	}
}

long mqttsn_connect_body_size(const struct mqttsn_msg *m)
{
	uint8_t flags;

	switch (m->type) {
	case MQTTSN_CONNECT:
		if (mqttsn_flags_encode(&m->connect.flags, &flags) < 0 ||
		    !mqttsn_view_ok(m->connect.client_id))
			return -EINVAL;
		return 4 + (long)m->connect.client_id.len;
	case MQTTSN_CONNACK:
	case MQTTSN_WILLTOPICRESP:
	case MQTTSN_WILLMSGRESP:
		return 1;
	case MQTTSN_WILLTOPICREQ:
	case MQTTSN_WILLMSGREQ:
		return 0;
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		if (m->willtopic.empty)
			return 0;
		if (mqttsn_flags_encode(&m->willtopic.flags, &flags) < 0 ||
		    !mqttsn_view_ok(m->willtopic.topic))
			return -EINVAL;
		return 1 + (long)m->willtopic.topic.len;
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLMSGUPD:
		if (!mqttsn_view_ok(m->willmsg.msg))
			return -EINVAL;
		return m->willmsg.msg.len;
	default:
		return -EINVAL;
	}
}

void mqttsn_connect_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m)
{
	uint8_t flags = 0;

	switch (m->type) {
	case MQTTSN_CONNECT:
		(void)mqttsn_flags_encode(&m->connect.flags, &flags); /* checked by the size */
		mqtt_write_u8(w, flags);
		mqtt_write_u8(w, MQTTSN_PROTOCOL_ID);
		mqtt_write_u16(w, m->connect.duration);
		mqtt_write_bytes(w, m->connect.client_id.p, m->connect.client_id.len);
		break;
	case MQTTSN_CONNACK:
	case MQTTSN_WILLTOPICRESP:
	case MQTTSN_WILLMSGRESP:
		mqtt_write_u8(w, m->ret.code);
		break;
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		if (m->willtopic.empty)
			break;
		(void)mqttsn_flags_encode(&m->willtopic.flags, &flags);
		mqtt_write_u8(w, flags);
		mqtt_write_bytes(w, m->willtopic.topic.p, m->willtopic.topic.len);
		break;
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLMSGUPD:
		mqtt_write_bytes(w, m->willmsg.msg.p, m->willmsg.msg.len);
		break;
	default: /* WILLTOPICREQ, WILLMSGREQ: no body */
		break;
	}
}
