/* subtree.c - the subscription tree: one node per filter level, exact children in a per-node
 * hash map keyed by the level string (levelmap.h), '+' and '#' children as dedicated pointers,
 * subscribers and shared-subscription groups at the node of their filter's last level.
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

#include "levelmap.h"
#include "topic.h"

/* How a node hangs from its parent. */
enum node_kind { NODE_ROOT, NODE_EXACT, NODE_PLUS, NODE_HASH };

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

struct node {
	struct node *parent;
	struct levelmap kids; /* exact levels */
	struct node *plus;    /* '+' child */
	struct node *hash;    /* '#' child */
	struct sub_vec subs;
	struct share_group **groups;
	uint32_t ngroups;
	uint32_t groups_cap;
	struct levelmap_entry ent; /* in the parent's kids: key, NODE_EXACT only */
	uint32_t depth;            /* root = 0; a node at depth d stands for filter level d - 1 */
	uint8_t kind;              /* enum node_kind */
	uint8_t key[];             /* the level string (ent.key), NODE_EXACT only */
};

struct subtree {
	struct node *root;
	size_t count;     /* (owner, filter) entries */
	size_t nodes;     /* including the root */
	uint64_t changes; /* entries added or removed, ever (subtree_changes) */
	/* Two halves of work_cap pointers each: the current and the next match frontier, or the
	 * stack of subtree_free. A frontier holds distinct nodes of one depth, so work_cap >= nodes
	 * is enough; it is grown before nodes are created. */
	struct node **work;
	size_t work_cap;
	uint64_t seed[2]; /* keyed level hash: level strings come from clients */
};

/* The node whose entry is e, or NULL for NULL. */
static struct node *node_of(struct levelmap_entry *e)
{
	return e ? levelmap_value(e, struct node, ent) : NULL;
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
	levelmap_release(&n->kids);
	free(n);
}

static bool node_unused(const struct node *n)
{
	return n->subs.n == 0 && n->ngroups == 0 && levelmap_size(&n->kids) == 0 && !n->plus &&
	       !n->hash;
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
		h = levelmap_hash(t->seed, lv.p, lv.len);
		c = node_of(levelmap_get(&n->kids, lv.p, lv.len, h));
		if (c || !create || levelmap_reserve(&n->kids) < 0)
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
		memcpy(c->key, lv.p, lv.len);
		c->ent.key = c->key;
		c->ent.hash = h;
		c->ent.len = lv.len;
		levelmap_put(&n->kids, &c->ent);
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
			levelmap_del(&p->kids, &n->ent);
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
	levelmap_seed_init(t->seed);
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
		struct levelmap_entry *e;
		for (uint32_t i = 0; (e = levelmap_next(&n->kids, &i));)
			stack[sp++] = node_of(e);
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
	t->changes++;
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
	t->changes++;
	prune(t, n);
	return 0;
}

uint64_t subtree_changes(const struct subtree *t)
{
	return t->changes;
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
		uint32_t h = levelmap_hash(t->seed, lv.p, lv.len);
		nnext = 0;
		for (size_t i = 0; i < ncur; i++) {
			struct node *c = node_of(levelmap_get(&cur[i]->kids, lv.p, lv.len, h));
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

size_t subtree_node_count(const struct subtree *t)
{
	return t->nodes;
}
