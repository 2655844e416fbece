/* store_codec.c - encoding and decoding of the persistence records (formats in store_codec.h).
 * Pure functions over byte buffers: store.c moves the bytes in and out of LMDB. */
#include "store_codec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Format bytes: the first byte of each record kind. */
enum {
	REC_SESSION = 0x53, /* 'S' */
	REC_MSG = 0x4d,     /* 'M' */
	REC_SCHEMA = 0x56,  /* 'V' */
};
static const uint8_t schema_magic[8] = {'m', 'q', 't', 't', 'f', 'a', 's', 't'};

/* Delivery flag bits. */
enum { DFLAG_RETAIN = 1, DFLAG_SENT = 2, DFLAG_MSG = 4 };
/* Subscription option bits. */
enum { SFLAG_NO_LOCAL = 1, SFLAG_RAP = 2 };

/* ---- writer ------------------------------------------------------------------------------ */

void store_buf_free(struct store_buf *b)
{
	free(b->p);
	*b = (struct store_buf){0};
}

static void put_bytes(struct store_buf *b, const void *p, size_t n)
{
	if (b->err || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_uint(struct store_buf *b, uint64_t v, unsigned bytes)
{
	uint8_t le[8];
	for (unsigned i = 0; i < bytes; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	put_bytes(b, le, bytes);
}

static void put_u8(struct store_buf *b, uint8_t v)
{
	put_uint(b, v, 1);
}
static void put_u16(struct store_buf *b, uint16_t v)
{
	put_uint(b, v, 2);
}
static void put_u32(struct store_buf *b, uint32_t v)
{
	put_uint(b, v, 4);
}
static void put_i64(struct store_buf *b, int64_t v)
{
	put_uint(b, (uint64_t)v, 8);
}

/* ---- reader: a failed read sets `bad` and yields zeros, checked once at the end --------- */

struct rd {
	const uint8_t *p;
	size_t n, off;
	bool bad;
};

static const uint8_t *get_bytes(struct rd *r, size_t n)
{
	if (r->bad || n > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t get_uint(struct rd *r, unsigned bytes)
{
	const uint8_t *p = get_bytes(r, bytes);
	uint64_t v = 0;
	for (unsigned i = 0; p && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t get_u8(struct rd *r)
{
	return (uint8_t)get_uint(r, 1);
}
static uint16_t get_u16(struct rd *r)
{
	return (uint16_t)get_uint(r, 2);
}
static uint32_t get_u32(struct rd *r)
{
	return (uint32_t)get_uint(r, 4);
}
static int64_t get_i64(struct rd *r)
{
	return (int64_t)get_uint(r, 8);
}

/* ---- times -------------------------------------------------------------------------------- */

static int64_t to_wall(int64_t mono, const struct store_clock *clk)
{
	return mono ? clk->wall_ms + (mono - clk->mono_ms) : 0;
}

/* A deadline already passed stays in the past (at least 1 ms, since 0 means "none"). */
static int64_t to_mono(int64_t wall, const struct store_clock *clk)
{
	if (!wall)
		return 0;
	int64_t mono = clk->mono_ms + (wall - clk->wall_ms);
	return mono > 0 ? mono : 1;
}

/* ---- messages ----------------------------------------------------------------------------- */

/* The body of a message, shared by retained records and deliveries. */
static void put_msg(struct store_buf *b, const struct msg *m, const struct store_clock *clk)
{
	put_u8(b, m->qos);
	put_u8(b, m->retain);
	put_i64(b, to_wall(m->expiry_at, clk));
	put_u16(b, m->topic_len);
	put_bytes(b, m->topic, m->topic_len);
	put_u32(b, m->payload_len);
	put_bytes(b, m->payload, m->payload_len);
	put_u32(b, m->props_len);
	put_bytes(b, m->props, m->props_len);
}

/* Returns an owned message, or NULL with r->bad set (bad bytes) or not (out of memory). */
static struct msg *get_msg(struct rd *r, const struct store_clock *clk)
{
	uint8_t qos = get_u8(r), retain = get_u8(r);
	int64_t expiry = get_i64(r);
	uint16_t tlen = get_u16(r);
	const uint8_t *topic = get_bytes(r, tlen);
	uint32_t plen = get_u32(r);
	const uint8_t *payload = get_bytes(r, plen);
	uint32_t xlen = get_u32(r);
	const uint8_t *props = get_bytes(r, xlen);
	if (r->bad || qos > 2 || retain > 1) {
		r->bad = true;
		return NULL;
	}
	struct msg *m = msg_from_parts(topic, tlen, payload, plen, props, xlen, qos, retain,
	                               to_mono(expiry, clk));
	if (!m && xlen)
		r->bad =
		        true; /* msg_from_parts also refuses a property block that does not decode */
	return m;
}

int store_encode_msg(struct store_buf *out, const struct msg *m, const struct store_clock *clk)
{
	put_u8(out, REC_MSG);
	put_msg(out, m, clk);
	return out->err;
}

int store_decode_msg(const uint8_t *p, size_t n, const struct store_clock *clk, struct msg **out)
{
	struct rd r = {.p = p, .n = n};
	*out = NULL;
	if (get_u8(&r) != REC_MSG)
		return -EBADMSG;
	struct msg *m = get_msg(&r, clk);
	if (m && r.off != n)
		r.bad = true; /* trailing bytes: not a record this code wrote */
	if (r.bad) {
		msg_unref(m);
		return -EBADMSG;
	}
	if (!m)
		return -ENOMEM;
	*out = m;
	return 0;
}

/* ---- schema ------------------------------------------------------------------------------- */

int store_encode_schema(struct store_buf *out, uint32_t version)
{
	put_u8(out, REC_SCHEMA);
	put_bytes(out, schema_magic, sizeof(schema_magic));
	put_u32(out, version);
	return out->err;
}

int store_decode_schema(const uint8_t *p, size_t n, uint32_t *version)
{
	struct rd r = {.p = p, .n = n};
	uint8_t kind = get_u8(&r);
	const uint8_t *magic = get_bytes(&r, sizeof(schema_magic));
	uint32_t v = get_u32(&r);
	if (r.bad || r.off != n || kind != REC_SCHEMA ||
	    memcmp(magic, schema_magic, sizeof(schema_magic)) != 0)
		return -EBADMSG;
	*version = v;
	return 0;
}

/* ---- sessions ----------------------------------------------------------------------------- */

static void put_delivery(struct store_buf *b, const struct delivery *d,
                         const struct store_clock *clk)
{
	put_u8(b, d->state);
	put_u8(b, d->qos);
	put_u8(b, (uint8_t)((d->retain ? DFLAG_RETAIN : 0) | (d->sent ? DFLAG_SENT : 0) |
	                    (d->m ? DFLAG_MSG : 0)));
	put_u16(b, d->packet_id);
	put_u8(b, d->nsub_ids);
	for (uint8_t i = 0; i < d->nsub_ids; i++)
		put_u32(b, d->sub_ids[i]);
	if (d->m)
		put_msg(b, d->m, clk);
}

int store_encode_session(struct store_buf *out, const struct session *s,
                         const struct store_will *will, const struct store_clock *clk)
{
	uint32_t nsubs = 0, ndel = 0;
	for (const struct session_sub *sub = s->subs; sub; sub = sub->next)
		nsubs++;
	for (const struct delivery *d = s->inflight; d; d = d->next)
		ndel++;
	for (const struct delivery *d = s->queue; d; d = d->next)
		ndel++;

	put_u8(out, REC_SESSION);
	put_u8(out, s->proto);
	put_u8(out, s->version);
	put_u32(out, s->expiry_interval);
	/* An online session has no deadline yet: after a crash it counts as disconnected at
	 * the restart. */
	put_i64(out, s->conn ? 0 : to_wall(s->expires_at, clk));
	put_u16(out, s->last_packet_id);
	uint16_t ulen = s->username ? (uint16_t)strlen(s->username) : 0;
	put_u8(out, s->username != NULL);
	put_u16(out, ulen);
	put_bytes(out, s->username, ulen);

	put_u32(out, nsubs);
	for (const struct session_sub *sub = s->subs; sub; sub = sub->next) {
		put_u16(out, sub->len);
		put_bytes(out, sub->filter, sub->len);
		put_u8(out, sub->opts.qos);
		put_u8(out, (uint8_t)((sub->opts.no_local ? SFLAG_NO_LOCAL : 0) |
		                      (sub->opts.retain_as_published ? SFLAG_RAP : 0)));
		put_u8(out, sub->opts.retain_handling);
		put_u32(out, sub->opts.sub_id);
	}
	put_u16(out, s->qos2_in_count);
	for (uint16_t i = 0; i < s->qos2_in_count; i++)
		put_u16(out, s->qos2_in[i]);
	/* In flight first, then queued: the order they leave in [MQTT-4.6.0-6]. */
	put_u32(out, ndel);
	for (const struct delivery *d = s->inflight; d; d = d->next)
		put_delivery(out, d, clk);
	for (const struct delivery *d = s->queue; d; d = d->next)
		put_delivery(out, d, clk);
	put_u8(out, will && will->m);
	if (will && will->m) {
		put_i64(out, to_wall(will->at, clk));
		put_msg(out, will->m, clk);
	}
	return out->err;
}

/* Reads one delivery and links it at the tail of the in-flight list or the queue. 0,
 * -EBADMSG, -ENOMEM. */
static int get_delivery(struct rd *r, struct session *s, const struct store_clock *clk)
{
	uint8_t state = get_u8(r), qos = get_u8(r), flags = get_u8(r);
	uint16_t packet_id = get_u16(r);
	uint8_t nsub_ids = get_u8(r);
	/* A message in every state but WAIT_PUBCOMP, which released it [MQTT-4.3.3-6]. */
	bool valid = state <= DELIVERY_WAIT_PUBCOMP && qos <= 2 &&
	             ((state == DELIVERY_QUEUED) == (packet_id == 0)) &&
	             (state == DELIVERY_QUEUED || qos > 0) &&
	             (!(flags & DFLAG_MSG) == (state == DELIVERY_WAIT_PUBCOMP));
	if (r->bad || !valid)
		return -EBADMSG;
	struct delivery *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->state = state;
	d->qos = qos;
	d->retain = flags & DFLAG_RETAIN;
	d->sent = (flags & DFLAG_SENT) || state != DELIVERY_QUEUED;
	d->packet_id = packet_id;
	int rc = 0;
	if (nsub_ids) {
		d->sub_ids = malloc(sizeof(*d->sub_ids) * nsub_ids);
		if (!d->sub_ids) {
			rc = -ENOMEM;
			goto fail;
		}
		d->nsub_ids = nsub_ids;
		for (uint8_t i = 0; i < nsub_ids; i++)
			d->sub_ids[i] = get_u32(r);
	}
	if (flags & DFLAG_MSG) {
		d->m = get_msg(r, clk);
		if (!d->m) {
			rc = r->bad ? -EBADMSG : -ENOMEM;
			goto fail;
		}
	}
	if (r->bad) {
		rc = -EBADMSG;
		goto fail;
	}
	session_restore_delivery(s, d);
	return 0;
fail:
	delivery_free(d);
	return rc;
}

/* Subscription list and inbound QoS 2 ids. 0, -EBADMSG, -ENOMEM. */
static int get_subs_and_qos2(struct rd *r, struct session *s)
{
	uint32_t nsubs = get_u32(r);
	for (uint32_t i = 0; i < nsubs && !r->bad; i++) {
		uint16_t flen = get_u16(r);
		const uint8_t *filter = get_bytes(r, flen);
		struct sub_opts o = {.qos = get_u8(r)};
		uint8_t flags = get_u8(r);
		o.no_local = flags & SFLAG_NO_LOCAL;
		o.retain_as_published = flags & SFLAG_RAP;
		o.retain_handling = get_u8(r);
		o.sub_id = get_u32(r);
		if (r->bad || flen == 0 || o.qos > 2 || o.retain_handling > 2)
			return -EBADMSG;
		int err = session_sub_add(s, filter, flen, &o);
		if (err < 0)
			return err;
	}
	uint16_t nq = get_u16(r);
	for (uint16_t i = 0; i < nq && !r->bad; i++) {
		uint16_t id = get_u16(r);
		if (id == 0)
			return -EBADMSG;
		int fresh = session_qos2_in_add(s, id, UINT16_MAX);
		if (fresh < 0)
			return fresh;
		if (fresh == 0)
			return -EBADMSG; /* the same id twice */
	}
	return r->bad ? -EBADMSG : 0;
}

int store_decode_session(const uint8_t *id, uint16_t len, const uint8_t *p, size_t n,
                         const struct store_clock *clk, struct session **out,
                         struct store_will *will)
{
	struct rd r = {.p = p, .n = n};
	struct session *s = NULL;
	int rc = -EBADMSG;
	*out = NULL;
	*will = (struct store_will){0};

	uint8_t kind = get_u8(&r), proto = get_u8(&r), version = get_u8(&r);
	uint32_t expiry_interval = get_u32(&r);
	int64_t expires_wall = get_i64(&r);
	uint16_t last_packet_id = get_u16(&r);
	uint8_t has_user = get_u8(&r);
	uint16_t ulen = get_u16(&r);
	const uint8_t *user = get_bytes(&r, ulen);
	if (r.bad || kind != REC_SESSION || proto > SESSION_SN || has_user > 1 ||
	    expiry_interval == 0)
		goto fail;
	rc = -ENOMEM;
	s = session_new(id, len);
	if (!s || session_set_username(s, has_user ? user : NULL, ulen) < 0)
		goto fail;
	s->proto = proto;
	s->version = version;
	s->expiry_interval = expiry_interval;
	s->last_packet_id = last_packet_id;
	if (expiry_interval != UINT32_MAX)
		/* Expiry goes on from the stored deadline; an online session at the crash is
		 * disconnected now. */
		s->expires_at = expires_wall ? to_mono(expires_wall, clk)
		                             : clk->mono_ms + (int64_t)expiry_interval * 1000;
	rc = get_subs_and_qos2(&r, s);
	if (rc < 0)
		goto fail;
	uint32_t ndel = get_u32(&r);
	for (uint32_t i = 0; i < ndel; i++) {
		rc = get_delivery(&r, s, clk);
		if (rc < 0)
			goto fail;
	}
	/* In flight before queued, packet ids unique (store_encode_session's order). */
	rc = -EBADMSG;
	for (const struct delivery *d = s->inflight; d; d = d->next)
		for (const struct delivery *e = d->next; e; e = e->next)
			if (e->packet_id == d->packet_id)
				goto fail;
	if (get_u8(&r)) {
		int64_t at = get_i64(&r);
		will->m = get_msg(&r, clk);
		if (!will->m) {
			rc = r.bad ? -EBADMSG : -ENOMEM;
			goto fail;
		}
		will->at = to_mono(at, clk);
	}
	if (r.bad || r.off != n)
		goto fail;
	s->store_dirty = false;
	s->stored = true;
	*out = s;
	return 0;
fail:
	msg_unref(will->m);
	*will = (struct store_will){0};
	session_free(s);
	return rc;
}
