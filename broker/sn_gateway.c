/* sn_gateway.c - MQTT-SN v1.2 messages from clients: the client table by address, CONNECT and
 * the will dialogue, REGISTER, PUBLISH (QoS -1..2), SUBSCRIBE/UNSUBSCRIBE, PINGREQ, sleep,
 * DISCONNECT, and the forwarder encapsulation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "fastpath.h"
#include "sn_internal.h"
#include "topic_limits.h"

/* ---- the client table: by address (+ wireless node id behind a forwarder) --------------- */

static uint64_t addr_hash(const struct sockaddr_storage *a, const uint8_t *node, uint8_t nlen)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t n =
	        a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	for (size_t i = 0; i < nlen; i++)
		h = (h ^ node[i]) * 1099511628211ull;
	return h;
}

/* Copies only the parts of an address that identify the peer, so lookups compare bytes. */
static void addr_canon(struct sockaddr_storage *out, const struct sockaddr *in, socklen_t len)
{
	memset(out, 0, sizeof(*out));
	if (in->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)in;
		struct sockaddr_in *d = (struct sockaddr_in *)out;
		d->sin_family = AF_INET;
		d->sin_port = s->sin_port;
		d->sin_addr = s->sin_addr;
	} else if (in->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)in;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)out;
		d->sin6_family = AF_INET6;
		d->sin6_port = s->sin6_port;
		d->sin6_addr = s->sin6_addr;
		d->sin6_scope_id = s->sin6_scope_id;
	}
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool same_peer(const struct sn_client *c, const struct sockaddr_storage *a,
                      const uint8_t *node, uint8_t nlen)
{
	/* node is NULL (nlen 0) for a direct client: memcmp must not see it */
	return memcmp(&c->addr, a, sizeof(*a)) == 0 && c->node_id_len == nlen &&
	       (nlen == 0 || memcmp(c->node_id, node, nlen) == 0);
}

struct sn_client *sn_client_find(struct broker *b, const struct sockaddr_storage *a,
                                 const uint8_t *node, uint8_t nlen)
{
	if (!b->sn.nbuckets)
		return NULL;
	struct sn_client *c = b->sn.buckets[addr_hash(a, node, nlen) & (b->sn.nbuckets - 1)];
	while (c && !same_peer(c, a, node, nlen))
		c = c->hnext;
	return c;
}

static int table_grow(struct broker *b)
{
	size_t n = b->sn.nbuckets ? b->sn.nbuckets * 2 : 64;
	struct sn_client **buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (size_t i = 0; i < b->sn.nbuckets; i++) {
		while (b->sn.buckets[i]) {
			struct sn_client *c = b->sn.buckets[i];
			b->sn.buckets[i] = c->hnext;
			size_t k = addr_hash(&c->addr, c->node_id, c->node_id_len) & (n - 1);
			c->hnext = buckets[k];
			buckets[k] = c;
		}
	}
	free(b->sn.buckets);
	b->sn.buckets = buckets;
	b->sn.nbuckets = n;
	return 0;
}

static struct sn_client *client_new(struct sn_listener *l, const struct sockaddr_storage *a,
                                    const struct sn_origin *o)
{
	struct broker *b = l->b;
	if ((b->sn.nclients + 1) > b->sn.nbuckets && table_grow(b) < 0)
		return NULL;
	struct sn_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->b = b;
	c->l = l;
	c->addr = *a;
	c->addrlen = addr_len(a);
	c->encapsulated = o->encapsulated;
	c->node_id_len = o->node_len;
	if (o->node_len) /* o->node is NULL for a direct client */
		memcpy(c->node_id, o->node, o->node_len);
	sn_format_peer(c);
	size_t k = addr_hash(a, c->node_id, c->node_id_len) & (b->sn.nbuckets - 1);
	c->hnext = b->sn.buckets[k];
	b->sn.buckets[k] = c;
	b->sn.nclients++;
	return c;
}

static void table_unlink(struct sn_client *c)
{
	struct broker *b = c->b;
	size_t k = addr_hash(&c->addr, c->node_id, c->node_id_len) & (b->sn.nbuckets - 1);
	for (struct sn_client **pp = &b->sn.buckets[k]; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
	}
}

void sn_client_move(struct sn_client *c, struct sn_listener *l, const struct sockaddr_storage *a,
                    const struct sn_origin *o)
{
	struct broker *b = c->b;
	/* Its slots name the old address: out of the kernel until the next sync re-learns it. */
	fastpath_client_gone(b, c);
	table_unlink(c);
	c->l = l;
	c->addr = *a;
	c->addrlen = addr_len(a);
	c->encapsulated = o->encapsulated;
	c->node_id_len = o->node_len;
	if (o->node_len) /* o->node is NULL for a direct client */
		memcpy(c->node_id, o->node, o->node_len);
	sn_format_peer(c);
	size_t k = addr_hash(a, c->node_id, c->node_id_len) & (b->sn.nbuckets - 1);
	c->hnext = b->sn.buckets[k];
	b->sn.buckets[k] = c;
}

void sn_client_free(struct sn_client *c)
{
	struct broker *b = c->b;
	fastpath_client_gone(b, c); /* out of every serve set before it is gone */
	table_unlink(c);
	b->sn.nclients--;
	free(c->will_topic);
	msg_unref(c->will);
	free(c->regs);
	free(c);
}

/* ---- sending -------------------------------------------------------------------------- */

int sn_send(struct sn_client *c, const struct mqttsn_msg *m)
{
	uint8_t buf[SN_MAX_OUT];
	long n = mqttsn_encode(m, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (!c->encapsulated)
		return sn_queue_datagram(c->l, &c->addr, c->addrlen, buf, (size_t)n);
	/* Behind a forwarder: wrap the message for its wireless node (§5.5). */
	struct mqttsn_msg e = {.type = MQTTSN_ENCAPSULATED};
	e.encap.ctrl = 0;
	e.encap.node_id = (struct mqtt_str){c->node_id, c->node_id_len};
	e.encap.inner = (struct mqtt_str){buf, (uint16_t)n};
	uint8_t wrapped[SN_MAX_OUT + 3 + SN_NODE_ID_MAX];
	long w = mqttsn_encode(&e, wrapped, sizeof(wrapped));
	if (w < 0)
		return (int)w;
	return sn_queue_datagram(c->l, &c->addr, c->addrlen, wrapped, (size_t)w);
}

static void send_reply_to(struct sn_listener *l, const struct sockaddr_storage *a,
                          const struct sn_origin *o, const struct mqttsn_msg *m)
{
	/* A reply to a peer that has no client entry (SEARCHGW, refused CONNECT). */
	struct sn_client tmp = {.b = l->b,
	                        .l = l,
	                        .addr = *a,
	                        .addrlen = addr_len(a),
	                        .encapsulated = o->encapsulated,
	                        .node_id_len = o->node_len};
	if (o->node_len)
		memcpy(tmp.node_id, o->node, o->node_len);
	(void)sn_send(&tmp, m);
}

static void send_code(struct sn_client *c, uint8_t type, uint8_t code)
{
	struct mqttsn_msg m = {.type = type};
	m.ret.code = code;
	(void)sn_send(c, &m);
}

/* ---- message handlers ----------------------------------------------------------------- */

static void handle_searchgw(struct sn_listener *l, const struct sockaddr_storage *a,
                            const struct sn_origin *o)
{
	/* GWINFO from the gateway itself carries no GwAdd (§5.4.3). */
	struct mqttsn_msg m = {.type = MQTTSN_GWINFO};
	m.gwinfo.gw_id = l->b->cfg.sn_gateway_id;
	send_reply_to(l, a, o, &m);
}

/* Everything a CONNECT can be refused for, as a CONNACK return code (0 = accept). */
static uint8_t connect_check(struct broker *b, const struct mqttsn_connect *m)
{
	if (m->client_id.len < 1 || m->client_id.len > 23)
		return MQTTSN_RC_NOT_SUPPORTED; /* ClientId 1..23 characters (§5.3.1) */
	if (!mqtt_utf8_valid_view(m->client_id))
		return MQTTSN_RC_NOT_SUPPORTED;
	/* sn_allow_anonymous false: only client ids with a `user` section in acl_file (MQTT-SN
	 * clients have no user name; the client id stands for it). */
	if (!b->cfg.sn_allow_anonymous && !acl_has_user(b->acl, m->client_id.p, m->client_id.len))
		return MQTTSN_RC_NOT_SUPPORTED;
	return MQTTSN_RC_ACCEPTED;
}

static void sn_handle_connect(struct sn_listener *l, const struct sockaddr_storage *a,
                              const struct sn_origin *o, struct sn_client *c,
                              const struct mqttsn_connect *m)
{
	struct broker *b = l->b;
	uint8_t rc = connect_check(b, m);
	if (rc != MQTTSN_RC_ACCEPTED) {
		struct mqttsn_msg ack = {.type = MQTTSN_CONNACK};
		ack.ret.code = rc;
		send_reply_to(l, a, o, &ack);
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, c ? c->peer : NULL,
		         "MQTT-SN CONNECT refused: %s",
		         m->client_id.len < 1 || m->client_id.len > 23 ? "client id length"
		                                                       : "not allowed");
		return;
	}
	if (c) /* a new CONNECT from a known address starts over (§6.2) */
		sn_client_end(c, false, NULL);
	c = client_new(l, a, o);
	if (!c)
		return;
	c->clean = m->flags.clean_session;
	c->duration = m->duration;
	c->last_rx_ms = broker_now_ms(b);
	if (sn_session_attach(c, m->client_id) < 0) {
		send_code(c, MQTTSN_CONNACK, MQTTSN_RC_CONGESTION);
		sn_client_free(c);
		return;
	}
	if (m->flags.will) {
		/* The will dialogue (§6.3): WILLTOPICREQ, WILLTOPIC, WILLMSGREQ, WILLMSG. */
		c->state = SN_WAIT_WILLTOPIC;
		struct mqttsn_msg req = {.type = MQTTSN_WILLTOPICREQ};
		(void)sn_send(c, &req);
		return;
	}
	sn_connected(c);
}

static void handle_willtopic(struct sn_client *c, const struct mqttsn_willtopic *m, bool update)
{
	if (!update && c->state != SN_WAIT_WILLTOPIC)
		return;
	if (!m->empty && (mqtt_topic_name_valid(m->topic.p, m->topic.len) < 0 ||
	                  !limits_topic_ok(&c->b->cfg, m->topic.p, m->topic.len, NULL))) {
		if (update)
			send_code(c, MQTTSN_WILLTOPICRESP, MQTTSN_RC_NOT_SUPPORTED);
		else
			sn_connack_refuse(c, MQTTSN_RC_NOT_SUPPORTED, "invalid will topic");
		return;
	}
	free(c->will_topic);
	c->will_topic = NULL;
	c->will_topic_len = 0;
	if (update) {
		/* WILLTOPICUPD: an empty one deletes the will (§6.4). */
		if (m->empty) {
			msg_unref(c->will);
			c->will = NULL;
		} else {
			struct mqtt_str payload = {c->will ? c->will->payload : NULL,
			                           c->will ? (uint16_t)c->will->payload_len : 0};
			struct msg *w = msg_new(m->topic.p, m->topic.len, payload.p, payload.len,
			                        (uint8_t)(m->flags.qos > 0 ? m->flags.qos : 0),
			                        m->flags.retain);
			if (w) {
				msg_unref(c->will);
				c->will = w;
			}
		}
		send_code(c, MQTTSN_WILLTOPICRESP, MQTTSN_RC_ACCEPTED);
		return;
	}
	if (m->empty) { /* no will after all */
		sn_connected(c);
		return;
	}
	c->will_topic = malloc(m->topic.len ? m->topic.len : 1);
	if (!c->will_topic) {
		sn_connack_refuse(c, MQTTSN_RC_CONGESTION, "out of memory");
		return;
	}
	memcpy(c->will_topic, m->topic.p, m->topic.len);
	c->will_topic_len = m->topic.len;
	c->will_qos = (uint8_t)(m->flags.qos > 0 ? m->flags.qos : 0);
	c->will_retain = m->flags.retain;
	c->state = SN_WAIT_WILLMSG;
	struct mqttsn_msg req = {.type = MQTTSN_WILLMSGREQ};
	(void)sn_send(c, &req);
}

static void handle_willmsg(struct sn_client *c, const struct mqttsn_willmsg *m, bool update)
{
	if (update) {
		if (!c->will) {
			send_code(c, MQTTSN_WILLMSGRESP, MQTTSN_RC_NOT_SUPPORTED);
			return;
		}
		struct msg *w = msg_new(c->will->topic, c->will->topic_len, m->msg.p, m->msg.len,
		                        c->will->qos, c->will->retain);
		if (w) {
			msg_unref(c->will);
			c->will = w;
		}
		send_code(c, MQTTSN_WILLMSGRESP, w ? MQTTSN_RC_ACCEPTED : MQTTSN_RC_CONGESTION);
		return;
	}
	if (c->state != SN_WAIT_WILLMSG)
		return;
	msg_unref(c->will);
	c->will = msg_new(c->will_topic, c->will_topic_len, m->msg.p, m->msg.len, c->will_qos,
	                  c->will_retain);
	free(c->will_topic);
	c->will_topic = NULL;
	if (!c->will) {
		sn_connack_refuse(c, MQTTSN_RC_CONGESTION, "out of memory");
		return;
	}
	sn_connected(c);
}

static void handle_register(struct sn_client *c, const struct mqttsn_register *m)
{
	struct broker *b = c->b;
	struct mqttsn_msg ack = {.type = MQTTSN_REGACK};
	ack.topic_ack.msg_id = m->msg_id;
	uint16_t id = 0;
	if (mqtt_topic_name_valid(m->topic_name.p, m->topic_name.len) < 0 ||
	    !mqtt_utf8_valid_view(m->topic_name) ||
	    !limits_topic_ok(&b->cfg, m->topic_name.p, m->topic_name.len, NULL)) {
		ack.topic_ack.code = MQTTSN_RC_NOT_SUPPORTED;
	} else {
		int err = topic_ids_assign(b->sn.ids, m->topic_name.p, m->topic_name.len, &id);
		ack.topic_ack.code = err == 0 ? MQTTSN_RC_ACCEPTED : MQTTSN_RC_CONGESTION;
		if (err == 0)
			sn_reg_set(c, id, SN_REG_OK); /* the client knows this id now */
	}
	ack.topic_ack.topic_id = id;
	(void)sn_send(c, &ack);
}

static void handle_regack(struct sn_client *c, const struct mqttsn_topic_ack *m)
{
	if (!c->reg_msg_id || m->msg_id != c->reg_msg_id)
		return;
	/* A rejected REGISTER stops deliveries of that topic to this client (§6.10). */
	sn_reg_set(c, c->reg_topic_id, m->code == MQTTSN_RC_ACCEPTED ? SN_REG_OK : SN_REG_REJECTED);
	if (m->code != MQTTSN_RC_ACCEPTED)
		c->b->sn.stats.register_rejected++;
	c->reg_msg_id = 0;
	sn_pump(c->b, c->session);
}

/* The dispatch for a client that completed CONNECT. */
static void dispatch_client(struct sn_client *c, const struct mqttsn_msg *m)
{
	switch (m->type) {
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		handle_willtopic(c, &m->willtopic, m->type == MQTTSN_WILLTOPICUPD);
		return;
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLMSGUPD:
		handle_willmsg(c, &m->willmsg, m->type == MQTTSN_WILLMSGUPD);
		return;
	default:
		break;
	}
	if (c->state == SN_WAIT_WILLTOPIC || c->state == SN_WAIT_WILLMSG)
		return; /* nothing else during the will dialogue */
	switch (m->type) {
	case MQTTSN_REGISTER:
		handle_register(c, &m->reg);
		break;
	case MQTTSN_REGACK:
		handle_regack(c, &m->topic_ack);
		break;
	case MQTTSN_PUBLISH:
		sn_handle_publish(c->l, c, NULL, NULL, &m->publish);
		break;
	case MQTTSN_PUBACK:
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
		sn_handle_ack(c, m);
		break;
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		sn_handle_subscribe(c, &m->subscribe, m->type == MQTTSN_SUBSCRIBE);
		break;
	case MQTTSN_PINGREQ:
		sn_handle_pingreq(c, &m->pingreq);
		break;
	case MQTTSN_DISCONNECT:
		sn_handle_disconnect(c, &m->disconnect);
		break;
	default:
		/* Messages a gateway never receives (CONNACK, SUBACK, GWINFO...): ignored. */
		break;
	}
}

/* One decoded message from `a` (and node `o`, behind a forwarder). */
static void handle_message(struct sn_listener *l, const struct sockaddr_storage *a,
                           const struct sn_origin *o, const struct mqttsn_msg *m)
{
	struct broker *b = l->b;
	struct sn_client *c = sn_client_find(b, a, o->node, o->node_len);

	switch (m->type) {
	case MQTTSN_SEARCHGW:
		handle_searchgw(l, a, o);
		return;
	case MQTTSN_CONNECT:
		sn_handle_connect(l, a, o, c, &m->connect);
		return;
	case MQTTSN_PUBLISH:
		if (m->publish.flags.qos == MQTTSN_QOS_M1) {
			/* QoS -1 needs no connection (§6.8); from a connected client it still
			 * counts as traffic for its keep alive. */
			if (c)
				c->last_rx_ms = broker_now_ms(b);
			sn_handle_publish(l, c, a, o, &m->publish);
			return;
		}
		break;
	case MQTTSN_PINGREQ:
		/* A sleeping client waking up from a new address (NAT rebinding) names itself. */
		if (!c && m->pingreq.client_id.len) {
			c = sn_client_rebind(l, a, o, m->pingreq.client_id);
			if (c) {
				sn_handle_pingreq(c, &m->pingreq);
				return;
			}
		}
		break;
	case MQTTSN_ADVERTISE:
	case MQTTSN_GWINFO:
		return; /* other gateways' announcements: not for us */
	default:
		break;
	}
	if (!c) {
		char peer[96];
		b->sn.stats.unknown_client++;
		peer_format(a, peer, sizeof(peer));
		sn_log_limited(b, peer, "MQTT-SN %s from an unknown client: dropped",
		               mqttsn_type_name(m->type));
		return;
	}
	c->last_rx_ms = broker_now_ms(b);
	dispatch_client(c, m);
}

void sn_handle_datagram(struct sn_listener *l, const struct sockaddr *from, socklen_t fromlen,
                        const uint8_t *d, size_t len)
{
	struct broker *b = l->b;
	struct sockaddr_storage a;
	struct mqttsn_msg m;
	struct sn_origin o = {0};

	addr_canon(&a, from, fromlen);
	int err = mqttsn_decode(d, len, &m);
	if (err == 0 && m.type == MQTTSN_ENCAPSULATED) {
		/* Forwarder encapsulation (§5.5): the node id names the client behind it. */
		if (m.encap.node_id.len > SN_NODE_ID_MAX) {
			err = -EBADMSG;
		} else {
			o.encapsulated = true;
			o.node = m.encap.node_id.p;
			o.node_len = (uint8_t)m.encap.node_id.len;
			struct mqttsn_msg inner;
			err = mqttsn_decode_inner(&m.encap, &inner);
			m = inner;
		}
	}
	if (err < 0) {
		if (err == -ENOTSUP)
			b->sn.stats.unknown_type++;
		else
			b->sn.stats.malformed++;
		char peer[96];
		peer_format(&a, peer, sizeof(peer));
		sn_log_limited(b, peer, "MQTT-SN datagram of %zu bytes dropped: %s", len,
		               err == -ENOTSUP ? "unknown message type" : "malformed");
		return;
	}
	/* The publish flow and PINGREQ keep-alives leave who the kernel serves alone, unless the
	 * client's state moves (a sleeping client woken by PINGREQ, back asleep after its last
	 * buffered message is acknowledged: MQTT-SN 1.2 §6.14). */
	bool flow = m.type == MQTTSN_PUBLISH || m.type == MQTTSN_PUBACK ||
	            m.type == MQTTSN_PUBREC || m.type == MQTTSN_PUBREL ||
	            m.type == MQTTSN_PUBCOMP || m.type == MQTTSN_PINGREQ ||
	            m.type == MQTTSN_PINGRESP;
	struct sn_client *c = flow ? sn_client_find(b, &a, o.node, o.node_len) : NULL;
	uint8_t state_before = c ? c->state : 0;
	handle_message(l, &a, &o, &m);
	/* Everything else (connect, sleep, REGISTER/REGACK, subscriptions) may change it: the
	 * maps follow before this iteration's replies leave. A client freed or moved meanwhile
	 * has told the fast path itself. */
	if (!flow)
		fastpath_touch(b);
	else if (c && (c = sn_client_find(b, &a, o.node, o.node_len)) && c->state != state_before)
		fastpath_touch(b);
}
