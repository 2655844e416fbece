/* handle_subscribe.c - SUBSCRIBE (with retained delivery) and UNSUBSCRIBE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "topic_limits.h"

/* A subscription that gets retained messages once its SUBACK is out. */
struct retained_req {
	struct mqtt_subscription sub;
	uint32_t sub_id;
};

struct retained_ctx {
	struct broker *b;
	struct session *s;
	const struct retained_req *req;
};

static void queue_retained(void *ctx, struct msg *m)
{
	struct retained_ctx *rc = ctx;
	const struct session_limits lim = broker_queue_limits(rc->b);
	if (!acl_can_read(rc->b, rc->s, m->topic, m->topic_len))
		return; /* acl_file: no read access to this retained topic */
	uint8_t qos = m->qos < rc->req->sub.qos ? m->qos : rc->req->sub.qos;
	uint32_t id = rc->req->sub_id;
	/* Sent because of a new subscription: RETAIN stays set [MQTT-3.3.1-9]. */
	if (session_enqueue(rc->s, &lim, m, qos, true, id ? &id : NULL, id ? 1 : 0) < 0)
		rc->b->stats.msgs_dropped++;
}

/* Subscribes to one entry and sets its SUBACK code. *want_retained is set when retained
 * messages must follow. 0, or -EPROTO for a protocol violation. */
static int subscribe_one(struct conn *c, const struct mqtt_subscription *sub, uint32_t sub_id,
                         bool *want_retained, uint8_t *code)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	struct mqtt_str group, inner;
	bool v5 = c->version == MQTT_V5;

	*want_retained = false;
	if (mqtt_topic_filter_valid(sub->filter.p, sub->filter.len) < 0) {
		*code = v5 ? MQTT_RC_TOPIC_FILTER_INVALID : MQTT_RC_UNSPECIFIED_ERROR;
		return 0;
	}
	if (!limits_topic_ok(&b->cfg, sub->filter.p, sub->filter.len, NULL)) {
		/* max_topic_length / max_topic_levels: well formed, not accepted here. */
		*code = v5 ? MQTT_RC_TOPIC_FILTER_INVALID : MQTT_RC_UNSPECIFIED_ERROR;
		return 0;
	}
	bool shared = mqtt_topic_shared_split(sub->filter.p, sub->filter.len, &group, &inner) == 1;
	if (shared && sub->no_local) {
		c->fail_text = "No Local on a shared subscription"; /* [MQTT-3.8.3-4] */
		return -EPROTO;
	}
	if (!acl_can_subscribe(b, s, sub->filter.p, sub->filter.len)) {
		*code = v5 ? MQTT_RC_NOT_AUTHORIZED : MQTT_RC_UNSPECIFIED_ERROR; /* acl_file */
		return 0;
	}

	struct sub_opts opts = {
	        .qos = sub->qos > 2 ? 2 : sub->qos,
	        .no_local = sub->no_local,
	        .retain_as_published = sub->retain_as_published,
	        .retain_handling = sub->retain_handling,
	        .sub_id = sub_id,
	};
	bool replaced = false;
	int err = subtree_add(b->subs, sub->filter.p, sub->filter.len, s, &opts, &replaced);
	if (err == 0)
		err = session_sub_add(s, sub->filter.p, sub->filter.len, &opts);
	if (err < 0) {
		*code = v5 ? MQTT_RC_IMPLEMENTATION_SPECIFIC : MQTT_RC_UNSPECIFIED_ERROR;
		return 0;
	}
	/* Retain Handling 0: send retained; 1: only for a new subscription; 2: never
	 * [MQTT-3.3.1-9 .. -11]. Shared subscriptions get none (5.0 §4.8.2). */
	*want_retained =
	        !shared && (sub->retain_handling == 0 || (sub->retain_handling == 1 && !replaced));
	*code = opts.qos;
	log_line(&b->log, LOG_LEVEL_SUBSCRIBE, (const char *)s->client_id, c->peer,
	         "subscribed to %.*s (QoS %u)", (int)sub->filter.len, (const char *)sub->filter.p,
	         opts.qos);
	return 0;
}

/* The SUBACK's Reason String: what the first refused entry of a 5.0 SUBSCRIBE was, or NULL. */
static const char *suback_text(const uint8_t *codes, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (codes[i] == MQTT_RC_TOPIC_FILTER_INVALID)
			return "invalid topic filter";
		if (codes[i] == MQTT_RC_IMPLEMENTATION_SPECIFIC)
			return "subscription could not be stored";
		if (codes[i] == MQTT_RC_NOT_AUTHORIZED)
			return "not authorized to subscribe to this topic";
	}
	return NULL;
}

int handle_subscribe(struct conn *c, const struct mqtt_subscribe *p)
{
	struct broker *b = c->b;
	uint32_t sub_id = 0;
	uint8_t *codes = malloc(p->count);
	struct retained_req *reqs = malloc(p->count * sizeof(*reqs));
	size_t nreqs = 0;
	int err = 0;

	if (!codes || !reqs) {
		err = -ENOMEM;
		goto out;
	}
	if (mqtt_props_has(&p->props, MQTT_PROP_SUBSCRIPTION_ID)) {
		/* At most one Subscription Identifier per SUBSCRIBE (checked by the decoder). */
		uint32_t at = 0;
		(void)mqtt_props_next_sub_id(&p->props, &at, &sub_id);
	}
	struct mqtt_subscription sub;
	uint32_t cursor = 0, i = 0;
	while (mqtt_subscribe_next(p, &cursor, &sub) == 1) {
		bool want;
		err = subscribe_one(c, &sub, sub_id, &want, &codes[i++]);
		if (err < 0)
			goto out;
		if (want)
			reqs[nreqs++] = (struct retained_req){.sub = sub, .sub_id = sub_id};
	}

	struct mqtt_packet ack = {.type = MQTT_SUBACK};
	ack.suback.packet_id = p->packet_id;
	ack.suback.reasons = codes;
	ack.suback.count = i;
	err = conn_send_reason(c, &ack, suback_text(codes, i));
	if (err < 0)
		goto out;
	/* Retained messages after the SUBACK [MQTT-3.8.4-4]. */
	for (size_t k = 0; k < nreqs; k++) {
		struct retained_ctx rc = {.b = b, .s = c->session, .req = &reqs[k]};
		retain_match(b->retained, reqs[k].sub.filter.p, reqs[k].sub.filter.len,
		             queue_retained, &rc);
	}
	session_pump(b, c->session);
out:
	free(codes);
	free(reqs);
	return err;
}

int handle_unsubscribe(struct conn *c, const struct mqtt_unsubscribe *p)
{
	struct broker *b = c->b;
	struct session *s = c->session;
	uint8_t *codes = malloc(p->count);
	if (!codes)
		return -ENOMEM;

	struct mqtt_str filter;
	uint32_t cursor = 0, i = 0;
	while (mqtt_unsubscribe_next(p, &cursor, &filter) == 1) {
		int err = subtree_remove(b->subs, filter.p, filter.len, s);
		(void)session_sub_remove(s, filter.p, filter.len);
		codes[i++] = err == 0 ? MQTT_RC_SUCCESS : MQTT_RC_NO_SUBSCRIPTION_EXISTED;
		log_line(&b->log, LOG_LEVEL_UNSUBSCRIBE, (const char *)s->client_id, c->peer,
		         "unsubscribed from %.*s", (int)filter.len, (const char *)filter.p);
	}
	struct mqtt_packet ack = {.type = MQTT_UNSUBACK};
	ack.suback.packet_id = p->packet_id;
	if (c->version == MQTT_V5) { /* a 3.x UNSUBACK has no payload */
		ack.suback.reasons = codes;
		ack.suback.count = i;
	}
	int err = conn_send_packet(c, &ack);
	free(codes);
	return err;
}
