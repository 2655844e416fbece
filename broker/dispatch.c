/* dispatch.c - one whole packet from a connection: decode it, route it to its handler, and
 * turn every failure into the answer the spec names, in one place. */
#include <errno.h>
#include <stdio.h>

#include "broker.h"

/* Packets a server never receives from a client. */
static bool server_bound(uint8_t type)
{
	switch (type) {
	case MQTT_CONNACK:
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
	case MQTT_PINGRESP:
		return false;
	default:
		return true;
	}
}

static int handle(struct conn *c, const struct mqtt_packet *p)
{
	if (!c->connected && p->type != MQTT_CONNECT) {
		c->fail_text = "the first packet must be CONNECT"; /* [MQTT-3.1.0-1] */
		return -EPROTO;
	}
	if (c->connected && p->type == MQTT_CONNECT) {
		c->fail_text = "second CONNECT"; /* a Protocol Error [MQTT-3.1.0-2] */
		return -EPROTO;
	}
	if (!server_bound(p->type)) {
		c->fail_text = "packet type only sent by a server";
		return -EPROTO;
	}

	switch (p->type) {
	case MQTT_CONNECT:
		return handle_connect(c, &p->connect);
	case MQTT_PUBLISH:
		return handle_publish(c, &p->publish);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return handle_puback(c, p->type, &p->ack);
	case MQTT_SUBSCRIBE:
		return handle_subscribe(c, &p->subscribe);
	case MQTT_UNSUBSCRIBE:
		return handle_unsubscribe(c, &p->unsubscribe);
	case MQTT_PINGREQ: {
		struct mqtt_packet resp = {.type = MQTT_PINGRESP};
		return conn_send_packet(c, &resp);
	}
	case MQTT_DISCONNECT:
		return handle_disconnect(c, &p->disconnect);
	case MQTT_AUTH:
		/* Enhanced authentication is not offered: CONNECT with an Authentication Method
		 * is refused with 0x8C, so an AUTH packet is never expected [MQTT-4.12.0-1]. */
		c->fail_text = "AUTH without enhanced authentication";
		return -EPROTO;
	default:
		return -EPROTO;
	}
}

void dispatch_packet(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct broker *b = c->b;
	struct mqtt_packet p;
	uint8_t reason = 0;
	const char *client = c->session ? (const char *)c->session->client_id : NULL;

	conn_touch(c);
	int err = mqtt_decode(pkt, len, c->version, &p, &reason);
	if (err == 0)
		err = handle(c, &p);
	if (err == 0 || c->closing)
		return;

	b->stats.protocol_errors++;
	if (err == -ENOMEM) {
		conn_disconnect(c, MQTT_RC_UNSPECIFIED_ERROR, "out of memory", "out of memory");
		return;
	}
	if (!c->connected && len > 0 && (pkt[0] >> 4) == MQTT_CONNECT) {
		/* A CONNECT that could not be accepted: answer with a CONNACK in the client's
		 * version when it is known [MQTT-3.2.2-6 (5.0: -7)], then close. */
		uint8_t version = p.connect.version;
		struct mqtt_packet ack = {.type = MQTT_CONNACK};
		const char *text = err == -EPROTONOSUPPORT ? "protocol name/level"
		                   : err == -EBADMSG       ? "malformed CONNECT"
		                                           : "protocol error in CONNECT";
		if (err == -EPROTONOSUPPORT && (version == MQTT_V31 || version == MQTT_V311)) {
			c->version = version;
			ack.connack.reason = MQTT_CONNACK_V3_BAD_VERSION;
			(void)conn_send_packet(c, &ack);
		} else if (version == MQTT_V5 || err == -EPROTONOSUPPORT) {
			c->version = MQTT_V5;
			ack.connack.reason = mqtt_reason_for_errno(err);
			/* A Reason String only for a client known to speak 5.0. */
			(void)conn_send_reason(c, &ack, version == MQTT_V5 ? text : NULL);
		}
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, c->peer, "CONNECT refused: %s (%s)",
		         mqtt_reason_name(mqtt_reason_for_errno(err)), text);
		conn_close(c, NULL);
		return;
	}
	if (err == -EPROTO || err == -EBADMSG || err == -EMSGSIZE || err == -EINVAL ||
	    err == -ERANGE) {
		/* A handler may have named a more precise reason (e.g. 0x94 Topic Alias invalid). */
		uint8_t rc = c->fail_reason   ? c->fail_reason
		             : err == -EINVAL ? MQTT_RC_PROTOCOL_ERROR
		                              : mqtt_reason_for_errno(err);
		const char *what = err == -EBADMSG ? "malformed packet" : "protocol error";
		const char *type = len ? mqtt_type_name(pkt[0] >> 4) : "?";
		log_line(&b->log, LOG_LEVEL_NOTICE, client, c->peer, "%s in %s: %s%s%s%s", what,
		         type, mqtt_reason_name(rc), c->fail_text ? " (" : "",
		         c->fail_text ? c->fail_text : "", c->fail_text ? ")" : "");
		/* The Reason String: the handler's words, else what and where. */
		char text[64];
		snprintf(text, sizeof(text), "%s in %s", what, type);
		conn_disconnect(c, rc, c->fail_text ? c->fail_text : text, NULL);
		return;
	}
	log_line(&b->log, LOG_LEVEL_WARNING, client, c->peer, "closing: error %d", err);
	conn_close(c, NULL);
}
