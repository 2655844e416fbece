/* retain.c - the retained message store: a tree of topic levels (exact children in a per-node
 * hash map keyed by the level string), each node holding at most one retained message.
 *
 * Level-structured like the subscription tree (DESIGN.md "Per-level indices"). Nothing recurses:
 * a lookup walks a filter's levels breadth-first with a frontier in a work buffer owned by the
 * store (grown on set, never during a match); '#' and freeing walk subtrees with the same buffer
 * as an explicit stack. The child map and level hash are levelmap.h, shared with subtree.c. */
#include "retain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "levelmap.h"
#include "topic.h"

#define WORK_MIN_CAP 16u

struct rnode {
	struct rnode *parent;
	struct levelmap kids;
	struct levelmap_entry ent; /* in the parent's kids (unused in the root) */
	struct msg *msg;           /* the retained message of this topic, or NULL */
	uint32_t depth;            /* root = 0; a node at depth d stands for topic level d - 1 */
	uint8_t key[];             /* the level string (ent.key) */
};

struct retain_store {
	struct rnode *root;
	size_t count; /* retained messages */
	size_t nodes; /* including the root */
	/* Two halves of work_cap pointers each: the current and next frontier of a match, or a
	 * stack. A frontier holds distinct nodes and a stack holds each node at most once, so
	 * work_cap >= nodes is enough; it is grown before nodes are created. */
	struct rnode **work;
	size_t work_cap;
	uint64_t seed[2]; /* keyed level hash: level strings come from clients */
};

/* The node whose entry is e, or NULL for NULL. */
static struct rnode *node_of(struct levelmap_entry *e)
{
	return e ? levelmap_value(e, struct rnode, ent) : NULL;
}

/* ---- nodes and paths ---- */

/* Ensures the work buffer holds `nodes` pointers per half. 0 or -ENOMEM. */
static int work_reserve(struct retain_store *r, size_t nodes)
{
	if (nodes <= r->work_cap)
		return 0;
	size_t cap = r->work_cap * 2 > nodes ? r->work_cap * 2 : nodes;
	if (cap > SIZE_MAX / (2 * sizeof(struct rnode *)))
		return -ENOMEM;
	struct rnode **w = realloc(r->work, 2 * cap * sizeof(*w));
	if (!w)
		return -ENOMEM;
	r->work = w;
	r->work_cap = cap;
	return 0;
}

/* The child of n for level lv, created when `create` is set. NULL when absent or on allocation
 * failure. */
static struct rnode *node_child(struct retain_store *r, struct rnode *n, struct mqtt_str lv,
                                bool create)
{
	uint32_t h = levelmap_hash(r->seed, lv.p, lv.len);
	struct rnode *c = node_of(levelmap_get(&n->kids, lv.p, lv.len, h));

	if (c || !create || levelmap_reserve(&n->kids) < 0)
		return c;
	c = calloc(1, sizeof(*c) + lv.len);
	if (!c)
		return NULL;
	c->parent = n;
	c->depth = n->depth + 1;
	memcpy(c->key, lv.p, lv.len);
	c->ent.key = c->key;
	c->ent.hash = h;
	c->ent.len = lv.len;
	levelmap_put(&n->kids, &c->ent);
	r->nodes++;
	return c;
}

/* Walks (and with `create`, builds) the path of a topic name. Returns its node, or NULL; *last
 * is the deepest node reached (to prune after a failed create). */
static struct rnode *path_walk(struct retain_store *r, const uint8_t *topic, size_t len,
                               bool create, struct rnode **last)
{
	struct rnode *n = r->root;
	struct mqtt_str lv;
	size_t cursor = 0;

	*last = n;
	while (mqtt_topic_next_level(topic, len, &cursor, &lv)) {
		n = node_child(r, n, lv, create);
		if (!n)
			return NULL;
		*last = n;
	}
	return n;
}

/* Frees the nodes without message or children from n up towards the root. */
static void prune(struct retain_store *r, struct rnode *n)
{
	while (n != r->root && !n->msg && levelmap_size(&n->kids) == 0) {
		struct rnode *p = n->parent;
		levelmap_del(&p->kids, &n->ent);
		free(n);
		r->nodes--;
		n = p;
	}
}

/* ---- public interface ---- */

struct retain_store *retain_new(void)
{
	struct retain_store *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->root = calloc(1, sizeof(*r->root));
	if (!r->root || work_reserve(r, WORK_MIN_CAP) < 0)
		goto fail;
	r->nodes = 1;
	levelmap_seed_init(r->seed);
	return r;
fail:
	free(r->root);
	free(r);
	return NULL;
}

void retain_free(struct retain_store *r)
{
	struct rnode **stack;
	size_t sp = 0;

	if (!r)
		return;
	/* Depth-first with an explicit stack holding each node once: <= nodes <= work_cap. */
	stack = r->work;
	stack[sp++] = r->root;
	while (sp) {
		struct rnode *n = stack[--sp];
		struct levelmap_entry *e;
		for (uint32_t i = 0; (e = levelmap_next(&n->kids, &i));)
			stack[sp++] = node_of(e);
		msg_unref(n->msg);
		levelmap_release(&n->kids);
		free(n);
	}
	free(r->work);
	free(r);
}

int retain_set(struct retain_store *r, struct msg *m)
{
	struct rnode *n, *last;
	struct msg *old;

	if (m->topic_len == 0)
		return -EINVAL; /* [MQTT-4.7.3-1]: not a topic name */
	if (m->payload_len == 0) {
		/* [MQTT-3.3.1-6]: an empty retained message removes the retained one (and is not
		 * stored itself). */
		n = path_walk(r, m->topic, m->topic_len, false, &last);
		if (n && n->msg) {
			msg_unref(n->msg);
			n->msg = NULL;
			r->count--;
			prune(r, n);
		}
		return 0;
	}
	if (work_reserve(r, r->nodes + mqtt_topic_level_count(m->topic, m->topic_len)) < 0)
		return -ENOMEM;
	n = path_walk(r, m->topic, m->topic_len, true, &last);
	if (!n) {
		prune(r, last);
		return -ENOMEM;
	}
	/* [MQTT-3.3.1-5]: replaces any retained message of the topic. */
	old = n->msg;
	n->msg = msg_ref(m);
	if (old)
		msg_unref(old);
	else
		r->count++;
	return 0;
}

/* Skips '$' levels under the root for a wildcard [MQTT-4.7.2-1]. */
static bool wildcard_skips(const struct retain_store *r, const struct rnode *parent,
                           const struct rnode *c)
{
	return parent == r->root && c->ent.len > 0 && c->key[0] == '$';
}

/* '#': visits n and its whole subtree, using stack (work_cap entries) as an explicit stack. */
static void visit_subtree(struct retain_store *r, struct rnode *n, struct rnode **stack,
                          retain_visit_fn fn, void *ctx)
{
	size_t sp = 0;

	stack[sp++] = n;
	while (sp) {
		struct rnode *x = stack[--sp];
		struct levelmap_entry *e;
		if (x->msg)
			fn(ctx, x->msg);
		for (uint32_t i = 0; (e = levelmap_next(&x->kids, &i));) {
			struct rnode *c = node_of(e);
			if (!wildcard_skips(r, x, c))
				stack[sp++] = c;
		}
	}
}

void retain_match(struct retain_store *r, const uint8_t *filter, size_t len, retain_visit_fn fn,
                  void *ctx)
{
	struct rnode **cur = r->work, **next = r->work + r->work_cap, **swap;
	size_t ncur = 1, nnext, cursor = 0;
	struct mqtt_str lv;

	/* Breadth-first over the filter's levels: cur holds the distinct nodes whose topic prefix
	 * matches the filter levels consumed so far. */
	cur[0] = r->root;
	while (mqtt_topic_next_level(filter, len, &cursor, &lv)) {
		nnext = 0;
		if (lv.len == 1 && lv.p[0] == '#') {
			/* Last level [MQTT-4.7.1-1]: the parent itself and everything below
			 * ("a/#" matches "a"). Subtrees of distinct nodes of one depth are disjoint. */
			for (size_t i = 0; i < ncur; i++)
				visit_subtree(r, cur[i], next, fn, ctx);
			return;
		}
		if (lv.len == 1 && lv.p[0] == '+') {
			for (size_t i = 0; i < ncur; i++) {
				struct levelmap_entry *e;
				for (uint32_t j = 0; (e = levelmap_next(&cur[i]->kids, &j));)
					if (!wildcard_skips(r, cur[i], node_of(e)))
						next[nnext++] = node_of(e);
			}
		} else {
			uint32_t h = levelmap_hash(r->seed, lv.p, lv.len);
			for (size_t i = 0; i < ncur; i++) {
				struct rnode *c =
				        node_of(levelmap_get(&cur[i]->kids, lv.p, lv.len, h));
				if (c)
					next[nnext++] = c;
			}
		}
		if (nnext == 0)
			return;
		swap = cur;
		cur = next;
		next = swap;
		ncur = nnext;
	}
	for (size_t i = 0; i < ncur; i++)
		if (cur[i]->msg)
			fn(ctx, cur[i]->msg);
}

size_t retain_count(const struct retain_store *r)
{
	return r->count;
}

size_t retain_node_count(const struct retain_store *r)
{
	return r->nodes;
}
