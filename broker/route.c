/* route.c - fan-out: who receives a message, at which QoS, and sending deliveries out.
 *
 * route_message() is the one place that decides, per subscriber, how a message reaches it.
 * MQTT-SN QoS 0 subscribers the kernel fast path already served are skipped here
 * (fastpath_kernel_served, DESIGN.md "Exactly one copy"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "store.h"
#include "fastpath.h"

struct route_ctx {
	struct broker *b;
	const struct msg *m;
	const struct session *from;
};

static struct route_target *target_slot(struct broker *b)
{
	if (b->ntargets == b->targets_cap) {
		size_t cap = b->targets_cap ? b->targets_cap * 2 : 64;
		struct route_target *t = realloc(b->targets, cap * sizeof(*t));
		if (!t)
			return NULL;
		b->targets = t;
		b->targets_cap = cap;
	}
	return &b->targets[b->ntargets++];
}

/* One matching subscription. Overlapping subscriptions of one session merge into a single
 * delivery at the highest QoS, carrying every Subscription Identifier [MQTT-3.3.4-2, -3]. */
static void route_visit(void *ctx, void *owner, const struct sub_opts *o, bool shared)
{
	struct route_ctx *rc = ctx;
	struct broker *b = rc->b;
	struct session *s = owner;
	const struct msg *m = rc->m;

	/* No Local: not back to the publisher's own session [MQTT-3.8.3-3]. */
	if (o->no_local && !shared && s == rc->from)
		return;
	uint8_t qos = m->qos < o->qos ? m->qos : o->qos;
	/* Retain As Published, else the flag is cleared on normal delivery [MQTT-3.3.1-12]. */
	bool retain = o->retain_as_published ? m->retain : false;

	struct route_target *t = NULL;
	if (s->match_gen == b->match_gen) {
		for (size_t i = 0; i < b->ntargets; i++)
			if (b->targets[i].s == s)
				t = &b->targets[i];
	}
	if (!t) {
		t = target_slot(b);
		if (!t)
			return;
		s->match_gen = b->match_gen;
		*t = (struct route_target){.s = s, .qos = qos, .retain = retain};
	} else {
		if (qos > t->qos)
			t->qos = qos;
		t->retain = t->retain || retain;
	}
	if (o->sub_id && t->nsub_ids < sizeof(t->sub_ids) / sizeof(t->sub_ids[0]))
		t->sub_ids[t->nsub_ids++] = o->sub_id;
}

static void deliver(struct broker *b, const struct route_target *t, struct msg *m)
{
	struct session *s = t->s;

	/* The kernel already sent this PUBLISH to s (the passed-up original's mark names the
	 * serve set it used): exactly one copy (DESIGN.md). */
	if (fastpath_kernel_served(b, s))
		return;
	/* acl_file: read access is checked per message, per subscriber (mosquitto). */
	if (!acl_can_read(b, s, m->topic, m->topic_len))
		return;
	/* QoS 0 is not kept for offline sessions (mosquitto's queue_qos0_messages false), and
	 * is dropped for a TCP client that stopped reading. A sleeping MQTT-SN client is still
	 * attached: its QoS 0 messages are buffered until it wakes (MQTT-SN 1.2 §6.14). */
	if (t->qos == 0 && (!s->conn || (s->proto == SESSION_MQTT &&
	                                 conn_output_congested((struct conn *)s->conn)))) {
		if (s->conn)
			b->stats.msgs_dropped++;
		return;
	}
	const struct session_limits lim = broker_queue_limits(b);
	int err = session_enqueue(s, &lim, m, t->qos, t->retain, t->sub_ids, t->nsub_ids);
	if (err < 0) {
		b->stats.msgs_dropped++;
		if (log_ratelimit(&b->drop_ratelimit, broker_now_ms(b)))
			log_line(&b->log, LOG_LEVEL_WARNING, (const char *)s->client_id, NULL,
			         "queue full (max_queued_messages %u / max_queued_bytes %llu / "
			         "memory_limit %llu, %llu bytes queued in all): message on %.*s "
			         "dropped",
			         b->cfg.max_queued_messages,
			         (unsigned long long)b->cfg.max_queued_bytes,
			         (unsigned long long)b->cfg.memory_limit,
			         (unsigned long long)b->stats.queued_bytes, (int)m->topic_len,
			         (const char *)m->topic);
		return;
	}
	if (s->conn)
		session_pump(b, s);
}

void route_message(struct broker *b, struct msg *m, const struct session *from)
{
	if (m->retain) {
		if (!b->cfg.retain_available)
			return;
		if (retain_set(b->retained, m) < 0)
			log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
			         "out of memory storing a retained message");
		else
			store_retained_changed(b, m);
	}
	struct route_ctx ctx = {.b = b, .m = m, .from = from};
	b->match_gen++;
	b->ntargets = 0;
	subtree_match(b->subs, m->topic, m->topic_len, route_visit, &ctx);
	b->stats.msgs_received++;
	for (size_t i = 0; i < b->ntargets; i++)
		deliver(b, &b->targets[i], m);
	b->last_route_targets = b->ntargets;
	b->ntargets = 0;
}

int delivery_send(struct conn *c, struct delivery *d)
{
	struct msg *m = d->m;
	uint16_t alias = 0;
	struct mqtt_publish p = {
	        .dup = d->sent && d->qos > 0, /* a resend carries DUP [MQTT-3.3.1-1] */
	        .qos = d->qos,
	        .retain = d->retain,
	        .topic = {m->topic, m->topic_len},
	        .packet_id = d->packet_id,
	        .payload = m->payload,
	        .payload_len = m->payload_len,
	};
	if (c->version == MQTT_V5) {
		p.props = m->fwd;
		if (m->expiry_at) {
			/* The interval left, rounded up [MQTT-3.3.2-6]. */
			int64_t left = m->expiry_at - broker_now_ms(c->b);
			p.props.present |= MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY);
			p.props.message_expiry = left > 0 ? (uint32_t)((left + 999) / 1000) : 0;
		}
		if (d->nsub_ids) {
			p.props.present |= MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID);
			p.props.sub_ids = d->sub_ids;
			p.props.sub_id_count = d->nsub_ids;
		}
		/* Chosen for this connection at each send, a DUP resend after a reconnect
		 * included: the client's map does not survive the connection [MQTT-3.3.2-7]. */
		bool with_topic;
		alias = alias_out_pick(c, m->topic, m->topic_len, &with_topic);
		if (alias) {
			p.props.present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
			p.props.topic_alias = alias;
			if (!with_topic)
				p.topic.len = 0; /* the client maps the alias (5.0 §3.3.2.3.4) */
		}
	}
	int err = conn_send_publish(c, &p, m);
	if (err == 0) {
		d->sent = true;
		alias_out_sent(c, alias, m->topic, m->topic_len);
	}
	return err;
}

/* A message too big for the client's Maximum Packet Size is discarded as if it had been
 * delivered [MQTT-3.1.2-25]: its QoS flow is completed here. */
static void discard_oversize(struct broker *b, struct session *s, struct delivery *d)
{
	b->stats.msgs_dropped++;
	if (d->qos == 1)
		(void)session_on_puback(s, d->packet_id);
	else if (d->qos == 2 && session_on_pubrec(s, d->packet_id, MQTT_RC_UNSPECIFIED_ERROR) < 0)
		(void)session_on_pubcomp(s, d->packet_id);
}

void session_pump(struct broker *b, struct session *s)
{
	if (s->proto == SESSION_SN) {
		sn_pump(b, s);
		return;
	}
	struct conn *c = s->conn;
	if (!c || c->closing || !c->connected)
		return;
	int64_t now = broker_now_ms(b);
	struct delivery *d;
	/* The in-flight window: the client's Receive Maximum, bounded by max_inflight_messages. */
	uint16_t window = c->receive_max_out < b->cfg.max_inflight_messages
	                          ? c->receive_max_out
	                          : b->cfg.max_inflight_messages;
	while ((d = session_next(s, window, now)) != NULL) {
		int err = delivery_send(c, d);
		if (d->qos == 0) {
			delivery_free(d);
			if (err < 0)
				b->stats.msgs_dropped++;
			continue;
		}
		if (err == -EMSGSIZE) {
			discard_oversize(b, s, d);
		} else if (err < 0) {
			conn_close(c, "out of memory queueing output");
			return;
		}
	}
}
