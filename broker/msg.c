/* msg.c - reference-counted application messages: one allocation holds the topic, the payload
 * and the properties forwarded to subscribers. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* Properties that travel with the message to every subscriber [MQTT-3.3.2-4 .. -20]:
 * Payload Format Indicator, Content Type, Response Topic, Correlation Data, User Properties.
 * Message Expiry is re-computed per delivery; Topic Alias and Subscription Identifiers are per
 * connection and per subscription. */
static const uint64_t forwarded_props =
        MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT) | MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
        MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) | MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA) |
        MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);

static struct msg *msg_alloc(uint16_t topic_len, uint32_t payload_len, uint32_t props_len)
{
	struct msg *m = malloc(sizeof(*m) + (size_t)topic_len + payload_len + props_len);
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->refs = 1;
	m->topic_len = topic_len;
	m->payload_len = payload_len;
	m->props_len = props_len;
	m->topic = m->data;
	m->payload = m->data + topic_len;
	m->props = m->data + topic_len + payload_len;
	return m;
}

struct msg *msg_new(const uint8_t *topic, uint16_t topic_len, const uint8_t *payload,
                    uint32_t payload_len, uint8_t qos, bool retain)
{
	struct msg *m = msg_alloc(topic_len, payload_len, 0);
	if (!m)
		return NULL;
	if (topic_len)
		memcpy(m->data, topic, topic_len);
	if (payload_len)
		memcpy(m->data + topic_len, payload, payload_len);
	m->qos = qos;
	m->retain = retain;
	return m;
}

struct msg *msg_from_publish(const struct mqtt_publish *p, struct mqtt_str topic, int64_t now_ms)
{
	struct mqtt_props fwd = p->props;
	fwd.present &= forwarded_props;
	fwd.sub_id_count = 0;
	if (!(fwd.present & MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY)))
		fwd.user_count = 0;

	long block = mqtt_props_size(&fwd, MQTT_PCTX_PUBLISH);
	if (block < 0)
		return NULL;
	struct msg *m = msg_alloc(topic.len, p->payload_len, (uint32_t)block);
	if (!m)
		return NULL;
	if (topic.len)
		memcpy(m->data, topic.p, topic.len);
	if (p->payload_len)
		memcpy(m->data + topic.len, p->payload, p->payload_len);

	/* Re-encode the forwarded subset into the message, then decode it back so that m->fwd
	 * views the message's own bytes, not the connection's read buffer. */
	struct mqtt_writer w;
	struct mqtt_reader r;
	mqtt_writer_init(&w, m->data + topic.len + p->payload_len, (size_t)block);
	mqtt_props_write(&w, &fwd, MQTT_PCTX_PUBLISH);
	mqtt_reader_init(&r, m->props, m->props_len);
	if (mqtt_props_decode(&r, MQTT_PCTX_PUBLISH, &m->fwd) < 0) {
		free(m); /* cannot happen: the block was just encoded from valid properties */
		return NULL;
	}
	m->qos = p->qos;
	m->retain = p->retain;
	if (mqtt_props_has(&p->props, MQTT_PROP_MESSAGE_EXPIRY))
		m->expiry_at = now_ms + (int64_t)p->props.message_expiry * 1000;
	return m;
}

struct msg *msg_from_parts(const uint8_t *topic, uint16_t topic_len, const uint8_t *payload,
                           uint32_t payload_len, const uint8_t *props, uint32_t props_len,
                           uint8_t qos, bool retain, int64_t expiry_at)
{
	struct msg *m = msg_alloc(topic_len, payload_len, props_len);
	if (!m)
		return NULL;
	if (topic_len)
		memcpy(m->data, topic, topic_len);
	if (payload_len)
		memcpy(m->data + topic_len, payload, payload_len);
	if (props_len) {
		struct mqtt_reader r;
		memcpy(m->data + topic_len + payload_len, props, props_len);
		mqtt_reader_init(&r, m->props, m->props_len);
		/* m->fwd views the message's own copy of the block. */
		if (mqtt_props_decode(&r, MQTT_PCTX_PUBLISH, &m->fwd) < 0 || r.off != props_len) {
			free(m);
			return NULL;
		}
	}
	m->qos = qos;
	m->retain = retain;
	m->expiry_at = expiry_at;
	return m;
}

void msg_unref(struct msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}
