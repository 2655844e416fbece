/* session.h - one client's session state, with no I/O: the subscriptions it holds, the
 * outbound QoS 1/2 window and queue, and the inbound QoS 2 packet ids awaiting PUBREL.
 * Handlers ask it what to send next and tell it what was acknowledged; persistence (later)
 * serialises exactly this state. */
#ifndef MQTT_FAST_SESSION_H
#define MQTT_FAST_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "subtree.h"

/* Where an outbound message is in its QoS flow (MQTT 5.0 §4.3). */
enum delivery_state {
	DELIVERY_QUEUED,      /* waiting for room in the in-flight window */
	DELIVERY_WAIT_PUBACK, /* QoS 1 PUBLISH sent */
	DELIVERY_WAIT_PUBREC, /* QoS 2 PUBLISH sent */
	DELIVERY_WAIT_PUBCOMP /* QoS 2 PUBREL sent; the message itself is released */
};

/* One message on its way to this session's client. */
struct delivery {
	struct delivery *next;
	struct msg *m;      /* owned reference; NULL once in DELIVERY_WAIT_PUBCOMP */
	uint8_t qos;        /* QoS of this delivery: min(published, granted) */
	bool retain;        /* RETAIN flag to send */
	uint8_t state;      /* enum delivery_state */
	bool sent;          /* sent at least once: a resend carries DUP [MQTT-3.3.1-1] */
	uint16_t packet_id; /* 0 for QoS 0 */
	uint8_t nsub_ids;
	uint32_t *sub_ids; /* owned, NULL when nsub_ids == 0 [MQTT-3.3.4-3] */
	/* While queued: the broker-wide byte count this delivery is counted in (borrowed from
	 * session_limits.total_bytes), NULL when not counted. */
	uint64_t *total_bytes;
};

/* A subscription held by the session (the tree holds the matching entry). */
struct session_sub {
	struct session_sub *next;
	struct sub_opts opts;
	uint16_t len;
	uint8_t filter[]; /* not NUL-terminated */
};

/* Queue bounds (mosquitto's max_queued_messages / max_queued_bytes); 0 = unbounded. With
 * total_bytes (borrowed; the broker's count of bytes in every session's queue), a queued
 * message is also counted there until it leaves the queue, and refused once max_total_bytes
 * (memory_limit) would be exceeded. */
struct session_limits {
	uint32_t max_queued_messages;
	uint64_t max_queued_bytes;
	uint64_t max_total_bytes;
	uint64_t *total_bytes;
};

/* The transport a session is attached to (session.conn's type). */
enum session_proto {
	SESSION_MQTT, /* struct conn: MQTT over TCP */
	SESSION_SN,   /* struct sn_client: MQTT-SN over UDP */
};

struct session {
	uint8_t *client_id; /* owned, NUL-terminated for log lines */
	/* The MQTT user name of the connection that attached it last (owned, NUL-terminated;
	 * NULL = none): the identity acl_file rules apply to (acl.c). */
	char *username;
	uint8_t proto; /* enum session_proto */
	uint16_t client_id_len;
	void *conn; /* the transport while online, NULL while offline; not owned */
	uint8_t version;
	uint32_t expiry_interval; /* seconds; UINT32_MAX = never */
	int64_t expires_at;       /* monotonic ms while offline; 0 = not scheduled */

	struct session_sub *subs;

	/* Outbound: sent and unacknowledged, in send order, then waiting. */
	struct delivery *inflight, *inflight_tail;
	uint16_t inflight_count;
	struct delivery *queue, *queue_tail;
	uint32_t queued_count;
	uint64_t queued_bytes; /* payload + topic bytes of queued messages */
	uint16_t last_packet_id;

	/* Inbound QoS 2: packet ids whose PUBREC was sent, awaiting PUBREL [MQTT-4.3.3]. */
	uint16_t *qos2_in;
	uint16_t qos2_in_count, qos2_in_cap;

	uint64_t dropped;   /* messages refused by the queue bounds */
	uint32_t match_gen; /* routing scratch: merges overlapping subscriptions per publish */

	/* Persistence (store.c): changed since the last commit, and a record exists in the
	 * store. Every mutator here calls session_mark_changed(); so does the broker for the
	 * fields it changes itself (expiry, attach/detach). A changed session is pushed once on
	 * dirty_list (set while it is in a broker's table with persistence on), so a commit
	 * visits only the sessions that changed. */
	bool store_dirty;
	bool stored;
	struct session_dirty_list *dirty_list; /* not owned; NULL without persistence */
	struct session *dirty_next;
};

/* The sessions changed since the last commit (store.c owns the head). */
struct session_dirty_list {
	struct session *head;
};

/* Marks the session's stored record out of date: it is rewritten at the next commit. */
static inline void session_mark_changed(struct session *s)
{
	if (s->store_dirty)
		return;
	s->store_dirty = true;
	if (s->dirty_list) {
		s->dirty_next = s->dirty_list->head;
		s->dirty_list->head = s;
	}
}

/* Returns an owned empty session for client id (copied), or NULL. */
struct session *session_new(const uint8_t *client_id, uint16_t len);

/* Replaces the session's user name with a copy of `u` (len bytes; NULL = none). 0 or -ENOMEM
 * (the old name is kept). Borrows u. */
int session_set_username(struct session *s, const uint8_t *u, uint16_t len);

/* Frees the session, its queues (dropping message references) and its subscription list. The
 * caller removes the subscriptions from the tree first. NULL is ignored. */
void session_free(struct session *s);

/* Appends a delivery rebuilt from the store (takes ownership): to the queue in state
 * DELIVERY_QUEUED (d->m set), otherwise to the in-flight list, in the order they are given.
 * Not counted against any bound: the session held them before the restart. */
void session_restore_delivery(struct session *s, struct delivery *d);

/* Appends a delivery of `m` (takes a new reference) at `qos` to the queue, with copies of the
 * subscription identifiers. -ENOBUFS when a bound would be exceeded (the message is not queued
 * and s->dropped is incremented), -ENOMEM. Order is kept: deliveries leave in queue order. */
int session_enqueue(struct session *s, const struct session_limits *lim, struct msg *m, uint8_t qos,
                    bool retain, const uint32_t *sub_ids, uint8_t nsub_ids);

/* The next delivery to send now, or NULL. Messages whose expiry passed at now_ms are dropped
 * on the way [MQTT-3.3.2-5]. A QoS 0 delivery is unlinked and returned owned (send it, then
 * delivery_free). A QoS 1/2 delivery is returned only while fewer than `window` are in flight
 * (the client's Receive Maximum [MQTT-3.3.4-9]): it gets a free non-zero packet id, moves to
 * the in-flight list in state WAIT_PUBACK / WAIT_PUBREC, and stays owned by the session. */
struct delivery *session_next(struct session *s, uint16_t window, int64_t now_ms);

/* The delivery session_next would consider next, left in the queue (expired ones at the head
 * are dropped first), or NULL. Borrowed. */
struct delivery *session_peek(struct session *s, int64_t now_ms);

/* Acknowledgements from the client. 0, or -ENOENT when no in-flight delivery has that packet
 * id in the matching state (the caller logs it; MQTT 5 PUBREL/PUBCOMP use 0x92).
 * PUBREC with a reason >= 0x80 ends the flow [MQTT-4.3.3]; otherwise the delivery moves to
 * WAIT_PUBCOMP and releases its message. */
int session_on_puback(struct session *s, uint16_t packet_id);
int session_on_pubrec(struct session *s, uint16_t packet_id, uint8_t reason);
int session_on_pubcomp(struct session *s, uint16_t packet_id);

/* True when the outbound QoS 2 delivery `packet_id` already got its PUBREC and waits for
 * PUBCOMP: a resent PUBREC is then answered with PUBREL again [MQTT-4.3.3]. */
bool session_releasing(const struct session *s, uint16_t packet_id);

/* Inbound QoS 2. session_qos2_in_add returns 1 when the id is new (deliver the message), 0 when
 * it is already awaiting PUBREL (a DUP resend: do not deliver again [MQTT-4.3.3-9]), -ENOSPC when
 * `max` ids are already pending (Receive Maximum exceeded, 0x93), -ENOMEM.
 * session_qos2_in_release returns 0, or -ENOENT for an unknown id. */
int session_qos2_in_add(struct session *s, uint16_t packet_id, uint16_t max);
int session_qos2_in_release(struct session *s, uint16_t packet_id);

/* The subscription list. Add replaces the options of an existing identical filter. Borrow
 * `filter`. 0, -ENOENT (remove of an unknown filter), -ENOMEM. */
int session_sub_add(struct session *s, const uint8_t *filter, uint16_t len,
                    const struct sub_opts *opts);
int session_sub_remove(struct session *s, const uint8_t *filter, uint16_t len);

/* Frees a delivery returned owned by session_next. NULL is ignored. */
void delivery_free(struct delivery *d);

#endif
