/* properties.c - MQTT 5 property blocks (MQTT 5.0 §2.2.2): decode, size, write, iterate.
 *
 * Everything is driven by one table indexed by property identifier: the wire type, the blocks
 * the property may appear in, the blocks where it may repeat, where its value lives in
 * struct mqtt_props, and the range of valid values (outside it the spec calls a Protocol
 * Error). The spec clause of each rule is cited on its table row. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "codec.h"

/* Wire types of property values (MQTT 5.0 §1.5, §2.2.2.2). */
enum prop_type {
	PT_NONE, /* not a property identifier */
	PT_BYTE,
	PT_U16,
	PT_U32,
	PT_VARINT,
	PT_UTF8,
	PT_BINARY,
	PT_PAIR, /* UTF-8 String Pair */
};

struct prop_def {
	uint8_t type;      /* enum prop_type */
	uint16_t ctx;      /* bit per enum mqtt_prop_ctx where the property may appear */
	uint16_t multi;    /* contexts where it may appear more than once */
	uint16_t offset;   /* its field in struct mqtt_props (single-valued types) */
	uint32_t min, max; /* valid integer values; others are a Protocol Error */
};

union prop_value {
	uint32_t n;
	struct mqtt_str s;
	struct mqtt_user_prop up;
};

#define CTX(c)    (1u << MQTT_PCTX_##c)
#define CTX_COUNT (MQTT_PCTX_AUTH + 1)
#define CTX_ALL   ((1u << CTX_COUNT) - 1)
#define PUB_WILL  (CTX(PUBLISH) | CTX(WILL))
#define CON_ACK   (CTX(CONNECT) | CTX(CONNACK))
#define OFF(f)    ((uint16_t)offsetof(struct mqtt_props, f))
#define U16_MAX   0xffffu
#define U32_MAX   0xffffffffu

/* Which property may appear where: MQTT 5.0 §2.2.2.2 table 2-4. An identifier outside its
 * contexts makes the packet Malformed [§2.2.2.2]. Every property other than User Property
 * (and Subscription Identifier in PUBLISH, §3.3.2.3.8) is a Protocol Error when repeated: each
 * property section says "It is a Protocol Error to include ... more than once".
 * Columns: type, contexts, repeatable in, field, min, max. */
static const struct prop_def prop_defs[] = {
        /* Only 0 and 1 are defined: §3.3.2.3.2 (PUBLISH), §3.1.3.2.3 (Will). */
        [MQTT_PROP_PAYLOAD_FORMAT] = {PT_BYTE, PUB_WILL, 0, OFF(payload_format), 0, 1},
        [MQTT_PROP_MESSAGE_EXPIRY] = {PT_U32, PUB_WILL, 0, OFF(message_expiry), 0, U32_MAX},
        [MQTT_PROP_CONTENT_TYPE] = {PT_UTF8, PUB_WILL, 0, OFF(content_type), 0, 0},
        [MQTT_PROP_RESPONSE_TOPIC] = {PT_UTF8, PUB_WILL, 0, OFF(response_topic), 0, 0},
        [MQTT_PROP_CORRELATION_DATA] = {PT_BINARY, PUB_WILL, 0, OFF(correlation_data), 0, 0},
        /* 0 is a Protocol Error: §3.3.2.3.8 (PUBLISH), §3.8.2.1.2 (SUBSCRIBE, where a repeat is
	 * one too). Values are counted, not stored: no field. */
        [MQTT_PROP_SUBSCRIPTION_ID] = {PT_VARINT, CTX(PUBLISH) | CTX(SUBSCRIBE), CTX(PUBLISH), 0, 1,
                                       MQTT_VARINT_MAX},
        [MQTT_PROP_SESSION_EXPIRY] = {PT_U32, CON_ACK | CTX(DISCONNECT), 0, OFF(session_expiry), 0,
                                      U32_MAX},
        [MQTT_PROP_ASSIGNED_CLIENT_ID] = {PT_UTF8, CTX(CONNACK), 0, OFF(assigned_client_id), 0, 0},
        [MQTT_PROP_SERVER_KEEP_ALIVE] = {PT_U16, CTX(CONNACK), 0, OFF(server_keep_alive), 0,
                                         U16_MAX},
        [MQTT_PROP_AUTH_METHOD] = {PT_UTF8, CON_ACK | CTX(AUTH), 0, OFF(auth_method), 0, 0},
        [MQTT_PROP_AUTH_DATA] = {PT_BINARY, CON_ACK | CTX(AUTH), 0, OFF(auth_data), 0, 0},
        /* Not 0 or 1: Protocol Error, §3.1.2.11.7. */
        [MQTT_PROP_REQUEST_PROBLEM_INFO] = {PT_BYTE, CTX(CONNECT), 0, OFF(request_problem_info), 0,
                                            1},
        [MQTT_PROP_WILL_DELAY] = {PT_U32, CTX(WILL), 0, OFF(will_delay), 0, U32_MAX},
        /* Not 0 or 1: Protocol Error, §3.1.2.11.6. */
        [MQTT_PROP_REQUEST_RESPONSE_INFO] = {PT_BYTE, CTX(CONNECT), 0, OFF(request_response_info),
                                             0, 1},
        [MQTT_PROP_RESPONSE_INFO] = {PT_UTF8, CTX(CONNACK), 0, OFF(response_info), 0, 0},
        [MQTT_PROP_SERVER_REFERENCE] = {PT_UTF8, CTX(CONNACK) | CTX(DISCONNECT), 0,
                                        OFF(server_reference), 0, 0},
        [MQTT_PROP_REASON_STRING] = {PT_UTF8,
                                     CTX(CONNACK) | CTX(PUBACK) | CTX(SUBACK) | CTX(UNSUBACK) |
                                             CTX(DISCONNECT) | CTX(AUTH),
                                     0, OFF(reason_string), 0, 0},
        /* 0 is a Protocol Error: §3.1.2.11.3 (CONNECT), §3.2.2.3.3 (CONNACK). */
        [MQTT_PROP_RECEIVE_MAXIMUM] = {PT_U16, CON_ACK, 0, OFF(receive_maximum), 1, U16_MAX},
        [MQTT_PROP_TOPIC_ALIAS_MAXIMUM] = {PT_U16, CON_ACK, 0, OFF(topic_alias_maximum), 0,
                                           U16_MAX},
        /* 0 is not permitted [MQTT-3.3.2-8]; a receiver treats it as a Protocol Error
	 * (§3.3.2.3.4, §4.13). */
        [MQTT_PROP_TOPIC_ALIAS] = {PT_U16, CTX(PUBLISH), 0, OFF(topic_alias), 1, U16_MAX},
        /* Not 0 or 1: Protocol Error, §3.2.2.3.4 and §3.2.2.3.5. */
        [MQTT_PROP_MAXIMUM_QOS] = {PT_BYTE, CTX(CONNACK), 0, OFF(maximum_qos), 0, 1},
        [MQTT_PROP_RETAIN_AVAILABLE] = {PT_BYTE, CTX(CONNACK), 0, OFF(retain_available), 0, 1},
        /* Allowed in every block, any number of times (§3.1.2.11.8 and each "User Property"
	 * section). Counted, not stored: no field. */
        [MQTT_PROP_USER_PROPERTY] = {PT_PAIR, CTX_ALL, CTX_ALL, 0, 0, 0},
        /* 0 is a Protocol Error: §3.1.2.11.4 (CONNECT), §3.2.2.3.6 (CONNACK). */
        [MQTT_PROP_MAXIMUM_PACKET_SIZE] = {PT_U32, CON_ACK, 0, OFF(maximum_packet_size), 1,
                                           U32_MAX},
        /* Not 0 or 1: Protocol Error, §3.2.2.3.11, §3.2.2.3.12, §3.2.2.3.13. */
        [MQTT_PROP_WILDCARD_SUB_AVAILABLE] = {PT_BYTE, CTX(CONNACK), 0, OFF(wildcard_sub_available),
                                              0, 1},
        [MQTT_PROP_SUB_ID_AVAILABLE] = {PT_BYTE, CTX(CONNACK), 0, OFF(sub_id_available), 0, 1},
        [MQTT_PROP_SHARED_SUB_AVAILABLE] = {PT_BYTE, CTX(CONNACK), 0, OFF(shared_sub_available), 0,
                                            1},
};

#define PROP_ID_COUNT (sizeof(prop_defs) / sizeof(prop_defs[0]))

/* Bytes of the fixed-width value types. */
static const uint8_t prop_width[] = {[PT_BYTE] = 1, [PT_U16] = 2, [PT_U32] = 4};

/* NULL for an identifier that is not a property. */
static const struct prop_def *prop_lookup(uint32_t id)
{
	if (id >= PROP_ID_COUNT || prop_defs[id].type == PT_NONE)
		return NULL;
	return &prop_defs[id];
}

static uint32_t ctx_bit(enum mqtt_prop_ctx ctx)
{
	return (unsigned)ctx < CTX_COUNT ? 1u << ctx : 0;
}

static bool is_integer(uint8_t type)
{
	return type == PT_BYTE || type == PT_U16 || type == PT_U32 || type == PT_VARINT;
}

/* Contract in mqtt.h: the table's context mask; false for a non-property or a bad ctx. */
bool mqtt_prop_allowed(enum mqtt_prop_id id, enum mqtt_prop_ctx ctx)
{
	const struct prop_def *d = prop_lookup((uint32_t)id);

	return d && (d->ctx & ctx_bit(ctx));
}

/* ---- Decoding -------------------------------------------------------------------------- */

/* Reads one value of `type`. UTF-8 is checked only when `check_utf8` (the iterators walk a
 * block the decoder already validated). */
static int read_value(struct mqtt_reader *r, uint8_t type, bool check_utf8, union prop_value *v)
{
	int (*read_str)(struct mqtt_reader *, struct mqtt_str *) =
	        check_utf8 ? mqtt_read_utf8 : mqtt_read_binary;
	uint16_t u16 = 0;
	uint8_t u8 = 0;
	int err = -EBADMSG;

	switch (type) {
	case PT_BYTE:
		err = mqtt_read_u8(r, &u8);
		v->n = u8;
		break;
	case PT_U16:
		err = mqtt_read_u16(r, &u16);
		v->n = u16;
		break;
	case PT_U32:
		err = mqtt_read_u32(r, &v->n);
		break;
	case PT_VARINT:
		err = mqtt_read_varint(r, &v->n);
		break;
	case PT_UTF8:
		err = read_str(r, &v->s);
		break;
	case PT_BINARY:
		err = mqtt_read_binary(r, &v->s);
		break;
	case PT_PAIR:
		err = read_str(r, &v->up.key);
		if (err == 0)
			err = read_str(r, &v->up.value);
		break;
	}
	return err;
}

/* Reads an identifier and its value. -EBADMSG for a truncated property or an identifier that
 * is not a property [MQTT 5.0 §2.2.2.2]. */
static int read_prop(struct mqtt_reader *r, bool check_utf8, uint32_t *id,
                     const struct prop_def **def, union prop_value *v)
{
	uint8_t b;
	/* The identifier is a Variable Byte Integer, but every defined one is a single byte
	 * [§2.2.2.2]: a byte with the continuation bit set starts an unknown identifier. */
	int err = mqtt_read_u8(r, &b);

	if (err < 0)
		return err;
	*id = b;
	*def = prop_lookup(b);
	if (!*def)
		return -EBADMSG;
	return read_value(r, (*def)->type, check_utf8, v);
}

static void store_value(struct mqtt_props *p, const struct prop_def *d, const union prop_value *v)
{
	void *field = (char *)p + d->offset;

	switch (d->type) {
	case PT_BYTE:
		*(uint8_t *)field = (uint8_t)v->n;
		break;
	case PT_U16:
		*(uint16_t *)field = (uint16_t)v->n;
		break;
	case PT_U32:
		*(uint32_t *)field = v->n;
		break;
	case PT_UTF8:
	case PT_BINARY:
		*(struct mqtt_str *)field = v->s;
		break;
	case PT_VARINT:
		p->sub_id_count++; /* values stay in raw */
		break;
	case PT_PAIR:
		p->user_count++; /* values stay in raw */
		break;
	}
}

/* In CONNECT, Authentication Data without an Authentication Method is a Protocol Error
 * [MQTT 5.0 §3.1.2.11.10]. */
static bool auth_data_orphan(const struct mqtt_props *p, enum mqtt_prop_ctx ctx)
{
	return ctx == MQTT_PCTX_CONNECT && mqtt_props_has(p, MQTT_PROP_AUTH_DATA) &&
	       !mqtt_props_has(p, MQTT_PROP_AUTH_METHOD);
}

static int decode_one(struct mqtt_reader *r, enum mqtt_prop_ctx ctx, struct mqtt_props *out)
{
	const struct prop_def *d;
	union prop_value v;
	uint32_t id;
	int err = read_prop(r, true, &id, &d, &v);

	if (err < 0)
		return err;
	/* An identifier not valid for the packet type is a Malformed Packet [§2.2.2.2]. */
	if (!(d->ctx & ctx_bit(ctx)))
		return -EBADMSG;
	/* Repeats: see the table comment (§3.3.2.3.8, §3.8.2.1.2, and each property section). */
	if ((out->present & MQTT_PROP_BIT(id)) && !(d->multi & ctx_bit(ctx)))
		return -EPROTO;
	/* Out-of-range values: the clause is cited on the property's table row. */
	if (is_integer(d->type) && (v.n < d->min || v.n > d->max))
		/* Topic Alias 0 has its own reason: 0x94 Topic Alias invalid [MQTT-3.3.2-8]. */
		return id == MQTT_PROP_TOPIC_ALIAS ? -ERANGE : -EPROTO;
	store_value(out, d, &v);
	out->present |= MQTT_PROP_BIT(id);
	return 0;
}

/* Contract in codec.h. Zeroes *out first; on success the reader is left just past the block,
 * and out->raw and every string view borrow the reader's input. On error *out holds whatever
 * was decoded before the offending property and must not be used. */
int mqtt_props_decode(struct mqtt_reader *r, enum mqtt_prop_ctx ctx, struct mqtt_props *out)
{
	struct mqtt_reader block;
	const uint8_t *raw;
	uint32_t len;
	int err;

	memset(out, 0, sizeof(*out));
	/* Property Length, a Variable Byte Integer [§2.2.2.1, MQTT-1.5.5-1]. */
	err = mqtt_read_varint(r, &len);
	if (err < 0)
		goto out;
	err = mqtt_read_bytes(r, len, &raw);
	if (err < 0)
		goto out;
	out->raw = raw;
	out->raw_len = len;
	mqtt_reader_init(&block, raw, len);
	while (mqtt_reader_left(&block) > 0) {
		err = decode_one(&block, ctx, out);
		if (err < 0)
			goto out;
	}
	if (auth_data_orphan(out, ctx))
		err = -EPROTO;
out:
	return err;
}

/* ---- Iterators ------------------------------------------------------------------------- */

/* Next property `want` in p->raw from byte offset *cursor. Stops (returns 0) at the end or at
 * anything it cannot parse, leaving *cursor at the end so later calls return 0 too. */
static int raw_next(const struct mqtt_props *p, uint32_t *cursor, uint32_t want,
                    union prop_value *v)
{
	struct mqtt_reader r;

	if (!p->raw || *cursor >= p->raw_len)
		return 0;
	mqtt_reader_init(&r, p->raw, p->raw_len);
	r.off = *cursor;
	while (mqtt_reader_left(&r) > 0) {
		const struct prop_def *d;
		uint32_t id;

		if (read_prop(&r, false, &id, &d, v) < 0)
			break;
		if (id == want) {
			*cursor = (uint32_t)r.off;
			return 1;
		}
	}
	*cursor = p->raw_len;
	return 0;
}

/* Contract in mqtt.h. Array mode: *cursor is an index into p->user. Raw mode: a byte offset
 * into p->raw. Borrows p; *out views p->raw or the array. */
int mqtt_props_next_user(const struct mqtt_props *p, uint32_t *cursor, struct mqtt_user_prop *out)
{
	union prop_value v;

	if (p->user) {
		if (*cursor >= p->user_count)
			return 0;
		*out = p->user[(*cursor)++];
		return 1;
	}
	if (!raw_next(p, cursor, MQTT_PROP_USER_PROPERTY, &v))
		return 0;
	*out = v.up;
	return 1;
}

/* As mqtt_props_next_user, over p->sub_ids or the Subscription Identifiers in p->raw. */
int mqtt_props_next_sub_id(const struct mqtt_props *p, uint32_t *cursor, uint32_t *out)
{
	union prop_value v;

	if (p->sub_ids) {
		if (*cursor >= p->sub_id_count)
			return 0;
		*out = p->sub_ids[(*cursor)++];
		return 1;
	}
	if (!raw_next(p, cursor, MQTT_PROP_SUBSCRIPTION_ID, &v))
		return 0;
	*out = v.n;
	return 1;
}

/* ---- Encoding -------------------------------------------------------------------------- */

static bool str_ok(struct mqtt_str s)
{
	return s.p || s.len == 0; /* the length cannot exceed MQTT_STR_MAX: it is a uint16_t */
}

static void load_value(const struct mqtt_props *p, const struct prop_def *d, union prop_value *v)
{
	const void *field = (const char *)p + d->offset;

	switch (d->type) {
	case PT_BYTE:
		v->n = *(const uint8_t *)field;
		break;
	case PT_U16:
		v->n = *(const uint16_t *)field;
		break;
	case PT_U32:
		v->n = *(const uint32_t *)field;
		break;
	default:
		v->s = *(const struct mqtt_str *)field;
		break;
	}
}

/* User Properties: user_count of them, from p->user or p->raw. */
static long users_size(const struct mqtt_props *p)
{
	struct mqtt_user_prop up;
	uint32_t cursor = 0;
	uint64_t total = 0;

	for (uint32_t i = 0; i < p->user_count; i++) {
		if (!mqtt_props_next_user(p, &cursor, &up) || !str_ok(up.key) || !str_ok(up.value))
			return -EINVAL;
		total += 1u + 2u + up.key.len + 2u + up.value.len;
		if (total > MQTT_VARINT_MAX)
			return -EINVAL;
	}
	return (long)total;
}

/* Subscription Identifiers: sub_id_count of them, from p->sub_ids or p->raw. Only PUBLISH may
 * carry several [§3.3.2.3.8, §3.8.2.1.2]; 0 is never valid. */
static long sub_ids_size(const struct mqtt_props *p, const struct prop_def *d,
                         enum mqtt_prop_ctx ctx)
{
	uint32_t cursor = 0, id;
	uint64_t total = 0;

	if (p->sub_id_count > 1 && !(d->multi & ctx_bit(ctx)))
		return -EINVAL;
	for (uint32_t i = 0; i < p->sub_id_count; i++) {
		if (!mqtt_props_next_sub_id(p, &cursor, &id) || id < d->min || id > d->max)
			return -EINVAL;
		total += 1u + mqtt_varint_size(id);
		if (total > MQTT_VARINT_MAX)
			return -EINVAL;
	}
	return (long)total;
}

/* Bytes of property `d` in p, identifiers included, or -EINVAL. */
static long prop_size(const struct mqtt_props *p, const struct prop_def *d, enum mqtt_prop_ctx ctx)
{
	union prop_value v;

	if (d->type == PT_PAIR)
		return users_size(p);
	if (d->type == PT_VARINT)
		return sub_ids_size(p, d, ctx);
	load_value(p, d, &v);
	if (is_integer(d->type)) {
		/* Encoding a value the decoder would reject as a Protocol Error is refused. */
		if (v.n < d->min || v.n > d->max)
			return -EINVAL;
		return 1 + prop_width[d->type];
	}
	if (!str_ok(v.s))
		return -EINVAL;
	return 1 + 2 + (long)v.s.len;
}

/* Size of the block without its Property Length, or -EINVAL. */
static long body_size(const struct mqtt_props *p, enum mqtt_prop_ctx ctx)
{
	uint64_t total = 0;

	if (auth_data_orphan(p, ctx))
		return -EINVAL;
	for (uint32_t id = 0; id < 64; id++) {
		const struct prop_def *d;
		long n;

		if (!(p->present & MQTT_PROP_BIT(id)))
			continue;
		d = prop_lookup(id);
		if (!d || !(d->ctx & ctx_bit(ctx)))
			return -EINVAL;
		n = prop_size(p, d, ctx);
		if (n < 0)
			return n;
		total += (uint64_t)n;
		if (total > MQTT_VARINT_MAX)
			return -EINVAL;
	}
	return (long)total;
}

/* Contract in codec.h. A property is written when its `present` bit is set; for User Property
 * and Subscription Identifier the first user_count / sub_id_count values are written (none if
 * the count is 0), from the arrays or else from p->raw. -EINVAL also for a value the decoder
 * would call a Protocol Error, a string with len > 0 and p NULL, or fewer values than the
 * count. Borrows p. */
long mqtt_props_size(const struct mqtt_props *p, enum mqtt_prop_ctx ctx)
{
	long n = body_size(p, ctx);

	if (n < 0)
		return n;
	return (long)mqtt_varint_size((uint32_t)n) + n;
}

static void prop_write(struct mqtt_writer *w, const struct mqtt_props *p, uint32_t id,
                       const struct prop_def *d)
{
	struct mqtt_user_prop up;
	union prop_value v;
	uint32_t cursor = 0, sub_id;

	switch (d->type) {
	case PT_PAIR:
		for (uint32_t i = 0; i < p->user_count && mqtt_props_next_user(p, &cursor, &up);
		     i++) {
			mqtt_write_u8(w, (uint8_t)id);
			mqtt_write_str(w, up.key);
			mqtt_write_str(w, up.value);
		}
		return;
	case PT_VARINT:
		for (uint32_t i = 0;
		     i < p->sub_id_count && mqtt_props_next_sub_id(p, &cursor, &sub_id); i++) {
			mqtt_write_u8(w, (uint8_t)id);
			mqtt_write_varint(w, sub_id);
		}
		return;
	}
	load_value(p, d, &v);
	mqtt_write_u8(w, (uint8_t)id);
	switch (d->type) {
	case PT_BYTE:
		mqtt_write_u8(w, (uint8_t)v.n);
		break;
	case PT_U16:
		mqtt_write_u16(w, (uint16_t)v.n);
		break;
	case PT_U32:
		mqtt_write_u32(w, v.n);
		break;
	default:
		mqtt_write_str(w, v.s);
		break;
	}
}

/* Contract in codec.h: writes exactly mqtt_props_size() bytes, which must have succeeded for
 * the same p and ctx. Borrows p. */
void mqtt_props_write(struct mqtt_writer *w, const struct mqtt_props *p, enum mqtt_prop_ctx ctx)
{
	long n = body_size(p, ctx);

	assert(n >= 0); /* the caller sized the packet with mqtt_props_size() */
	if (n < 0)
		return;
	mqtt_write_varint(w, (uint32_t)n);
	/* Ascending identifier order; multi-valued properties in their given order. */
	for (uint32_t id = 0; id < PROP_ID_COUNT; id++) {
		if (p->present & MQTT_PROP_BIT(id))
			prop_write(w, p, id, &prop_defs[id]);
	}
}
