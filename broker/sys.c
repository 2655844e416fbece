/* sys.c - the $SYS topic tree, mosquitto's names, published retained every sys_interval:
 * counters, and their load averages (exponentially decayed per-minute rates, as mosquitto);
 * the MQTT-SN gateway's counters under $SYS/broker/mqttsn/. */
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "fastpath.h"

/* $SYS/broker/load/<name>/{1min,5min,15min}: the counter each rate follows. mosquitto counts
 * CONNECT packets for "connections" and sockets for "sockets"; both follow the accepted
 * connections here (a connection that never sends CONNECT counts too). */
static const struct {
	const char *name;
	size_t off; /* of a uint64_t in struct broker_stats */
} load_counters[SYS_LOAD_COUNTERS] = {
        {"messages/received", offsetof(struct broker_stats, msgs_received)},
        {"messages/sent", offsetof(struct broker_stats, publish_sent)},
        {"publish/received", offsetof(struct broker_stats, publish_received)},
        {"publish/sent", offsetof(struct broker_stats, publish_sent)},
        {"publish/dropped", offsetof(struct broker_stats, msgs_dropped)},
        {"bytes/received", offsetof(struct broker_stats, bytes_received)},
        {"bytes/sent", offsetof(struct broker_stats, bytes_sent)},
        {"connections", offsetof(struct broker_stats, connections_total)},
        {"sockets", offsetof(struct broker_stats, connections_total)},
};

/* $SYS/broker/mqttsn/<name>: every counter of struct sn_stats. */
static const struct {
	const char *name;
	size_t off; /* of a uint64_t in struct sn_stats */
} sn_counters[] = {
        {"datagrams/received", offsetof(struct sn_stats, datagrams_received)},
        {"datagrams/sent", offsetof(struct sn_stats, datagrams_sent)},
        {"datagrams/send_errors", offsetof(struct sn_stats, send_errors)},
        {"datagrams/malformed", offsetof(struct sn_stats, malformed)},
        {"datagrams/unknown_type", offsetof(struct sn_stats, unknown_type)},
        {"datagrams/unknown_client", offsetof(struct sn_stats, unknown_client)},
        {"publish/qos_m1/received", offsetof(struct sn_stats, qos_m1_received)},
        {"publish/qos_m1/dropped", offsetof(struct sn_stats, qos_m1_dropped)},
        {"publish/received", offsetof(struct sn_stats, publish_received)},
        {"publish/sent", offsetof(struct sn_stats, publish_sent)},
        {"register/sent", offsetof(struct sn_stats, registers_sent)},
        {"register/rejected", offsetof(struct sn_stats, register_rejected)},
        {"retransmissions", offsetof(struct sn_stats, retransmissions)},
        {"clients/lost", offsetof(struct sn_stats, clients_lost)},
};
/* A new counter in struct sn_stats needs its $SYS topic above. */
_Static_assert(sizeof(struct sn_stats) ==
                       sizeof(sn_counters) / sizeof(sn_counters[0]) * sizeof(uint64_t),
               "every struct sn_stats counter is published");

static const struct {
	const char *suffix;
	double seconds;
} load_windows[SYS_LOAD_WINDOWS] = {{"1min", 60.0}, {"5min", 300.0}, {"15min", 900.0}};

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

static uint64_t stat_at(const void *st, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)st + off, sizeof(v));
	return v;
}

/* $SYS/broker/mqttsn/...: the gateway's counters from the snapshot `st`, the SN clients in the
 * client table (any state) and the normal topic ids assigned so far. */
static void sys_publish_sn(struct broker *b, const struct sn_stats *st)
{
	char topic[96];
	for (size_t i = 0; i < sizeof(sn_counters) / sizeof(sn_counters[0]); i++) {
		snprintf(topic, sizeof(topic), "$SYS/broker/mqttsn/%s", sn_counters[i].name);
		sys_put_u64(b, topic, stat_at(st, sn_counters[i].off));
	}
	sys_put_u64(b, "$SYS/broker/mqttsn/clients/connected", b->sn.nclients);
	sys_put_u64(b, "$SYS/broker/mqttsn/topics/registered", topic_ids_count(b->sn.ids));
}

/* mosquitto's calc_load: the rate over the last interval, scaled to a minute, pulled into the
 * average with weight 1 - exp(-interval / window); published ("%.2f") when it moved by at
 * least 0.01, and every value on the first update. */
static void sys_load_update(struct broker *b, const struct broker_stats *st, int64_t now)
{
	struct sys_load *ld = &b->load;
	bool initial = !ld->started;
	double interval = (double)(now - ld->last_ms) / 1000.0;
	if (!initial && interval <= 0)
		return;
	for (size_t i = 0; i < SYS_LOAD_COUNTERS; i++) {
		uint64_t v = stat_at(st, load_counters[i].off);
		double rate = initial ? 0.0 : (double)(v - ld->last[i]) * 60.0 / interval;
		ld->last[i] = v;
		for (size_t w = 0; w < SYS_LOAD_WINDOWS; w++) {
			double *avg = &ld->avg[i][w];
			double next = initial ? 0.0
			                      : rate + exp(-interval / load_windows[w].seconds) *
			                                        (*avg - rate);
			bool publish = initial || fabs(next - *avg) >= 0.01;
			*avg = next;
			if (!publish)
				continue;
			char topic[96], value[32];
			snprintf(topic, sizeof(topic), "$SYS/broker/load/%s/%s",
			         load_counters[i].name, load_windows[w].suffix);
			snprintf(value, sizeof(value), "%.2f", next);
			sys_put(b, topic, value);
		}
	}
	ld->started = true;
	ld->last_ms = now;
}

/* Bytes allocated from the C heap (glibc; 0 where the allocator is replaced, e.g. ASan). */
static uint64_t heap_current(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

void sys_publish(struct broker *b, bool force)
{
	int64_t now = broker_now_ms(b);
	if (!b->cfg.sys_interval || (!force && now < b->next_sys_ms))
		return;
	b->next_sys_ms = now + (int64_t)b->cfg.sys_interval * 1000;

	/* Routing $SYS messages must not count as client traffic (nor MQTT-SN traffic, when SN
	 * clients subscribe to $SYS). */
	struct broker_stats saved = b->stats;
	struct sn_stats sn_saved = b->sn.stats;
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
	sys_put_u64(b, "$SYS/broker/clients/expired", b->clients_expired);
	/* The kernel fast path's PUBLISHes never reach the socket: counted from its maps. */
	uint64_t fp_received = 0, fp_sent = 0;
	fastpath_kernel_totals(b, &fp_received, &fp_sent);
	sys_put_u64(b, "$SYS/broker/messages/received", saved.msgs_received + fp_received);
	sys_put_u64(b, "$SYS/broker/messages/sent", saved.publish_sent + fp_sent);
	fastpath_sys_publish(b, sys_put_u64);
	sys_put_u64(b, "$SYS/broker/publish/messages/received", saved.publish_received);
	sys_put_u64(b, "$SYS/broker/publish/messages/sent", saved.publish_sent);
	sys_put_u64(b, "$SYS/broker/publish/messages/dropped", saved.msgs_dropped);
	sys_put_u64(b, "$SYS/broker/bytes/received", saved.bytes_received);
	sys_put_u64(b, "$SYS/broker/bytes/sent", saved.bytes_sent);
	sys_put_u64(b, "$SYS/broker/subscriptions/count", subtree_count(b->subs));
	sys_put_u64(b, "$SYS/broker/retained messages/count", retain_count(b->retained));
	sys_put_u64(b, "$SYS/broker/heap/current", heap_current());
	sys_put_u64(b, "$SYS/broker/store/messages/bytes", b->stats.queued_bytes);
	sys_publish_sn(b, &sn_saved);
	sys_load_update(b, &saved, now);
	b->stats = saved;
	b->sn.stats = sn_saved;
}
