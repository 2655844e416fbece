/* broker.c - the broker instance: start-up and shutdown, the session table, session and will
 * expiry, and the per-iteration flush. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "auth.h"
#include "broker.h"
#include "store.h"
#include "control.h"
#include "fastpath.h"

int64_t broker_now_ms(const struct broker *b)
{
	(void)b;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- session table: open addressing, linear probing, backward-shift deletion ------------- */

static uint64_t id_hash(const uint8_t *id, uint16_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (uint16_t i = 0; i < len; i++)
		h = (h ^ id[i]) * 1099511628211ull;
	return h;
}

static bool id_equal(const struct session *s, const uint8_t *id, uint16_t len)
{
	return s->client_id_len == len && memcmp(s->client_id, id, len) == 0;
}

struct session *sessions_find(struct broker *b, const uint8_t *id, uint16_t len)
{
	struct session_table *t = &b->sessions;
	if (!t->cap)
		return NULL;
	for (size_t i = id_hash(id, len) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct session *s = t->slots[i];
		if (!s)
			return NULL;
		if (id_equal(s, id, len))
			return s;
	}
}

static void table_put(struct session_table *t, struct session *s)
{
	size_t i = id_hash(s->client_id, s->client_id_len) & (t->cap - 1);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = s;
}

int sessions_add(struct broker *b, struct session *s)
{
	struct session_table *t = &b->sessions;
	if ((t->count + 1) * 4 > t->cap * 3) {
		/* Grow at 75% load. */
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct session **old = t->slots;
		size_t old_cap = t->cap;
		t->slots = calloc(cap, sizeof(*t->slots));
		if (!t->slots) {
			t->slots = old;
			return -ENOMEM;
		}
		t->cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				table_put(t, old[i]);
		free(old);
	}
	table_put(t, s);
	t->count++;
	store_session_added(b, s); /* persistence tracks its changes from now on */
	return 0;
}

void sessions_remove(struct broker *b, struct session *s)
{
	struct session_table *t = &b->sessions;
	if (!t->cap)
		return;
	size_t mask = t->cap - 1, i = id_hash(s->client_id, s->client_id_len) & mask;
	while (t->slots[i] && t->slots[i] != s)
		i = (i + 1) & mask;
	if (!t->slots[i])
		return;
	t->slots[i] = NULL;
	t->count--;
	/* Backward shift: re-place the entries after the hole so lookups never stop early. */
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		struct session *m = t->slots[j];
		t->slots[j] = NULL;
		table_put(t, m);
	}
}

/* ---- wills and expiry --------------------------------------------------------------------- */

void session_set_will(struct broker *b, struct session *s, struct msg *m, uint32_t delay)
{
	struct pending_will *w = malloc(sizeof(*w));
	if (!w) {
		route_message(b, m, s); /* cannot wait: publish now rather than lose it */
		return;
	}
	uint32_t wait = delay < s->expiry_interval ? delay : s->expiry_interval;
	*w = (struct pending_will){.next = b->wills,
	                           .s = s,
	                           .m = msg_ref(m),
	                           .at = broker_now_ms(b) + (int64_t)wait * 1000};
	b->wills = w;
}

/* Unlinks the pending will of `s`; publishes it when `publish`. */
static void take_will(struct broker *b, struct session *s, bool publish)
{
	for (struct pending_will **pw = &b->wills; *pw; pw = &(*pw)->next) {
		struct pending_will *w = *pw;
		if (w->s != s)
			continue;
		*pw = w->next;
		if (publish)
			route_message(b, w->m, NULL);
		msg_unref(w->m);
		free(w);
		return;
	}
}

void session_cancel_will(struct broker *b, struct session *s)
{
	take_will(b, s, false);
}

void session_destroy(struct broker *b, struct session *s)
{
	take_will(b, s, true); /* a session that ends publishes its delayed will [MQTT-3.1.3-9] */
	store_session_gone(b, s);
	for (struct session_sub *sub = s->subs; sub; sub = sub->next)
		(void)subtree_remove(b->subs, sub->filter, sub->len, s);
	sessions_remove(b, s);
	session_free(s);
}

/* Once a second: due wills, expired offline sessions, $SYS. */
static void broker_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct broker *b = w->data;
	int64_t now = broker_now_ms(b);

	for (struct pending_will **pw = &b->wills; *pw;) {
		struct pending_will *pend = *pw;
		if (pend->at > now) {
			pw = &pend->next;
			continue;
		}
		*pw = pend->next;
		session_mark_changed(pend->s); /* its stored record loses the will */
		route_message(b, pend->m, NULL);
		msg_unref(pend->m);
		free(pend);
	}
	struct session_table *t = &b->sessions;
	for (size_t i = 0; i < t->cap; i++) {
		struct session *s = t->slots[i];
		if (s && !s->conn && s->expires_at && s->expires_at <= now) {
			log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, NULL,
			         "session expired");
			session_destroy(b, s);
			b->clients_expired++;
			i--; /* backward shift may have moved another entry into slot i */
		}
	}
	sn_tick(b, now);
	sys_publish(b, false);
}

/* Before the loop sleeps: flush every connection's output once, free closed connections. */
static void broker_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	struct broker *b = w->data;
	/* Group commit: this iteration's changes become durable before its output (the acks
	 * among it) leaves. A failed commit stops the broker with nothing more sent. */
	if (store_commit(b) < 0)
		return;
	fastpath_sync(b); /* map changes first: they take effect before this iteration's replies */
	conns_flush_and_reap(b);
	sn_flush(b);
}

/* The predefined MQTT-SN topics of the configuration. */
static int load_predefined_topics(struct broker *b)
{
	for (size_t i = 0; i < b->cfg.sn_predefined_count; i++) {
		const struct sn_predefined_topic *t = &b->cfg.sn_predefined[i];
		int err = topic_ids_predefine(b->sn.ids, t->id, (const uint8_t *)t->name,
		                              (uint16_t)strlen(t->name));
		if (err < 0)
			return err; /* the config parser already refused duplicates */
	}
	return 0;
}

void session_kick(struct broker *b, struct session *s)
{
	if (!s->conn)
		return;
	if (s->proto == SESSION_SN) {
		struct sn_client *old = s->conn;
		s->conn = NULL;
		sn_client_taken_over(old);
		return;
	}
	struct conn *old = s->conn;
	old->session = NULL;
	s->conn = NULL;
	(void)b;
	conn_disconnect(old, MQTT_RC_SESSION_TAKEN_OVER, "session taken over", NULL);
}

int broker_init(struct broker *b, struct ev_loop *loop, struct config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->loop = loop;
	b->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	b->start_ms = broker_now_ms(b);
	log_ratelimit_init(&b->drop_ratelimit, 10000, 5);

	int err = logger_open(&b->log, &b->cfg);
	if (err < 0)
		return err;
	b->subs = subtree_new();
	b->retained = retain_new();
	b->sn.ids = topic_ids_new();
	if (!b->subs || !b->retained || !b->sn.ids)
		return -ENOMEM;
	log_ratelimit_init(&b->sn_ratelimit, 10000, 10);
	err = load_predefined_topics(b);
	if (err < 0)
		return err;
	err = auth_init(b); /* password_file and acl_file: a bad line refuses to start */
	if (err == 0)
		err = acl_init(b);
	if (err == 0 && b->cfg.persistence)
		err = store_open(b); /* a newer or corrupt store refuses to start */
	if (err == 0)
		err = fastpath_start(b); /* falls back to userspace by itself */
	if (err < 0)
		return err;
	ev_prepare_init(&b->flush_watcher, broker_prepare);
	b->flush_watcher.data = b;
	ev_prepare_start(loop, &b->flush_watcher);
	ev_timer_init(&b->tick, broker_tick, 1.0, 1.0);
	b->tick.data = b;
	ev_timer_start(loop, &b->tick);
	sys_publish(b, true);
	return 0;
}

void broker_free(struct broker *b)
{
	if (b->loop) {
		ev_prepare_stop(b->loop, &b->flush_watcher);
		ev_timer_stop(b->loop, &b->tick);
	}
	/* A broker that stops is not a client that vanished: no wills (mosquitto keeps them
	 * for the next start when persistence is on). */
	b->stopping = true;
	/* The last iteration's changes before its output goes out with the connections. */
	(void)store_commit(b);
	control_close(b);
	fastpath_stop(b);  /* detach first: the clients below no longer need the kernel */
	conns_free_all(b); /* before the listeners: a connection counts itself off its listener */
	listeners_close(b);
	sn_clients_free_all(b);
	sn_listeners_close(b);
	store_close(b); /* commits the sessions the closed connections left offline */
	while (b->wills) {
		struct pending_will *w = b->wills;
		b->wills = w->next;
		msg_unref(w->m);
		free(w);
	}
	for (size_t i = 0; i < b->sessions.cap; i++) {
		struct session *s = b->sessions.slots[i];
		if (s)
			session_free(s);
	}
	free(b->sessions.slots);
	subtree_free(b->subs);
	topic_ids_free(b->sn.ids);
	retain_free(b->retained);
	free(b->targets);
	auth_db_free(b->passwords);
	acl_free(b->acl);
	logger_close(&b->log);
	config_free(&b->cfg);
	memset(b, 0, sizeof(*b));
}

struct session_limits broker_queue_limits(struct broker *b)
{
	return (struct session_limits){
	        .max_queued_messages = b->cfg.max_queued_messages,
	        .max_queued_bytes = b->cfg.max_queued_bytes,
	        .max_total_bytes = b->cfg.memory_limit,
	        .total_bytes = &b->stats.queued_bytes,
	};
}
