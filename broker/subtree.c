/* subtree.c - the subscription tree: one node per filter level, exact children in a per-node
 * hash map keyed by the level string, '+' and '#' children as dedicated pointers, subscribers
 * and shared-subscription groups at the node of their filter's last level.
 *
 * The tree stays level-structured (node depth = filter level) so that the kernel fast path can
 * mirror it one BPF array per level (DESIGN.md "Per-level indices"). Nothing recurses: paths are
 * walked with loops, matching is a breadth-first walk over the topic's levels with a frontier
 * kept in a work buffer owned by the tree (grown on add, never during a match), and freeing uses
 * the same buffer as an explicit stack. */
#include "subtree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "topic.h"

/* How a node hangs from its parent. */
enum node_kind { NODE_ROOT, NODE_EXACT, NODE_PLUS, NODE_HASH };

#define MAP_MIN_CAP  4u
#define VEC_MIN_CAP  2u
#define WORK_MIN_CAP 16u

/* One subscription: who, and with which options. */
struct sub_entry {
	void *owner;
	struct sub_opts opts;
};

/* Subscriptions in subscription order. */
struct sub_vec {
	struct sub_entry *v;
	uint32_t n;
	uint32_t cap;
};

/* A shared subscription group "$share/{name}/{filter}" at the node of {filter}. */
struct share_group {
	struct sub_vec members; /* in subscription order */
	uint32_t next;          /* round-robin cursor: the member that gets the next message */
	uint16_t name_len;
	uint8_t name[];
};

/* Open-addressing (linear probing, backward-shift deletion) map of exact children. */
struct child_map {
	struct node **slot; /* NULL while empty */
	uint32_t mask;      /* capacity - 1 */
	uint32_t n;
};

struct node {
	struct node *parent;
	struct child_map kids; /* exact levels */
	struct node *plus;     /* '+' child */
	struct node *hash;     /* '#' child */
	struct sub_vec subs;
	struct share_group **groups;
	uint32_t ngroups;
	uint32_t groups_cap;
	uint32_t depth;    /* root = 0; a node at depth d stands for filter level d - 1 */
	uint32_t key_hash; /* hash of key, NODE_EXACT only */
	uint8_t kind;      /* enum node_kind */
	uint16_t key_len;
	uint8_t key[]; /* the level string, NODE_EXACT only */
};

struct subtree {
	struct node *root;
	size_t count; /* (owner, filter) entries */
	size_t nodes; /* including the root */
	/* Two halves of work_cap pointers each: the current and the next match frontier, or the
	 * stack of subtree_free. A frontier holds distinct nodes of one depth, so work_cap >= nodes
	 * is enough; it is grown before nodes are created. */
	struct node **work;
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

static bool key_eq(const struct node *c, const uint8_t *k, size_t len, uint32_t h)
{
	return c->key_hash == h && c->key_len == len && (len == 0 || memcmp(c->key, k, len) == 0);
}

static struct node *map_get(const struct child_map *m, const uint8_t *k, size_t len, uint32_t h)
{
	if (!m->slot)
		return NULL;
	/* Terminates: the load factor stays below 3/4, so an empty slot exists. */
	for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
		struct node *c = m->slot[i];
		if (!c || key_eq(c, k, len, h))
			return c;
	}
}

static void map_place(struct node **slot, uint32_t mask, struct node *c)
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
	struct node **slot = calloc(ncap, sizeof(*slot));
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
static void map_put(struct child_map *m, struct node *c)
{
	map_place(m->slot, m->mask, c);
	m->n++;
}

/* Removes c (present) with backward-shift deletion, so no tombstones accumulate. */
static void map_del(struct child_map *m, const struct node *c)
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

/* ---- subscriber vectors and groups ---- */

static uint32_t vec_find(const struct sub_vec *v, const void *owner)
{
	for (uint32_t i = 0; i < v->n; i++)
		if (v->v[i].owner == owner)
			return i;
	return UINT32_MAX;
}

static int vec_push(struct sub_vec *v, void *owner, const struct sub_opts *opts)
{
	if (v->n == v->cap) {
		if (v->cap > UINT32_MAX / 2 - 1)
			return -ENOMEM;
		uint32_t ncap = v->cap ? v->cap * 2 : VEC_MIN_CAP;
		struct sub_entry *nv = realloc(v->v, (size_t)ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n].owner = owner;
	v->v[v->n].opts = *opts;
	v->n++;
	return 0;
}

/* Removes entry i keeping the order (groups rotate in subscription order). */
static void vec_del(struct sub_vec *v, uint32_t i)
{
	memmove(&v->v[i], &v->v[i + 1], (size_t)(v->n - i - 1) * sizeof(v->v[0]));
	if (--v->n == 0) {
		free(v->v);
		v->v = NULL;
		v->cap = 0;
	}
}

static uint32_t group_find(const struct node *n, struct mqtt_str name)
{
	for (uint32_t i = 0; i < n->ngroups; i++) {
		const struct share_group *g = n->groups[i];
		if (g->name_len == name.len && memcmp(g->name, name.p, name.len) == 0)
			return i;
	}
	return UINT32_MAX;
}

/* Appends an empty group; returns its index or UINT32_MAX on allocation failure. */
static uint32_t group_add(struct node *n, struct mqtt_str name)
{
	if (n->ngroups == n->groups_cap) {
		uint32_t ncap = n->groups_cap ? n->groups_cap * 2 : VEC_MIN_CAP;
		struct share_group **ng = realloc(n->groups, (size_t)ncap * sizeof(*ng));
		if (!ng)
			return UINT32_MAX;
		n->groups = ng;
		n->groups_cap = ncap;
	}
	struct share_group *g = calloc(1, sizeof(*g) + name.len);
	if (!g)
		return UINT32_MAX;
	memcpy(g->name, name.p, name.len);
	g->name_len = name.len;
	n->groups[n->ngroups] = g;
	return n->ngroups++;
}

static void group_del(struct node *n, uint32_t i)
{
	free(n->groups[i]->members.v);
	free(n->groups[i]);
	memmove(&n->groups[i], &n->groups[i + 1],
	        (size_t)(n->ngroups - i - 1) * sizeof(n->groups[0]));
	if (--n->ngroups == 0) {
		free(n->groups);
		n->groups = NULL;
		n->groups_cap = 0;
	}
}

/* ---- nodes and paths ---- */

static void node_free(struct node *n)
{
	while (n->ngroups)
		group_del(n, n->ngroups - 1);
	free(n->subs.v);
	free(n->kids.slot);
	free(n);
}

static bool node_unused(const struct node *n)
{
	return n->subs.n == 0 && n->ngroups == 0 && n->kids.n == 0 && !n->plus && !n->hash;
}

/* Ensures the work buffer holds `nodes` pointers per half. 0 or -ENOMEM. */
static int work_reserve(struct subtree *t, size_t nodes)
{
	if (nodes <= t->work_cap)
		return 0;
	size_t cap = t->work_cap * 2 > nodes ? t->work_cap * 2 : nodes;
	if (cap > SIZE_MAX / (2 * sizeof(struct node *)))
		return -ENOMEM;
	struct node **w = realloc(t->work, 2 * cap * sizeof(*w));
	if (!w)
		return -ENOMEM;
	t->work = w;
	t->work_cap = cap;
	return 0;
}

static bool level_is(struct mqtt_str lv, uint8_t c)
{
	return lv.len == 1 && lv.p[0] == c;
}

/* The child of n for filter level lv, created when `create` is set. NULL when absent or on
 * allocation failure. */
static struct node *node_child(struct subtree *t, struct node *n, struct mqtt_str lv, bool create)
{
	struct node **link = NULL, *c;
	uint32_t h = 0;

	if (level_is(lv, '+'))
		link = &n->plus;
	else if (level_is(lv, '#'))
		link = &n->hash;
	if (link) {
		if (*link || !create)
			return *link;
	} else {
		h = level_hash(t->seed, lv.p, lv.len);
		c = map_get(&n->kids, lv.p, lv.len, h);
		if (c || !create || map_reserve(&n->kids) < 0)
			return c;
	}
	c = calloc(1, sizeof(*c) + (link ? 0 : lv.len));
	if (!c)
		return NULL;
	c->parent = n;
	c->depth = n->depth + 1;
	if (link) {
		c->kind = level_is(lv, '+') ? NODE_PLUS : NODE_HASH;
		*link = c;
	} else {
		c->kind = NODE_EXACT;
		c->key_hash = h;
		c->key_len = lv.len;
		memcpy(c->key, lv.p, lv.len);
		map_put(&n->kids, c);
	}
	t->nodes++;
	return c;
}

/* Walks (and with `create`, builds) the path of a plain filter. Returns its last node, or NULL;
 * *last is the deepest node reached (to prune after a failed create). */
static struct node *path_walk(struct subtree *t, struct mqtt_str filter, bool create,
                              struct node **last)
{
	struct node *n = t->root;
	struct mqtt_str lv;
	size_t cursor = 0;

	*last = n;
	while (mqtt_topic_next_level(filter.p, filter.len, &cursor, &lv)) {
		n = node_child(t, n, lv, create);
		if (!n)
			return NULL;
		*last = n;
	}
	return n;
}

/* Frees the unused nodes from n up towards the root. */
static void prune(struct subtree *t, struct node *n)
{
	while (n != t->root && node_unused(n)) {
		struct node *p = n->parent;
		if (n->kind == NODE_PLUS)
			p->plus = NULL;
		else if (n->kind == NODE_HASH)
			p->hash = NULL;
		else
			map_del(&p->kids, n);
		node_free(n);
		t->nodes--;
		n = p;
	}
}

/* ---- public interface ---- */

struct subtree *subtree_new(void)
{
	struct subtree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->root = calloc(1, sizeof(*t->root));
	if (!t->root || work_reserve(t, WORK_MIN_CAP) < 0)
		goto fail;
	t->root->kind = NODE_ROOT;
	t->nodes = 1;
	seed_init(t->seed);
	return t;
fail:
	free(t->root);
	free(t);
	return NULL;
}

void subtree_free(struct subtree *t)
{
	struct node **stack;
	size_t sp = 0;

	if (!t)
		return;
	/* Depth-first with an explicit stack: every node is pushed once, so it never holds more
	 * than t->nodes <= work_cap entries. */
	stack = t->work;
	stack[sp++] = t->root;
	while (sp) {
		struct node *n = stack[--sp];
		for (uint32_t i = 0; n->kids.n && i <= n->kids.mask; i++)
			if (n->kids.slot[i])
				stack[sp++] = n->kids.slot[i];
		if (n->plus)
			stack[sp++] = n->plus;
		if (n->hash)
			stack[sp++] = n->hash;
		node_free(n);
	}
	free(t->work);
	free(t);
}

/* Splits "$share/{group}/{filter}" or takes the whole filter; 1 shared, 0 plain, -EINVAL. */
static int filter_split(const uint8_t *f, size_t len, struct mqtt_str *group,
                        struct mqtt_str *plain)
{
	int shared;

	if (len == 0 || len > MQTT_STR_MAX)
		return -EINVAL; /* [MQTT-4.7.3-1] */
	shared = mqtt_topic_shared_split(f, len, group, plain);
	if (shared == 0) {
		plain->p = f;
		plain->len = (uint16_t)len;
	}
	return shared;
}

int subtree_add(struct subtree *t, const uint8_t *filter, size_t len, void *owner,
                const struct sub_opts *opts, bool *replaced)
{
	struct mqtt_str group = {0}, plain;
	struct node *n, *last;
	struct sub_vec *v;
	uint32_t gi = UINT32_MAX, i;
	int shared = filter_split(filter, len, &group, &plain), rc = -ENOMEM;

	if (replaced)
		*replaced = false;
	if (shared < 0)
		return shared;
	/* Room for a frontier as wide as the tree may become: at most one new node per level. */
	if (work_reserve(t, t->nodes + mqtt_topic_level_count(plain.p, plain.len)) < 0)
		return -ENOMEM;
	n = path_walk(t, plain, true, &last);
	if (!n)
		goto out;
	v = &n->subs;
	if (shared) {
		gi = group_find(n, group);
		if (gi == UINT32_MAX && (gi = group_add(n, group)) == UINT32_MAX)
			goto out;
		v = &n->groups[gi]->members;
	}
	i = vec_find(v, owner);
	if (i != UINT32_MAX) {
		v->v[i].opts = *opts; /* [MQTT-3.8.4-3]: replace, keep the place in the group */
		if (replaced)
			*replaced = true;
		return 0;
	}
	if (vec_push(v, owner, opts) < 0)
		goto out;
	t->count++;
	return 0;
out:
	/* Undo what this call built: an empty new group, then unused new nodes. */
	if (gi != UINT32_MAX && n->groups[gi]->members.n == 0)
		group_del(n, gi);
	prune(t, last);
	return rc;
}

int subtree_remove(struct subtree *t, const uint8_t *filter, size_t len, void *owner)
{
	struct mqtt_str group = {0}, plain;
	struct node *n, *last;
	struct sub_vec *v;
	uint32_t gi = UINT32_MAX, i;
	int shared = filter_split(filter, len, &group, &plain);

	if (shared < 0)
		return -ENOENT; /* never added */
	n = path_walk(t, plain, false, &last);
	if (!n)
		return -ENOENT;
	v = &n->subs;
	if (shared) {
		gi = group_find(n, group);
		if (gi == UINT32_MAX)
			return -ENOENT;
		v = &n->groups[gi]->members;
	}
	i = vec_find(v, owner);
	if (i == UINT32_MAX)
		return -ENOENT;
	vec_del(v, i);
	if (shared) {
		struct share_group *g = n->groups[gi];
		/* Keep the rotation: members after i moved down by one. */
		if (g->next > i)
			g->next--;
		if (g->next >= g->members.n)
			g->next = 0;
		if (g->members.n == 0)
			group_del(n, gi);
	}
	t->count--;
	prune(t, n);
	return 0;
}

/* Calls back for every subscription at n: each plain one, and one member per group. */
static void visit(struct node *n, subtree_visit_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < n->subs.n; i++)
		fn(ctx, n->subs.v[i].owner, &n->subs.v[i].opts, false);
	for (uint32_t i = 0; i < n->ngroups; i++) {
		struct share_group *g = n->groups[i];
		const struct sub_entry *e = &g->members.v[g->next];
		/* MQTT 5.0 §4.8.2: one member of the group receives each message. */
		g->next = g->next + 1 < g->members.n ? g->next + 1 : 0;
		fn(ctx, e->owner, &e->opts, true);
	}
}

void subtree_match(struct subtree *t, const uint8_t *topic, size_t len, subtree_visit_fn fn,
                   void *ctx)
{
	struct node **cur = t->work, **next = t->work + t->work_cap, **swap;
	size_t ncur = 1, nnext, cursor = 0;
	struct mqtt_str lv;
	/* [MQTT-4.7.2-1]: wildcards at the first level do not match names starting with '$'. */
	bool dollar = len > 0 && topic[0] == '$';
	bool more = mqtt_topic_next_level(topic, len, &cursor, &lv);

	/* Breadth-first over the topic's levels: cur holds the distinct nodes whose filter
	 * prefix matches the levels consumed so far (at most one per node, so <= work_cap). */
	cur[0] = t->root;
	for (;;) {
		/* '#' matches the remaining levels, none included ("a/#" matches "a"). */
		for (size_t i = 0; i < ncur; i++)
			if (cur[i]->hash && !(dollar && cur[i] == t->root))
				visit(cur[i]->hash, fn, ctx);
		if (!more)
			break;
		uint32_t h = level_hash(t->seed, lv.p, lv.len);
		nnext = 0;
		for (size_t i = 0; i < ncur; i++) {
			struct node *c = map_get(&cur[i]->kids, lv.p, lv.len, h);
			if (c)
				next[nnext++] = c;
			if (cur[i]->plus && !(dollar && cur[i] == t->root))
				next[nnext++] = cur[i]->plus;
		}
		if (nnext == 0)
			return;
		swap = cur;
		cur = next;
		next = swap;
		ncur = nnext;
		more = mqtt_topic_next_level(topic, len, &cursor, &lv);
	}
	for (size_t i = 0; i < ncur; i++)
		visit(cur[i], fn, ctx);
}

size_t subtree_count(const struct subtree *t)
{
	return t->count;
}
