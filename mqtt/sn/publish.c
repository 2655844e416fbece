/* publish.c - MQTT-SN topic registration and publishing: REGISTER, REGACK, PUBLISH, PUBACK,
 * PUBREC, PUBREL, PUBCOMP (MQTT-SN 1.2 §5.4.10-14). */
#include "sncodec.h"

#include <errno.h>

/* §5.4.12: Flags, TopicId, MsgId, Data. */
static int publish_decode(struct mqtt_reader *r, struct mqttsn_publish *p)
{
	uint8_t flags;
	int err;

	err = mqtt_read_u8(r, &flags);
	if (!err)
		err = mqtt_read_u16(r, &p->topic_id);
	if (!err)
		err = mqtt_read_u16(r, &p->msg_id);
	if (err)
		return err;
	mqttsn_flags_decode(flags, &p->flags);
	if (p->flags.topic_id_type > MQTTSN_TOPIC_SHORT)
		return -EBADMSG; /* §5.3.4: TopicIdType 0b11 is reserved */
	mqttsn_read_rest(r, &p->data);
	return 0;
}

/* §5.4.11, §5.4.13: TopicId, MsgId, ReturnCode. */
static int topic_ack_decode(struct mqtt_reader *r, struct mqttsn_topic_ack *a)
{
	int err = mqtt_read_u16(r, &a->topic_id);
	if (!err)
		err = mqtt_read_u16(r, &a->msg_id);
	if (!err)
		err = mqtt_read_u8(r, &a->code);
	return err;
}

int mqttsn_publish_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out)
{
	int err;

	switch (type) {
	case MQTTSN_REGISTER: /* §5.4.10: TopicId, MsgId, TopicName */
		err = mqtt_read_u16(r, &out->reg.topic_id);
		if (!err)
			err = mqtt_read_u16(r, &out->reg.msg_id);
		if (!err)
			mqttsn_read_rest(r, &out->reg.topic_name);
		return err;
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		return topic_ack_decode(r, &out->topic_ack);
	case MQTTSN_PUBLISH:
		return publish_decode(r, &out->publish);
	case MQTTSN_PUBREC: /* §5.4.14: MsgId */
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
		return mqtt_read_u16(r, &out->msg_id.msg_id);
	default:
		return -ENOTSUP;
	}
}

long mqttsn_publish_body_size(const struct mqttsn_msg *m)
{
	uint8_t flags;

	switch (m->type) {
	case MQTTSN_REGISTER:
		if (!mqttsn_view_ok(m->reg.topic_name))
			return -EINVAL;
		return 4 + (long)m->reg.topic_name.len;
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		return 5;
	case MQTTSN_PUBLISH:
		if (mqttsn_flags_encode(&m->publish.flags, &flags) < 0 ||
		    m->publish.flags.topic_id_type > MQTTSN_TOPIC_SHORT ||
		    !mqttsn_view_ok(m->publish.data))
			return -EINVAL;
		return 5 + (long)m->publish.data.len;
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
		return 2;
	default:
		return -EINVAL;
	}
}

void mqttsn_publish_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m)
{
	uint8_t flags = 0;

	switch (m->type) {
	case MQTTSN_REGISTER:
		mqtt_write_u16(w, m->reg.topic_id);
		mqtt_write_u16(w, m->reg.msg_id);
		mqtt_write_bytes(w, m->reg.topic_name.p, m->reg.topic_name.len);
		break;
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		mqtt_write_u16(w, m->topic_ack.topic_id);
		mqtt_write_u16(w, m->topic_ack.msg_id);
		mqtt_write_u8(w, m->topic_ack.code);
		break;
	case MQTTSN_PUBLISH:
		(void)mqttsn_flags_encode(&m->publish.flags, &flags); /* checked by the size */
		mqtt_write_u8(w, flags);
		mqtt_write_u16(w, m->publish.topic_id);
		mqtt_write_u16(w, m->publish.msg_id);
		mqtt_write_bytes(w, m->publish.data.p, m->publish.data.len);
		break;
	default: /* PUBREC, PUBREL, PUBCOMP */
		mqtt_write_u16(w, m->msg_id.msg_id);
		break;
	}
}
