/* fastpath.h - THE one place that decides which subscribers the kernel fast path serves and
 * which ones userspace serves (DESIGN.md "Exactly one copy"), and keeps the kernel maps in sync
 * with the broker's state through bpf/fpctl.h.
 *
 * Model: SN clients get subscriber and publisher slots; every topic id whose name matches a
 * `fastpath` filter gets an fp_topics entry whose `serve` set is exactly the SN subscribers the
 * kernel delivers to (subscription matches, topic registered, ACL read allowed, active, with a
 * slot learned from fp_neigh). Everyone else is served here, from a passed-up original whose
 * skb->mark names the serve generation the kernel used. State changes mark the module dirty;
 * the maps are rewritten at the flush point of the same loop iteration, before any reply of
 * that iteration (SUBACK, UNSUBACK, DISCONNECT...) leaves, so a change takes effect from the
 * next packet the client can cause. Without programs (no privileges, no BPF, bad interface)
 * one log line says so and everything stays in userspace. */
#ifndef MQTT_FAST_FASTPATH_H
#define MQTT_FAST_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct session;
struct sn_client;

/* Creates the module and, with fastpath_interface lines, loads and attaches the programs
 * (falling back to userspace with one log line on any failure). 0 or -ENOMEM. */
int fastpath_start(struct broker *b);
/* Detaches the programs and frees the module. Safe when never started. */
void fastpath_stop(struct broker *b);
/* True when the programs are attached. */
bool fastpath_active(const struct broker *b);

/* Something a serve set depends on changed (SN connect, sleep, wake, REGACK, ACL reload...). */
void fastpath_touch(struct broker *b);
/* At the flush point: rewrites the maps when anything changed. */
void fastpath_sync(struct broker *b);
/* An SN client is about to be freed: its slots leave every serve set now. Borrows c. */
void fastpath_client_gone(struct broker *b, struct sn_client *c);

/* Around one received MQTT-SN datagram: `mark` is its skb->mark (0 = none), `family` AF_INET
 * or AF_INET6. Borrows d. */
void fastpath_rx_begin(struct broker *b, uint32_t mark, int family, const uint8_t *d, size_t len);
void fastpath_rx_end(struct broker *b);
/* route.c deliver(): true when the kernel already delivered the message being routed to s. */
bool fastpath_kernel_served(const struct broker *b, const struct session *s);

/* Runtime `fastpath` filters (mqtt-fast-ctl). add: 0, -EEXIST, -EINVAL (not a valid filter),
 * -ENOMEM; del: 0 or -ENOENT. Borrows filter. */
int fastpath_filter_add(struct broker *b, const char *filter);
int fastpath_filter_del(struct broker *b, const char *filter);
/* Writes one line per filter into out (NUL-terminated, truncated at len). */
void fastpath_filter_list(const struct broker *b, char *out, size_t len);
/* Writes the counters (per verdict, totals and per topic) as text into out. */
void fastpath_stats_text(struct broker *b, char *out, size_t len);
/* $SYS/broker/fastpath/...: put() publishes one counter. */
void fastpath_sys_publish(struct broker *b, void (*put)(struct broker *, const char *, uint64_t));
/* Kernel totals for $SYS/broker/messages/...: PUBLISHes the kernel handled, copies it sent. */
void fastpath_kernel_totals(struct broker *b, uint64_t *received, uint64_t *sent);

#endif
