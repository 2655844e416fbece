/* subtree.h - the subscription tree: topic filters by level, with '+' and '#', shared
 * subscription groups, and matching of a topic name against every filter at once.
 *
 * Subscribers are opaque `void *owner` pointers (the broker passes sessions), so the tree is
 * tested on its own. The tree stores one entry per (owner, filter); it does not deduplicate
 * overlapping filters of one owner - the caller merges them (one copy at the highest QoS,
 * [MQTT-3.3.4-2]). Nothing here does I/O. */
#ifndef MQTT_FAST_SUBTREE_H
#define MQTT_FAST_SUBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Options of one subscription (MQTT 5 Subscription Options; 3.1.1 uses qos only). */
struct sub_opts {
	uint8_t qos;
	bool no_local;
	bool retain_as_published;
	uint8_t retain_handling;
	uint32_t sub_id; /* 0 = none */
};

struct subtree;

/* Returns an owned empty tree, or NULL. */
struct subtree *subtree_new(void);
/* Frees the tree and its nodes (owners are not touched). NULL is ignored. */
void subtree_free(struct subtree *t);

/* Adds or replaces the subscription of `owner` to `filter` (a valid filter, possibly
 * "$share/group/f"). Sets *replaced when the owner already had this exact filter (its options are
 * updated in place [MQTT-3.8.4-3]). Borrows filter (copied as needed). 0, -ENOMEM, or -EINVAL
 * for an empty filter or one over 65535 bytes [MQTT-4.7.3-1]. */
int subtree_add(struct subtree *t, const uint8_t *filter, size_t len, void *owner,
                const struct sub_opts *opts, bool *replaced);

/* Removes owner's subscription to exactly `filter`. 0, or -ENOENT when there was none
 * (including for a malformed "$share/..." filter, which can never have been added). */
int subtree_remove(struct subtree *t, const uint8_t *filter, size_t len, void *owner);

/* Called once per matching subscription. `shared` is true for a shared subscription, which
 * is delivered to exactly one member of its group: the tree picks the member (round robin over
 * the group, in subscription order) and calls back once per matched group. */
typedef void (*subtree_visit_fn)(void *ctx, void *owner, const struct sub_opts *opts, bool shared);

/* Visits every subscription whose filter matches topic name `topic` (a valid name).
 * Wildcards at the first level do not match names starting with '$' [MQTT-4.7.2-1].
 * The callback must not modify the tree.
 * The callback must not call subtree_match() on the same tree (shared work buffer). */
void subtree_match(struct subtree *t, const uint8_t *topic, size_t len, subtree_visit_fn fn,
                   void *ctx);

/* Entries added or removed since the tree was made: a cheap "did anything change" test for
 * the fast-path control (broker/fastpath.c). */
uint64_t subtree_changes(const struct subtree *t);
/* Number of (owner, filter) entries. */
size_t subtree_count(const struct subtree *t);

/* Number of nodes currently allocated, the root included (1 for an empty tree): for tests
 * (pruning) and $SYS. */
size_t subtree_node_count(const struct subtree *t);

#endif
