/* header.c - MQTT-SN message framing: Length and MsgType, Flags, dispatch to the families. */
#include "sncodec.h"

#include <errno.h>
#include <string.h>

/* Body codecs of one message family. */
struct sn_family {
	int (*decode)(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out);
	long (*body_size)(const struct mqttsn_msg *m);
	void (*body_write)(struct mqtt_writer *w, const struct mqttsn_msg *m);
};

static const struct sn_family sn_control = {mqttsn_control_decode, mqttsn_control_body_size,
                                            mqttsn_control_body_write};
static const struct sn_family sn_connect = {mqttsn_connect_decode, mqttsn_connect_body_size,
                                            mqttsn_connect_body_write};
static const struct sn_family sn_publish = {mqttsn_publish_decode, mqttsn_publish_body_size,
                                            mqttsn_publish_body_write};
static const struct sn_family sn_subscribe = {mqttsn_subscribe_decode, mqttsn_subscribe_body_size,
                                              mqttsn_subscribe_body_write};

/* The family of a MsgType (§5.2.2 Table 3), NULL for reserved values and for 0xFE, which
 * frames itself. */
static const struct sn_family *family_of(uint8_t type)
{
	switch (type) {
	case MQTTSN_ADVERTISE:
	case MQTTSN_SEARCHGW:
	case MQTTSN_GWINFO:
	case MQTTSN_PINGREQ:
	case MQTTSN_PINGRESP:
	case MQTTSN_DISCONNECT:
		return &sn_control;
	case MQTTSN_CONNECT:
	case MQTTSN_CONNACK:
	case MQTTSN_WILLTOPICREQ:
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLMSGREQ:
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLTOPICUPD:
	case MQTTSN_WILLTOPICRESP:
	case MQTTSN_WILLMSGUPD:
	case MQTTSN_WILLMSGRESP:
		return &sn_connect;
	case MQTTSN_REGISTER:
	case MQTTSN_REGACK:
	case MQTTSN_PUBLISH:
	case MQTTSN_PUBACK:
	case MQTTSN_PUBCOMP:
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
		return &sn_publish;
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_SUBACK:
	case MQTTSN_UNSUBSCRIBE:
	case MQTTSN_UNSUBACK:
		return &sn_subscribe;
	default:
		return NULL;
	}
}

void mqttsn_flags_decode(uint8_t b, struct mqttsn_flags *f)
{
	uint8_t qos = (b >> 5) & 0x03;

	/* §5.3.4 Table 4: DUP 7, QoS 6..5 (0b11 is QoS -1), Retain 4, Will 3, CleanSession 2,
	 * TopicIdType 1..0. */
	f->dup = (b & 0x80) != 0;
	f->qos = qos == 3 ? MQTTSN_QOS_M1 : (int8_t)qos;
	f->retain = (b & 0x10) != 0;
	f->will = (b & 0x08) != 0;
	f->clean_session = (b & 0x04) != 0;
	f->topic_id_type = b & 0x03;
}

int mqttsn_flags_encode(const struct mqttsn_flags *f, uint8_t *b)
{
	uint8_t qos;

	if (f->qos == MQTTSN_QOS_M1)
		qos = 3;
	else if (f->qos >= 0 && f->qos <= 2)
		qos = (uint8_t)f->qos;
	else
		return -EINVAL;
	if (f->topic_id_type > 3)
		return -EINVAL;
	*b = (uint8_t)((f->dup ? 0x80 : 0) | (qos << 5) | (f->retain ? 0x10 : 0) |
	               (f->will ? 0x08 : 0) | (f->clean_session ? 0x04 : 0) | f->topic_id_type);
	return 0;
}

void mqttsn_read_rest(struct mqtt_reader *r, struct mqtt_str *out)
{
	out->p = r->p + r->off;
	out->len = (uint16_t)mqtt_reader_left(r);
	r->off = r->len;
}

bool mqttsn_view_ok(struct mqtt_str s)
{
	return s.p != NULL || s.len == 0;
}

int mqttsn_decode(const uint8_t *d, size_t len, struct mqttsn_msg *out)
{
	size_t hdr, length;
	uint8_t type;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return -EBADMSG; /* §5.2: Length and MsgType at least */
	if (d[0] == MQTTSN_LEN3_MARK) {
		/* §5.2.1: 0x01 then a 2-octet length. A value below 256 is accepted (the spec does
		 * not forbid it) and re-encoded in the 1-byte form. */
		if (len < 4)
			return -EBADMSG;
		length = ((size_t)d[1] << 8) | d[2];
		type = d[3];
		hdr = 4;
		if (type == MQTTSN_ENCAPSULATED)
			return -EBADMSG; /* §5.5: the encapsulation Length is one octet */
	} else {
		length = d[0];
		type = d[1];
		hdr = 2;
		if (type == MQTTSN_ENCAPSULATED) {
			out->type = type;
			return mqttsn_encap_decode(d, len, &out->encap);
		}
	}
	if (length != len)
		return -EBADMSG; /* §5.2.1: Length is the whole message, this datagram */

	const struct sn_family *fam = family_of(type);
	if (!fam)
		return -ENOTSUP; /* §5.2.2 Table 3: reserved MsgType */

	struct mqtt_reader r;
	mqtt_reader_init(&r, d + hdr, len - hdr);
	out->type = type;
	int err = fam->decode(type, &r, out);
	if (err == 0 && mqtt_reader_left(&r) != 0)
		err = -EBADMSG; /* trailing bytes after the last field */
	return err;
}

int mqttsn_decode_inner(const struct mqttsn_encap *e, struct mqttsn_msg *out)
{
	/* §5.5: a forwarder encapsulates a client's message once; a nested encapsulation is not
	 * defined, so it is refused instead of recursing. */
	if (e->inner.len >= 2 && e->inner.p[0] != MQTTSN_LEN3_MARK &&
	    e->inner.p[1] == MQTTSN_ENCAPSULATED) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return mqttsn_decode(e->inner.p, e->inner.len, out);
}

long mqttsn_encoded_size(const struct mqttsn_msg *m)
{
	if (m->type == MQTTSN_ENCAPSULATED)
		return mqttsn_encap_size(&m->encap);

	const struct sn_family *fam = family_of(m->type);
	if (!fam)
		return -EINVAL;
	long body = fam->body_size(m);
	if (body < 0)
		return body;
	/* §5.2.1: 1-octet Length up to 255, else 0x01 + 2 octets up to 65535. */
	if (body + 2 <= 255)
		return body + 2;
	if (body + 4 <= (long)MQTTSN_MAX_LEN)
		return body + 4;
	return -EINVAL;
}

long mqttsn_encode(const struct mqttsn_msg *m, uint8_t *out, size_t cap)
{
	long total = mqttsn_encoded_size(m);
	if (total < 0)
		return total;
	if ((size_t)total > cap)
		return -ENOBUFS;

	struct mqtt_writer w;
	mqtt_writer_init(&w, out, (size_t)total);
	if (m->type == MQTTSN_ENCAPSULATED) {
		mqttsn_encap_write(&w, &m->encap);
		return total;
	}
	if (total <= 255) {
		mqtt_write_u8(&w, (uint8_t)total);
	} else {
		mqtt_write_u8(&w, MQTTSN_LEN3_MARK);
		mqtt_write_u16(&w, (uint16_t)total);
	}
	mqtt_write_u8(&w, m->type);
	family_of(m->type)->body_write(&w, m);
	return total;
}

const char *mqttsn_type_name(uint8_t type)
{
	static const char *const names[] = {
	        [MQTTSN_ADVERTISE] = "ADVERTISE",
	        [MQTTSN_SEARCHGW] = "SEARCHGW",
	        [MQTTSN_GWINFO] = "GWINFO",
	        [MQTTSN_CONNECT] = "CONNECT",
	        [MQTTSN_CONNACK] = "CONNACK",
	        [MQTTSN_WILLTOPICREQ] = "WILLTOPICREQ",
	        [MQTTSN_WILLTOPIC] = "WILLTOPIC",
	        [MQTTSN_WILLMSGREQ] = "WILLMSGREQ",
	        [MQTTSN_WILLMSG] = "WILLMSG",
	        [MQTTSN_REGISTER] = "REGISTER",
	        [MQTTSN_REGACK] = "REGACK",
	        [MQTTSN_PUBLISH] = "PUBLISH",
	        [MQTTSN_PUBACK] = "PUBACK",
	        [MQTTSN_PUBCOMP] = "PUBCOMP",
	        [MQTTSN_PUBREC] = "PUBREC",
	        [MQTTSN_PUBREL] = "PUBREL",
	        [MQTTSN_SUBSCRIBE] = "SUBSCRIBE",
	        [MQTTSN_SUBACK] = "SUBACK",
	        [MQTTSN_UNSUBSCRIBE] = "UNSUBSCRIBE",
	        [MQTTSN_UNSUBACK] = "UNSUBACK",
	        [MQTTSN_PINGREQ] = "PINGREQ",
	        [MQTTSN_PINGRESP] = "PINGRESP",
	        [MQTTSN_DISCONNECT] = "DISCONNECT",
	        [MQTTSN_WILLTOPICUPD] = "WILLTOPICUPD",
	        [MQTTSN_WILLTOPICRESP] = "WILLTOPICRESP",
	        [MQTTSN_WILLMSGUPD] = "WILLMSGUPD",
	        [MQTTSN_WILLMSGRESP] = "WILLMSGRESP",
	};

	if (type == MQTTSN_ENCAPSULATED)
		return "ENCAPSULATED";
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "reserved";
}
