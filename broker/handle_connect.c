/* handle_connect.c - CONNECT, DISCONNECT and the end of a connection: client identifiers,
 * session takeover / resumption / expiry, wills, keep alive, CONNACK. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "auth.h"
#include "broker.h"
#include "topic_limits.h"
#include "tls.h"

/* The 3.1/3.1.1 CONNACK return code closest to an MQTT 5 reason code. */
static uint8_t connack_v3_code(uint8_t reason)
{
	switch (reason) {
	case MQTT_RC_SUCCESS:
		return MQTT_CONNACK_V3_ACCEPTED;
	case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
		return MQTT_CONNACK_V3_BAD_VERSION;
	case MQTT_RC_CLIENT_ID_NOT_VALID:
		return MQTT_CONNACK_V3_ID_REJECTED;
	case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
		return MQTT_CONNACK_V3_BAD_CREDENTIALS;
	case MQTT_RC_NOT_AUTHORIZED:
	case MQTT_RC_BAD_AUTHENTICATION_METHOD:
		return MQTT_CONNACK_V3_NOT_AUTHORIZED;
	default:
		return MQTT_CONNACK_V3_UNAVAILABLE;
	}
}

/* Refuses the CONNECT with `reason` (an MQTT 5 code, mapped for 3.x) and closes; `why` is
 * logged and, in 5.0, sent as the CONNACK's Reason String. */
static int refuse(struct conn *c, uint8_t reason, const char *why)
{
	struct mqtt_packet ack = {.type = MQTT_CONNACK};
	ack.connack.reason = c->version == MQTT_V5 ? reason : connack_v3_code(reason);
	(void)conn_send_reason(c, &ack, why);
	log_line(&c->b->log, LOG_LEVEL_NOTICE, NULL, c->peer, "CONNECT refused: %s (%s)", why,
	         mqtt_reason_name(reason));
	conn_close(c, NULL);
	return 0;
}

/* Checks everything that can refuse the CONNECT. Returns 0 or the reason to refuse with;
 * *why says why for the log line. */
static uint8_t connect_check(struct conn *c, const struct mqtt_connect *p, const char **why)
{
	const struct config *cfg = &c->b->cfg;

	if (mqtt_props_has(&p->props, MQTT_PROP_AUTH_METHOD)) {
		*why = "enhanced authentication is not supported";
		return MQTT_RC_BAD_AUTHENTICATION_METHOD;
	}
	if (p->client_id.len == 0) {
		/* 3.1 requires 1..23 characters; 3.1.1 allows an empty id only with Clean
		 * Session [MQTT-3.1.3-8]; 5.0 lets the server assign one [MQTT-3.1.3-6]. */
		if (p->version == MQTT_V31 || (p->version == MQTT_V311 && !p->clean_start) ||
		    !cfg->allow_zero_length_clientid) {
			*why = "empty client identifier";
			return MQTT_RC_CLIENT_ID_NOT_VALID;
		}
	} else if (p->version == MQTT_V31 && p->client_id.len > 23) {
		*why = "MQTT 3.1 client identifier longer than 23 characters";
		return MQTT_RC_CLIENT_ID_NOT_VALID;
	}
	if (p->version != MQTT_V5 && cfg->max_keepalive && p->keep_alive > cfg->max_keepalive) {
		/* 3.x has no Server Keep Alive to impose a shorter interval; mosquitto refuses the
		 * client with "identifier rejected". */
		*why = "keep alive above max_keepalive";
		return MQTT_RC_CLIENT_ID_NOT_VALID;
	}
	if (p->has_will) {
		if (mqtt_topic_name_valid(p->will.topic.p, p->will.topic.len) < 0) {
			*why = "invalid will topic";
			return MQTT_RC_TOPIC_NAME_INVALID;
		}
		if (!limits_topic_ok(cfg, p->will.topic.p, p->will.topic.len, why))
			return MQTT_RC_TOPIC_NAME_INVALID;
		if (p->will.retain && !cfg->retain_available) {
			*why = "retained will but retain_available is false";
			return MQTT_RC_RETAIN_NOT_SUPPORTED; /* [MQTT-3.2.2-13] */
		}
	}
	/* Last: password_file / allow_anonymous (auth.c), after the cheap checks. */
	return auth_connect_check(c, p, why);
}

/* The will as a stored message; v5 will properties travel like PUBLISH properties. */
static struct msg *will_message(struct broker *b, const struct mqtt_connect *p)
{
	struct mqtt_publish pub = {
	        .qos = p->will.qos,
	        .retain = p->will.retain,
	        .topic = p->will.topic,
	        .payload = p->will.payload.p,
	        .payload_len = p->will.payload.len,
	        .props = p->will.props,
	};
	return msg_from_publish(&pub, p->will.topic, broker_now_ms(b));
}

/* Finds, takes over, clears or creates the session for this CONNECT. Sets *present. */
static struct session *attach_session(struct conn *c, const struct mqtt_connect *p,
                                      const uint8_t *id, uint16_t id_len, bool *present)
{
	struct broker *b = c->b;
	struct session *s = sessions_find(b, id, id_len);

	if (s && s->conn) {
		/* Session takeover [MQTT-3.1.4-3]: the old connection (MQTT or MQTT-SN) is told
		 * and closed; the session stays for the new one unless Clean Start discards it. */
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, c->peer,
		         "session taken over by %s", c->peer);
		session_kick(b, s);
	}
	if (s && p->clean_start) {
		session_destroy(b, s);
		s = NULL;
	}
	*present = s != NULL;
	if (!s) {
		s = session_new(id, id_len);
		if (!s || sessions_add(b, s) < 0) {
			session_free(s);
			return NULL;
		}
	}
	session_cancel_will(b, s);
	s->proto = SESSION_MQTT;
	s->conn = c;
	s->expires_at = 0;
	s->version = p->version;
	c->session = s;
	return s;
}

static uint32_t session_expiry(const struct broker *b, const struct mqtt_connect *p)
{
	uint32_t expiry;
	if (p->version == MQTT_V5)
		expiry = mqtt_props_has(&p->props, MQTT_PROP_SESSION_EXPIRY)
		                 ? p->props.session_expiry
		                 : 0;
	else
		expiry = p->clean_start ? 0 : UINT32_MAX;
	/* persistent_client_expiration bounds sessions that would otherwise never end. */
	if (expiry == UINT32_MAX && b->cfg.persistent_client_expiration > 0)
		expiry = b->cfg.persistent_client_expiration;
	return expiry;
}

/* CONNACK with the limits this server applies (MQTT 5.0 §3.2.2.3). */
static int send_connack(struct conn *c, bool present, const uint8_t *assigned, uint16_t alen,
                        uint16_t server_keep_alive)
{
	const struct config *cfg = &c->b->cfg;
	struct mqtt_packet ack = {.type = MQTT_CONNACK};
	struct mqtt_props *pr = &ack.connack.props;

	ack.connack.session_present = present;
	if (c->version == MQTT_V5) {
		if (cfg->max_inflight_messages < 65535) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
			pr->receive_maximum = (uint16_t)cfg->max_inflight_messages;
		}
		if (cfg->max_topic_alias) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
			pr->topic_alias_maximum = (uint16_t)cfg->max_topic_alias;
		}
		if (cfg->max_packet_size) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
			pr->maximum_packet_size = cfg->max_packet_size;
		}
		if (!cfg->retain_available) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_RETAIN_AVAILABLE);
			pr->retain_available = 0;
		}
		if (assigned) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_ID);
			pr->assigned_client_id = (struct mqtt_str){assigned, alen};
		}
		if (server_keep_alive) {
			pr->present |= MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE);
			pr->server_keep_alive = server_keep_alive;
		}
	}
	return conn_send_packet(c, &ack);
}

/* Resends what was in flight when the client went away: PUBLISH with DUP, or PUBREL
 * [MQTT-4.4.0-1]. */
static void redeliver(struct conn *c, struct session *s)
{
	for (struct delivery *d = s->inflight; d; d = d->next) {
		if (d->state == DELIVERY_WAIT_PUBCOMP) {
			struct mqtt_packet rel = {.type = MQTT_PUBREL};
			rel.ack.packet_id = d->packet_id;
			(void)conn_send_packet(c, &rel);
		} else {
			(void)delivery_send(c, d);
		}
	}
}

/* The MQTT 5 limits and requests of the client's CONNECT that shape what is sent to it. */
static void client_limits(struct conn *c, const struct mqtt_connect *p)
{
	const struct mqtt_props *pr = &p->props;

	c->receive_max_out = 65535;
	if (mqtt_props_has(pr, MQTT_PROP_RECEIVE_MAXIMUM))
		c->receive_max_out = pr->receive_maximum;
	c->request_problem_info =
	        !mqtt_props_has(pr, MQTT_PROP_REQUEST_PROBLEM_INFO) || pr->request_problem_info;
	/* Request Response Information is ignored: 1 lets the server return Response Information
	 * in CONNACK but never requires it, 0 forbids it [MQTT-3.1.2-28] (5.0 §3.1.2.11.6,
	 * §3.2.2.3.15). This broker has no response topic scheme to offer, so it sends none. */
	if (p->version != MQTT_V5)
		return;
	c->topic_alias_max_in = (uint16_t)c->b->cfg.max_topic_alias;
	/* Aliases towards the client only when it allows them, never above its maximum
	 * [MQTT-3.1.2-26, -27]. */
	if (mqtt_props_has(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM))
		c->topic_alias_max_out = pr->topic_alias_maximum < BROKER_ALIAS_OUT_MAX
		                                 ? pr->topic_alias_maximum
		                                 : BROKER_ALIAS_OUT_MAX;
}

int handle_connect(struct conn *c, const struct mqtt_connect *p)
{
	struct broker *b = c->b;
	const char *why = NULL;
	char assigned[64];
	const uint8_t *id = p->client_id.p;
	uint16_t id_len = p->client_id.len;
	bool assigned_id = false, present = false;

	c->version = p->version;
	/* The client's Maximum Packet Size applies from the CONNACK on [MQTT-3.1.2-24]. */
	if (mqtt_props_has(&p->props, MQTT_PROP_MAXIMUM_PACKET_SIZE))
		c->max_packet_out = p->props.maximum_packet_size;
	/* use_identity_as_username: p becomes a copy with the certificate's CN (tls.c). */
	struct mqtt_connect with_cn;
	uint8_t cn_reason = tls_connect_identity(c, &p, &with_cn, &why);
	if (cn_reason)
		return refuse(c, cn_reason, why);
	uint8_t reason = connect_check(c, p, &why);
	if (reason)
		return refuse(c, reason, why);
	if (id_len == 0) {
		int n = snprintf(assigned, sizeof(assigned), "%s%llu", b->cfg.auto_id_prefix,
		                 (unsigned long long)++b->next_auto_id);
		id = (const uint8_t *)assigned;
		id_len = (uint16_t)(n < (int)sizeof(assigned) ? n : (int)sizeof(assigned) - 1);
		assigned_id = p->version == MQTT_V5;
	}

	struct session *s = attach_session(c, p, id, id_len, &present);
	if (!s ||
	    session_set_username(s, p->has_username ? p->username.p : NULL, p->username.len) < 0)
		return -ENOMEM;
	s->expiry_interval = session_expiry(b, p);
	session_mark_changed(s); /* persistence: online, with this expiry */

	c->connected = true;
	c->keep_alive = p->keep_alive;
	client_limits(c, p);
	/* A will to a topic the client may not write is dropped (acl_file; logged). */
	if (p->has_will && acl_can_write(b, s, p->will.topic.p, p->will.topic.len)) {
		c->will = will_message(b, p);
		if (!c->will)
			return -ENOMEM;
		c->will_delay = p->will.props.will_delay;
	}

	/* Server Keep Alive: the server's limit replaces the client's value (v5 only). */
	uint16_t server_keep_alive = 0;
	if (p->version == MQTT_V5 && b->cfg.max_keepalive &&
	    (p->keep_alive == 0 || p->keep_alive > b->cfg.max_keepalive)) {
		server_keep_alive = (uint16_t)b->cfg.max_keepalive;
		c->keep_alive = server_keep_alive;
	}
	ev_timer_stop(b->loop, &c->timer);
	if (c->keep_alive) {
		ev_timer_set(&c->timer, c->keep_alive * 1.5, 0.);
		ev_timer_start(b->loop, &c->timer);
	}

	int err = send_connack(c, present, assigned_id ? id : NULL, id_len, server_keep_alive);
	if (err < 0)
		return err;
	b->stats.clients_connected++;
	if (b->stats.clients_connected > b->stats.clients_maximum)
		b->stats.clients_maximum = b->stats.clients_connected;
	if (b->cfg.connection_messages)
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, c->peer,
		         "connected: MQTT %s, %s, keep alive %u%s",
		         p->version == MQTT_V5     ? "5.0"
		         : p->version == MQTT_V311 ? "3.1.1"
		                                   : "3.1",
		         present ? "session resumed" : "new session", c->keep_alive,
		         p->bridge ? ", bridge" : "");
	if (present)
		redeliver(c, s);
	session_pump(b, s);
	return 0;
}

int handle_disconnect(struct conn *c, const struct mqtt_reason_only *p)
{
	struct session *s = c->session;

	if (c->version == MQTT_V5 && mqtt_props_has(&p->props, MQTT_PROP_SESSION_EXPIRY)) {
		/* A session that was to end with the connection cannot be extended at
		 * DISCONNECT [MQTT-3.14.2-2]. */
		if (s && s->expiry_interval == 0 && p->props.session_expiry != 0) {
			c->fail_text = "Session Expiry Interval set at DISCONNECT after 0";
			return -EPROTO;
		}
		if (s)
			s->expiry_interval = p->props.session_expiry;
	}
	/* Only "Disconnect with Will Message" keeps the will [MQTT-3.14.4-3]. */
	if (!(c->version == MQTT_V5 && p->reason == MQTT_RC_DISCONNECT_WITH_WILL)) {
		msg_unref(c->will);
		c->will = NULL;
	}
	conn_close(c, "client sent DISCONNECT");
	return 0;
}

void connection_lost(struct conn *c, bool send_will)
{
	struct broker *b = c->b;
	struct session *s = c->session;

	if (!c->connected)
		return;
	c->connected = false;
	b->stats.clients_connected--;
	if (send_will && c->will && !b->stopping) {
		/* Will Delay Interval [MQTT-3.1.3-9]: a persistent session delays its will; it is
		 * cancelled if the client comes back in time. */
		if (s && c->will_delay && s->expiry_interval) {
			session_set_will(b, s, c->will, c->will_delay);
		} else {
			route_message(b, c->will, s);
		}
		msg_unref(c->will);
		c->will = NULL;
	}
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
