/* subscribe.c - SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK bodies (MQTT 3.1, 3.1.1, 5.0). */
#include "codec.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/* Subscription Options byte (MQTT 5.0 §3.8.3.1); 3.1/3.1.1 use only the QoS bits. */
#define SUB_OPT_QOS         0x03u
#define SUB_OPT_NO_LOCAL    0x04u
#define SUB_OPT_RAP         0x08u
#define SUB_OPT_RH          0x30u
#define SUB_OPT_RH_SHIFT    4
#define SUB_OPT_V5_RESERVED 0xc0u
#define SUB_OPT_V3_RESERVED 0xfcu

/* A set of reason codes valid in one packet type and version. */
struct reason_set {
	const uint8_t *codes;
	size_t n;
};

/* [MQTT-3.9.3-2] (3.1.1): anything but these is reserved. */
static const uint8_t suback_v3_codes[] = {0x00, 0x01, 0x02, 0x80};
/* MQTT 5.0 §3.9.3: Subscribe Reason Codes [MQTT-3.9.3-2]. */
static const uint8_t suback_v5_codes[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                          0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
/* MQTT 5.0 §3.11.3: Unsubscribe Reason Codes [MQTT-3.11.3-2]. */
static const uint8_t unsuback_v5_codes[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};

/* The reason codes a SUBACK/UNSUBACK of `version` may carry; n == 0 when it carries none
 * (3.1/3.1.1 UNSUBACK). -EINVAL for another type. */
static int reason_set_for(uint8_t type, uint8_t version, struct reason_set *set)
{
	if (type == MQTT_SUBACK && version < MQTT_V5)
		*set = (struct reason_set){suback_v3_codes, sizeof(suback_v3_codes)};
	else if (type == MQTT_SUBACK)
		*set = (struct reason_set){suback_v5_codes, sizeof(suback_v5_codes)};
	else if (type == MQTT_UNSUBACK && version < MQTT_V5)
		*set = (struct reason_set){NULL, 0};
	else if (type == MQTT_UNSUBACK)
		*set = (struct reason_set){unsuback_v5_codes, sizeof(unsuback_v5_codes)};
	else
		return -EINVAL;
	return 0;
}

static bool reasons_valid(const struct reason_set *set, const uint8_t *reasons, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		if (!memchr(set->codes, reasons[i], set->n))
			return false;
	return true;
}

/* Encoded size of a property block for `version`: the block with its length in MQTT 5; before
 * MQTT 5 there is no block, so it must be empty (-EINVAL otherwise). */
static long props_block_size(const struct mqtt_props *p, enum mqtt_prop_ctx ctx, uint8_t version)
{
	long n = mqtt_props_size(p, ctx);
	if (n < 0)
		return n;
	if (version < MQTT_V5)
		return n == 1 ? 0 : -EINVAL; /* 1: an empty block is its zero length byte */
	return n;
}

/* ---- Subscription Options ------------------------------------------------------------- */

static int sub_options_check(uint8_t opts, uint8_t version)
{
	if (version < MQTT_V5) {
		/* [MQTT-3-8.3-4] (3.1.1): reserved bits set or QoS 3 is malformed. */
		if ((opts & SUB_OPT_V3_RESERVED) || (opts & SUB_OPT_QOS) == 3)
			return -EBADMSG;
		return 0;
	}
	if (opts & SUB_OPT_V5_RESERVED)
		return -EBADMSG; /* [MQTT-3.8.3-5] */
	if ((opts & SUB_OPT_QOS) == 3)
		return -EPROTO; /* MQTT 5.0 §3.8.3.1: Maximum QoS 3 is a Protocol Error */
	if ((opts & SUB_OPT_RH) >> SUB_OPT_RH_SHIFT == 3)
		return -EPROTO; /* MQTT 5.0 §3.8.3.1: Retain Handling 3 is a Protocol Error */
	return 0;
}

static void sub_options_parse(uint8_t opts, struct mqtt_subscription *out)
{
	out->qos = opts & SUB_OPT_QOS;
	out->no_local = (opts & SUB_OPT_NO_LOCAL) != 0;
	out->retain_as_published = (opts & SUB_OPT_RAP) != 0;
	out->retain_handling = (uint8_t)((opts & SUB_OPT_RH) >> SUB_OPT_RH_SHIFT);
}

/* The options byte for `s` in `version`, or -EINVAL when it cannot be represented. */
static int sub_options_build(const struct mqtt_subscription *s, uint8_t version, uint8_t *opts)
{
	if (s->qos > 2 || s->retain_handling > 2)
		return -EINVAL;
	if (version < MQTT_V5 && (s->no_local || s->retain_as_published || s->retain_handling))
		return -EINVAL; /* MQTT 5 options have no place in a 3.1.1 options byte */
	*opts = (uint8_t)(s->qos | (s->no_local ? SUB_OPT_NO_LOCAL : 0) |
	                  (s->retain_as_published ? SUB_OPT_RAP : 0) |
	                  (s->retain_handling << SUB_OPT_RH_SHIFT));
	return 0;
}

/* ---- Topic Filter lists (SUBSCRIBE and UNSUBSCRIBE payloads) -------------------------- */

/* Validates the rest of the body as a list of Topic Filters, each followed by an options byte
 * when `with_opts`, and views it in *raw. Empty lists are a protocol error. */
static int filter_list_decode(struct mqtt_reader *r, bool with_opts, uint8_t version,
                              const uint8_t **raw, uint32_t *raw_len, uint32_t *count)
{
	uint32_t n = 0;
	int err;

	*raw = r->p + r->off;
	*raw_len = (uint32_t)mqtt_reader_left(r);
	while (mqtt_reader_left(r) > 0) {
		struct mqtt_str filter;
		uint8_t opts;

		/* [MQTT-3.8.3-1], [MQTT-3.10.3-1]: UTF-8 Encoded Strings. Filter syntax is left to
		 * the broker (mqtt_topic_filter_valid), which answers 0x8F per filter in MQTT 5. */
		err = mqtt_read_utf8(r, &filter);
		if (err < 0)
			return err;
		if (with_opts) {
			err = mqtt_read_u8(r, &opts);
			if (err < 0)
				return err;
			err = sub_options_check(opts, version);
			if (err < 0)
				return err;
		}
		n++;
	}
	/* SUBSCRIBE: [MQTT-3.8.3-3] (3.1.1), [MQTT-3.8.3-2] (5.0); UNSUBSCRIBE: [MQTT-3.10.3-2]. */
	if (n == 0)
		return -EPROTO;
	*count = n;
	return 0;
}

/* Packet Identifier and, in MQTT 5, the property block: the variable header shared by all
 * four packets of this file. */
static int id_props_decode(struct mqtt_reader *r, uint8_t version, enum mqtt_prop_ctx ctx,
                           uint16_t *packet_id, struct mqtt_props *props)
{
	int err = mqtt_read_u16(r, packet_id);
	if (err < 0)
		return err;
	/* [MQTT-2.3.1-1] (3.1.1), [MQTT-2.2.1-3] (5.0): non-zero in SUBSCRIBE and UNSUBSCRIBE; the
	 * acks echo it, so 0 cannot acknowledge anything either. */
	if (*packet_id == 0)
		return -EPROTO;
	if (version >= MQTT_V5)
		return mqtt_props_decode(r, ctx, props);
	return 0;
}

/* Contract in codec.h. Validates the whole payload; *out views r's input (raw, props), subs
 * is NULL. -EPROTO: packet id 0, no entries, 5.0 QoS or Retain Handling 3; -EBADMSG otherwise. */
int mqtt_subscribe_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_subscribe *out)
{
	memset(out, 0, sizeof(*out));
	int err = id_props_decode(r, version, MQTT_PCTX_SUBSCRIBE, &out->packet_id, &out->props);
	if (err < 0)
		return err;
	return filter_list_decode(r, true, version, &out->raw, &out->raw_len, &out->count);
}

/* As mqtt_subscribe_decode, for a list of filters without options. */
int mqtt_unsubscribe_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_unsubscribe *out)
{
	memset(out, 0, sizeof(*out));
	int err = id_props_decode(r, version, MQTT_PCTX_UNSUBSCRIBE, &out->packet_id, &out->props);
	if (err < 0)
		return err;
	return filter_list_decode(r, false, version, &out->raw, &out->raw_len, &out->count);
}

/* Contract in mqtt.h: walks subs[] when set, else the validated raw payload. Borrows s. */
int mqtt_subscribe_next(const struct mqtt_subscribe *s, uint32_t *cursor,
                        struct mqtt_subscription *out)
{
	if (s->subs) {
		if (*cursor >= s->count)
			return 0;
		*out = s->subs[(*cursor)++];
		return 1;
	}
	/* The payload was validated when decoded; the reader only guards against misuse. */
	struct mqtt_reader r;
	uint8_t opts;

	if (!s->raw || *cursor >= s->raw_len)
		return 0;
	mqtt_reader_init(&r, s->raw, s->raw_len);
	r.off = *cursor;
	if (mqtt_read_binary(&r, &out->filter) < 0 || mqtt_read_u8(&r, &opts) < 0)
		return 0;
	sub_options_parse(opts, out);
	*cursor = (uint32_t)r.off;
	return 1;
}

/* Contract in mqtt.h: walks filters[] when set, else the validated raw payload. Borrows u. */
int mqtt_unsubscribe_next(const struct mqtt_unsubscribe *u, uint32_t *cursor, struct mqtt_str *out)
{
	if (u->filters) {
		if (*cursor >= u->count)
			return 0;
		*out = u->filters[(*cursor)++];
		return 1;
	}
	struct mqtt_reader r;

	if (!u->raw || *cursor >= u->raw_len)
		return 0;
	mqtt_reader_init(&r, u->raw, u->raw_len);
	r.off = *cursor;
	if (mqtt_read_binary(&r, out) < 0)
		return 0;
	*cursor = (uint32_t)r.off;
	return 1;
}

/* A filter the encoder can emit: well-formed UTF-8 so that the peer's decoder accepts it. */
static bool filter_encodable(struct mqtt_str f)
{
	return (f.len == 0 || f.p) && mqtt_utf8_valid(f.p, f.len);
}

/* Size of the body from its variable header size `head` and the payload size, or -EINVAL when
 * the list is empty, does not hold `count` entries or does not fit a Remaining Length. */
static long list_body_size(long head, uint64_t payload, uint32_t n, uint32_t count)
{
	if (n == 0 || n != count)
		return -EINVAL;
	if ((uint64_t)head + payload > MQTT_VARINT_MAX)
		return -EINVAL;
	return head + (long)payload;
}

/* Exact body size, or -EINVAL: packet id 0, no entries, count not matching the entries, a
 * filter that is not UTF-8, options out of range or MQTT 5-only in 3.1/3.1.1, properties before
 * MQTT 5. Borrows s. */
long mqtt_subscribe_body_size(const struct mqtt_subscribe *s, uint8_t version)
{
	long props = props_block_size(&s->props, MQTT_PCTX_SUBSCRIBE, version);
	struct mqtt_subscription sub;
	uint64_t payload = 0;
	uint32_t cursor = 0, n = 0;
	uint8_t opts;

	if (props < 0)
		return props;
	if (s->packet_id == 0)
		return -EINVAL; /* [MQTT-2.2.1-3] */
	while (mqtt_subscribe_next(s, &cursor, &sub)) {
		if (!filter_encodable(sub.filter) || sub_options_build(&sub, version, &opts) < 0)
			return -EINVAL;
		payload += 2u + sub.filter.len + 1u;
		n++;
	}
	return list_body_size(2 + props, payload, n, s->count);
}

/* Writes the body sized by mqtt_subscribe_body_size (which must have succeeded). */
void mqtt_subscribe_body_write(struct mqtt_writer *w, const struct mqtt_subscribe *s,
                               uint8_t version)
{
	struct mqtt_subscription sub;
	uint32_t cursor = 0;
	uint8_t opts = 0;

	mqtt_write_u16(w, s->packet_id);
	if (version >= MQTT_V5)
		mqtt_props_write(w, &s->props, MQTT_PCTX_SUBSCRIBE);
	while (mqtt_subscribe_next(s, &cursor, &sub)) {
		int err = sub_options_build(&sub, version, &opts);
		assert(err == 0); /* checked by mqtt_subscribe_body_size */
		(void)err;
		mqtt_write_str(w, sub.filter);
		mqtt_write_u8(w, opts);
	}
}

/* As mqtt_subscribe_body_size, for UNSUBSCRIBE. Borrows u. */
long mqtt_unsubscribe_body_size(const struct mqtt_unsubscribe *u, uint8_t version)
{
	long props = props_block_size(&u->props, MQTT_PCTX_UNSUBSCRIBE, version);
	struct mqtt_str filter;
	uint64_t payload = 0;
	uint32_t cursor = 0, n = 0;

	if (props < 0)
		return props;
	if (u->packet_id == 0)
		return -EINVAL; /* [MQTT-2.2.1-3] */
	while (mqtt_unsubscribe_next(u, &cursor, &filter)) {
		if (!filter_encodable(filter))
			return -EINVAL;
		payload += 2u + filter.len;
		n++;
	}
	return list_body_size(2 + props, payload, n, u->count);
}

/* Writes the body sized by mqtt_unsubscribe_body_size. */
void mqtt_unsubscribe_body_write(struct mqtt_writer *w, const struct mqtt_unsubscribe *u,
                                 uint8_t version)
{
	struct mqtt_str filter;
	uint32_t cursor = 0;

	mqtt_write_u16(w, u->packet_id);
	if (version >= MQTT_V5)
		mqtt_props_write(w, &u->props, MQTT_PCTX_UNSUBSCRIBE);
	while (mqtt_unsubscribe_next(u, &cursor, &filter))
		mqtt_write_str(w, filter);
}

/* ---- SUBACK and UNSUBACK -------------------------------------------------------------- */

static enum mqtt_prop_ctx ack_ctx(uint8_t type)
{
	return type == MQTT_SUBACK ? MQTT_PCTX_SUBACK : MQTT_PCTX_UNSUBACK;
}

/* Contract in codec.h. `reasons` views r's input. -EPROTO: packet id 0, no reason code, a code
 * not valid for the type and version; -EBADMSG: truncated, or a 3.1.1 UNSUBACK longer than 2. */
int mqtt_suback_decode(struct mqtt_reader *r, uint8_t type, uint8_t version,
                       struct mqtt_suback *out)
{
	struct reason_set set;
	int err;

	memset(out, 0, sizeof(*out));
	err = reason_set_for(type, version, &set);
	if (err < 0)
		return err;
	err = id_props_decode(r, version, ack_ctx(type), &out->packet_id, &out->props);
	if (err < 0)
		return err;
	size_t left = mqtt_reader_left(r);
	if (set.n == 0) /* 3.1.1 §3.11: UNSUBACK is the Packet Identifier alone */
		return left == 0 ? 0 : -EBADMSG;
	/* One reason code per filter of the request, which had at least one: [MQTT-3.9.3-1],
	 * [MQTT-3.11.3-1] (5.0). */
	if (left == 0)
		return -EPROTO;
	err = mqtt_read_bytes(r, left, &out->reasons);
	if (err < 0)
		return err;
	out->count = (uint32_t)left;
	/* [MQTT-3.9.3-2]: only the listed codes; [MQTT-3.11.3-2] likewise for UNSUBACK. */
	return reasons_valid(&set, out->reasons, out->count) ? 0 : -EPROTO;
}

/* Exact body size, or -EINVAL: packet id 0, no reason codes (reason codes in a 3.1/3.1.1
 * UNSUBACK), a code not valid for the type and version, properties before MQTT 5. Borrows s. */
long mqtt_suback_body_size(const struct mqtt_suback *s, uint8_t type, uint8_t version)
{
	struct reason_set set;
	int err = reason_set_for(type, version, &set);
	if (err < 0)
		return err;
	long props = props_block_size(&s->props, ack_ctx(type), version);
	if (props < 0)
		return props;
	if (s->packet_id == 0)
		return -EINVAL;
	if (set.n == 0) /* 3.1/3.1.1 UNSUBACK: no reason codes to carry */
		return s->count == 0 ? 2 : -EINVAL;
	if (s->count == 0 || !s->reasons || !reasons_valid(&set, s->reasons, s->count))
		return -EINVAL;
	if (2u + (uint64_t)props + s->count > MQTT_VARINT_MAX)
		return -EINVAL;
	return 2 + props + (long)s->count;
}

/* Writes the body sized by mqtt_suback_body_size. */
void mqtt_suback_body_write(struct mqtt_writer *w, const struct mqtt_suback *s, uint8_t type,
                            uint8_t version)
{
	mqtt_write_u16(w, s->packet_id);
	if (version < MQTT_V5 && type == MQTT_UNSUBACK)
		return;
	if (version >= MQTT_V5)
		mqtt_props_write(w, &s->props, ack_ctx(type));
	mqtt_write_bytes(w, s->reasons, s->count);
}
