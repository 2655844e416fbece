/* handle_publish.c - PUBLISH from a client (topic aliases, QoS 0/1/2 inbound) and the
 * acknowledgements of both directions: PUBACK, PUBREC, PUBREL, PUBCOMP. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "topic_limits.h"

/* Resolves the MQTT 5 Topic Alias: a topic with an alias sets it, an empty topic uses it
 * [MQTT-3.3.2-12 .. -18]. Returns 0 with *topic set, or -EPROTO with c->fail_reason. */
static int resolve_alias(struct conn *c, const struct mqtt_publish *p, struct mqtt_str *topic)
{
	*topic = p->topic;
	if (!mqtt_props_has(&p->props, MQTT_PROP_TOPIC_ALIAS)) {
		if (p->topic.len)
			return 0;
		c->fail_text = "empty topic without a Topic Alias";
		return -EPROTO;
	}
	uint16_t alias = p->props.topic_alias;
	if (alias == 0 || alias > c->topic_alias_max_in) {
		c->fail_reason = MQTT_RC_TOPIC_ALIAS_INVALID; /* [MQTT-3.3.2-9, -10] */
		c->fail_text = "topic alias above the Topic Alias Maximum";
		return -EPROTO;
	}
	if (!c->aliases_in) {
		c->aliases_in = calloc((size_t)c->topic_alias_max_in + 1, sizeof(*c->aliases_in));
		if (!c->aliases_in)
			return -ENOMEM;
	}
	if (p->topic.len) {
		/* The alias table keeps the topic in a small message of its own. */
		struct msg *t = msg_new(p->topic.p, p->topic.len, NULL, 0, 0, false);
		if (!t)
			return -ENOMEM;
		msg_unref(c->aliases_in[alias]);
		c->aliases_in[alias] = t;
		return 0;
	}
	const struct msg *t = c->aliases_in[alias];
	if (!t) {
		c->fail_reason = MQTT_RC_PROTOCOL_ERROR; /* alias never set [MQTT-3.3.4-?] */
		c->fail_text = "topic alias not set on this connection";
		return -EPROTO;
	}
	*topic = (struct mqtt_str){t->topic, t->topic_len};
	return 0;
}

/* Sends an acknowledgement; `text` (may be NULL) explains an error reason code to a client
 * that asked for problem information (conn_send_reason). */
static int send_ack(struct conn *c, uint8_t type, uint16_t packet_id, uint8_t reason,
                    const char *text)
{
	struct mqtt_packet ack = {.type = type};
	ack.ack.packet_id = packet_id;
	ack.ack.reason = c->version == MQTT_V5 ? reason : 0;
	return conn_send_reason(c, &ack, reason >= 0x80 ? text : NULL);
}

int handle_publish(struct conn *c, const struct mqtt_publish *p)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	struct mqtt_str topic;

	b->stats.publish_received++;
	if (c->version == MQTT_V5 && mqtt_props_has(&p->props, MQTT_PROP_SUBSCRIPTION_ID)) {
		/* Only the server sends Subscription Identifiers [MQTT-3.3.4-6]. */
		c->fail_text = "Subscription Identifier in PUBLISH";
		return -EPROTO;
	}
	int err = resolve_alias(c, p, &topic);
	if (err < 0)
		return err;
	if (p->retain && !b->cfg.retain_available) {
		c->fail_reason = MQTT_RC_RETAIN_NOT_SUPPORTED; /* [MQTT-3.3.1-?] 5.0 §3.3.1.3 */
		c->fail_text = "retained messages are not available";
		return -EPROTO;
	}
	if (b->cfg.message_size_limit && p->payload_len > b->cfg.message_size_limit) {
		/* mosquitto's message_size_limit: the message is dropped, the flow completed. */
		b->stats.msgs_dropped++;
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, c->peer,
		         "message of %u bytes on %.*s dropped: message_size_limit %u",
		         p->payload_len, (int)topic.len, (const char *)topic.p,
		         b->cfg.message_size_limit);
		static const char too_big[] = "payload over the server's message_size_limit";
		if (p->qos == 1)
			return send_ack(c, MQTT_PUBACK, p->packet_id, MQTT_RC_QUOTA_EXCEEDED,
			                too_big);
		if (p->qos == 2)
			return send_ack(c, MQTT_PUBREC, p->packet_id, MQTT_RC_QUOTA_EXCEEDED,
			                too_big);
		return 0;
	}
	const char *why;
	if (!limits_topic_ok(&b->cfg, topic.p, topic.len, &why)) {
		/* A policy limit, not a malformed packet: MQTT 5 answers Topic Name invalid
		 * ("correctly formed but not accepted by this Server"); 3.1.1 has no code for it
		 * and is acknowledged as usual, like an ACL denial. */
		b->stats.msgs_dropped++;
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, c->peer,
		         "PUBLISH dropped: %s (%u bytes)", why, (unsigned)topic.len);
		if (p->qos == 1)
			return send_ack(c, MQTT_PUBACK, p->packet_id, MQTT_RC_TOPIC_NAME_INVALID,
			                why);
		if (p->qos == 2)
			return send_ack(c, MQTT_PUBREC, p->packet_id, MQTT_RC_TOPIC_NAME_INVALID,
			                why);
		return 0;
	}
	if (!acl_can_write(b, s, topic.p, topic.len)) {
		/* acl_file: dropped. MQTT 5 answers Not Authorized; 3.1.1 has no code for it and
		 * is acknowledged as usual (mosquitto). */
		static const char denied[] = "not authorized to publish to this topic";
		b->stats.msgs_dropped++;
		if (p->qos == 1)
			return send_ack(c, MQTT_PUBACK, p->packet_id, MQTT_RC_NOT_AUTHORIZED,
			                denied);
		if (p->qos == 2)
			return send_ack(c, MQTT_PUBREC, p->packet_id, MQTT_RC_NOT_AUTHORIZED,
			                denied);
		return 0;
	}
	if (p->qos == 2) {
		int fresh = session_qos2_in_add(s, p->packet_id,
		                                (uint16_t)b->cfg.max_inflight_messages);
		if (fresh == -ENOSPC) {
			c->fail_reason = MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED; /* [MQTT-3.3.4-8] */
			c->fail_text = "more QoS 2 messages unreleased than Receive Maximum";
			return -EPROTO;
		}
		if (fresh < 0)
			return fresh;
		if (fresh == 0) /* a DUP of a message already received [MQTT-4.3.3-10] */
			return send_ack(c, MQTT_PUBREC, p->packet_id, 0, NULL);
	}

	struct msg *m = msg_from_publish(p, topic, broker_now_ms(b));
	if (!m)
		return -ENOMEM;
	route_message(b, m, s);
	msg_unref(m);
	uint8_t reason = b->last_route_targets ? 0 : MQTT_RC_NO_MATCHING_SUBSCRIBERS;
	if (p->qos == 1)
		return send_ack(c, MQTT_PUBACK, p->packet_id, reason, NULL);
	if (p->qos == 2)
		return send_ack(c, MQTT_PUBREC, p->packet_id, reason, NULL);
	return 0;
}

int handle_puback(struct conn *c, uint8_t type, const struct mqtt_ack *p)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	int err = 0;

	switch (type) {
	case MQTT_PUBACK:
		if (session_on_puback(s, p->packet_id) < 0)
			log_line(&b->log, LOG_LEVEL_DEBUG, (const char *)s->client_id, c->peer,
			         "PUBACK for unknown packet id %u", p->packet_id);
		break;
	case MQTT_PUBREC:
		if (session_on_pubrec(s, p->packet_id, p->reason) < 0)
			/* A resent PUBREC of a flow already releasing gets its PUBREL again. */
			err = send_ack(c, MQTT_PUBREL, p->packet_id,
			               session_releasing(s, p->packet_id)
			                       ? 0
			                       : MQTT_RC_PACKET_ID_NOT_FOUND,
			               "PUBREC for no message in flight");
		else if (p->reason < 0x80)
			err = send_ack(c, MQTT_PUBREL, p->packet_id, 0, NULL);
		break;
	case MQTT_PUBREL:
		/* Releasing an unknown id still completes the flow (0x92 in v5) [MQTT-4.3.3]. */
		err = send_ack(c, MQTT_PUBCOMP, p->packet_id,
		               session_qos2_in_release(s, p->packet_id) < 0
		                       ? MQTT_RC_PACKET_ID_NOT_FOUND
		                       : 0,
		               "PUBREL for no message awaiting release");
		break;
	case MQTT_PUBCOMP:
		if (session_on_pubcomp(s, p->packet_id) < 0)
			log_line(&b->log, LOG_LEVEL_DEBUG, (const char *)s->client_id, c->peer,
			         "PUBCOMP for unknown packet id %u", p->packet_id);
		break;
	}
	if (err == 0)
		session_pump(b, s);
	return err;
}
