/* session.c - one client's session state: subscription list, outbound QoS 1/2 window and queue
 * (strict FIFO), packet identifier allocation, and the inbound QoS 2 packet id set. No I/O. */
#include "session.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The inbound QoS 2 id array starts at this many slots, and is freed again when it empties
 * while larger than this (a burst must not pin memory on an idle session). */
#define QOS2_IN_MIN_CAP 4

struct session *session_new(const uint8_t *client_id, uint16_t len)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->client_id = malloc((size_t)len + 1);
	if (!s->client_id) {
		free(s);
		return NULL;
	}
	if (len)
		memcpy(s->client_id, client_id, len);
	s->client_id[len] = '\0';
	s->client_id_len = len;
	return s;
}

/* Bytes a queued delivery of m counts against max_queued_bytes and memory_limit. */
static uint64_t msg_queue_bytes(const struct msg *m)
{
	return (uint64_t)m->topic_len + m->payload_len;
}

/* Takes a delivery out of the broker-wide count, once. */
static void delivery_uncount(struct delivery *d)
{
	if (d->total_bytes) {
		*d->total_bytes -= msg_queue_bytes(d->m);
		d->total_bytes = NULL;
	}
}

void delivery_free(struct delivery *d)
{
	if (!d)
		return;
	delivery_uncount(d);
	msg_unref(d->m);
	free(d->sub_ids);
	free(d);
}

static void delivery_list_free(struct delivery *d)
{
	while (d) {
		struct delivery *next = d->next;
		delivery_free(d);
		d = next;
	}
}

void session_free(struct session *s)
{
	if (!s)
		return;
	delivery_list_free(s->inflight);
	delivery_list_free(s->queue);
	for (struct session_sub *sub = s->subs; sub;) {
		struct session_sub *next = sub->next;
		free(sub);
		sub = next;
	}
	free(s->qos2_in);
	free(s->username);
	free(s->client_id);
	free(s);
}

int session_set_username(struct session *s, const uint8_t *u, uint16_t len)
{
	char *copy = NULL;
	if (u) {
		copy = malloc((size_t)len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, u, len);
		copy[len] = '\0';
	}
	free(s->username);
	s->username = copy;
	session_mark_changed(s);
	return 0;
}

/* Appends d (owned) to the queue: strict FIFO, appended at the tail, sent from the head
 * [MQTT-4.6.0-6]. */
static void queue_push(struct session *s, struct delivery *d)
{
	d->next = NULL;
	if (s->queue_tail)
		s->queue_tail->next = d;
	else
		s->queue = d;
	s->queue_tail = d;
	s->queued_count++;
	s->queued_bytes += msg_queue_bytes(d->m);
}

/* Appends d (owned) to the in-flight list, which keeps send order for resends. */
static void inflight_push(struct session *s, struct delivery *d)
{
	d->next = NULL;
	if (s->inflight_tail)
		s->inflight_tail->next = d;
	else
		s->inflight = d;
	s->inflight_tail = d;
	s->inflight_count++;
}

void session_restore_delivery(struct session *s, struct delivery *d)
{
	if (d->state == DELIVERY_QUEUED)
		queue_push(s, d);
	else
		inflight_push(s, d);
}

int session_enqueue(struct session *s, const struct session_limits *lim, struct msg *m, uint8_t qos,
                    bool retain, const uint32_t *sub_ids, uint8_t nsub_ids)
{
	assert(qos <= 2);
	assert(nsub_ids == 0 || sub_ids);
	uint64_t bytes = msg_queue_bytes(m);
	int rc = 0;

	/* Queue bounds; a NULL lim means unbounded. The count can never wrap either. */
	if (s->queued_count == UINT32_MAX ||
	    (lim && lim->max_queued_messages && s->queued_count >= lim->max_queued_messages) ||
	    (lim && lim->max_queued_bytes && s->queued_bytes + bytes > lim->max_queued_bytes) ||
	    (lim && lim->total_bytes && lim->max_total_bytes &&
	     *lim->total_bytes + bytes > lim->max_total_bytes)) {
		s->dropped++;
		return -ENOBUFS;
	}

	struct delivery *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (nsub_ids) {
		/* Copied: the caller's array is routing scratch [MQTT-3.3.4-3]. */
		d->sub_ids = malloc(sizeof(*d->sub_ids) * nsub_ids);
		if (!d->sub_ids) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(d->sub_ids, sub_ids, sizeof(*d->sub_ids) * nsub_ids);
		d->nsub_ids = nsub_ids;
	}
	d->m = msg_ref(m);
	d->qos = qos;
	d->retain = retain;
	d->state = DELIVERY_QUEUED;

	queue_push(s, d);
	if (lim && lim->total_bytes) {
		d->total_bytes = lim->total_bytes;
		*d->total_bytes += bytes;
	}
	session_mark_changed(s);
	return 0;

fail:
	delivery_free(d);
	return rc;
}

/* Unlinks the head of the queue and takes it out of the queue accounting. */
static struct delivery *queue_pop(struct session *s)
{
	struct delivery *d = s->queue;
	s->queue = d->next;
	if (!s->queue)
		s->queue_tail = NULL;
	d->next = NULL;
	s->queued_count--;
	s->queued_bytes -= msg_queue_bytes(d->m);
	delivery_uncount(d);
	session_mark_changed(s);
	return d;
}

static bool packet_id_in_flight(const struct session *s, uint16_t id)
{
	for (const struct delivery *d = s->inflight; d; d = d->next)
		if (d->packet_id == id)
			return true;
	return false;
}

/* A non-zero packet id not used by any in-flight delivery, the first one after
 * last_packet_id (wrapping 65535 -> 1) [MQTT-2.2.1-4] [MQTT-4.3.2-1] [MQTT-4.3.3-1]. At most
 * inflight_count ids are taken, so at most inflight_count + 1 candidates are tried; 0 only when
 * all 65535 ids are in flight. */
static uint16_t packet_id_alloc(struct session *s)
{
	uint16_t id = s->last_packet_id;
	for (uint32_t tries = 0; tries <= s->inflight_count && tries < 65535; tries++) {
		id = (uint16_t)(id == 65535 ? 1 : id + 1);
		if (!packet_id_in_flight(s, id)) {
			s->last_packet_id = id;
			return id;
		}
	}
	return 0;
}

struct delivery *session_peek(struct session *s, int64_t now_ms)
{
	/* Expired heads go now, as session_next would drop them [MQTT-3.3.2-5]. */
	while (s->queue && msg_expired(s->queue->m, now_ms))
		delivery_free(queue_pop(s));
	return s->queue;
}

struct delivery *session_next(struct session *s, uint16_t window, int64_t now_ms)
{
	while (s->queue) {
		struct delivery *d = s->queue;

		/* Not started yet, so an expired message is deleted for this subscriber
		 * [MQTT-3.3.2-5]. It never takes a window slot. */
		if (msg_expired(d->m, now_ms)) {
			delivery_free(queue_pop(s));
			continue;
		}
		if (d->qos == 0)
			return queue_pop(s);
		/* Send quota: no more QoS 1/2 PUBLISH than the client's Receive Maximum
		 * [MQTT-3.3.4-9] [MQTT-4.9.0-2]. QoS 0 behind it waits too, keeping per-topic
		 * order [MQTT-4.6.0-6] (the spec allows suspending QoS 0, §4.9). */
		if (s->inflight_count >= window)
			return NULL;
		uint16_t id = packet_id_alloc(s);
		if (!id)
			return NULL;
		d = queue_pop(s);
		d->packet_id = id;
		d->state = d->qos == 1 ? DELIVERY_WAIT_PUBACK : DELIVERY_WAIT_PUBREC;
		/* `sent` stays false: the first PUBLISH carries DUP 0 [MQTT-4.3.2-2]
		 * [MQTT-4.3.3-2]. The caller sets it once written; the delivery then stays in
		 * s->inflight, in send order, for a resend with DUP [MQTT-4.4.0-1]. */
		inflight_push(s, d);
		return d;
	}
	return NULL;
}

/* The in-flight delivery with `packet_id` in `state`, or NULL; *prev is its predecessor. */
static struct delivery *inflight_find(struct session *s, uint16_t packet_id, uint8_t state,
                                      struct delivery **prev)
{
	*prev = NULL;
	for (struct delivery *d = s->inflight; d; *prev = d, d = d->next)
		if (d->packet_id == packet_id && d->state == state)
			return d;
	return NULL;
}

/* Unlinks d (after prev) from the in-flight list, frees it, and frees its window slot. */
static void inflight_remove(struct session *s, struct delivery *prev, struct delivery *d)
{
	if (prev)
		prev->next = d->next;
	else
		s->inflight = d->next;
	if (s->inflight_tail == d)
		s->inflight_tail = prev;
	s->inflight_count--;
	session_mark_changed(s);
	delivery_free(d);
}

int session_on_puback(struct session *s, uint16_t packet_id)
{
	/* Unacknowledged until the PUBACK for this id [MQTT-4.3.2-3]. */
	struct delivery *prev, *d = inflight_find(s, packet_id, DELIVERY_WAIT_PUBACK, &prev);
	if (!d)
		return -ENOENT;
	inflight_remove(s, prev, d);
	return 0;
}

int session_on_pubrec(struct session *s, uint16_t packet_id, uint8_t reason)
{
	/* Unacknowledged until the PUBREC for this id [MQTT-4.3.3-3]. */
	struct delivery *prev, *d = inflight_find(s, packet_id, DELIVERY_WAIT_PUBREC, &prev);
	if (!d)
		return -ENOENT;
	/* A failure reason ends the flow and frees the id and the quota slot [MQTT-4.3.3-4]
	 * [MQTT-3.3.4-9]. */
	if (reason >= 0x80) {
		inflight_remove(s, prev, d);
		return 0;
	}
	/* PUBREL goes next; the PUBLISH is never sent again [MQTT-4.3.3-6], so the message is
	 * released while the id stays taken until PUBCOMP [MQTT-4.3.3-5]. */
	d->state = DELIVERY_WAIT_PUBCOMP;
	msg_unref(d->m);
	d->m = NULL;
	session_mark_changed(s);
	return 0;
}

int session_on_pubcomp(struct session *s, uint16_t packet_id)
{
	/* The PUBREL is unacknowledged until the PUBCOMP for this id [MQTT-4.3.3-5]. */
	struct delivery *prev, *d = inflight_find(s, packet_id, DELIVERY_WAIT_PUBCOMP, &prev);
	if (!d)
		return -ENOENT;
	inflight_remove(s, prev, d);
	return 0;
}

int session_qos2_in_add(struct session *s, uint16_t packet_id, uint16_t max)
{
	for (uint16_t i = 0; i < s->qos2_in_count; i++)
		if (s->qos2_in[i] == packet_id)
			return 0; /* PUBREC already sent: not delivered again [MQTT-4.3.3-10] */
	/* More than our Receive Maximum unanswered [MQTT-3.3.4-7]: the caller disconnects with
	 * 0x93 (Receive Maximum exceeded, §3.3.4). */
	if (s->qos2_in_count >= max)
		return -ENOSPC;
	if (s->qos2_in_count == s->qos2_in_cap) {
		uint32_t cap = s->qos2_in_cap ? (uint32_t)s->qos2_in_cap * 2 : QOS2_IN_MIN_CAP;
		if (cap > UINT16_MAX)
			cap = UINT16_MAX;
		uint16_t *ids = realloc(s->qos2_in, sizeof(*ids) * cap);
		if (!ids)
			return -ENOMEM;
		s->qos2_in = ids;
		s->qos2_in_cap = (uint16_t)cap;
	}
	s->qos2_in[s->qos2_in_count++] = packet_id;
	session_mark_changed(s);
	return 1;
}

int session_qos2_in_release(struct session *s, uint16_t packet_id)
{
	for (uint16_t i = 0; i < s->qos2_in_count; i++) {
		if (s->qos2_in[i] != packet_id)
			continue;
		/* The set is unordered: the last id fills the hole. */
		s->qos2_in[i] = s->qos2_in[--s->qos2_in_count];
		session_mark_changed(s);
		if (s->qos2_in_count == 0 && s->qos2_in_cap > QOS2_IN_MIN_CAP) {
			free(s->qos2_in);
			s->qos2_in = NULL;
			s->qos2_in_cap = 0;
		}
		return 0;
	}
	return -ENOENT;
}

/* The link pointing at the subscription to exactly `filter`, or at the terminating NULL. */
static struct session_sub **sub_find(struct session *s, const uint8_t *filter, uint16_t len)
{
	struct session_sub **pp = &s->subs;
	while (*pp && !((*pp)->len == len && (len == 0 || memcmp((*pp)->filter, filter, len) == 0)))
		pp = &(*pp)->next;
	return pp;
}

int session_sub_add(struct session *s, const uint8_t *filter, uint16_t len,
                    const struct sub_opts *opts)
{
	struct session_sub **pp = sub_find(s, filter, len);
	if (*pp) {
		(*pp)->opts = *opts; /* same filter: options replaced [MQTT-3.8.4-3] */
		session_mark_changed(s);
		return 0;
	}
	struct session_sub *sub = malloc(sizeof(*sub) + len);
	if (!sub)
		return -ENOMEM;
	sub->next = NULL;
	sub->opts = *opts;
	sub->len = len;
	if (len)
		memcpy(sub->filter, filter, len);
	*pp = sub; /* appended: subscription order is kept */
	session_mark_changed(s);
	return 0;
}

int session_sub_remove(struct session *s, const uint8_t *filter, uint16_t len)
{
	struct session_sub **pp = sub_find(s, filter, len);
	struct session_sub *sub = *pp;
	if (!sub)
		return -ENOENT;
	*pp = sub->next;
	free(sub);
	session_mark_changed(s);
	return 0;
}

bool session_releasing(const struct session *s, uint16_t packet_id)
{
	for (const struct delivery *d = s->inflight; d; d = d->next)
		if (d->packet_id == packet_id && d->state == DELIVERY_WAIT_PUBCOMP)
			return true;
	return false;
}
