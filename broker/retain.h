/* retain.h - the retained message store: at most one message per topic name, looked up by
 * topic filter when a client subscribes [MQTT-3.3.1-5..-11]. */
#ifndef MQTT_FAST_RETAIN_H
#define MQTT_FAST_RETAIN_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct retain_store;

/* Returns an owned empty store, or NULL. */
struct retain_store *retain_new(void);
/* Frees the store and drops its references to messages. NULL is ignored. */
void retain_free(struct retain_store *r);

/* Stores `m` (takes a new reference) as the retained message of its topic, replacing the
 * previous one; a message with an empty payload clears the topic instead [MQTT-3.3.1-6,-7].
 * 0, -ENOMEM, or -EINVAL for an empty topic [MQTT-4.7.3-1]. */
int retain_set(struct retain_store *r, struct msg *m);

/* Calls fn for every retained message whose topic matches `filter` (a valid, non-shared filter),
 * skipping '$' topics for filters starting with a wildcard [MQTT-4.7.2-1]. Borrows all; the
 * callback may take its own reference and must not modify the store.
 * The callback must not call retain_match() on the same store (shared work buffer). */
typedef void (*retain_visit_fn)(void *ctx, struct msg *m);
void retain_match(struct retain_store *r, const uint8_t *filter, size_t len, retain_visit_fn fn,
                  void *ctx);

/* Number of retained messages. */
size_t retain_count(const struct retain_store *r);

/* Number of nodes currently allocated, the root included (1 for an empty store): for tests
 * (pruning) and $SYS. */
size_t retain_node_count(const struct retain_store *r);

#endif
