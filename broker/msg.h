/* msg.h - an application message, stored once and reference-counted while it fans out to
 * subscribers, queues, the retained store and (later) persistence. */
#ifndef MQTT_FAST_MSG_H
#define MQTT_FAST_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "mqtt.h"

struct msg {
	uint32_t refs;
	uint8_t qos; /* QoS the publisher used */
	bool retain; /* RETAIN flag as published */
	uint16_t topic_len;
	uint32_t payload_len;
	uint32_t props_len;
	/* Monotonic milliseconds at which the MQTT 5 Message Expiry Interval ends; 0 = never.
	 * Delivery sends the remaining interval [MQTT-3.3.2-6]. */
	int64_t expiry_at;
	/* The properties forwarded to subscribers (Payload Format Indicator, Content Type, Response
	 * Topic, Correlation Data, User Properties), decoded once with views into props[]. Topic
	 * Alias, Subscription Identifiers and Message Expiry are per delivery and not kept here. */
	struct mqtt_props fwd;
	const uint8_t *topic;   /* into data[] */
	const uint8_t *payload; /* into data[] */
	const uint8_t *props;   /* into data[]: the forwarded block, Property Length included */
	uint8_t data[];
};

/* Builds a message from a decoded PUBLISH: copies topic, payload and the forwardable properties
 * into one allocation. `topic` overrides p->topic (a Topic Alias resolved by the caller).
 * `now_ms` is the monotonic clock, used with the Message Expiry Interval. Borrows all inputs;
 * returns an owned message with refs = 1, or NULL on allocation failure. */
struct msg *msg_from_publish(const struct mqtt_publish *p, struct mqtt_str topic, int64_t now_ms);

/* Builds a message from parts with no properties (wills of 3.1.1 clients, $SYS, MQTT-SN).
 * Borrows inputs; returns owned (refs = 1) or NULL. */
struct msg *msg_new(const uint8_t *topic, uint16_t topic_len, const uint8_t *payload,
                    uint32_t payload_len, uint8_t qos, bool retain);

/* Rebuilds a message from its stored parts (store_codec.c): `props` is a forwarded property
 * block as msg_from_publish keeps it (Property Length included; props_len 0 = none), expiry_at
 * a monotonic deadline or 0. Borrows inputs; returns owned (refs = 1), or NULL when out of
 * memory or the property block does not decode. */
struct msg *msg_from_parts(const uint8_t *topic, uint16_t topic_len, const uint8_t *payload,
                           uint32_t payload_len, const uint8_t *props, uint32_t props_len,
                           uint8_t qos, bool retain, int64_t expiry_at);

static inline struct msg *msg_ref(struct msg *m)
{
	m->refs++;
	return m;
}

/* Drops one reference; frees the message with the last one. NULL is ignored. */
void msg_unref(struct msg *m);

/* True when the message's expiry interval has passed at now_ms. */
static inline bool msg_expired(const struct msg *m, int64_t now_ms)
{
	return m->expiry_at != 0 && now_ms >= m->expiry_at;
}

#endif
