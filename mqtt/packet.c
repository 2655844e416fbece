/* packet.c - whole MQTT packets: the fixed header, its flag rules, dispatch to the per-family
 * codecs, and the one place where a decoder errno becomes a reason code. */
#include "codec.h"

#include <errno.h>

/* Required low nibble of the fixed header for every type but PUBLISH [MQTT-2.2.2-1, -2]. */
static const uint8_t fixed_flags[16] = {
        [MQTT_PUBREL] = 0x2,      /* [MQTT-3.6.1-1] */
        [MQTT_SUBSCRIBE] = 0x2,   /* [MQTT-3.8.1-1] */
        [MQTT_UNSUBSCRIBE] = 0x2, /* [MQTT-3.10.1-1] */
};

static bool version_known(uint8_t version)
{
	return version == MQTT_V31 || version == MQTT_V311 || version == MQTT_V5;
}

static int check_flags(uint8_t type, uint8_t flags, uint8_t version)
{
	if (type == MQTT_PUBLISH)
		return 0; /* DUP/QoS/RETAIN: checked by the PUBLISH decoder */
	if (flags == fixed_flags[type])
		return 0;
	/* MQTT 3.1 sent PUBREL/SUBSCRIBE/UNSUBSCRIBE as QoS 1 messages that could carry DUP on a
	 * retry; 3.1.1 made the nibble fixed. Accept the 3.1 form from 3.1 clients only. */
	if (version == MQTT_V31 && fixed_flags[type] == 0x2 && flags == 0xA)
		return 0;
	return -EBADMSG;
}

static int decode_body(struct mqtt_reader *r, uint8_t type, uint8_t flags, uint8_t version,
                       struct mqtt_packet *out)
{
	switch (type) {
	case MQTT_CONNECT:
		return mqtt_connect_decode(r, &out->connect);
	case MQTT_CONNACK:
		return mqtt_connack_decode(r, version, &out->connack);
	case MQTT_PUBLISH:
		return mqtt_publish_decode(r, flags, version, &out->publish);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return mqtt_ack_decode(r, type, version, &out->ack);
	case MQTT_SUBSCRIBE:
		return mqtt_subscribe_decode(r, version, &out->subscribe);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return mqtt_suback_decode(r, type, version, &out->suback);
	case MQTT_UNSUBSCRIBE:
		return mqtt_unsubscribe_decode(r, version, &out->unsubscribe);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		/* No variable header, no payload [MQTT 3.1.1 §3.12, §3.13]. */
		return mqtt_reader_left(r) == 0 ? 0 : -EBADMSG;
	case MQTT_DISCONNECT:
		return mqtt_reason_only_decode(r, type, version, &out->disconnect);
	case MQTT_AUTH:
		return mqtt_reason_only_decode(r, type, version, &out->auth);
	default:
		return -EBADMSG;
	}
}

static int decode(const uint8_t *buf, size_t len, uint8_t version, struct mqtt_packet *out)
{
	struct mqtt_reader r;
	uint8_t first;
	uint32_t remaining;
	int err;

	mqtt_reader_init(&r, buf, len);
	err = mqtt_read_u8(&r, &first);
	if (err < 0)
		return err;
	err = mqtt_read_varint(&r, &remaining);
	if (err < 0)
		return err;
	/* The Remaining Length must describe exactly the bytes we were given. */
	if (remaining != mqtt_reader_left(&r))
		return -EBADMSG;

	uint8_t type = first >> 4, flags = first & 0x0f;
	/* Type 0 is reserved; type 15 is reserved before MQTT 5 [MQTT 3.1.1 §2.2.1]. */
	if (type == 0 || (type == MQTT_AUTH && version != MQTT_V5))
		return -EBADMSG;
	if (type != MQTT_CONNECT && !version_known(version))
		return -EINVAL;
	err = check_flags(type, flags, version);
	if (err < 0)
		return err;
	out->type = type;
	mqtt_reader_init(&r, r.p + r.off, remaining);
	err = decode_body(&r, type, flags, type == MQTT_CONNECT ? 0 : version, out);
	if (err < 0)
		return err;
	return mqtt_reader_left(&r) == 0 ? 0 : -EBADMSG;
}

int mqtt_decode(const uint8_t *buf, size_t len, uint8_t version, struct mqtt_packet *out,
                uint8_t *reason)
{
	int err = decode(buf, len, version, out);
	if (err < 0 && reason)
		*reason = mqtt_reason_for_errno(err);
	return err;
}

uint8_t mqtt_reason_for_errno(int err)
{
	switch (err) {
	case 0:
		return MQTT_RC_SUCCESS;
	case -EBADMSG:
		return MQTT_RC_MALFORMED_PACKET;
	case -EPROTO:
		return MQTT_RC_PROTOCOL_ERROR;
	case -EMSGSIZE:
		return MQTT_RC_PACKET_TOO_LARGE;
	case -EPROTONOSUPPORT:
		return MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
	case -ERANGE:
		return MQTT_RC_TOPIC_ALIAS_INVALID;
	default:
		return MQTT_RC_UNSPECIFIED_ERROR;
	}
}

static long body_size(const struct mqtt_packet *pkt, uint8_t version)
{
	switch (pkt->type) {
	case MQTT_CONNECT:
		return mqtt_connect_body_size(&pkt->connect);
	case MQTT_CONNACK:
		return mqtt_connack_body_size(&pkt->connack, version);
	case MQTT_PUBLISH:
		return mqtt_publish_body_size(&pkt->publish, version);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return mqtt_ack_body_size(&pkt->ack, version);
	case MQTT_SUBSCRIBE:
		return mqtt_subscribe_body_size(&pkt->subscribe, version);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return mqtt_suback_body_size(&pkt->suback, pkt->type, version);
	case MQTT_UNSUBSCRIBE:
		return mqtt_unsubscribe_body_size(&pkt->unsubscribe, version);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		return 0;
	case MQTT_DISCONNECT:
		return mqtt_reason_only_body_size(&pkt->disconnect, pkt->type, version);
	case MQTT_AUTH:
		if (version != MQTT_V5)
			return -EINVAL;
		return mqtt_reason_only_body_size(&pkt->auth, pkt->type, version);
	default:
		return -EINVAL;
	}
}

static void body_write(struct mqtt_writer *w, const struct mqtt_packet *pkt, uint8_t version)
{
	switch (pkt->type) {
	case MQTT_CONNECT:
		mqtt_connect_body_write(w, &pkt->connect);
		break;
	case MQTT_CONNACK:
		mqtt_connack_body_write(w, &pkt->connack, version);
		break;
	case MQTT_PUBLISH:
		mqtt_publish_body_write(w, &pkt->publish, version);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		mqtt_ack_body_write(w, &pkt->ack, version);
		break;
	case MQTT_SUBSCRIBE:
		mqtt_subscribe_body_write(w, &pkt->subscribe, version);
		break;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		mqtt_suback_body_write(w, &pkt->suback, pkt->type, version);
		break;
	case MQTT_UNSUBSCRIBE:
		mqtt_unsubscribe_body_write(w, &pkt->unsubscribe, version);
		break;
	case MQTT_DISCONNECT:
		mqtt_reason_only_body_write(w, &pkt->disconnect, pkt->type, version);
		break;
	case MQTT_AUTH:
		mqtt_reason_only_body_write(w, &pkt->auth, pkt->type, version);
		break;
	default: /* PINGREQ, PINGRESP: no body */
		break;
	}
}

/* The version a packet is encoded for: CONNECT carries its own. */
static uint8_t encode_version(const struct mqtt_packet *pkt, uint8_t version)
{
	return pkt->type == MQTT_CONNECT ? pkt->connect.version : version;
}

/* Sizes pkt for `version`: the body length in *body, the whole packet as the result. */
static long layout(const struct mqtt_packet *pkt, uint8_t version, long *body)
{
	if (!version_known(version))
		return -EINVAL;
	*body = body_size(pkt, version);
	if (*body < 0)
		return *body;
	if ((unsigned long)*body > MQTT_VARINT_MAX)
		return -EINVAL;
	return 1 + (long)mqtt_varint_size((uint32_t)*body) + *body;
}

long mqtt_encoded_size(const struct mqtt_packet *pkt, uint8_t version)
{
	long body;
	return layout(pkt, encode_version(pkt, version), &body);
}

long mqtt_encode(const struct mqtt_packet *pkt, uint8_t version, uint8_t *out, size_t cap)
{
	long body;
	version = encode_version(pkt, version);
	long total = layout(pkt, version, &body);
	if (total < 0)
		return total;
	if ((size_t)total > cap)
		return -ENOBUFS;

	struct mqtt_writer w;
	uint8_t flags = pkt->type == MQTT_PUBLISH ? mqtt_publish_flags(&pkt->publish)
	                                          : fixed_flags[pkt->type & 0x0f];
	mqtt_writer_init(&w, out, (size_t)total);
	mqtt_write_u8(&w, (uint8_t)(pkt->type << 4 | flags));
	mqtt_write_varint(&w, (uint32_t)body);
	body_write(&w, pkt, version);
	return (long)w.len;
}

long mqtt_encode_publish_header(const struct mqtt_publish *p, uint8_t version, uint8_t *out,
                                size_t cap)
{
	if (!version_known(version))
		return -EINVAL;
	struct mqtt_publish head = *p;
	head.payload = NULL;
	head.payload_len = 0;
	long head_body = mqtt_publish_body_size(&head, version);
	if (head_body < 0)
		return head_body;
	uint64_t body = (uint64_t)head_body + p->payload_len;
	if (body > MQTT_VARINT_MAX)
		return -EINVAL;
	long total = 1 + (long)mqtt_varint_size((uint32_t)body) + head_body;
	if ((size_t)total > cap)
		return -ENOBUFS;

	struct mqtt_writer w;
	mqtt_writer_init(&w, out, (size_t)total);
	mqtt_write_u8(&w, (uint8_t)(MQTT_PUBLISH << 4 | mqtt_publish_flags(p)));
	mqtt_write_varint(&w, (uint32_t)body);
	mqtt_publish_body_write(&w, &head, version);
	return (long)w.len;
}

const char *mqtt_type_name(uint8_t type)
{
	static const char *const names[16] = {
	        "RESERVED", "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
	        "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
	        "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH",
	};
	return type < 16 ? names[type] : "UNKNOWN";
}
