/* sn_session.c - MQTT-SN clients as broker sessions: attach/takeover, CONNACK, wills, PUBLISH
 * in at every QoS, acknowledgements, SUBSCRIBE/UNSUBSCRIBE, PINGREQ and sleep, DISCONNECT. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "sn_internal.h"
#include "topic_limits.h"

/* ---- naming and logging ------------------------------------------------------------------ */

void sn_format_peer(struct sn_client *c)
{
	peer_format(&c->addr, c->peer, sizeof(c->peer));
	if (c->encapsulated) {
		size_t n = strlen(c->peer);
		for (uint8_t i = 0; i < c->node_id_len && n + 3 < sizeof(c->peer); i++)
			n += (size_t)snprintf(c->peer + n, sizeof(c->peer) - n,
			                      i ? "%02x" : "/%02x", c->node_id[i]);
	}
}

void sn_log_limited(struct broker *b, const char *peer, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line_limited(&b->log, &b->sn_ratelimit, broker_now_ms(b), LOG_LEVEL_NOTICE, NULL, peer,
	                 "%s", line);
}

bool mqtt_utf8_valid_view(struct mqtt_str s)
{
	return mqtt_utf8_valid(s.p, s.len);
}

static const char *client_name(const struct sn_client *c)
{
	return c->session ? (const char *)c->session->client_id : NULL;
}

/* ---- session life ------------------------------------------------------------------------ */

int sn_session_attach(struct sn_client *c, struct mqtt_str id)
{
	struct broker *b = c->b;
	struct session *s = sessions_find(b, id.p, id.len);

	if (s && s->conn) {
		/* One session per client id across MQTT and MQTT-SN: the newest connection wins
		 * [MQTT-3.1.4-3]; a device that changed address (NAT rebinding) lands here too. */
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, c->peer,
		         "session taken over by MQTT-SN client at %s", c->peer);
		session_kick(b, s);
	}
	if (s && c->clean) {
		session_destroy(b, s);
		s = NULL;
	}
	if (!s) {
		s = session_new(id.p, id.len);
		if (!s || sessions_add(b, s) < 0) {
			session_free(s);
			return -ENOMEM;
		}
	}
	session_cancel_will(b, s);
	s->proto = SESSION_SN;
	s->conn = c;
	s->expires_at = 0;
	/* MQTT-SN has no session expiry: CleanSession false keeps the session like a 3.1.1
	 * persistent session, bounded by persistent_client_expiration. */
	s->expiry_interval = c->clean ? 0
	                     : b->cfg.persistent_client_expiration > 0
	                             ? (uint32_t)b->cfg.persistent_client_expiration
	                             : UINT32_MAX;
	session_mark_changed(s); /* persistence: online, with this expiry */
	c->session = s;
	return 0;
}

void sn_connected(struct sn_client *c)
{
	struct broker *b = c->b;
	c->state = SN_ACTIVE;
	struct mqttsn_msg ack = {.type = MQTTSN_CONNACK};
	ack.ret.code = MQTTSN_RC_ACCEPTED;
	(void)sn_send(c, &ack);
	b->stats.clients_connected++;
	if (b->stats.clients_connected > b->stats.clients_maximum)
		b->stats.clients_maximum = b->stats.clients_connected;
	if (b->cfg.connection_messages)
		log_line(&b->log, LOG_LEVEL_NOTICE, client_name(c), c->peer,
		         "connected: MQTT-SN, %s, keep alive %u%s",
		         c->clean ? "clean" : "persistent", c->duration, c->will ? ", will" : "");
	/* What was in flight before goes again now, with DUP (§6.13). */
	c->retry_at = broker_now_ms(b);
	sn_pump(b, c->session);
}

/* Detaches the session from the client; ends it when it does not outlive the connection. */
static void detach(struct sn_client *c)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	if (!s)
		return;
	s->conn = NULL;
	c->session = NULL;
	if (s->expiry_interval == 0) {
		session_destroy(b, s);
		return;
	}
	s->expires_at = s->expiry_interval == UINT32_MAX
	                        ? 0
	                        : broker_now_ms(b) + (int64_t)s->expiry_interval * 1000;
	session_mark_changed(s); /* persistence: offline, expiring from now */
}

static bool counted_connected(const struct sn_client *c)
{
	return c->state == SN_ACTIVE || c->state == SN_ASLEEP || c->state == SN_AWAKE;
}

void sn_client_end(struct sn_client *c, bool lost, const char *why)
{
	struct broker *b = c->b;
	if (why && b->cfg.connection_messages)
		log_line(&b->log, LOG_LEVEL_NOTICE, client_name(c), c->peer, "disconnected: %s",
		         why);
	if (counted_connected(c))
		b->stats.clients_connected--;
	if (lost) {
		b->sn.stats.clients_lost++;
		/* The will of a client that vanished (§6.3), if it may write its topic. */
		if (c->will && !b->stopping &&
		    acl_can_write(b, c->session, c->will->topic, c->will->topic_len))
			route_message(b, c->will, c->session);
	}
	detach(c);
	sn_client_free(c);
}

void sn_client_taken_over(struct sn_client *c)
{
	/* The device connected again elsewhere: tell this address, no will. */
	struct mqttsn_msg m = {.type = MQTTSN_DISCONNECT};
	(void)sn_send(c, &m);
	c->session = NULL; /* the caller moves the session on */
	if (counted_connected(c))
		c->b->stats.clients_connected--;
	sn_client_free(c);
}

void sn_connack_refuse(struct sn_client *c, uint8_t code, const char *why)
{
	struct mqttsn_msg ack = {.type = MQTTSN_CONNACK};
	ack.ret.code = code;
	(void)sn_send(c, &ack);
	log_line(&c->b->log, LOG_LEVEL_NOTICE, client_name(c), c->peer,
	         "MQTT-SN CONNECT refused: %s", why);
	sn_client_end(c, false, NULL);
}

struct sn_client *sn_client_rebind(struct sn_listener *l, const struct sockaddr_storage *a,
                                   const struct sn_origin *o, struct mqtt_str client_id)
{
	struct session *s = sessions_find(l->b, client_id.p, client_id.len);
	if (!s || s->proto != SESSION_SN || !s->conn)
		return NULL;
	struct sn_client *c = s->conn;
	if (c->state != SN_ASLEEP && c->state != SN_AWAKE)
		return NULL; /* an active client must CONNECT again to move */
	sn_client_move(c, l, a, o);
	return c;
}

/* ---- topics of incoming messages ------------------------------------------------------- */

/* The topic name a PUBLISH / SUBSCRIBE names by id: normal (registered), predefined, or a
 * 2-character short name kept in `short_buf`. p == NULL when unknown. */
static struct mqtt_str topic_by_id(struct broker *b, uint8_t type, uint16_t id,
                                   uint8_t short_buf[2])
{
	switch (type) {
	case MQTTSN_TOPIC_NORMAL:
		return topic_ids_name(b->sn.ids, false, id);
	case MQTTSN_TOPIC_PREDEFINED:
		return topic_ids_name(b->sn.ids, true, id);
	case MQTTSN_TOPIC_SHORT:
		short_buf[0] = (uint8_t)(id >> 8);
		short_buf[1] = (uint8_t)id;
		return (struct mqtt_str){short_buf, 2};
	default:
		return (struct mqtt_str){NULL, 0};
	}
}

static void send_puback(struct sn_client *c, uint16_t topic_id, uint16_t msg_id, uint8_t code)
{
	struct mqttsn_msg m = {.type = MQTTSN_PUBACK};
	m.topic_ack.topic_id = topic_id;
	m.topic_ack.msg_id = msg_id;
	m.topic_ack.code = code;
	(void)sn_send(c, &m);
}

static void send_msg_id(struct sn_client *c, uint8_t type, uint16_t msg_id)
{
	struct mqttsn_msg m = {.type = type};
	m.msg_id.msg_id = msg_id;
	(void)sn_send(c, &m);
}

/* QoS -1: only predefined ids and short names, only when enabled (§6.8). */
static void publish_qos_m1(struct broker *b, const struct sockaddr_storage *a,
                           const struct mqttsn_publish *m)
{
	uint8_t sbuf[2];
	char peer[96];
	b->sn.stats.qos_m1_received++;
	struct mqtt_str topic = topic_by_id(b, m->flags.topic_id_type, m->topic_id, sbuf);
	if (!b->cfg.sn_allow_qos_m1 || m->flags.topic_id_type == MQTTSN_TOPIC_NORMAL || !topic.p ||
	    mqtt_topic_name_valid(topic.p, topic.len) < 0) {
		b->sn.stats.qos_m1_dropped++;
		peer_format(a, peer, sizeof(peer));
		sn_log_limited(b, peer, "MQTT-SN QoS -1 PUBLISH dropped: %s",
		               !b->cfg.sn_allow_qos_m1 ? "sn_allow_qos_m1 is false"
		               : topic.p               ? "topic not allowed for QoS -1"
		                                       : "unknown topic id");
		return;
	}
	if (!acl_can_write(b, NULL, topic.p, topic.len)) {
		b->sn.stats.qos_m1_dropped++; /* acl_file: QoS -1 senders are anonymous */
		return;
	}
	struct msg *msg = msg_new(topic.p, topic.len, m->data.p, m->data.len, 0, m->flags.retain);
	if (!msg)
		return;
	b->sn.stats.publish_received++;
	route_message(b, msg, NULL);
	msg_unref(msg);
}

void sn_handle_publish(struct sn_listener *l, struct sn_client *c, const struct sockaddr_storage *a,
                       const struct sn_origin *o, const struct mqttsn_publish *m)
{
	struct broker *b = l->b;
	uint8_t sbuf[2];
	(void)o;

	if (m->flags.qos == MQTTSN_QOS_M1) {
		publish_qos_m1(b, c ? &c->addr : a, m);
		return;
	}
	if (c->state != SN_ACTIVE && c->state != SN_AWAKE)
		return;
	struct mqtt_str topic = topic_by_id(b, m->flags.topic_id_type, m->topic_id, sbuf);
	if (!topic.p || mqtt_topic_name_valid(topic.p, topic.len) < 0) {
		/* Unknown id: PUBACK "rejected: invalid topic ID", whatever the QoS (§6.5). */
		send_puback(c, m->topic_id, m->msg_id, MQTTSN_RC_INVALID_TOPIC_ID);
		return;
	}
	struct session *s = c->session;
	if (!acl_can_write(b, s, topic.p, topic.len)) {
		/* acl_file: dropped; QoS 1/2 get PUBACK "rejected: not supported" (§6.5). */
		b->stats.msgs_dropped++;
		if (m->flags.qos > 0)
			send_puback(c, m->topic_id, m->msg_id, MQTTSN_RC_NOT_SUPPORTED);
		return;
	}
	if (m->flags.qos == 2) {
		int fresh = session_qos2_in_add(s, m->msg_id, b->cfg.max_inflight_messages);
		if (fresh < 0) {
			send_puback(c, m->topic_id, m->msg_id, MQTTSN_RC_CONGESTION);
			return;
		}
		if (fresh == 0) { /* a retransmission: acknowledged again, not routed twice */
			send_msg_id(c, MQTTSN_PUBREC, m->msg_id);
			return;
		}
	}
	struct msg *msg = msg_new(topic.p, topic.len, m->data.p, m->data.len, (uint8_t)m->flags.qos,
	                          m->flags.retain);
	if (!msg) {
		if (m->flags.qos > 0)
			send_puback(c, m->topic_id, m->msg_id, MQTTSN_RC_CONGESTION);
		return;
	}
	b->sn.stats.publish_received++;
	b->stats.publish_received++;
	route_message(b, msg, s);
	msg_unref(msg);
	if (m->flags.qos == 1)
		send_puback(c, m->topic_id, m->msg_id, MQTTSN_RC_ACCEPTED);
	else if (m->flags.qos == 2)
		send_msg_id(c, MQTTSN_PUBREC, m->msg_id);
}

void sn_handle_ack(struct sn_client *c, const struct mqttsn_msg *m)
{
	struct session *s = c->session;
	switch (m->type) {
	case MQTTSN_PUBACK:
		if (m->topic_ack.code == MQTTSN_RC_INVALID_TOPIC_ID)
			sn_reg_set(c, m->topic_ack.topic_id, 0); /* forgotten: REGISTER again */
		(void)session_on_puback(s, m->topic_ack.msg_id);
		break;
	case MQTTSN_PUBREC:
		if (session_on_pubrec(s, m->msg_id.msg_id, 0) == 0 ||
		    session_releasing(s, m->msg_id.msg_id))
			send_msg_id(c, MQTTSN_PUBREL, m->msg_id.msg_id);
		break;
	case MQTTSN_PUBREL:
		(void)session_qos2_in_release(s, m->msg_id.msg_id);
		send_msg_id(c, MQTTSN_PUBCOMP, m->msg_id.msg_id);
		break;
	case MQTTSN_PUBCOMP:
		(void)session_on_pubcomp(s, m->msg_id.msg_id);
		break;
	}
	c->tries = 0;
	c->retry_at = broker_now_ms(c->b) + (int64_t)c->b->cfg.sn_retry_interval * 1000;
	sn_pump(c->b, s);
}

/* ---- subscriptions ----------------------------------------------------------------------- */

struct sn_retained_ctx {
	struct broker *b;
	struct session *s;
	uint8_t qos;
};

static void sn_queue_retained(void *ctx, struct msg *m)
{
	struct sn_retained_ctx *rc = ctx;
	const struct session_limits lim = broker_queue_limits(rc->b);
	if (!acl_can_read(rc->b, rc->s, m->topic, m->topic_len))
		return; /* acl_file: no read access to this retained topic */
	uint8_t qos = m->qos < rc->qos ? m->qos : rc->qos;
	if (session_enqueue(rc->s, &lim, m, qos, true, NULL, 0) < 0) /* RETAIN set [MQTT-3.3.1-9] */
		rc->b->stats.msgs_dropped++;
}

/* The SUBACK topic id for a subscription by name: the broker-global id of a name without
 * wildcards (the client learns it here, §6.9), 0 for a wildcard filter. */
static uint16_t suback_topic_id(struct sn_client *c, const struct mqttsn_subscribe *m,
                                struct mqtt_str filter)
{
	uint16_t id = 0;
	if (m->flags.topic_id_type != MQTTSN_TOPIC_NORMAL)
		return m->flags.topic_id_type == MQTTSN_TOPIC_PREDEFINED ? m->topic_id : 0;
	if (memchr(filter.p, '+', filter.len) || memchr(filter.p, '#', filter.len))
		return 0;
	if (topic_ids_assign(c->b->sn.ids, filter.p, filter.len, &id) == 0)
		sn_reg_set(c, id, SN_REG_OK);
	return id;
}

void sn_handle_subscribe(struct sn_client *c, const struct mqttsn_subscribe *m, bool subscribe)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	uint8_t sbuf[2];
	struct mqtt_str filter =
	        m->flags.topic_id_type == MQTTSN_TOPIC_NORMAL
	                ? m->topic_name
	                : topic_by_id(b, m->flags.topic_id_type, m->topic_id, sbuf);
	bool valid = filter.p && filter.len && mqtt_utf8_valid_view(filter) &&
	             mqtt_topic_filter_valid(filter.p, filter.len) == 0 &&
	             limits_topic_ok(&b->cfg, filter.p, filter.len, NULL);

	if (!subscribe) {
		if (valid) {
			(void)subtree_remove(b->subs, filter.p, filter.len, s);
			(void)session_sub_remove(s, filter.p, filter.len);
		}
		send_msg_id(c, MQTTSN_UNSUBACK, m->msg_id);
		return;
	}
	struct mqttsn_msg ack = {.type = MQTTSN_SUBACK};
	ack.suback.msg_id = m->msg_id;
	if (!valid) {
		ack.suback.code = MQTTSN_RC_INVALID_TOPIC_ID;
		(void)sn_send(c, &ack);
		return;
	}
	if (!acl_can_subscribe(b, s, filter.p, filter.len)) {
		ack.suback.code = MQTTSN_RC_NOT_SUPPORTED; /* acl_file */
		(void)sn_send(c, &ack);
		return;
	}
	struct sub_opts opts = {.qos = (uint8_t)(m->flags.qos > 0 ? m->flags.qos : 0)};
	bool replaced = false;
	int err = subtree_add(b->subs, filter.p, filter.len, s, &opts, &replaced);
	if (err == 0)
		err = session_sub_add(s, filter.p, filter.len, &opts);
	ack.suback.code = err == 0 ? MQTTSN_RC_ACCEPTED : MQTTSN_RC_CONGESTION;
	ack.suback.flags.qos = (int8_t)opts.qos;
	ack.suback.topic_id = err == 0 ? suback_topic_id(c, m, filter) : 0;
	(void)sn_send(c, &ack);
	if (err < 0)
		return;
	log_line(&b->log, LOG_LEVEL_SUBSCRIBE, client_name(c), c->peer,
	         "subscribed to %.*s (QoS %u, MQTT-SN)", (int)filter.len, (const char *)filter.p,
	         opts.qos);
	/* Retained messages follow the SUBACK, each after its REGISTER when needed. */
	struct sn_retained_ctx rc = {.b = b, .s = s, .qos = opts.qos};
	retain_match(b->retained, filter.p, filter.len, sn_queue_retained, &rc);
	sn_pump(b, s);
}

/* ---- keep alive, sleep, disconnect (§6.12, §6.14) ---------------------------------------- */

void sn_handle_pingreq(struct sn_client *c, const struct mqttsn_pingreq *m)
{
	(void)m;
	c->last_rx_ms = broker_now_ms(c->b);
	if (c->state == SN_ASLEEP || c->state == SN_AWAKE) {
		/* Awake: the buffered messages go first; sn_pump sends PINGRESP when they are all
		 * delivered and the client goes back to sleep. */
		c->state = SN_AWAKE;
		c->retry_at = c->last_rx_ms;
		sn_pump(c->b, c->session);
		return;
	}
	struct mqttsn_msg resp = {.type = MQTTSN_PINGRESP};
	(void)sn_send(c, &resp);
}

void sn_handle_disconnect(struct sn_client *c, const struct mqttsn_disconnect *m)
{
	struct mqttsn_msg ack = {.type = MQTTSN_DISCONNECT};
	(void)sn_send(c, &ack);
	if (m->has_duration && m->duration > 0) {
		/* Asleep: the session stays attached and buffers (§6.14). */
		c->state = SN_ASLEEP;
		c->duration = m->duration;
		c->last_rx_ms = broker_now_ms(c->b);
		if (c->b->cfg.connection_messages)
			log_line(&c->b->log, LOG_LEVEL_NOTICE, client_name(c), c->peer,
			         "asleep for %u s", m->duration);
		return;
	}
	/* A normal DISCONNECT: no will (§6.3). */
	sn_client_end(c, false, "client sent DISCONNECT");
}
