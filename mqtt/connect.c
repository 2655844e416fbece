/* connect.c - CONNECT and CONNACK bodies for MQTT 3.1 (MQIsdp, level 3), 3.1.1 (level 4) and
 * 5.0 (level 5). */
#include "codec.h"

#include <errno.h>
#include <string.h>

/* Connect Flags (MQTT 3.1.1 §3.1.2.3, MQTT 5.0 §3.1.2.3). */
#define CF_RESERVED       0x01u
#define CF_CLEAN          0x02u
#define CF_WILL           0x04u
#define CF_WILL_QOS_SHIFT 3
#define CF_WILL_QOS_MASK  0x18u
#define CF_WILL_RETAIN    0x20u
#define CF_PASSWORD       0x40u
#define CF_USERNAME       0x80u

/* Connect Acknowledge Flags: bit 0 Session Present, bits 7-1 reserved [MQTT-3.2.2-1]. */
#define CAF_SESSION_PRESENT 0x01u

static const uint8_t name_mqtt[] = {'M', 'Q', 'T', 'T'};
static const uint8_t name_mqisdp[] = {'M', 'Q', 'I', 's', 'd', 'p'};

/* Reason codes a CONNACK may carry in MQTT 5.0 (§3.2.2.2). */
static const uint8_t connack_v5_reasons[] = {
        MQTT_RC_SUCCESS,
        MQTT_RC_UNSPECIFIED_ERROR,
        MQTT_RC_MALFORMED_PACKET,
        MQTT_RC_PROTOCOL_ERROR,
        MQTT_RC_IMPLEMENTATION_SPECIFIC,
        MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION,
        MQTT_RC_CLIENT_ID_NOT_VALID,
        MQTT_RC_BAD_USERNAME_OR_PASSWORD,
        MQTT_RC_NOT_AUTHORIZED,
        MQTT_RC_SERVER_UNAVAILABLE,
        MQTT_RC_SERVER_BUSY,
        MQTT_RC_BANNED,
        MQTT_RC_BAD_AUTHENTICATION_METHOD,
        MQTT_RC_TOPIC_NAME_INVALID,
        MQTT_RC_PACKET_TOO_LARGE,
        MQTT_RC_QUOTA_EXCEEDED,
        MQTT_RC_PAYLOAD_FORMAT_INVALID,
        MQTT_RC_RETAIN_NOT_SUPPORTED,
        MQTT_RC_QOS_NOT_SUPPORTED,
        MQTT_RC_USE_ANOTHER_SERVER,
        MQTT_RC_SERVER_MOVED,
        MQTT_RC_CONNECTION_RATE_EXCEEDED,
};

static bool version_known(uint8_t version)
{
	return version == MQTT_V31 || version == MQTT_V311 || version == MQTT_V5;
}

/* The Protocol Name each level is sent with: "MQIsdp" for 3.1, "MQTT" for 3.1.1 and 5.0. */
static struct mqtt_str protocol_name(uint8_t version)
{
	if (version == MQTT_V31)
		return (struct mqtt_str){name_mqisdp, sizeof(name_mqisdp)};
	return (struct mqtt_str){name_mqtt, sizeof(name_mqtt)};
}

static bool name_matches(struct mqtt_str name, uint8_t version)
{
	struct mqtt_str want = protocol_name(version);
	return name.len == want.len && memcmp(name.p, want.p, want.len) == 0;
}

static bool props_empty(const struct mqtt_props *p)
{
	return p->present == 0 && p->user_count == 0 && p->sub_id_count == 0;
}

static bool connack_reason_valid(uint8_t reason, uint8_t version)
{
	if (version != MQTT_V5)
		return reason <=
		       MQTT_CONNACK_V3_NOT_AUTHORIZED; /* 6-255 reserved (3.1.1 §3.2.2.3) */
	for (size_t i = 0; i < sizeof(connack_v5_reasons); i++)
		if (connack_v5_reasons[i] == reason)
			return true;
	return false;
}

/* ---- CONNECT decoding ------------------------------------------------------------------ */

/* Protocol Name and Protocol Level. A name other than the one of a supported level, or a level
 * this codec does not speak, is -EPROTONOSUPPORT: the server MAY answer with CONNACK 0x84
 * (5.0 [MQTT-3.1.2-1], [MQTT-3.1.2-2]) or 0x01 (3.1.1 [MQTT-3.1.2-2]) before closing. */
static int read_protocol(struct mqtt_reader *r, struct mqtt_connect *out)
{
	struct mqtt_str name;
	uint8_t level;
	int err;

	err = mqtt_read_binary(r, &name);
	if (err < 0)
		return err;
	err = mqtt_read_u8(r, &level);
	if (err < 0)
		return err;
	/* mosquitto bridges set bit 7 of the level ("try_private") to announce themselves; the
	 * protocol spoken is the level without it. */
	out->bridge = (level & 0x80) != 0;
	level &= 0x7f;
	out->version = level;
	if (!version_known(level) || !name_matches(name, level))
		return -EPROTONOSUPPORT;
	return 0;
}

/* Splits and checks the Connect Flags byte. Sets has_password/has_username from the flags; the
 * 3.1 reader may clear them again when the strings are absent. */
static int parse_flags(uint8_t flags, struct mqtt_connect *out)
{
	uint8_t will_qos = (flags & CF_WILL_QOS_MASK) >> CF_WILL_QOS_SHIFT;

	/* [MQTT-3.1.2-3]: the reserved bit must be 0; 5.0 calls it a Malformed Packet. */
	if (flags & CF_RESERVED)
		return -EBADMSG;
	out->clean_start = (flags & CF_CLEAN) != 0;
	out->has_will = (flags & CF_WILL) != 0;
	if (out->has_will) {
		/* 3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12]: QoS 3 is malformed. */
		if (will_qos > 2)
			return -EBADMSG;
		out->will.qos = will_qos;
		out->will.retain = (flags & CF_WILL_RETAIN) != 0;
	} else if (will_qos != 0 || (flags & CF_WILL_RETAIN)) {
		/* Without a will, Will QoS and Will Retain are 0: 3.1.1 [MQTT-3.1.2-11, -13, -15],
		 * 5.0 [MQTT-3.1.2-11, -13]. */
		return -EBADMSG;
	}
	out->has_username = (flags & CF_USERNAME) != 0;
	out->has_password = (flags & CF_PASSWORD) != 0;
	/* 3.1.1 [MQTT-3.1.2-22]: no password without a user name. 5.0 lifted the rule
	 * (§3.1.2.9); 3.1 never had it. */
	if (out->version == MQTT_V311 && out->has_password && !out->has_username)
		return -EBADMSG;
	return 0;
}

/* Will Properties (5.0), Will Topic, Will Payload [MQTT-3.1.3-1 order]. */
static int read_will(struct mqtt_reader *r, struct mqtt_connect *out)
{
	int err;

	if (out->version == MQTT_V5) {
		err = mqtt_props_decode(r, MQTT_PCTX_WILL, &out->will.props);
		if (err < 0)
			return err;
	}
	/* Will Topic: UTF-8 (3.1.1 [MQTT-3.1.3-10], 5.0 [MQTT-3.1.3-11]). Its topic-name rules
	 * (no wildcards, non-empty) are for the broker: mqtt_topic_name_valid(). */
	err = mqtt_read_utf8(r, &out->will.topic);
	if (err < 0)
		return err;
	/* Will Message / Will Payload: Binary Data. */
	return mqtt_read_binary(r, &out->will.payload);
}

/* User Name (UTF-8, 3.1.1 [MQTT-3.1.3-11], 5.0 [MQTT-3.1.3-12]) and Password (Binary Data).
 * MQTT 3.1 §3.1: "the Remaining Length field from the fixed header takes precedence over the
 * User Name flag" (and the Password flag): a flagged field missing at the end of a 3.1 body is
 * taken as absent. */
static int read_credentials(struct mqtt_reader *r, struct mqtt_connect *out)
{
	bool v31 = out->version == MQTT_V31;
	int err;

	if (out->has_username) {
		if (v31 && mqtt_reader_left(r) == 0) {
			out->has_username = false;
		} else {
			err = mqtt_read_utf8(r, &out->username);
			if (err < 0)
				return err;
		}
	}
	if (out->has_password) {
		if (v31 && mqtt_reader_left(r) == 0) {
			out->has_password = false;
		} else {
			err = mqtt_read_binary(r, &out->password);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* Decodes a CONNECT body (variable header and payload). Zeroes *out first; views in *out
 * borrow the reader's input. Returns 0, -EBADMSG (malformed, truncated, trailing bytes, bad
 * UTF-8, bad flags), -EPROTO (from the property decoder) or -EPROTONOSUPPORT (unknown protocol
 * name or level, or a name that does not go with the level). On any error after the Protocol
 * Level was read, out->version holds that level byte, so the broker can answer in the client's
 * version. The Client Identifier may be empty: whether that is allowed is the broker's call
 * (3.1.1 [MQTT-3.1.3-6, -7], 5.0 [MQTT-3.1.3-6]). */
int mqtt_connect_decode(struct mqtt_reader *r, struct mqtt_connect *out)
{
	uint8_t flags;
	int err;

	memset(out, 0, sizeof(*out));
	err = read_protocol(r, out);
	if (err < 0)
		return err;
	err = mqtt_read_u8(r, &flags);
	if (err < 0)
		return err;
	err = parse_flags(flags, out);
	if (err < 0)
		return err;
	err = mqtt_read_u16(r, &out->keep_alive);
	if (err < 0)
		return err;
	if (out->version == MQTT_V5) {
		err = mqtt_props_decode(r, MQTT_PCTX_CONNECT, &out->props);
		if (err < 0)
			return err;
	}
	/* Client Identifier: UTF-8 (3.1.1 [MQTT-3.1.3-4], 5.0 [MQTT-3.1.3-4]). */
	err = mqtt_read_utf8(r, &out->client_id);
	if (err < 0)
		return err;
	if (out->has_will) {
		err = read_will(r, out);
		if (err < 0)
			return err;
	}
	err = read_credentials(r, out);
	if (err < 0)
		return err;
	/* The Remaining Length covers exactly the fields the flags announce. */
	return mqtt_reader_left(r) == 0 ? 0 : -EBADMSG;
}

/* ---- CONNECT encoding ------------------------------------------------------------------ */

static bool str_ok(struct mqtt_str s)
{
	return s.len == 0 || s.p != NULL;
}

static bool utf8_ok(struct mqtt_str s)
{
	return str_ok(s) && mqtt_utf8_valid(s.p, s.len);
}

/* Whether `c` can be sent as its c->version: everything the decoder would reject is -EINVAL. */
static int connect_check(const struct mqtt_connect *c)
{
	if (!version_known(c->version))
		return -EINVAL;
	if (!utf8_ok(c->client_id))
		return -EINVAL;
	if (c->has_will && (c->will.qos > 2 || !utf8_ok(c->will.topic) || !str_ok(c->will.payload)))
		return -EINVAL;
	if (c->has_username && !utf8_ok(c->username))
		return -EINVAL;
	if (c->has_password && !str_ok(c->password))
		return -EINVAL;
	if (c->version == MQTT_V311 && c->has_password && !c->has_username)
		return -EINVAL; /* [MQTT-3.1.2-22] */
	if (c->version != MQTT_V5 && !(props_empty(&c->props) && props_empty(&c->will.props)))
		return -EINVAL; /* properties exist only in 5.0 */
	return 0;
}

/* Exact CONNECT body size for c->version, or -EINVAL (unknown level, will QoS over 2, a string
 * that is not valid UTF-8, password without user name in 3.1.1, properties before 5.0, a
 * property not allowed in CONNECT / Will Properties). Borrows `c`. */
long mqtt_connect_body_size(const struct mqtt_connect *c)
{
	int err = connect_check(c);
	if (err < 0)
		return err;

	long size = 2 + (long)protocol_name(c->version).len + 1 + 1 + 2;
	if (c->version == MQTT_V5) {
		long props = mqtt_props_size(&c->props, MQTT_PCTX_CONNECT);
		if (props < 0)
			return props;
		size += props;
	}
	size += 2 + (long)c->client_id.len;
	if (c->has_will) {
		if (c->version == MQTT_V5) {
			long props = mqtt_props_size(&c->will.props, MQTT_PCTX_WILL);
			if (props < 0)
				return props;
			size += props;
		}
		size += 2 + (long)c->will.topic.len + 2 + (long)c->will.payload.len;
	}
	if (c->has_username)
		size += 2 + (long)c->username.len;
	if (c->has_password)
		size += 2 + (long)c->password.len;
	return size;
}

static uint8_t connect_flags(const struct mqtt_connect *c)
{
	uint8_t flags = 0;

	if (c->clean_start)
		flags |= CF_CLEAN;
	if (c->has_will) {
		flags |= CF_WILL | (uint8_t)(c->will.qos << CF_WILL_QOS_SHIFT);
		if (c->will.retain)
			flags |= CF_WILL_RETAIN;
	}
	if (c->has_password)
		flags |= CF_PASSWORD;
	if (c->has_username)
		flags |= CF_USERNAME;
	return flags;
}

/* Writes the CONNECT body sized by mqtt_connect_body_size() (which must have succeeded).
 * Borrows both. */
void mqtt_connect_body_write(struct mqtt_writer *w, const struct mqtt_connect *c)
{
	mqtt_write_str(w, protocol_name(c->version));
	mqtt_write_u8(w, (uint8_t)(c->version | (c->bridge ? 0x80 : 0)));
	mqtt_write_u8(w, connect_flags(c));
	mqtt_write_u16(w, c->keep_alive);
	if (c->version == MQTT_V5)
		mqtt_props_write(w, &c->props, MQTT_PCTX_CONNECT);
	mqtt_write_str(w, c->client_id);
	if (c->has_will) {
		if (c->version == MQTT_V5)
			mqtt_props_write(w, &c->will.props, MQTT_PCTX_WILL);
		mqtt_write_str(w, c->will.topic);
		mqtt_write_str(w, c->will.payload);
	}
	if (c->has_username)
		mqtt_write_str(w, c->username);
	if (c->has_password)
		mqtt_write_str(w, c->password);
}

/* ---- CONNACK --------------------------------------------------------------------------- */

/* Decodes a CONNACK body for `version`. Zeroes *out first; property views borrow the input.
 * Returns 0, -EBADMSG (truncated, reserved flag bits set, trailing bytes, bad properties),
 * -EPROTO (Session Present with a refusal, a return/reason code CONNACK cannot carry, or a
 * property Protocol Error) or -EINVAL (unknown version). */
int mqtt_connack_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_connack *out)
{
	uint8_t flags;
	int err;

	memset(out, 0, sizeof(*out));
	if (!version_known(version))
		return -EINVAL;
	err = mqtt_read_u8(r, &flags);
	if (err < 0)
		return err;
	err = mqtt_read_u8(r, &out->reason);
	if (err < 0)
		return err;
	/* 3.1: the first byte is reserved, not used. 3.1.1 and 5.0: bits 7-1 are reserved and
	 * must be 0 [MQTT-3.2.2-1]. */
	if (version == MQTT_V31 ? flags != 0 : (flags & ~CAF_SESSION_PRESENT) != 0)
		return -EBADMSG;
	out->session_present = (flags & CAF_SESSION_PRESENT) != 0;
	/* A refusal never has Session Present: 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]. */
	if (out->session_present && out->reason != 0)
		return -EPROTO;
	if (!connack_reason_valid(out->reason, version))
		return -EPROTO;
	if (version == MQTT_V5) {
		err = mqtt_props_decode(r, MQTT_PCTX_CONNACK, &out->props);
		if (err < 0)
			return err;
	}
	return mqtt_reader_left(r) == 0 ? 0 : -EBADMSG;
}

/* Exact CONNACK body size for `version`, or -EINVAL (unknown version, Session Present in 3.1 or
 * with a refusal, a code CONNACK cannot carry in `version`, properties before 5.0, a property not
 * allowed in CONNACK). Borrows `c`. */
long mqtt_connack_body_size(const struct mqtt_connack *c, uint8_t version)
{
	if (!version_known(version))
		return -EINVAL;
	if (c->session_present && (version == MQTT_V31 || c->reason != 0))
		return -EINVAL;
	if (!connack_reason_valid(c->reason, version))
		return -EINVAL;
	if (version != MQTT_V5)
		return props_empty(&c->props) ? 2 : -EINVAL;
	long props = mqtt_props_size(&c->props, MQTT_PCTX_CONNACK);
	if (props < 0)
		return props;
	return 2 + props;
}

/* Writes the CONNACK body sized by mqtt_connack_body_size() (which must have succeeded).
 * Borrows both. */
void mqtt_connack_body_write(struct mqtt_writer *w, const struct mqtt_connack *c, uint8_t version)
{
	mqtt_write_u8(w, c->session_present ? CAF_SESSION_PRESENT : 0);
	mqtt_write_u8(w, c->reason);
	if (version == MQTT_V5)
		mqtt_props_write(w, &c->props, MQTT_PCTX_CONNACK);
}
