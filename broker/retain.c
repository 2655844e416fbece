/* retain.c - the retained message store: a tree of topic levels (exact children in a per-node
 * hash map keyed by the level string), each node holding at most one retained message.
 *
 * Level-structured like the subscription tree (DESIGN.md "Per-level indices"). Nothing recurses:
 * a lookup walks a filter's levels breadth-first with a frontier in a work buffer owned by the
 * store (grown on set, never during a match); '#' and freeing walk subtrees with the same buffer
 * as an explicit stack. The hash map and level hash are the same as in subtree.c. */
#include "retain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "topic.h"

#define MAP_MIN_CAP  4u
#define WORK_MIN_CAP 16u

/* Open-addressing (linear probing, backward-shift deletion) map of children. */
struct child_map {
	struct rnode **slot; /* NULL while empty */
	uint32_t mask;       /* capacity - 1 */
	uint32_t n;
};

struct rnode {
	struct rnode *parent;
	struct child_map kids;
	struct msg *msg;   /* the retained message of this topic, or NULL */
	uint32_t depth;    /* root = 0; a node at depth d stands for topic level d - 1 */
	uint32_t key_hash; /* hash of key */
	uint16_t key_len;
	uint8_t key[]; /* the level string */
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

/* ---- keyed hash of level strings (SipHash-1-3) ---- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13) ^ v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17) ^ v[2];
	v[2] = rotl64(v[2], 32);
}

static uint32_t level_hash(const uint64_t k[2], const uint8_t *p, size_t len)
{
	uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
	                 k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull};
	uint64_t last = (uint64_t)len << 56, m;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		v[3] ^= m;
		sip_round(v);
		v[0] ^= m;
	}
	for (unsigned j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	m = v[0] ^ v[1] ^ v[2] ^ v[3];
	return (uint32_t)(m ^ (m >> 32));
}

static void seed_init(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(seed[0]), GRND_NONBLOCK) == 2 * sizeof(seed[0]))
		return;
	/* No entropy yet (early boot): still differs per process and per tree. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)seed;
	seed[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ (uint64_t)getpid();
}

/* ---- child map ---- */

static bool key_eq(const struct rnode *c, const uint8_t *k, size_t len, uint32_t h)
{
	return c->key_hash == h && c->key_len == len && (len == 0 || memcmp(c->key, k, len) == 0);
}

static struct rnode *map_get(const struct child_map *m, const uint8_t *k, size_t len, uint32_t h)
{
	if (!m->slot)
		return NULL;
	/* Terminates: the load factor stays below 3/4, so an empty slot exists. */
	for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
		struct rnode *c = m->slot[i];
		if (!c || key_eq(c, k, len, h))
			return c;
	}
}

static void map_place(struct rnode **slot, uint32_t mask, struct rnode *c)
{
	uint32_t i = c->key_hash & mask;

	while (slot[i])
		i = (i + 1) & mask;
	slot[i] = c;
}

/* Makes room for one more child. 0 or -ENOMEM (the map is unchanged then). */
static int map_reserve(struct child_map *m)
{
	uint32_t cap = m->slot ? m->mask + 1 : 0;

	if (m->slot && (m->n + 1) * 4 <= cap * 3)
		return 0;
	if (cap > UINT32_MAX / 4)
		return -ENOMEM;
	uint32_t ncap = cap ? cap * 2 : MAP_MIN_CAP;
	struct rnode **slot = calloc(ncap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		if (m->slot[i])
			map_place(slot, ncap - 1, m->slot[i]);
	free(m->slot);
	m->slot = slot;
	m->mask = ncap - 1;
	return 0;
}

/* Inserts c, which is not in the map; map_reserve() succeeded before. */
static void map_put(struct child_map *m, struct rnode *c)
{
	map_place(m->slot, m->mask, c);
	m->n++;
}

/* Removes c (present) with backward-shift deletion, so no tombstones accumulate. */
static void map_del(struct child_map *m, const struct rnode *c)
{
	uint32_t i = c->key_hash & m->mask, j;

	while (m->slot[i] != c)
		i = (i + 1) & m->mask;
	for (j = (i + 1) & m->mask; m->slot[j]; j = (j + 1) & m->mask) {
		uint32_t home = m->slot[j]->key_hash & m->mask;
		/* Entry j may move back to the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i] = NULL;
	if (--m->n == 0) {
		free(m->slot);
		m->slot = NULL;
		m->mask = 0;
	}
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
	uint32_t h = level_hash(r->seed, lv.p, lv.len);
	struct rnode *c = map_get(&n->kids, lv.p, lv.len, h);

	if (c || !create || map_reserve(&n->kids) < 0)
		return c;
	c = calloc(1, sizeof(*c) + lv.len);
	if (!c)
		return NULL;
	c->parent = n;
	c->depth = n->depth + 1;
	c->key_hash = h;
	c->key_len = lv.len;
	memcpy(c->key, lv.p, lv.len);
	map_put(&n->kids, c);
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
	while (n != r->root && !n->msg && n->kids.n == 0) {
		struct rnode *p = n->parent;
		map_del(&p->kids, n);
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
	seed_init(r->seed);
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
		for (uint32_t i = 0; n->kids.n && i <= n->kids.mask; i++)
			if (n->kids.slot[i])
				stack[sp++] = n->kids.slot[i];
		msg_unref(n->msg);
		free(n->kids.slot);
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
	return parent == r->root && c->key_len > 0 && c->key[0] == '$';
}

/* '#': visits n and its whole subtree, using stack (work_cap entries) as an explicit stack. */
static void visit_subtree(struct retain_store *r, struct rnode *n, struct rnode **stack,
                          retain_visit_fn fn, void *ctx)
{
	size_t sp = 0;

	stack[sp++] = n;
	while (sp) {
		struct rnode *x = stack[--sp];
		if (x->msg)
			fn(ctx, x->msg);
		for (uint32_t i = 0; x->kids.n && i <= x->kids.mask; i++) {
			struct rnode *c = x->kids.slot[i];
			if (c && !wildcard_skips(r, x, c))
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
				const struct child_map *k = &cur[i]->kids;
				for (uint32_t j = 0; k->n && j <= k->mask; j++)
					if (k->slot[j] && !wildcard_skips(r, cur[i], k->slot[j]))
						next[nnext++] = k->slot[j];
			}
		} else {
			uint32_t h = level_hash(r->seed, lv.p, lv.len);
			for (size_t i = 0; i < ncur; i++) {
				struct rnode *c = map_get(&cur[i]->kids, lv.p, lv.len, h);
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
