/* publish.c - PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL, PUBCOMP, for MQTT 3.1,
 * 3.1.1 (same wire format) and 5.0. Bodies only: packet.c owns the fixed header. */
#include "codec.h"
#include "topic.h"

#include <errno.h>
#include <string.h>

#define PUBLISH_DUP    0x08u
#define PUBLISH_QOS    0x06u
#define PUBLISH_RETAIN 0x01u

/* Reason codes allowed in PUBACK and PUBREC (MQTT 5.0 §3.4.2.1, §3.5.2.1). */
static const uint8_t ack_reasons_pub[] = {
        MQTT_RC_SUCCESS,
        MQTT_RC_NO_MATCHING_SUBSCRIBERS,
        MQTT_RC_UNSPECIFIED_ERROR,
        MQTT_RC_IMPLEMENTATION_SPECIFIC,
        MQTT_RC_NOT_AUTHORIZED,
        MQTT_RC_TOPIC_NAME_INVALID,
        MQTT_RC_PACKET_ID_IN_USE,
        MQTT_RC_QUOTA_EXCEEDED,
        MQTT_RC_PAYLOAD_FORMAT_INVALID,
};

/* Reason codes allowed in PUBREL and PUBCOMP (MQTT 5.0 §3.6.2.1, §3.7.2.1). */
static const uint8_t ack_reasons_rel[] = {
        MQTT_RC_SUCCESS,
        MQTT_RC_PACKET_ID_NOT_FOUND,
};

static bool version_known(uint8_t version)
{
	return version == MQTT_V31 || version == MQTT_V311 || version == MQTT_V5;
}

static bool reason_in(uint8_t reason, const uint8_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == reason)
			return true;
	return false;
}

static bool ack_reason_allowed(uint8_t type, uint8_t reason)
{
	if (type == MQTT_PUBACK || type == MQTT_PUBREC)
		return reason_in(reason, ack_reasons_pub, sizeof(ack_reasons_pub));
	return reason_in(reason, ack_reasons_rel, sizeof(ack_reasons_rel));
}

/* ---- PUBLISH ------------------------------------------------------------------------------ */

/* Reads the fields of a PUBLISH body; judges only what makes it unparseable (-EBADMSG). */
static int publish_parse(struct mqtt_reader *r, uint8_t version, struct mqtt_publish *out)
{
	/* UTF-8 Encoded String, U+0000 included: Malformed [MQTT-1.5.4-1, MQTT-1.5.4-2]. */
	int err = mqtt_read_utf8(r, &out->topic);
	if (err < 0)
		return err;
	/* The Packet Identifier is present only when QoS > 0 [MQTT-2.2.1-2]. */
	if (out->qos > 0) {
		err = mqtt_read_u16(r, &out->packet_id);
		if (err < 0)
			return err;
	}
	if (version == MQTT_V5) {
		err = mqtt_props_decode(r, MQTT_PCTX_PUBLISH, &out->props);
		if (err < 0)
			return err;
	}
	/* The payload is the rest of the packet and may be empty (MQTT 5.0 §3.3.3). */
	size_t n = mqtt_reader_left(r);
	out->payload_len = (uint32_t)n;
	return mqtt_read_bytes(r, n, &out->payload);
}

/* Checks a parsed PUBLISH against the protocol rules (-EPROTO). Malformed wins over protocol
 * errors, so this runs after publish_parse (OASIS MQTT-49). */
static int publish_check(const struct mqtt_publish *p, uint8_t version)
{
	/* [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-1]): QoS 1 and 2 need a non-zero Packet Identifier. */
	if (p->qos > 0 && p->packet_id == 0)
		return -EPROTO;
	/* An empty Topic Name with a Topic Alias uses the alias (MQTT 5.0 §3.3.2.3.4). A Topic
	 * Alias of 0 [MQTT-3.3.2-8] was already refused by mqtt_props_decode (-EPROTO). */
	if (p->topic.len == 0 && version == MQTT_V5 &&
	    mqtt_props_has(&p->props, MQTT_PROP_TOPIC_ALIAS))
		return 0;
	/* MQTT 5.0 §3.3.2.3.4: a zero-length Topic Name without a Topic Alias is a Protocol Error;
	 * before 5.0 every Topic Name is at least one character [MQTT-4.7.3-1].
	 * Wildcards [MQTT-3.3.2-2]: the packet parses, its content is not allowed, which is the
	 * MQTT 5.0 §1.2 definition of a Protocol Error (reason 0x82), not a Malformed Packet. */
	if (mqtt_topic_name_valid(p->topic.p, p->topic.len) < 0)
		return -EPROTO;
	return 0;
}

/* Decodes a PUBLISH body. `flags` is the fixed header's low nibble. -EBADMSG for QoS 3, DUP with
 * QoS 0, a short or ill-formed field; -EPROTO for packet id 0, an empty Topic Name without a Topic
 * Alias (or before 5.0), a Topic Name with wildcards. Property errors as mqtt_props_decode
 * (-EPROTO for a Topic Alias of 0). Zeroes *out first; on success its views (topic, properties, payload) borrow
 * the reader's input. */
int mqtt_publish_decode(struct mqtt_reader *r, uint8_t flags, uint8_t version,
                        struct mqtt_publish *out)
{
	memset(out, 0, sizeof(*out));
	out->dup = (flags & PUBLISH_DUP) != 0;
	out->qos = (uint8_t)((flags & PUBLISH_QOS) >> 1);
	out->retain = (flags & PUBLISH_RETAIN) != 0;
	/* [MQTT-3.3.1-4]: both QoS bits set is a Malformed Packet (MQTT 5.0 §3.3.1.2). */
	if (out->qos == 3)
		return -EBADMSG;
	/* [MQTT-3.3.1-2]: DUP MUST be 0 for QoS 0. The spec names no error class for a breach;
	 * like mosquitto (handle_publish.c) we treat it as a bad flag, i.e. Malformed
	 * (MQTT 5.0 §2.1.3: invalid flags are a Malformed Packet). */
	if (out->dup && out->qos == 0)
		return -EBADMSG;
	int err = publish_parse(r, version, out);
	if (err < 0)
		return err;
	return publish_check(out, version);
}

/* Fixed header low nibble for a PUBLISH: DUP, QoS, RETAIN [MQTT-2.2.2]. Borrows p. Garbage in
 * `qos` is masked here; mqtt_publish_body_size rejects it first. */
uint8_t mqtt_publish_flags(const struct mqtt_publish *p)
{
	return (uint8_t)((p->dup ? PUBLISH_DUP : 0) | ((p->qos & 0x3u) << 1) |
	                 (p->retain ? PUBLISH_RETAIN : 0));
}

/* -EINVAL when p cannot be sent as a PUBLISH in `version` (see mqtt_publish_body_size). */
static int publish_representable(const struct mqtt_publish *p, uint8_t version)
{
	if (!version_known(version))
		return -EINVAL;
	if (p->qos > 2)
		return -EINVAL; /* [MQTT-3.3.1-4] */
	if (p->dup && p->qos == 0)
		return -EINVAL; /* [MQTT-3.3.1-2] */
	if (p->qos > 0 && p->packet_id == 0)
		return -EINVAL; /* [MQTT-2.2.1-3] */
	if ((p->topic.len && !p->topic.p) || (p->payload_len && !p->payload))
		return -EINVAL;
	if (p->topic.len == 0) {
		/* Only MQTT 5 with a (non-zero) Topic Alias [MQTT-3.3.2-8], §3.3.2.3.4. */
		if (version != MQTT_V5 || !mqtt_props_has(&p->props, MQTT_PROP_TOPIC_ALIAS) ||
		    p->props.topic_alias == 0)
			return -EINVAL;
		return 0;
	}
	/* [MQTT-3.3.2-2], [MQTT-4.7.3-2], [MQTT-1.5.4-1]. */
	if (mqtt_topic_name_valid(p->topic.p, p->topic.len) < 0 ||
	    !mqtt_utf8_valid(p->topic.p, p->topic.len))
		return -EINVAL;
	return 0;
}

/* Exact PUBLISH body size for `version`, or -EINVAL: unknown version, QoS > 2, DUP with QoS 0,
 * QoS > 0 with packet id 0, an empty Topic Name (allowed only in 5.0 with a non-zero Topic
 * Alias), a Topic Name with wildcards, U+0000 or bad UTF-8, a NULL view with a non-zero length,
 * properties mqtt_props_size rejects, a body over MQTT_VARINT_MAX. Properties are not sent
 * before 5.0 and are ignored there. Borrows p. */
long mqtt_publish_body_size(const struct mqtt_publish *p, uint8_t version)
{
	int err = publish_representable(p, version);
	if (err < 0)
		return err;
	/* The topic length is a uint16_t, so it cannot exceed MQTT_STR_MAX. */
	uint64_t size = 2u + (uint64_t)p->topic.len + (p->qos > 0 ? 2u : 0u) + p->payload_len;
	if (version == MQTT_V5) {
		long psize = mqtt_props_size(&p->props, MQTT_PCTX_PUBLISH);
		if (psize < 0)
			return psize;
		size += (uint64_t)psize;
	}
	if (size > MQTT_VARINT_MAX)
		return -EINVAL;
	return (long)size;
}

/* Writes the PUBLISH body sized by mqtt_publish_body_size (which must have succeeded).
 * Borrows p. */
void mqtt_publish_body_write(struct mqtt_writer *w, const struct mqtt_publish *p, uint8_t version)
{
	mqtt_write_str(w, p->topic);
	if (p->qos > 0)
		mqtt_write_u16(w, p->packet_id);
	if (version == MQTT_V5)
		mqtt_props_write(w, &p->props, MQTT_PCTX_PUBLISH);
	mqtt_write_bytes(w, p->payload, p->payload_len);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP --------------------------------------------------------- */

/* Decodes the body of a PUBACK, PUBREC, PUBREL or PUBCOMP (`type`). Before 5.0 the body is exactly
 * the packet id; in 5.0 the reason code and then the properties may follow, each omitted when
 * the rest is (MQTT 5.0 §3.4.2.1, §3.4.2.2.1). -EBADMSG for a short body, or (3.x) a longer one;
 * -EPROTO for packet id 0 or a reason code not allowed for `type`; property errors as
 * mqtt_props_decode; -EINVAL for a type that is not an ack. Zeroes *out first; views in its
 * properties borrow the reader's input. */
int mqtt_ack_decode(struct mqtt_reader *r, uint8_t type, uint8_t version, struct mqtt_ack *out)
{
	memset(out, 0, sizeof(*out));
	if (type < MQTT_PUBACK || type > MQTT_PUBCOMP)
		return -EINVAL;
	int err = mqtt_read_u16(r, &out->packet_id);
	if (err < 0)
		return err;
	if (version != MQTT_V5) {
		/* MQTT 3.1.1 §3.4.1: Remaining Length is 2. */
		if (mqtt_reader_left(r) != 0)
			return -EBADMSG;
	} else if (mqtt_reader_left(r) > 0) {
		err = mqtt_read_u8(r, &out->reason);
		/* Remaining Length 3: no Property Length, no properties (§3.4.2.2.1). */
		if (err == 0 && mqtt_reader_left(r) > 0)
			err = mqtt_props_decode(r, MQTT_PCTX_PUBACK, &out->props);
		if (err < 0)
			return err;
		if (mqtt_reader_left(r) != 0)
			return -EBADMSG; /* bytes after the property block */
	}
	/* The ack echoes the id of a PUBLISH or PUBREL, which is never 0 [MQTT-2.2.1-3]. */
	if (out->packet_id == 0)
		return -EPROTO;
	/* MQTT 5.0 §3.4.2.1 (PUBACK), §3.5.2.1 (PUBREC), §3.6.2.1 (PUBREL), §3.7.2.1 (PUBCOMP). */
	if (!ack_reason_allowed(type, out->reason))
		return -EPROTO;
	return 0;
}

/* Exact ack body size for `version`: the shortest form, 2 bytes when the reason is 0 and there
 * are no properties, 3 when there are no properties [MQTT 5.0 §3.4.2.2.1], else 3 + the property
 * block. -EINVAL for an unknown version, packet id 0, a reason that no ack may carry (the type is
 * not passed, so PUBREL's 0x10 is not caught here), a non-zero reason before 5.0 (it would change
 * the meaning), properties mqtt_props_size rejects. Properties are ignored before 5.0. Borrows a. */
long mqtt_ack_body_size(const struct mqtt_ack *a, uint8_t version)
{
	if (!version_known(version) || a->packet_id == 0)
		return -EINVAL;
	if (!ack_reason_allowed(MQTT_PUBACK, a->reason) &&
	    !ack_reason_allowed(MQTT_PUBREL, a->reason))
		return -EINVAL;
	if (version != MQTT_V5)
		return a->reason == 0 ? 2 : -EINVAL;
	long psize = mqtt_props_size(&a->props, MQTT_PCTX_PUBACK);
	if (psize < 0)
		return psize;
	if (psize == 1) /* an empty block: its Property Length alone */
		return a->reason == 0 ? 2 : 3;
	return 3 + psize;
}

/* Writes the ack body sized by mqtt_ack_body_size (which must have succeeded). Borrows a. */
void mqtt_ack_body_write(struct mqtt_writer *w, const struct mqtt_ack *a, uint8_t version)
{
	mqtt_write_u16(w, a->packet_id);
	if (version != MQTT_V5)
		return;
	long psize = mqtt_props_size(&a->props, MQTT_PCTX_PUBACK);
	if (psize == 1 && a->reason == 0)
		return;
	mqtt_write_u8(w, a->reason);
	if (psize > 1)
		mqtt_props_write(w, &a->props, MQTT_PCTX_PUBACK);
}
