/* test_broker_store_codec.c - the persistence record formats (store_codec.c): a session with
 * every kind of state round-trips field by field, deadlines move between clocks, every
 * truncation and a set of corruptions of a valid record are refused with -EBADMSG, and the
 * schema record is recognised exactly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "msg.h"
#include "session.h"
#include "store_codec.h"

#define U8(s) ((const uint8_t *)(s))

/* A message with MQTT 5 properties (content type, response topic) and an expiry. */
static struct msg *mk_props_msg(const char *topic, const char *payload, uint8_t qos, int64_t now_ms)
{
	struct mqtt_publish p = {
	        .qos = qos,
	        .topic = {U8(topic), (uint16_t)strlen(topic)},
	        .payload = U8(payload),
	        .payload_len = (uint32_t)strlen(payload),
	};
	p.props.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
	                  MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) |
	                  MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY);
	p.props.content_type = (struct mqtt_str){U8("text/plain"), 10};
	p.props.response_topic = (struct mqtt_str){U8("reply/here"), 10};
	p.props.message_expiry = 3600;
	return msg_from_publish(&p, p.topic, now_ms);
}

static const struct store_clock clk_save = {.mono_ms = 1000000, .wall_ms = 1700000000000};
/* The restart: monotonic clock restarted, wall clock 5 s later. */
static const struct store_clock clk_load = {.mono_ms = 2000, .wall_ms = 1700000005000};

/* A persistent, offline session with two subscriptions (MQTT 5 options, subscription id),
 * two inbound QoS 2 ids, one delivery in each in-flight state and two queued ones. */
static struct session *mk_full_session(struct msg *m1, struct msg *m2)
{
	struct session *s = session_new(U8("dev-42"), 6);
	CHECK(s != NULL);
	CHECK(session_set_username(s, U8("alice"), 5) == 0);
	s->version = MQTT_V5;
	s->expiry_interval = 600;
	s->expires_at = clk_save.mono_ms + 300000; /* 5 minutes left */
	struct sub_opts o1 = {.qos = 2, .no_local = true, .retain_handling = 2, .sub_id = 77};
	struct sub_opts o2 = {.qos = 1, .retain_as_published = true};
	CHECK(session_sub_add(s, U8("a/+/c"), 5, &o1) == 0);
	CHECK(session_sub_add(s, U8("$share/g/x/#"), 12, &o2) == 0);
	CHECK_EQ(session_qos2_in_add(s, 9, 100), 1);
	CHECK_EQ(session_qos2_in_add(s, 300, 100), 1);
	uint32_t ids[2] = {77, 5};
	/* Three go in flight (1, 2, 2), two stay queued. */
	CHECK(session_enqueue(s, NULL, m1, 1, false, ids, 2) == 0);
	CHECK(session_enqueue(s, NULL, m2, 2, true, NULL, 0) == 0);
	CHECK(session_enqueue(s, NULL, m2, 2, false, NULL, 0) == 0);
	CHECK(session_enqueue(s, NULL, m1, 1, false, ids, 1) == 0);
	CHECK(session_enqueue(s, NULL, m2, 0, false, NULL, 0) == 0);
	for (int i = 0; i < 3; i++) {
		struct delivery *d = session_next(s, 3, clk_save.mono_ms);
		CHECK(d != NULL);
		if (d)
			d->sent = true;
	}
	CHECK(session_on_pubrec(s, 3, 0) == 0); /* third: PUBREL sent, awaiting PUBCOMP */
	return s;
}

static void test_session_round_trip(void)
{
	struct msg *m1 = mk_props_msg("a/b/c", "payload-1", 1, clk_save.mono_ms);
	struct msg *m2 = msg_new(U8("x/y"), 3, U8("two"), 3, 2, true);
	struct session *s = mk_full_session(m1, m2);
	struct msg *wm = msg_new(U8("will/dev-42"), 11, U8("gone"), 4, 1, true);
	struct store_will will = {.m = wm, .at = clk_save.mono_ms + 20000};

	struct store_buf out = {0};
	CHECK(store_encode_session(&out, s, &will, &clk_save) == 0);
	CHECK(out.len > 0);

	struct session *r = NULL;
	struct store_will rw;
	CHECK(store_decode_session(U8("dev-42"), 6, out.p, out.len, &clk_load, &r, &rw) == 0);
	CHECK(r != NULL);
	if (!r)
		goto done;
	CHECK_MEM(r->client_id, r->client_id_len, "dev-42", 6);
	CHECK(r->username && strcmp(r->username, "alice") == 0);
	CHECK_EQ(r->version, MQTT_V5);
	CHECK_EQ(r->expiry_interval, 600);
	/* 300 s were left at save, 5 s of wall time passed: 295 s left on the new clock. */
	CHECK_EQ(r->expires_at, clk_load.mono_ms + 295000);
	CHECK(r->conn == NULL);
	CHECK(r->stored && !r->store_dirty);
	CHECK_EQ(r->last_packet_id, 3);

	const struct session_sub *sub = r->subs;
	CHECK(sub && sub->len == 5 && memcmp(sub->filter, "a/+/c", 5) == 0);
	if (sub) {
		CHECK_EQ(sub->opts.qos, 2);
		CHECK(sub->opts.no_local && !sub->opts.retain_as_published);
		CHECK_EQ(sub->opts.retain_handling, 2);
		CHECK_EQ(sub->opts.sub_id, 77);
		sub = sub->next;
	}
	CHECK(sub && sub->len == 12 && memcmp(sub->filter, "$share/g/x/#", 12) == 0);
	if (sub) {
		CHECK_EQ(sub->opts.qos, 1);
		CHECK(!sub->opts.no_local && sub->opts.retain_as_published);
		CHECK(sub->next == NULL);
	}
	CHECK_EQ(r->qos2_in_count, 2);
	CHECK_EQ(session_qos2_in_add(r, 9, 100), 0);   /* still awaiting PUBREL */
	CHECK_EQ(session_qos2_in_add(r, 300, 100), 0); /* still awaiting PUBREL */

	CHECK_EQ(r->inflight_count, 3);
	const struct delivery *d = r->inflight;
	CHECK(d && d->state == DELIVERY_WAIT_PUBACK && d->qos == 1 && d->packet_id == 1 && d->sent);
	if (d) {
		CHECK_EQ(d->nsub_ids, 2);
		CHECK(d->nsub_ids == 2 && d->sub_ids[0] == 77 && d->sub_ids[1] == 5);
		CHECK(d->m && d->m != m1);
		if (d->m) {
			CHECK_MEM(d->m->topic, d->m->topic_len, "a/b/c", 5);
			CHECK_MEM(d->m->payload, d->m->payload_len, "payload-1", 9);
			CHECK_MEM(d->m->props, d->m->props_len, m1->props, m1->props_len);
			CHECK_STR(d->m->fwd.content_type, "text/plain");
			CHECK_STR(d->m->fwd.response_topic, "reply/here");
			/* 3600 s expiry from save, 5 s later on the new clock. */
			CHECK_EQ(d->m->expiry_at, clk_load.mono_ms + 3595000);
		}
		d = d->next;
	}
	CHECK(d && d->state == DELIVERY_WAIT_PUBREC && d->qos == 2 && d->packet_id == 2 &&
	      d->retain);
	if (d) {
		CHECK(d->m && d->m->expiry_at == 0 && d->m->props_len == 0 && d->m->retain);
		d = d->next;
	}
	CHECK(d && d->state == DELIVERY_WAIT_PUBCOMP && d->packet_id == 3 && d->m == NULL);
	CHECK(r->inflight_tail == d);
	CHECK_EQ(r->queued_count, 2);
	CHECK_EQ(r->queued_bytes, s->queued_bytes);
	d = r->queue;
	CHECK(d && d->state == DELIVERY_QUEUED && d->qos == 1 && d->nsub_ids == 1 && !d->sent);
	CHECK(d && d->next && d->next->qos == 0 && d->next == r->queue_tail);
	/* The restored session goes on: next packet id after the stored last one. */
	struct delivery *nx = session_next(r, 10, clk_load.mono_ms);
	CHECK(nx && nx->packet_id == 4);
	CHECK(rw.m != NULL);
	if (rw.m) {
		CHECK_MEM(rw.m->topic, rw.m->topic_len, "will/dev-42", 11);
		CHECK_MEM(rw.m->payload, rw.m->payload_len, "gone", 4);
		CHECK(rw.m->retain && rw.m->qos == 1);
		CHECK_EQ(rw.at, clk_load.mono_ms + 15000);
	}
	msg_unref(rw.m);
done:
	session_free(r);
	store_buf_free(&out);
	session_free(s);
	msg_unref(wm);
	msg_unref(m1);
	msg_unref(m2);
}

/* An online session saved at the crash counts as disconnected at the restart; a session
 * that never expires has no deadline; a deadline that passed while stopped stays past. */
static void test_session_expiry_cases(void)
{
	struct session *s = session_new(U8("c"), 1);
	struct store_buf out = {0};
	struct session *r = NULL;
	struct store_will w;
	int dummy;

	s->expiry_interval = 60;
	s->conn = &dummy; /* online */
	s->expires_at = 0;
	CHECK(store_encode_session(&out, s, NULL, &clk_save) == 0);
	CHECK(store_decode_session(U8("c"), 1, out.p, out.len, &clk_load, &r, &w) == 0);
	CHECK(r && r->expires_at == clk_load.mono_ms + 60000 && w.m == NULL);
	session_free(r);
	store_buf_free(&out);

	s->conn = NULL;
	s->expiry_interval = UINT32_MAX;
	CHECK(store_encode_session(&out, s, NULL, &clk_save) == 0);
	CHECK(store_decode_session(U8("c"), 1, out.p, out.len, &clk_load, &r, &w) == 0);
	CHECK(r && r->expires_at == 0 && r->expiry_interval == UINT32_MAX);
	session_free(r);
	store_buf_free(&out);

	s->expiry_interval = 2;
	s->expires_at = clk_save.mono_ms + 1000; /* 1 s left, 5 s pass */
	CHECK(store_encode_session(&out, s, NULL, &clk_save) == 0);
	CHECK(store_decode_session(U8("c"), 1, out.p, out.len, &clk_load, &r, &w) == 0);
	CHECK(r && r->expires_at > 0 && r->expires_at <= clk_load.mono_ms);
	session_free(r);
	store_buf_free(&out);

	/* A record claiming a non-persistent session is not one this code writes. */
	s->expiry_interval = 0;
	CHECK(store_encode_session(&out, s, NULL, &clk_save) == 0);
	CHECK_EQ(store_decode_session(U8("c"), 1, out.p, out.len, &clk_load, &r, &w), -EBADMSG);
	CHECK(r == NULL);
	store_buf_free(&out);
	session_free(s);
}

/* Every prefix of a valid record, and the record with one byte more, is refused cleanly. */
static void test_truncated_and_trailing(void)
{
	struct msg *m1 = mk_props_msg("a/b/c", "payload-1", 1, clk_save.mono_ms);
	struct msg *m2 = msg_new(U8("x/y"), 3, U8("two"), 3, 2, true);
	struct session *s = mk_full_session(m1, m2);
	struct store_will will = {.m = m2, .at = clk_save.mono_ms + 1};
	struct store_buf out = {0};
	CHECK(store_encode_session(&out, s, &will, &clk_save) == 0);
	unsigned refused = 0;
	for (size_t n = 0; n < out.len; n++) {
		struct session *r = NULL;
		struct store_will rw;
		int rc = store_decode_session(U8("dev-42"), 6, out.p, n, &clk_load, &r, &rw);
		refused += rc == -EBADMSG && r == NULL && rw.m == NULL;
		session_free(r);
		msg_unref(rw.m);
	}
	CHECK_EQ(refused, out.len);
	uint8_t *longer = malloc(out.len + 1);
	memcpy(longer, out.p, out.len);
	longer[out.len] = 0;
	struct session *r = NULL;
	struct store_will rw;
	CHECK_EQ(store_decode_session(U8("dev-42"), 6, longer, out.len + 1, &clk_load, &r, &rw),
	         -EBADMSG);
	free(longer);

	struct store_buf mo = {0};
	CHECK(store_encode_msg(&mo, m1, &clk_save) == 0);
	unsigned mrefused = 0;
	for (size_t n = 0; n < mo.len; n++) {
		struct msg *m = NULL;
		mrefused += store_decode_msg(mo.p, n, &clk_load, &m) == -EBADMSG && m == NULL;
	}
	CHECK_EQ(mrefused, mo.len);
	store_buf_free(&mo);
	store_buf_free(&out);
	session_free(s);
	msg_unref(m1);
	msg_unref(m2);
}

/* Single corrupted fields of an otherwise valid record. */
static void test_corrupt_fields(void)
{
	struct session *s = session_new(U8("c"), 1);
	struct msg *m = msg_new(U8("t"), 1, U8("p"), 1, 1, false);
	s->expiry_interval = 10;
	CHECK(session_enqueue(s, NULL, m, 1, false, NULL, 0) == 0);
	struct delivery *d = session_next(s, 5, 0);
	CHECK(d && d->packet_id == 1);
	struct store_buf out = {0};
	CHECK(store_encode_session(&out, s, NULL, &clk_save) == 0);
	/* Layout: kind, proto, version, expiry(4), expires(8), last id(2), has user, ulen(2),
	 * nsubs(4), nqos2(2), ndel(4), then the delivery: state, qos, flags, packet id(2). */
	const size_t del = 1 + 1 + 1 + 4 + 8 + 2 + 1 + 2 + 4 + 2 + 4;
	struct {
		size_t off;
		uint8_t val;
		const char *what;
	} cases[] = {
	        {0, 'X', "record kind"},
	        {1, 7, "transport"},
	        {del, 9, "delivery state"},
	        {del + 1, 3, "QoS 3"},
	        {del + 1, 0, "QoS 0 in flight"},
	        {del + 2, 0, "in flight without its message"},
	        {del + 3, 0, "in flight without a packet id (low byte)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = malloc(out.len);
		memcpy(p, out.p, out.len);
		p[cases[i].off] = cases[i].val;
		struct session *r = NULL;
		struct store_will w;
		int rc = store_decode_session(U8("c"), 1, p, out.len, &clk_load, &r, &w);
		if (rc != -EBADMSG)
			fprintf(stderr, "corruption not refused: %s\n", cases[i].what);
		CHECK_EQ(rc, -EBADMSG);
		session_free(r);
		free(p);
	}
	/* The unmodified record decodes: the offsets above are the fields they name. */
	struct session *r = NULL;
	struct store_will w;
	CHECK(store_decode_session(U8("c"), 1, out.p, out.len, &clk_load, &r, &w) == 0);
	CHECK(r && r->inflight && r->inflight->packet_id == 1);
	session_free(r);
	store_buf_free(&out);
	session_free(s);
	msg_unref(m);
}

static void test_msg_and_schema(void)
{
	struct msg *m = mk_props_msg("r/t", "retained", 1, clk_save.mono_ms);
	m->retain = true;
	struct store_buf out = {0};
	CHECK(store_encode_msg(&out, m, &clk_save) == 0);
	struct msg *r = NULL;
	CHECK(store_decode_msg(out.p, out.len, &clk_load, &r) == 0);
	CHECK(r && r->retain && r->qos == 1 && r->refs == 1);
	if (r) {
		CHECK_MEM(r->topic, r->topic_len, "r/t", 3);
		CHECK_MEM(r->payload, r->payload_len, "retained", 8);
		CHECK_STR(r->fwd.content_type, "text/plain");
		CHECK_EQ(r->expiry_at, clk_load.mono_ms + 3595000);
	}
	msg_unref(r);
	/* A property block that does not decode is corrupt, not an allocation failure. */
	out.p[out.len - 2] ^= 0xff;
	CHECK_EQ(store_decode_msg(out.p, out.len, &clk_load, &r), -EBADMSG);
	store_buf_free(&out);
	msg_unref(m);

	uint32_t v = 0;
	CHECK(store_encode_schema(&out, STORE_SCHEMA_VERSION) == 0);
	CHECK_EQ(out.len, 13);
	CHECK(store_decode_schema(out.p, out.len, &v) == 0 && v == STORE_SCHEMA_VERSION);
	CHECK_EQ(store_decode_schema(out.p, out.len - 1, &v), -EBADMSG);
	out.p[3] = 'X'; /* magic */
	CHECK_EQ(store_decode_schema(out.p, out.len, &v), -EBADMSG);
	store_buf_free(&out);
	CHECK(store_encode_schema(&out, 7) == 0);
	CHECK(store_decode_schema(out.p, out.len, &v) == 0 && v == 7);
	store_buf_free(&out);
}

int main(void)
{
	test_session_round_trip();
	test_session_expiry_cases();
	test_truncated_and_trailing();
	test_corrupt_fields();
	test_msg_and_schema();
	return check_report();
}
