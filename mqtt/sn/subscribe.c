/* subscribe.c - MQTT-SN subscriptions: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK
 * (MQTT-SN 1.2 §5.4.15-18). */
#include "sncodec.h"

#include <errno.h>

/* §5.4.15, §5.4.17: Flags, MsgId, then TopicName or TopicId as TopicIdType says. */
static int subscribe_decode(struct mqtt_reader *r, struct mqttsn_subscribe *s)
{
	uint8_t flags;
	int err;

	err = mqtt_read_u8(r, &flags);
	if (!err)
		err = mqtt_read_u16(r, &s->msg_id);
	if (err)
		return err;
	mqttsn_flags_decode(flags, &s->flags);
	switch (s->flags.topic_id_type) {
	case MQTTSN_TOPIC_NORMAL: /* a topic name or filter, the rest of the message */
		mqttsn_read_rest(r, &s->topic_name);
		return 0;
	case MQTTSN_TOPIC_PREDEFINED:
	case MQTTSN_TOPIC_SHORT: /* exactly 2 octets; header.c rejects more */
		return mqtt_read_u16(r, &s->topic_id);
	default:
		return -EBADMSG; /* §5.3.4: TopicIdType 0b11 is reserved */
	}
}

/* §5.4.16: Flags, TopicId, MsgId, ReturnCode. */
static int suback_decode(struct mqtt_reader *r, struct mqttsn_suback *s)
{
	uint8_t flags;
	int err;

	err = mqtt_read_u8(r, &flags);
	if (!err)
		err = mqtt_read_u16(r, &s->topic_id);
	if (!err)
		err = mqtt_read_u16(r, &s->msg_id);
	if (!err)
		err = mqtt_read_u8(r, &s->code);
	if (!err)
		mqttsn_flags_decode(flags, &s->flags);
	return err;
}

int mqttsn_subscribe_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out)
{
	switch (type) {
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		return subscribe_decode(r, &out->subscribe);
	case MQTTSN_SUBACK:
		return suback_decode(r, &out->suback);
	case MQTTSN_UNSUBACK: /* §5.4.18: MsgId */
		return mqtt_read_u16(r, &out->msg_id.msg_id);
	default:
		return -ENOTSUP;
	}
}

static long subscribe_body_size(const struct mqttsn_subscribe *s)
{
	uint8_t flags;

	if (mqttsn_flags_encode(&s->flags, &flags) < 0)
		return -EINVAL;
	switch (s->flags.topic_id_type) {
	case MQTTSN_TOPIC_NORMAL:
		if (!mqttsn_view_ok(s->topic_name))
			return -EINVAL;
		return 3 + (long)s->topic_name.len;
	case MQTTSN_TOPIC_PREDEFINED:
	case MQTTSN_TOPIC_SHORT:
		return 5;
	default:
		return -EINVAL; /* §5.3.4: reserved */
	}
}

long mqttsn_subscribe_body_size(const struct mqttsn_msg *m)
{
	uint8_t flags;

	switch (m->type) {
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		return subscribe_body_size(&m->subscribe);
	case MQTTSN_SUBACK:
		if (mqttsn_flags_encode(&m->suback.flags, &flags) < 0)
			return -EINVAL;
		return 6;
	case MQTTSN_UNSUBACK:
		return 2;
	default:
		return -EINVAL;
	}
}

void mqttsn_subscribe_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m)
{
	uint8_t flags = 0;

	switch (m->type) {
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		(void)mqttsn_flags_encode(&m->subscribe.flags, &flags); /* checked by the size */
		mqtt_write_u8(w, flags);
		mqtt_write_u16(w, m->subscribe.msg_id);
		if (m->subscribe.flags.topic_id_type == MQTTSN_TOPIC_NORMAL)
			mqtt_write_bytes(w, m->subscribe.topic_name.p, m->subscribe.topic_name.len);
		else
			mqtt_write_u16(w, m->subscribe.topic_id);
		break;
	case MQTTSN_SUBACK:
		(void)mqttsn_flags_encode(&m->suback.flags, &flags);
		mqtt_write_u8(w, flags);
		mqtt_write_u16(w, m->suback.topic_id);
		mqtt_write_u16(w, m->suback.msg_id);
		mqtt_write_u8(w, m->suback.code);
		break;
	default: /* UNSUBACK */
		mqtt_write_u16(w, m->msg_id.msg_id);
		break;
	}
}
