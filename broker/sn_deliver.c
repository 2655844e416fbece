/* sn_deliver.c - messages to MQTT-SN clients: the topic id to send on, REGISTER before the
 * first PUBLISH of a topic (§6.10), one QoS 1/2 message in flight at a time with
 * retransmission (Tretry / Nretry, §6.13), sleeping clients (§6.14), keep-alive supervision and
 * ADVERTISE. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sn_internal.h"

/* ---- what the client knows about topic ids ----------------------------------------------- */

uint8_t sn_reg_get(const struct sn_client *c, uint16_t id)
{
	for (uint16_t i = 0; i < c->nregs; i++)
		if (c->regs[i].topic_id == id)
			return c->regs[i].state;
	return 0;
}

void sn_reg_set(struct sn_client *c, uint16_t id, uint8_t state)
{
	for (uint16_t i = 0; i < c->nregs; i++) {
		if (c->regs[i].topic_id != id)
			continue;
		if (state == 0) /* forget */
			c->regs[i] = c->regs[--c->nregs];
		else
			c->regs[i].state = state;
		return;
	}
	if (state == 0)
		return;
	if (c->nregs == c->regcap) {
		if (c->regcap == UINT16_MAX)
			return;
		uint16_t cap = c->regcap ? (uint16_t)(c->regcap * 2) : 4;
		struct sn_reg *regs = realloc(c->regs, cap * sizeof(*regs));
		if (!regs)
			return; /* not remembered: the topic is registered again next time */
		c->regs = regs;
		c->regcap = cap;
	}
	c->regs[c->nregs++] = (struct sn_reg){.topic_id = id, .state = state};
}

/* ---- the topic a delivery goes out on ---------------------------------------------------- */

struct sn_topic {
	uint8_t type; /* enum mqttsn_topic_type */
	uint16_t id;
};

/* Predefined when the name is predefined, short for a 2-character name, else the normal
 * broker-global id. -ENOSPC / -ENOMEM when no id can be had. */
static int resolve(struct broker *b, const struct msg *m, struct sn_topic *t)
{
	if (topic_ids_find(b->sn.ids, true, m->topic, m->topic_len, &t->id)) {
		t->type = MQTTSN_TOPIC_PREDEFINED;
		return 0;
	}
	if (m->topic_len == 2) {
		t->type = MQTTSN_TOPIC_SHORT;
		t->id = (uint16_t)(m->topic[0] << 8 | m->topic[1]);
		return 0;
	}
	t->type = MQTTSN_TOPIC_NORMAL;
	return topic_ids_assign(b->sn.ids, m->topic, m->topic_len, &t->id);
}

static uint16_t next_msg_id(struct sn_client *c)
{
	/* REGISTER ids come from their own counter; PUBLISH ids are the session's packet ids.
	 * The two never need to differ: the client matches REGACK to REGISTER by type. */
	c->last_msg_id = c->last_msg_id == UINT16_MAX ? 1 : (uint16_t)(c->last_msg_id + 1);
	return c->last_msg_id;
}

static void send_register(struct sn_client *c)
{
	struct mqttsn_msg r = {.type = MQTTSN_REGISTER};
	struct mqtt_str name = topic_ids_name(c->b->sn.ids, false, c->reg_topic_id);
	r.reg.topic_id = c->reg_topic_id;
	r.reg.msg_id = c->reg_msg_id;
	r.reg.topic_name = name;
	if (sn_send(c, &r) == 0)
		c->b->sn.stats.registers_sent++;
	c->reg_retry_at = broker_now_ms(c->b) + (int64_t)c->b->cfg.sn_retry_interval * 1000;
}

static void start_register(struct sn_client *c, uint16_t topic_id)
{
	c->reg_topic_id = topic_id;
	c->reg_msg_id = next_msg_id(c);
	c->reg_tries = 0;
	send_register(c);
}

static int send_publish(struct sn_client *c, const struct delivery *d, const struct sn_topic *t)
{
	struct mqttsn_msg p = {.type = MQTTSN_PUBLISH};
	p.publish.flags.dup = d->sent && d->qos > 0;
	p.publish.flags.qos = (int8_t)d->qos;
	p.publish.flags.retain = d->retain;
	p.publish.flags.topic_id_type = t->type;
	p.publish.topic_id = t->id;
	p.publish.msg_id = d->packet_id;
	p.publish.data = (struct mqtt_str){d->m->payload, (uint16_t)d->m->payload_len};
	if (d->m->payload_len > SN_MAX_OUT - 9)
		return -EMSGSIZE;
	c->b->sn.stats.publish_sent++;
	c->b->stats.publish_sent++;
	return sn_send(c, &p);
}

/* Completes the QoS flow of a delivery that will never be sent (topic rejected by the
 * client, or too big for a datagram). */
static void abandon(struct session *s, struct delivery *d)
{
	if (d->qos == 0) {
		delivery_free(d);
		return;
	}
	if (d->qos == 1)
		(void)session_on_puback(s, d->packet_id);
	else if (session_on_pubrec(s, d->packet_id, 0x80) < 0)
		(void)session_on_pubcomp(s, d->packet_id);
}

/* The head of the queue needs a REGISTER first: returns true when pumping must wait. */
static bool needs_register(struct sn_client *c, struct session *s, struct sn_topic *t, int *drop)
{
	struct delivery *head = session_peek(s, broker_now_ms(c->b));
	*drop = 0;
	if (!head)
		return false;
	if (resolve(c->b, head->m, t) < 0) {
		*drop = 1;
		return false;
	}
	if (t->type != MQTTSN_TOPIC_NORMAL)
		return false;
	if (head->m->topic_len > SN_MAX_OUT - 7) {
		/* A REGISTER for this name would not fit a datagram: the topic cannot reach an
		 * MQTT-SN client at all. Dropped (counted), the queue moves on. */
		*drop = 1;
		return false;
	}
	uint8_t st = sn_reg_get(c, t->id);
	if (st == SN_REG_OK)
		return false;
	if (st == SN_REG_REJECTED) { /* §6.10: the client refused this topic */
		*drop = 1;
		return false;
	}
	if (!c->reg_msg_id)
		start_register(c, t->id);
	return true;
}

void sn_pump(struct broker *b, struct session *s)
{
	struct sn_client *c = s ? s->conn : NULL;
	if (!c || (c->state != SN_ACTIVE && c->state != SN_AWAKE) || c->reg_msg_id)
		return;
	int64_t now = broker_now_ms(b);
	for (;;) {
		struct sn_topic t;
		int drop;
		if (needs_register(c, s, &t, &drop))
			return;
		/* One QoS 1/2 message in flight at a time: MQTT-SN has no Receive Maximum. */
		struct delivery *d = session_next(s, 1, now);
		if (!d)
			break;
		if (!drop && resolve(b, d->m, &t) < 0)
			drop = 1;
		if (drop || send_publish(c, d, &t) < 0) {
			b->stats.msgs_dropped++;
			abandon(s, d);
			continue;
		}
		if (d->qos == 0) {
			delivery_free(d);
			continue;
		}
		d->sent = true;
		c->tries = 0;
		c->retry_at = now + (int64_t)b->cfg.sn_retry_interval * 1000;
	}
	if (c->state == SN_AWAKE && !s->queue && !s->inflight) {
		/* Everything buffered was delivered: PINGRESP sends the client back to sleep. */
		struct mqttsn_msg resp = {.type = MQTTSN_PINGRESP};
		(void)sn_send(c, &resp);
		c->state = SN_ASLEEP;
	}
}

/* ---- once a second ---------------------------------------------------------------------- */

/* Resends the oldest in-flight message (PUBLISH with DUP, or PUBREL). */
static void retransmit(struct sn_client *c, struct session *s)
{
	struct delivery *d = s->inflight;
	if (d->state == DELIVERY_WAIT_PUBCOMP) {
		struct mqttsn_msg rel = {.type = MQTTSN_PUBREL};
		rel.msg_id.msg_id = d->packet_id;
		(void)sn_send(c, &rel);
	} else {
		struct sn_topic t;
		if (resolve(c->b, d->m, &t) == 0)
			(void)send_publish(c, d, &t);
	}
	c->b->sn.stats.retransmissions++;
}

/* Supervision of one client; returns false when it was ended. */
static bool supervise(struct sn_client *c, int64_t now)
{
	struct broker *b = c->b;
	const struct config *cfg = &b->cfg;
	int64_t retry_ms = (int64_t)cfg->sn_retry_interval * 1000;

	if (c->duration && now - c->last_rx_ms > (int64_t)c->duration * 1500) {
		sn_client_end(c, true,
		              c->state == SN_ASLEEP ? "sleep duration exceeded"
		                                    : "keep alive timeout");
		return false;
	}
	if ((c->state == SN_WAIT_WILLTOPIC || c->state == SN_WAIT_WILLMSG) &&
	    now - c->last_rx_ms > retry_ms * (cfg->sn_retry_count ? cfg->sn_retry_count : 1)) {
		sn_client_end(c, false, "will dialogue timed out");
		return false;
	}
	if (c->state != SN_ACTIVE && c->state != SN_AWAKE)
		return true;
	if (c->reg_msg_id && now >= c->reg_retry_at) {
		if (++c->reg_tries > cfg->sn_retry_count) {
			sn_client_end(c, true, "no REGACK after retries");
			return false;
		}
		b->sn.stats.retransmissions++;
		send_register(c);
	}
	struct session *s = c->session;
	if (s && s->inflight && now >= c->retry_at) {
		if (++c->tries > cfg->sn_retry_count) {
			sn_client_end(c, true, "no acknowledgement after retries");
			return false;
		}
		retransmit(c, s);
		c->retry_at = now + retry_ms;
	}
	return true;
}

static void advertise(struct broker *b, int64_t now)
{
	const struct config *cfg = &b->cfg;
	if (!cfg->sn_advertise_interval || now < b->sn.next_advertise_ms)
		return;
	b->sn.next_advertise_ms = now + (int64_t)cfg->sn_advertise_interval * 1000;
	struct mqttsn_msg m = {.type = MQTTSN_ADVERTISE};
	m.advertise.gw_id = cfg->sn_gateway_id;
	m.advertise.duration = (uint16_t)cfg->sn_advertise_interval;
	uint8_t buf[8];
	long n = mqttsn_encode(&m, buf, sizeof(buf));
	for (struct sn_listener *l = b->sn.listeners; l && n > 0; l = l->next) {
		struct sockaddr_storage to = {0};
		struct sockaddr_in *in = (struct sockaddr_in *)&to;
		if (l->conf->socket_domain == SOCKET_DOMAIN_IPV6)
			continue;
		in->sin_family = AF_INET;
		in->sin_port =
		        htons(cfg->sn_advertise_port ? cfg->sn_advertise_port : l->conf->port);
		if (inet_pton(AF_INET, cfg->sn_advertise_address, &in->sin_addr) != 1)
			continue;
		(void)sn_queue_datagram(l, &to, sizeof(*in), buf, (size_t)n);
	}
}

void sn_tick(struct broker *b, int64_t now)
{
	for (size_t i = 0; i < b->sn.nbuckets; i++) {
		struct sn_client *c = b->sn.buckets[i];
		while (c) {
			struct sn_client *next = c->hnext; /* c may be freed below */
			(void)supervise(c, now);
			c = next;
		}
	}
	advertise(b, now);
}

void sn_clients_free_all(struct broker *b)
{
	for (size_t i = 0; i < b->sn.nbuckets; i++)
		while (b->sn.buckets[i])
			sn_client_end(b->sn.buckets[i], false, NULL);
	free(b->sn.buckets);
	b->sn.buckets = NULL;
	b->sn.nbuckets = 0;
}
