/* sys.c - the $SYS topic tree, mosquitto's names, published retained every sys_interval. */
#include <stdio.h>
#include <string.h>

#include "broker.h"

static void sys_put(struct broker *b, const char *topic, const char *value)
{
	struct msg *m = msg_new((const uint8_t *)topic, (uint16_t)strlen(topic),
	                        (const uint8_t *)value, (uint32_t)strlen(value), 0, true);
	if (!m)
		return;
	route_message(b, m, NULL);
	msg_unref(m);
}

static void sys_put_u64(struct broker *b, const char *topic, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	sys_put(b, topic, buf);
}

void sys_publish(struct broker *b, bool force)
{
	int64_t now = broker_now_ms(b);
	if (!b->cfg.sys_interval || (!force && now < b->next_sys_ms))
		return;
	b->next_sys_ms = now + (int64_t)b->cfg.sys_interval * 1000;

	/* Routing $SYS messages must not count as client traffic. */
	struct broker_stats saved = b->stats;
	char buf[64];
	snprintf(buf, sizeof(buf), "mqtt-fast version %s", MQTT_FAST_VERSION);
	sys_put(b, "$SYS/broker/version", buf);
	snprintf(buf, sizeof(buf), "%lld seconds", (long long)((now - b->start_ms) / 1000));
	sys_put(b, "$SYS/broker/uptime", buf);
	sys_put_u64(b, "$SYS/broker/clients/connected", saved.clients_connected);
	sys_put_u64(b, "$SYS/broker/clients/active", saved.clients_connected);
	sys_put_u64(b, "$SYS/broker/clients/total", b->sessions.count);
	sys_put_u64(b, "$SYS/broker/clients/disconnected",
	            b->sessions.count - saved.clients_connected);
	sys_put_u64(b, "$SYS/broker/clients/maximum", saved.clients_maximum);
	sys_put_u64(b, "$SYS/broker/messages/received", saved.msgs_received);
	sys_put_u64(b, "$SYS/broker/messages/sent", saved.publish_sent);
	sys_put_u64(b, "$SYS/broker/publish/messages/received", saved.publish_received);
	sys_put_u64(b, "$SYS/broker/publish/messages/sent", saved.publish_sent);
	sys_put_u64(b, "$SYS/broker/publish/messages/dropped", saved.msgs_dropped);
	sys_put_u64(b, "$SYS/broker/bytes/received", saved.bytes_received);
	sys_put_u64(b, "$SYS/broker/bytes/sent", saved.bytes_sent);
	sys_put_u64(b, "$SYS/broker/subscriptions/count", subtree_count(b->subs));
	sys_put_u64(b, "$SYS/broker/retained messages/count", retain_count(b->retained));
	b->stats = saved;
}
