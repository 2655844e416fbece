/* test_broker_session.c - session state: outbound queue and QoS 1/2 window, acknowledgement
 * flows, packet id allocation, queue bounds, expiry, inbound QoS 2 ids, subscription list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "msg.h"
#include "session.h"

#define U8(s) ((const uint8_t *)(s))

static const struct session_limits unbounded = {.max_queued_messages = 0};

/* A message "t/<n>" with a payload of `payload_len` bytes; refs = 1. */
static struct msg *mk(const char *topic, uint32_t payload_len, uint8_t qos)
{
	static const uint8_t payload[64] = {0};
	return msg_new(U8(topic), (uint16_t)strlen(topic), payload, payload_len, qos, false);
}

static struct session *mk_session(void)
{
	return session_new(U8("client-1"), 8);
}

static unsigned list_len(const struct delivery *d)
{
	unsigned n = 0;
	for (; d; d = d->next)
		n++;
	return n;
}

static void test_new_free(void)
{
	struct session *s = mk_session();
	CHECK(s != NULL);
	CHECK_EQ(s->client_id_len, 8);
	CHECK_MEM(s->client_id, 9, "client-1", 9); /* NUL-terminated */
	CHECK(s->subs == NULL && s->inflight == NULL && s->queue == NULL);
	CHECK(s->inflight_tail == NULL && s->queue_tail == NULL);
	CHECK_EQ(s->inflight_count, 0);
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);
	CHECK_EQ(s->last_packet_id, 0);
	/* Idle sessions stay small: no inbound QoS 2 array until one is needed. */
	CHECK(s->qos2_in == NULL);
	CHECK_EQ(s->qos2_in_cap, 0);
	CHECK(session_next(s, 10, 0) == NULL);
	session_free(s);

	/* An empty client id (server-assigned later) still gives a valid C string. */
	s = session_new(NULL, 0);
	CHECK(s != NULL);
	CHECK_EQ(s->client_id_len, 0);
	CHECK_EQ(s->client_id[0], '\0');
	session_free(s);

	session_free(NULL);
	delivery_free(NULL);
}

static void test_qos0(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("t/0", 5, 0);

	CHECK_EQ(session_enqueue(s, &unbounded, m, 0, true, NULL, 0), 0);
	CHECK_EQ(m->refs, 2);
	CHECK_EQ(s->queued_count, 1);
	CHECK_EQ(s->queued_bytes, 3 + 5);
	CHECK(s->queue != NULL && s->queue == s->queue_tail);
	CHECK_EQ(s->queue->state, DELIVERY_QUEUED);
	CHECK(!s->queue->sent);

	/* QoS 0 goes out even with a zero window, unlinked and owned by the caller. */
	struct delivery *d = session_next(s, 0, 0);
	CHECK(d != NULL);
	if (d) {
		CHECK(d->m == m);
		CHECK_EQ(d->qos, 0);
		CHECK(d->retain);
		CHECK_EQ(d->packet_id, 0);
		CHECK(d->next == NULL);
		CHECK_EQ(d->nsub_ids, 0);
		CHECK(d->sub_ids == NULL);
	}
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);
	CHECK(s->queue == NULL && s->queue_tail == NULL);
	CHECK_EQ(s->inflight_count, 0);
	CHECK(s->inflight == NULL);
	CHECK_EQ(s->last_packet_id, 0); /* no packet id consumed */
	delivery_free(d);
	CHECK_EQ(m->refs, 1);
	CHECK(session_next(s, 10, 0) == NULL);

	session_free(s);
	msg_unref(m);
}

static void test_qos1_flow(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("t/1", 4, 1);

	CHECK_EQ(session_enqueue(s, &unbounded, m, 1, false, NULL, 0), 0);
	struct delivery *d = session_next(s, 10, 0);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d->state, DELIVERY_WAIT_PUBACK);
		CHECK_EQ(d->packet_id, 1);
		CHECK_EQ(d->qos, 1);
		CHECK(!d->sent); /* the first PUBLISH carries DUP 0 [MQTT-4.3.2-2] */
		CHECK(d->m == m);
	}
	CHECK(s->inflight == d && s->inflight_tail == d);
	CHECK_EQ(s->inflight_count, 1);
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);
	CHECK_EQ(m->refs, 2);
	CHECK(session_next(s, 10, 0) == NULL);

	/* Wrong acknowledgements for a QoS 1 delivery change nothing. */
	CHECK_EQ(session_on_pubrec(s, 1, 0), -ENOENT);
	CHECK_EQ(session_on_pubcomp(s, 1), -ENOENT);
	CHECK_EQ(session_on_puback(s, 2), -ENOENT);
	CHECK_EQ(session_on_puback(s, 0), -ENOENT);
	CHECK_EQ(s->inflight_count, 1);
	CHECK_EQ(m->refs, 2);

	CHECK_EQ(session_on_puback(s, 1), 0);
	CHECK_EQ(s->inflight_count, 0);
	CHECK(s->inflight == NULL && s->inflight_tail == NULL);
	CHECK_EQ(m->refs, 1);
	CHECK_EQ(session_on_puback(s, 1), -ENOENT); /* already acknowledged */

	/* The next id follows the last one even though 1 is free again. */
	CHECK_EQ(session_enqueue(s, &unbounded, m, 1, false, NULL, 0), 0);
	d = session_next(s, 10, 0);
	CHECK(d != NULL && d->packet_id == 2);
	session_free(s);
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
}

static void test_qos2_flow(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("t/2", 7, 2);
	struct msg *m1 = mk("t/x", 1, 1);

	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	struct delivery *d = session_next(s, 1, 0);
	CHECK(d != NULL);
	if (!d)
		goto out;
	CHECK_EQ(d->state, DELIVERY_WAIT_PUBREC);
	CHECK_EQ(d->packet_id, 1);
	CHECK_EQ(d->qos, 2);
	CHECK(!d->sent); /* [MQTT-4.3.3-2] */
	d->sent = true;  /* as the caller does once the PUBLISH is written */
	CHECK_EQ(m->refs, 2);

	/* Wrong-state acknowledgements: PUBCOMP or PUBACK for a WAIT_PUBREC id. */
	CHECK_EQ(session_on_pubcomp(s, 1), -ENOENT);
	CHECK_EQ(session_on_puback(s, 1), -ENOENT);
	CHECK_EQ(session_on_pubrec(s, 9, 0), -ENOENT);
	CHECK_EQ(d->state, DELIVERY_WAIT_PUBREC);
	CHECK_EQ(s->inflight_count, 1);

	/* PUBREC: the message is released, the id and the window slot stay taken. */
	CHECK_EQ(session_on_pubrec(s, 1, 0x00), 0);
	CHECK(s->inflight == d);
	CHECK_EQ(d->state, DELIVERY_WAIT_PUBCOMP);
	CHECK(d->m == NULL);
	CHECK_EQ(d->packet_id, 1);
	CHECK(d->sent);
	CHECK_EQ(m->refs, 1);
	CHECK_EQ(s->inflight_count, 1);

	/* Wrong-state acknowledgements in WAIT_PUBCOMP. */
	CHECK_EQ(session_on_pubrec(s, 1, 0), -ENOENT);
	CHECK_EQ(session_on_puback(s, 1), -ENOENT);
	CHECK_EQ(session_on_pubcomp(s, 2), -ENOENT);

	/* Receive Maximum counts the QoS 2 flow until PUBCOMP [MQTT-3.3.4-9]. */
	CHECK_EQ(session_enqueue(s, &unbounded, m1, 1, false, NULL, 0), 0);
	CHECK(session_next(s, 1, 0) == NULL);
	CHECK_EQ(s->queued_count, 1);

	CHECK_EQ(session_on_pubcomp(s, 1), 0);
	CHECK_EQ(s->inflight_count, 0);
	CHECK(s->inflight == NULL && s->inflight_tail == NULL);
	CHECK_EQ(session_on_pubcomp(s, 1), -ENOENT);

	d = session_next(s, 1, 0);
	CHECK(d != NULL && d->m == m1 && d->packet_id == 2);
	CHECK_EQ(session_on_puback(s, 2), 0);
	CHECK_EQ(m1->refs, 1);

	/* PUBREC with a success reason other than 0 (0x10 No matching subscribers) goes on. */
	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	d = session_next(s, 1, 0);
	CHECK(d != NULL && d->packet_id == 3);
	CHECK_EQ(session_on_pubrec(s, 3, 0x10), 0);
	CHECK(d != NULL && d->state == DELIVERY_WAIT_PUBCOMP);
	CHECK_EQ(session_on_pubcomp(s, 3), 0);
	CHECK_EQ(m->refs, 1);
out:
	session_free(s);
	msg_unref(m);
	msg_unref(m1);
}

/* PUBREC with a reason >= 0x80 ends the flow: no PUBREL, id and slot free [MQTT-4.3.3-4]. */
static void test_pubrec_failure(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("t/2", 3, 2);

	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	CHECK_EQ(m->refs, 4);
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK_EQ(s->inflight_count, 3);

	/* Middle, then tail, then head: the list and its tail stay consistent. */
	CHECK_EQ(session_on_pubrec(s, 2, 0x80), 0);
	CHECK_EQ(s->inflight_count, 2);
	CHECK_EQ(m->refs, 3);
	CHECK_EQ(session_on_pubcomp(s, 2), -ENOENT);
	CHECK_EQ(session_on_pubrec(s, 2, 0), -ENOENT);
	CHECK_EQ(session_on_pubrec(s, 3, 0x97), 0);
	CHECK(s->inflight_tail == s->inflight);
	CHECK(s->inflight != NULL && s->inflight->packet_id == 1);
	CHECK_EQ(session_on_pubrec(s, 1, 0xff), 0);
	CHECK(s->inflight == NULL && s->inflight_tail == NULL);
	CHECK_EQ(s->inflight_count, 0);
	CHECK_EQ(m->refs, 1);

	/* The list still appends correctly after being emptied from the tail. */
	CHECK_EQ(session_enqueue(s, &unbounded, m, 2, false, NULL, 0), 0);
	struct delivery *d = session_next(s, 3, 0);
	CHECK(d != NULL && s->inflight == d && s->inflight_tail == d && d->packet_id == 4);
	session_free(s);
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
}

/* Window of 2 with 5 QoS 1 queued: only 2 out until an acknowledgement [MQTT-3.3.4-9]. */
static void test_window(void)
{
	struct session *s = mk_session();
	struct msg *m[5];
	for (int i = 0; i < 5; i++) {
		m[i] = mk("w", (uint32_t)i, 1);
		CHECK_EQ(session_enqueue(s, &unbounded, m[i], 1, false, NULL, 0), 0);
	}
	CHECK_EQ(s->queued_count, 5);
	CHECK_EQ(s->queued_bytes, 5 * 1 + (0 + 1 + 2 + 3 + 4));

	struct delivery *d1 = session_next(s, 2, 0);
	struct delivery *d2 = session_next(s, 2, 0);
	CHECK(d1 != NULL && d1->m == m[0] && d1->packet_id == 1);
	CHECK(d2 != NULL && d2->m == m[1] && d2->packet_id == 2);
	CHECK(session_next(s, 2, 0) == NULL);
	CHECK(session_next(s, 2, 0) == NULL);
	CHECK_EQ(s->inflight_count, 2);
	CHECK_EQ(s->queued_count, 3);
	CHECK_EQ(s->queued_bytes, 3 + (2 + 3 + 4));

	/* Acknowledgements in any order each open one slot. */
	CHECK_EQ(session_on_puback(s, 2), 0);
	struct delivery *d3 = session_next(s, 2, 0);
	CHECK(d3 != NULL && d3->m == m[2] && d3->packet_id == 3);
	CHECK(session_next(s, 2, 0) == NULL);
	CHECK_EQ(s->queued_bytes, 2 + (3 + 4));

	/* In-flight order is send order: 1 then 3. */
	CHECK(s->inflight == d1 && d1->next == d3 && s->inflight_tail == d3);

	CHECK_EQ(session_on_puback(s, 1), 0);
	CHECK_EQ(session_on_puback(s, 3), 0);
	/* A larger window (a new connection's Receive Maximum) lets the rest out. */
	struct delivery *d4 = session_next(s, 5, 0);
	struct delivery *d5 = session_next(s, 5, 0);
	CHECK(d4 != NULL && d4->m == m[3] && d4->packet_id == 4);
	CHECK(d5 != NULL && d5->m == m[4] && d5->packet_id == 5);
	CHECK(session_next(s, 5, 0) == NULL);
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);
	/* A smaller window than what is in flight sends nothing, breaks nothing. */
	CHECK_EQ(session_enqueue(s, &unbounded, m[0], 1, false, NULL, 0), 0);
	CHECK(session_next(s, 1, 0) == NULL);
	CHECK(session_next(s, 0, 0) == NULL);
	CHECK_EQ(s->queued_count, 1);

	session_free(s);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(m[i]->refs, 1);
		msg_unref(m[i]);
	}
}

/* Deliveries leave in enqueue order [MQTT-4.6.0-6]; QoS 0 behind a blocked QoS 1 waits. */
static void test_fifo(void)
{
	struct session *s = mk_session();
	struct msg *a = mk("o", 1, 1), *b = mk("o", 2, 1), *c = mk("o", 3, 0), *e = mk("o", 4, 2);

	CHECK_EQ(session_enqueue(s, &unbounded, a, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, b, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, c, 0, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, e, 2, false, NULL, 0), 0);

	struct delivery *d = session_next(s, 1, 0);
	CHECK(d != NULL && d->m == a);
	CHECK(session_next(s, 1, 0) == NULL); /* b blocked: c must not overtake it */
	CHECK_EQ(s->queued_count, 3);
	CHECK(s->queue != NULL && s->queue->m == b);

	CHECK_EQ(session_on_puback(s, 1), 0);
	d = session_next(s, 1, 0);
	CHECK(d != NULL && d->m == b && d->packet_id == 2);
	d = session_next(s, 1, 0); /* QoS 0 needs no slot */
	CHECK(d != NULL && d->m == c && d->packet_id == 0);
	delivery_free(d);
	CHECK(session_next(s, 1, 0) == NULL); /* e waits for b */
	CHECK_EQ(session_on_puback(s, 2), 0);
	d = session_next(s, 1, 0);
	CHECK(d != NULL && d->m == e && d->packet_id == 3 && d->state == DELIVERY_WAIT_PUBREC);
	CHECK(s->queue == NULL && s->queue_tail == NULL);
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);

	session_free(s);
	CHECK_EQ(a->refs + b->refs + c->refs + e->refs, 4);
	msg_unref(a);
	msg_unref(b);
	msg_unref(c);
	msg_unref(e);
}

/* session_next hands out a delivery unsent (DUP 0 on the first PUBLISH [MQTT-4.3.2-2]
 * [MQTT-4.3.3-2]); the caller marks it sent once written, and it stays in s->inflight in send
 * order, so a reconnect resends it with DUP [MQTT-3.3.1-1] [MQTT-4.4.0-1] [MQTT-4.6.0-1]. */
static void test_sent_redelivery(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("r", 2, 2);

	for (int i = 0; i < 4; i++)
		CHECK_EQ(
		        session_enqueue(s, &unbounded, m, (uint8_t)(i % 2 ? 1 : 2), false, NULL, 0),
		        0);
	for (int i = 0; i < 3; i++) {
		struct delivery *d = session_next(s, 3, 0);
		CHECK(d != NULL && !d->sent);
		if (d && i != 2)
			d->sent = true; /* written; the third one's write failed (still unsent) */
	}
	CHECK_EQ(session_on_pubrec(s, 1, 0), 0); /* first: PUBREL to resend */

	static const uint16_t want_id[] = {1, 2, 3};
	static const uint8_t want_state[] = {DELIVERY_WAIT_PUBCOMP, DELIVERY_WAIT_PUBACK,
	                                     DELIVERY_WAIT_PUBREC};
	static const bool want_sent[] = {true, true, false};
	unsigned i = 0;
	for (struct delivery *d = s->inflight; d && i < 3; d = d->next, i++) {
		CHECK_EQ(d->sent, want_sent[i]);
		CHECK_EQ(d->packet_id, want_id[i]);
		CHECK_EQ(d->state, want_state[i]);
		CHECK(d->state == DELIVERY_WAIT_PUBCOMP ? d->m == NULL : d->m == m);
	}
	CHECK_EQ(i, 3);
	CHECK_EQ(list_len(s->inflight), 3);
	CHECK(s->queue != NULL && !s->queue->sent && s->queue->packet_id == 0);
	CHECK_EQ(s->queue->state, DELIVERY_QUEUED);

	/* Acknowledging others keeps the survivors' flags and order. */
	CHECK_EQ(session_on_puback(s, 2), 0);
	CHECK(s->inflight != NULL && s->inflight->packet_id == 1 && s->inflight->sent);
	CHECK(s->inflight && s->inflight->next && s->inflight->next->packet_id == 3);
	CHECK(s->inflight_tail != NULL && s->inflight_tail->packet_id == 3);

	session_free(s);
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
}

/* Enqueues n QoS 1 deliveries of m and sends them all (window n). */
static void send_n(struct session *s, struct msg *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(session_enqueue(s, &unbounded, m, 1, false, NULL, 0), 0);
	for (unsigned i = 0; i < n; i++)
		CHECK(session_next(s, UINT16_MAX, 0) != NULL);
}

/* Non-zero ids, wrapping 65535 -> 1, never one still in flight [MQTT-2.2.1-4]. */
static void test_packet_ids(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("p", 0, 1);

	s->last_packet_id = 65534;
	send_n(s, m, 3);
	struct delivery *d = s->inflight;
	CHECK(d != NULL && d->packet_id == 65535);
	CHECK(d && d->next && d->next->packet_id == 1);
	CHECK(d && d->next && d->next->next && d->next->next->packet_id == 2);
	CHECK_EQ(s->last_packet_id, 2);
	CHECK_EQ(session_on_puback(s, 65535), 0);
	CHECK_EQ(session_on_puback(s, 1), 0);
	CHECK_EQ(session_on_puback(s, 2), 0);
	session_free(s);

	/* 1 and 3 still in flight (2 acknowledged) when the ids wrap: both are skipped. */
	s = mk_session();
	send_n(s, m, 3);
	CHECK_EQ(session_on_puback(s, 2), 0);
	s->last_packet_id = 65534;
	send_n(s, m, 4);
	uint16_t want[] = {1, 3, 65535, 2, 4, 5};
	unsigned i = 0;
	for (d = s->inflight; d && i < 6; d = d->next, i++)
		CHECK_EQ(d->packet_id, want[i]);
	CHECK_EQ(i, 6);
	CHECK_EQ(s->inflight_count, 6);
	session_free(s);

	/* last_packet_id = 65535 with 1 in flight: wraps and skips to 2. */
	s = mk_session();
	send_n(s, m, 1);
	s->last_packet_id = 65535;
	send_n(s, m, 1);
	CHECK(s->inflight_tail != NULL && s->inflight_tail->packet_id == 2);
	session_free(s);

	/* A long run of ids in flight, including one in WAIT_PUBCOMP, is scanned past. */
	s = mk_session();
	send_n(s, m, 300);
	CHECK_EQ(s->inflight_count, 300);
	struct msg *m2 = mk("p", 0, 2);
	CHECK_EQ(session_enqueue(s, &unbounded, m2, 2, false, NULL, 0), 0);
	d = session_next(s, UINT16_MAX, 0);
	CHECK(d != NULL && d->packet_id == 301);
	CHECK_EQ(session_on_pubrec(s, 301, 0), 0);
	s->last_packet_id = 0;
	send_n(s, m, 1);
	CHECK(s->inflight_tail != NULL && s->inflight_tail->packet_id == 302);
	session_free(s);

	CHECK_EQ(m->refs, 1);
	CHECK_EQ(m2->refs, 1);
	msg_unref(m);
	msg_unref(m2);
}

/* memory_limit: one byte count shared by every session's queue; a delivery is counted while it
 * is queued, whichever way it leaves (sent, expired, freed with its session). */
static void test_total_bound(void)
{
	uint64_t total = 0;
	struct session_limits lim = {.max_total_bytes = 25, .total_bytes = &total};
	struct session *a = mk_session(), *b = mk_session();
	struct msg *m = mk("t", 9, 1); /* 10 bytes */

	CHECK_EQ(session_enqueue(a, &lim, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(b, &lim, m, 0, false, NULL, 0), 0);
	CHECK_EQ(total, 20);
	/* The third would need 30 bytes in all: refused, whichever session it is for. */
	CHECK_EQ(session_enqueue(a, &lim, m, 1, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(session_enqueue(b, &lim, m, 1, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(a->dropped + b->dropped, 2);
	CHECK_EQ(total, 20);

	/* Sending gives the bytes back (QoS 0 leaves owned, QoS 1 moves in flight). */
	struct delivery *d = session_next(b, 10, 0);
	CHECK(d != NULL && d->qos == 0 && d->total_bytes == NULL);
	CHECK_EQ(total, 10);
	delivery_free(d);
	CHECK_EQ(total, 10);
	CHECK(session_next(a, 10, 0) != NULL);
	CHECK_EQ(total, 0);

	/* Freeing a session with a queue gives its bytes back. */
	CHECK_EQ(session_enqueue(b, &lim, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(b, &lim, m, 1, false, NULL, 0), 0);
	CHECK_EQ(total, 20);
	session_free(b);
	CHECK_EQ(total, 0);
	/* Without total_bytes nothing is counted. */
	CHECK_EQ(session_enqueue(a, &unbounded, m, 1, false, NULL, 0), 0);
	CHECK_EQ(total, 0);
	session_free(a);
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
}

static void test_bounds(void)
{
	struct session *s = mk_session();
	struct msg *m = mk("t", 9, 1);     /* 10 bytes */
	struct msg *small = mk("t", 4, 1); /* 5 bytes */

	/* By count. */
	struct session_limits by_count = {.max_queued_messages = 2};
	CHECK_EQ(session_enqueue(s, &by_count, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &by_count, m, 0, false, NULL, 0), 0);
	uint32_t ids[] = {7};
	CHECK_EQ(session_enqueue(s, &by_count, m, 1, false, ids, 1), -ENOBUFS);
	CHECK_EQ(session_enqueue(s, &by_count, small, 0, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(s->dropped, 2);
	CHECK_EQ(s->queued_count, 2);
	CHECK_EQ(s->queued_bytes, 20);
	CHECK_EQ(m->refs, 3);
	CHECK_EQ(small->refs, 1);
	CHECK(s->queue_tail != NULL && s->queue_tail->qos == 0);

	/* In-flight deliveries left the queue and do not count against it. */
	CHECK(session_next(s, 1, 0) != NULL);
	CHECK_EQ(s->queued_count, 1);
	CHECK_EQ(s->queued_bytes, 10);
	CHECK_EQ(session_enqueue(s, &by_count, m, 1, false, NULL, 0), 0);
	CHECK_EQ(s->dropped, 2);
	session_free(s);
	CHECK_EQ(m->refs, 1);

	/* By bytes: exactly at the bound fits, one byte over does not. */
	s = mk_session();
	struct session_limits by_bytes = {.max_queued_bytes = 25};
	CHECK_EQ(session_enqueue(s, &by_bytes, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &by_bytes, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &by_bytes, m, 1, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(s->dropped, 1);
	CHECK_EQ(session_enqueue(s, &by_bytes, small, 1, false, NULL, 0), 0);
	CHECK_EQ(s->queued_bytes, 25);
	CHECK_EQ(session_enqueue(s, &by_bytes, small, 1, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(s->dropped, 2);
	CHECK_EQ(s->queued_count, 3);
	CHECK_EQ(m->refs, 3);
	CHECK_EQ(small->refs, 2);

	/* Deliveries leaving the queue give their bytes back exactly. */
	CHECK(session_next(s, 10, 0) != NULL);
	CHECK_EQ(s->queued_bytes, 15);
	CHECK_EQ(session_enqueue(s, &by_bytes, m, 1, false, NULL, 0), 0);
	CHECK_EQ(s->queued_bytes, 25);

	/* A message larger than the whole bound is refused even on an empty queue. */
	struct session_limits tiny = {.max_queued_bytes = 9};
	struct session *s2 = mk_session();
	CHECK_EQ(session_enqueue(s2, &tiny, m, 1, false, NULL, 0), -ENOBUFS);
	CHECK_EQ(s2->dropped, 1);
	CHECK(s2->queue == NULL);
	/* No limits at all (NULL or zeros). */
	CHECK_EQ(session_enqueue(s2, NULL, m, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s2, &unbounded, m, 1, false, NULL, 0), 0);
	CHECK_EQ(s2->queued_count, 2);
	session_free(s2);

	session_free(s);
	CHECK_EQ(m->refs, 1);
	CHECK_EQ(small->refs, 1);
	msg_unref(m);
	msg_unref(small);
}

/* Expired messages are dropped before onward delivery starts [MQTT-3.3.2-5], never take a
 * window slot or a packet id, and a message already in flight is kept [MQTT-4.3.3-7]. */
static void test_expiry(void)
{
	struct session *s = mk_session();
	struct msg *old1 = mk("e", 1, 1), *old0 = mk("e", 2, 0), *live = mk("e", 3, 1);
	old1->expiry_at = 1000;
	old0->expiry_at = 1000;
	live->expiry_at = 5000;

	CHECK_EQ(session_enqueue(s, &unbounded, old1, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, old0, 0, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, live, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, old1, 2, false, NULL, 0), 0);
	CHECK_EQ(s->queued_bytes, 2 + 3 + 4 + 2);

	/* At 999 nothing has expired yet: the first delivery goes out. */
	struct delivery *d = session_next(s, 1, 999);
	CHECK(d != NULL && d->m == old1 && d->packet_id == 1);
	CHECK_EQ(session_on_puback(s, 1), 0);

	/* At 1000 (expiry is inclusive) the QoS 0 one is dropped on the way to `live`. */
	d = session_next(s, 1, 1000);
	CHECK(d != NULL && d->m == live && d->packet_id == 2);
	CHECK_EQ(old0->refs, 1);
	CHECK_EQ(s->queued_count, 1);
	CHECK_EQ(s->queued_bytes, 2);

	/* Window full and the head expired: it is dropped anyway, without a slot or an id. */
	CHECK(session_next(s, 1, 1000) == NULL);
	CHECK_EQ(s->queued_count, 0);
	CHECK_EQ(s->queued_bytes, 0);
	CHECK(s->queue == NULL && s->queue_tail == NULL);
	CHECK_EQ(old1->refs, 1);
	CHECK_EQ(s->last_packet_id, 2);

	/* In flight when it expires: kept until acknowledged. */
	CHECK(session_next(s, 1, 100000) == NULL);
	CHECK_EQ(s->inflight_count, 1);
	CHECK(s->inflight != NULL && s->inflight->m == live);
	CHECK_EQ(live->refs, 2);

	/* Expired deliveries behind a full window are dropped before the next one is sent. */
	CHECK_EQ(session_enqueue(s, &unbounded, old1, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, old0, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, live, 1, false, NULL, 0), 0);
	CHECK_EQ(session_on_puback(s, 2), 0);
	d = session_next(s, 1, 2000);
	CHECK(d != NULL && d->m == live && d->packet_id == 3);
	CHECK_EQ(s->queued_count, 0);

	session_free(s);
	CHECK_EQ(old1->refs + old0->refs + live->refs, 3);
	msg_unref(old1);
	msg_unref(old0);
	msg_unref(live);
}

static void test_sub_ids(void)
{
	uint32_t *ids = malloc(3 * sizeof(*ids)); /* on the heap: ASan sees a use after free */
	CHECK(ids != NULL);
	if (!ids)
		return;
	struct session *s = mk_session();
	struct msg *m = mk("s", 1, 1);
	ids[0] = 1;
	ids[1] = 268435455; /* largest Variable Byte Integer */
	ids[2] = 42;
	CHECK_EQ(session_enqueue(s, &unbounded, m, 1, false, ids, 3), 0);
	CHECK_EQ(session_enqueue(s, &unbounded, m, 0, false, ids, 1), 0);
	ids[0] = 99; /* the caller's scratch is reused, then freed */
	free(ids);

	struct delivery *d = session_next(s, 5, 0);
	CHECK(d != NULL);
	if (d) {
		static const uint32_t want[] = {1, 268435455, 42};
		CHECK_EQ(d->nsub_ids, 3);
		CHECK(d->sub_ids != NULL);
		if (d->sub_ids)
			CHECK_MEM(d->sub_ids, sizeof(want), want, sizeof(want));
	}
	d = session_next(s, 5, 0);
	CHECK(d != NULL && d->nsub_ids == 1 && d->sub_ids && d->sub_ids[0] == 1);
	delivery_free(d);
	session_free(s);
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
}

static void test_qos2_in(void)
{
	struct session *s = mk_session();

	CHECK_EQ(session_qos2_in_add(s, 10, 0), -ENOSPC); /* nothing allowed, nothing allocated */
	CHECK(s->qos2_in == NULL);
	CHECK_EQ(session_qos2_in_release(s, 10), -ENOENT);

	CHECK_EQ(session_qos2_in_add(s, 10, 2), 1);
	CHECK(s->qos2_in != NULL);
	CHECK_EQ(session_qos2_in_add(s, 10, 2), 0); /* DUP resend [MQTT-4.3.3-10] */
	CHECK_EQ(session_qos2_in_add(s, 11, 2), 1);
	CHECK_EQ(session_qos2_in_add(s, 12, 2), -ENOSPC);
	CHECK_EQ(session_qos2_in_add(s, 11, 2), 0); /* a duplicate is still recognised when full */
	CHECK_EQ(s->qos2_in_count, 2);
	CHECK_EQ(session_qos2_in_release(s, 10), 0);
	CHECK_EQ(session_qos2_in_release(s, 10), -ENOENT);
	CHECK_EQ(session_qos2_in_add(s, 12, 2), 1);
	CHECK_EQ(session_qos2_in_add(s, 10, 2), -ENOSPC);
	CHECK_EQ(session_qos2_in_release(s, 11), 0);
	CHECK_EQ(session_qos2_in_release(s, 12), 0);
	CHECK_EQ(s->qos2_in_count, 0);
	/* After release the id is new again. */
	CHECK_EQ(session_qos2_in_add(s, 10, 2), 1);
	CHECK_EQ(session_qos2_in_release(s, 10), 0);

	/* Growth to many ids, then the array is given back once empty. */
	for (uint16_t id = 1; id <= 100; id++)
		CHECK_EQ(session_qos2_in_add(s, id, 100), 1);
	CHECK_EQ(session_qos2_in_add(s, 101, 100), -ENOSPC);
	CHECK_EQ(s->qos2_in_count, 100);
	CHECK(s->qos2_in_cap >= 100);
	for (uint16_t id = 1; id <= 100; id++)
		CHECK_EQ(session_qos2_in_add(s, id, 100), 0);
	for (uint16_t id = 100; id >= 51; id--)
		CHECK_EQ(session_qos2_in_release(s, id), 0);
	for (uint16_t id = 1; id <= 50; id++)
		CHECK_EQ(session_qos2_in_release(s, id), 0);
	CHECK_EQ(s->qos2_in_count, 0);
	CHECK(s->qos2_in == NULL);
	CHECK_EQ(s->qos2_in_cap, 0);
	CHECK_EQ(session_qos2_in_release(s, 1), -ENOENT);

	CHECK_EQ(session_qos2_in_add(s, 65535, 3), 1);
	session_free(s); /* with ids pending */
}

static unsigned sub_count(const struct session *s)
{
	unsigned n = 0;
	for (const struct session_sub *sub = s->subs; sub; sub = sub->next)
		n++;
	return n;
}

static void test_subs(void)
{
	struct session *s = mk_session();
	struct sub_opts o1 = {.qos = 1, .sub_id = 5};
	struct sub_opts o0 = {.qos = 0, .no_local = true};
	struct sub_opts o2 = {.qos = 2, .retain_as_published = true, .retain_handling = 2};
	uint8_t buf[8];

	memcpy(buf, "a/b", 3);
	CHECK_EQ(session_sub_add(s, buf, 3, &o1), 0);
	memcpy(buf, "zzz", 3); /* the filter was copied */
	CHECK_EQ(session_sub_add(s, U8("a/#"), 3, &o0), 0);
	CHECK_EQ(session_sub_add(s, U8("a"), 1, &o0), 0);
	CHECK_EQ(sub_count(s), 3);

	/* Same filter: options replaced in place [MQTT-3.8.4-3]. */
	CHECK_EQ(session_sub_add(s, U8("a/b"), 3, &o2), 0);
	CHECK_EQ(sub_count(s), 3);
	const struct session_sub *sub = s->subs;
	CHECK(sub != NULL);
	if (sub) {
		CHECK_MEM(sub->filter, sub->len, "a/b", 3);
		CHECK_EQ(sub->opts.qos, 2);
		CHECK(sub->opts.retain_as_published);
		CHECK_EQ(sub->opts.retain_handling, 2);
		CHECK_EQ(sub->opts.sub_id, 0);
		sub = sub->next;
	}
	CHECK(sub != NULL);
	if (sub) {
		CHECK_MEM(sub->filter, sub->len, "a/#", 3);
		CHECK(sub->opts.no_local);
	}

	CHECK_EQ(session_sub_remove(s, U8("a/c"), 3), -ENOENT);
	CHECK_EQ(session_sub_remove(s, U8("a/"), 2), -ENOENT); /* a prefix is not a match */
	CHECK_EQ(session_sub_remove(s, U8("a/b/c"), 5), -ENOENT);
	CHECK_EQ(session_sub_remove(s, U8("a/#"), 3), 0); /* middle */
	CHECK_EQ(sub_count(s), 2);
	CHECK_EQ(session_sub_remove(s, U8("a/#"), 3), -ENOENT);
	CHECK_EQ(session_sub_remove(s, U8("a/b"), 3), 0); /* head */
	CHECK(s->subs != NULL && s->subs->len == 1);
	CHECK_EQ(session_sub_add(s, U8("b"), 1, &o1), 0); /* appended after "a" */
	CHECK(s->subs && s->subs->next && s->subs->next->filter[0] == 'b');
	CHECK_EQ(session_sub_remove(s, U8("b"), 1), 0); /* tail */
	CHECK_EQ(session_sub_remove(s, U8("a"), 1), 0);
	CHECK(s->subs == NULL);
	CHECK_EQ(session_sub_remove(s, U8("a"), 1), -ENOENT);

	CHECK_EQ(session_sub_add(s, U8("x/+/y"), 5, &o1), 0);
	session_free(s); /* with a subscription left */
}

/* Freeing a session with every list non-empty drops exactly its references (ASan checks
 * that nothing leaks). */
static void test_free_everything(void)
{
	struct session *s = mk_session();
	struct session *other = mk_session();
	struct msg *m1 = mk("f/1", 8, 1), *m2 = mk("f/2", 8, 2);
	uint32_t ids[] = {3, 4};
	struct sub_opts o = {.qos = 2};

	CHECK_EQ(session_sub_add(s, U8("f/#"), 3, &o), 0);
	CHECK_EQ(session_sub_add(s, U8("f/1"), 3, &o), 0);
	CHECK_EQ(session_qos2_in_add(s, 7, 10), 1);
	CHECK_EQ(session_enqueue(s, &unbounded, m1, 1, false, ids, 2), 0);  /* WAIT_PUBACK */
	CHECK_EQ(session_enqueue(s, &unbounded, m2, 2, false, ids, 1), 0);  /* WAIT_PUBREC */
	CHECK_EQ(session_enqueue(s, &unbounded, m2, 2, true, NULL, 0), 0);  /* WAIT_PUBCOMP */
	CHECK_EQ(session_enqueue(s, &unbounded, m1, 1, false, ids, 2), 0);  /* queued */
	CHECK_EQ(session_enqueue(s, &unbounded, m2, 0, false, NULL, 0), 0); /* queued */
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK(session_next(s, 3, 0) != NULL);
	CHECK_EQ(session_on_pubrec(s, 3, 0), 0);
	CHECK_EQ(s->inflight_count, 3);
	CHECK_EQ(s->queued_count, 2);

	/* The same messages fanned out to a second session. */
	CHECK_EQ(session_enqueue(other, &unbounded, m1, 1, false, NULL, 0), 0);
	CHECK_EQ(session_enqueue(other, &unbounded, m2, 2, false, ids, 2), 0);
	CHECK_EQ(m1->refs, 1 + 2 + 1);
	CHECK_EQ(m2->refs, 1 + 2 + 1);

	session_free(s);
	CHECK_EQ(m1->refs, 2);
	CHECK_EQ(m2->refs, 2);
	session_free(other);
	CHECK_EQ(m1->refs, 1);
	CHECK_EQ(m2->refs, 1);
	msg_unref(m1);
	msg_unref(m2);
}

int main(void)
{
	test_new_free();
	test_qos0();
	test_qos1_flow();
	test_qos2_flow();
	test_pubrec_failure();
	test_window();
	test_fifo();
	test_sent_redelivery();
	test_packet_ids();
	test_bounds();
	test_total_bound();
	test_expiry();
	test_sub_ids();
	test_qos2_in();
	test_subs();
	test_free_everything();
	return check_report();
}
