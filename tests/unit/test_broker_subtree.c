/* test_broker_subtree.c - the subscription tree: matching against mqtt_topic_matches() as an
 * oracle (tables and random filters), '$' topics, shared groups, replace, remove, pruning, size.
 *
 * Pruning is checked on the node count, through subtree_node_count(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "subtree.h"
#include "topic.h"

#define U8(s)        ((const uint8_t *)(s))
#define OWNER(i)     ((void *)(uintptr_t)((i) + 1))
#define OWNER_IDX(p) ((size_t)(uintptr_t)(p)-1)

/* Records every callback. */
struct hits {
	size_t n;        /* owners tracked */
	unsigned *plain; /* per owner: non-shared callbacks */
	unsigned *shared;
	void *seq[64]; /* first owners called back, in order */
	uint8_t qos[64];
	size_t nseq;
};

static void on_match(void *ctx, void *owner, const struct sub_opts *opts, bool shared)
{
	struct hits *h = ctx;
	size_t i = OWNER_IDX(owner);

	if (i < h->n)
		(shared ? h->shared : h->plain)[i]++;
	if (h->nseq < 64) {
		h->qos[h->nseq] = opts->qos;
		h->seq[h->nseq++] = owner;
	}
}

static void hits_init(struct hits *h, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->n = n;
	h->plain = calloc(n ? n : 1, sizeof(unsigned));
	h->shared = calloc(n ? n : 1, sizeof(unsigned));
}

static void hits_reset(struct hits *h)
{
	memset(h->plain, 0, h->n * sizeof(unsigned));
	memset(h->shared, 0, h->n * sizeof(unsigned));
	h->nseq = 0;
}

static void hits_free(struct hits *h)
{
	free(h->plain);
	free(h->shared);
}

static int add(struct subtree *t, const char *f, size_t owner, uint8_t qos, bool *replaced)
{
	struct sub_opts o = {.qos = qos};
	return subtree_add(t, U8(f), strlen(f), OWNER(owner), &o, replaced);
}

static int del(struct subtree *t, const char *f, size_t owner)
{
	return subtree_remove(t, U8(f), strlen(f), OWNER(owner));
}

static void match(struct subtree *t, const char *topic, struct hits *h)
{
	hits_reset(h);
	subtree_match(t, U8(topic), strlen(topic), on_match, h);
}

/* Subscribes owner i to filters[i] (NULL entries skipped) and checks every topic against the
 * oracle: each matching filter's owner is called exactly once, no one else. */
static void check_oracle(struct subtree *t, char **filters, size_t nf, char **topics, size_t nt)
{
	struct hits h;

	hits_init(&h, nf);
	for (size_t j = 0; j < nt; j++) {
		match(t, topics[j], &h);
		for (size_t i = 0; i < nf; i++) {
			unsigned want =
			        filters[i] && mqtt_topic_matches(U8(filters[i]), strlen(filters[i]),
			                                         U8(topics[j]), strlen(topics[j]));
			if (h.plain[i] != want || h.shared[i] != 0)
				fprintf(stderr, "  filter \"%s\" topic \"%s\": %u calls, want %u\n",
				        filters[i], topics[j], h.plain[i], want);
			CHECK_EQ(h.plain[i], want);
		}
	}
	hits_free(&h);
}

static const char *const table_filters[] = {
        "sport/tennis/player1/#",
        "sport/#",
        "#",
        "sport/tennis/+",
        "sport/+",
        "+/+",
        "/+",
        "+",
        "+/tennis/#",
        "sport/+/player1",
        "+/monitor/Clients",
        "$SYS/#",
        "$SYS/monitor/+",
        "$SYS/+",
        "$SYS",
        "a/$b",
        "a/+",
        "a/#",
        "sport",
        "sports",
        "/",
        "//",
        "+/#",
        "+/+/+",
        "a//b",
        "a/+/b",
        "a/b/c/d/e/f/#",
        "$share",
        "$x/+",
};

static const char *const table_topics[] = {
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "sport",
        "sport/",
        "/",
        "/finance",
        "sport/tennis/player2",
        "sport//player1",
        "sport/player1",
        "$SYS/monitor/Clients",
        "$SYS",
        "$SYS/x",
        "$SYS/",
        "a/$b",
        "a/$b/c",
        "a",
        "a/",
        "a//b",
        "a/x/b",
        "a/b/c/d/e/f",
        "a/b/c/d/e/f/g/h",
        "Sport",
        "sports",
        "//",
        "$",
        "$x/y",
        "x/$SYS",
        "$share",
};

static void test_table(void)
{
	struct subtree *t = subtree_new();
	size_t nf = sizeof(table_filters) / sizeof(table_filters[0]);
	size_t nt = sizeof(table_topics) / sizeof(table_topics[0]);

	for (size_t i = 0; i < nf; i++) {
		CHECK_EQ(mqtt_topic_filter_valid(U8(table_filters[i]), strlen(table_filters[i])),
		         0);
		CHECK_EQ(add(t, table_filters[i], i, 0, NULL), 0);
	}
	for (size_t j = 0; j < nt; j++)
		CHECK_EQ(mqtt_topic_name_valid(U8(table_topics[j]), strlen(table_topics[j])), 0);
	CHECK_EQ(subtree_count(t), nf);
	check_oracle(t, (char **)table_filters, nf, (char **)table_topics, nt);
	subtree_free(t);
}

/* [MQTT-4.7.2-1] spelled out, besides the oracle. */
static void test_dollar(void)
{
	struct subtree *t = subtree_new();
	struct hits h;

	hits_init(&h, 8);
	add(t, "#", 0, 0, NULL);
	add(t, "+/monitor", 1, 0, NULL);
	add(t, "$SYS/#", 2, 0, NULL);
	add(t, "$SYS/+", 3, 0, NULL);
	add(t, "+", 4, 0, NULL);
	add(t, "a/+", 5, 0, NULL);
	add(t, "$share/g/#", 6, 0, NULL);
	match(t, "$SYS/monitor", &h);
	CHECK_EQ(h.plain[0] + h.plain[1] + h.plain[4] + h.shared[6], 0);
	CHECK_EQ(h.plain[2], 1);
	CHECK_EQ(h.plain[3], 1);
	match(t, "$SYS", &h);
	CHECK_EQ(h.nseq, 1); /* "$SYS/#" only */
	CHECK_EQ(h.plain[2], 1);
	match(t, "a/$SYS", &h); /* '$' only matters at the first level */
	CHECK_EQ(h.plain[0] + h.plain[5] + h.shared[6], 3);
	match(t, "x/monitor", &h);
	CHECK_EQ(h.plain[0] + h.plain[1] + h.shared[6], 3);
	hits_free(&h);
	subtree_free(t);
}

/* Deterministic pseudo-random numbers (xorshift64*), state passed explicitly. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

static char *random_topic(uint64_t *s, bool filter)
{
	static const char *const lv[] = {"a", "b", "cc", "", "$SYS", "$x", "a$"};
	char buf[128];
	size_t n = 0, levels = 1 + rnd(s) % 5;

	for (size_t i = 0; i < levels; i++) {
		const char *l = lv[rnd(s) % 7];
		if (filter && rnd(s) % 3 == 0)
			l = "+";
		if (filter && i == levels - 1 && rnd(s) % 4 == 0)
			l = "#";
		if (levels == 1 && !*l)
			l = "e"; /* "" is neither a name nor a filter [MQTT-4.7.3-1] */
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "/" : "", l);
	}
	return strdup(buf);
}

static void test_random(void)
{
	enum { NF = 400, NT = 1500 };
	uint64_t seed = 0x1234567887654321ull;
	struct subtree *t = subtree_new();
	char **filters = calloc(NF, sizeof(char *)), **topics = calloc(NT, sizeof(char *));

	for (size_t i = 0; i < NF; i++) {
		filters[i] = random_topic(&seed, true);
		CHECK_EQ(mqtt_topic_filter_valid(U8(filters[i]), strlen(filters[i])), 0);
		CHECK_EQ(add(t, filters[i], i, 0, NULL), 0);
	}
	for (size_t i = 0; i < NT; i++) {
		topics[i] = random_topic(&seed, false);
		CHECK_EQ(mqtt_topic_name_valid(U8(topics[i]), strlen(topics[i])), 0);
	}
	check_oracle(t, filters, NF, topics, NT);
	/* Remove two thirds in random order, with shared nodes on the way: still exact. */
	for (size_t k = 0; k < NF * 2 / 3; k++) {
		size_t i = rnd(&seed) % NF;
		if (!filters[i])
			continue;
		CHECK_EQ(del(t, filters[i], i), 0);
		free(filters[i]);
		filters[i] = NULL;
	}
	check_oracle(t, filters, NF, topics, NT);
	for (size_t i = 0; i < NF; i++) {
		if (filters[i])
			CHECK_EQ(del(t, filters[i], i), 0);
		free(filters[i]);
	}
	CHECK_EQ(subtree_count(t), 0);
	CHECK_EQ(subtree_node_count(t), 1); /* every node pruned */
	for (size_t i = 0; i < NT; i++)
		free(topics[i]);
	free(filters);
	free(topics);
	subtree_free(t);
}

static void test_shared(void)
{
	struct subtree *t = subtree_new();
	struct hits h;
	bool rep = true;

	hits_init(&h, 8);
	/* Three members of one group: round robin in subscription order, one call per publish. */
	CHECK_EQ(add(t, "$share/g/a/+", 0, 0, &rep), 0);
	CHECK(!rep);
	add(t, "$share/g/a/+", 1, 0, NULL);
	add(t, "$share/g/a/+", 2, 0, NULL);
	CHECK_EQ(subtree_count(t), 3);
	for (int k = 0; k < 6; k++) {
		match(t, "a/x", &h);
		CHECK_EQ(h.nseq, 1);
		CHECK(h.seq[0] == OWNER(k % 3));
		CHECK_EQ(h.shared[k % 3], 1);
	}
	match(t, "b/x", &h); /* not matched: the cursor does not move */
	CHECK_EQ(h.nseq, 0);
	match(t, "a/y", &h);
	CHECK(h.seq[0] == OWNER(0));

	/* One call per matched group: another group on the same filter, the same group name on
	 * another filter (a different shared subscription), and a plain subscription. */
	add(t, "$share/h/a/+", 3, 0, NULL);
	add(t, "$share/g/a/#", 4, 0, NULL);
	add(t, "a/+", 0, 1, NULL);
	match(t, "a/x", &h);
	CHECK_EQ(h.nseq, 4);
	CHECK_EQ(h.shared[1], 1); /* group g on a/+ moved on to member 1 */
	CHECK_EQ(h.shared[3], 1);
	CHECK_EQ(h.shared[4], 1);
	CHECK_EQ(h.plain[0], 1);
	CHECK_EQ(h.shared[0] + h.shared[2], 0);

	/* Removing the member due next hands its turn to the following one. Cursor is now at 2. */
	CHECK_EQ(del(t, "$share/g/a/+", 2), 0);
	match(t, "a/x", &h);
	CHECK_EQ(h.shared[0], 1);
	/* Removing a member before the cursor keeps the rotation: next is member 1. */
	add(t, "$share/g/a/+", 5, 0, NULL);     /* g on a/+: 0, 1, 5; next = 1 */
	CHECK_EQ(del(t, "$share/g/a/+", 0), 0); /* 1, 5; next = 0 (still owner 1) */
	match(t, "a/x", &h);
	CHECK_EQ(h.shared[1], 1);
	match(t, "a/x", &h);
	CHECK_EQ(h.shared[5], 1);
	match(t, "a/x", &h);
	CHECK_EQ(h.shared[1], 1);
	/* Removing the last member of the cursor's tail wraps it to the front. */
	CHECK_EQ(del(t, "$share/g/a/+", 5), 0); /* next was 1 (owner 5) -> 0 */
	match(t, "a/x", &h);
	CHECK_EQ(h.shared[1], 1);

	/* Errors: a shared subscription is not the plain one, nor another group's. */
	CHECK_EQ(del(t, "a/+", 3), -ENOENT);
	CHECK_EQ(del(t, "$share/x/a/+", 3), -ENOENT);
	CHECK_EQ(del(t, "$share/h/a/#", 3), -ENOENT);
	CHECK_EQ(del(t, "$share/h/a/+", 1), -ENOENT);
	CHECK_EQ(del(t, "$share/h/a/+", 3), 0);
	CHECK_EQ(del(t, "$share/g/a/+", 1), 0);
	CHECK_EQ(del(t, "$share/g/a/#", 4), 0);
	CHECK_EQ(del(t, "a/+", 0), 0);
	CHECK_EQ(subtree_count(t), 0);
	CHECK_EQ(subtree_node_count(t), 1);
	hits_free(&h);
	subtree_free(t);
}

static void test_replace_remove(void)
{
	struct subtree *t = subtree_new();
	struct hits h;
	bool rep = true;

	hits_init(&h, 4);
	CHECK_EQ(add(t, "a/b", 0, 0, &rep), 0);
	CHECK(!rep);
	CHECK_EQ(add(t, "a/b", 1, 1, &rep), 0);
	CHECK(!rep);
	CHECK_EQ(add(t, "a/b", 0, 2, &rep), 0); /* [MQTT-3.8.4-3] */
	CHECK(rep);
	CHECK_EQ(subtree_count(t), 2);
	match(t, "a/b", &h);
	CHECK_EQ(h.nseq, 2);
	CHECK(h.seq[0] == OWNER(0) && h.qos[0] == 2); /* replaced in place */
	CHECK(h.seq[1] == OWNER(1) && h.qos[1] == 1);

	/* Shared: replacing keeps the member's place in the rotation. */
	add(t, "$share/g/s", 0, 0, NULL);
	add(t, "$share/g/s", 1, 0, NULL);
	CHECK_EQ(add(t, "$share/g/s", 0, 1, &rep), 0);
	CHECK(rep);
	CHECK_EQ(subtree_count(t), 4);
	match(t, "s", &h);
	CHECK(h.seq[0] == OWNER(0) && h.qos[0] == 1);
	match(t, "s", &h);
	CHECK(h.seq[0] == OWNER(1));

	CHECK_EQ(del(t, "a", 0), -ENOENT);     /* an inner node, no subscription */
	CHECK_EQ(del(t, "a/b/c", 0), -ENOENT); /* no node */
	CHECK_EQ(del(t, "a/+", 0), -ENOENT);
	CHECK_EQ(del(t, "a/b", 2), -ENOENT); /* another owner */
	CHECK_EQ(del(t, "$share/g/a/b", 0), -ENOENT);
	CHECK_EQ(del(t, "a/b", 0), 0);
	CHECK_EQ(del(t, "a/b", 0), -ENOENT);
	CHECK_EQ(subtree_count(t), 3);
	match(t, "a/b", &h);
	CHECK_EQ(h.nseq, 1);
	CHECK(h.seq[0] == OWNER(1));
	CHECK_EQ(subtree_add(t, U8(""), 0, OWNER(0), &(struct sub_opts){0}, NULL), -EINVAL);
	CHECK_EQ(subtree_remove(t, U8("$share//x"), 9, OWNER(0)), -ENOENT);
	hits_free(&h);
	subtree_free(t);
}

static void test_prune(void)
{
	struct subtree *t = subtree_new();

	add(t, "a/b/c", 0, 0, NULL);
	add(t, "a/b", 0, 0, NULL);
	add(t, "a/+/#", 0, 0, NULL);
	add(t, "$share/g/a/b/c/d", 0, 0, NULL);
	CHECK_EQ(subtree_node_count(t), 7); /* root a b c + # d */
	CHECK_EQ(del(t, "a/b/c", 0), 0);
	CHECK_EQ(subtree_node_count(t), 7); /* c still leads to d */
	CHECK_EQ(del(t, "$share/g/a/b/c/d", 0), 0);
	CHECK_EQ(subtree_node_count(t), 5);
	CHECK_EQ(del(t, "a/+/#", 0), 0);
	CHECK_EQ(subtree_node_count(t), 3); /* a/b is still subscribed */
	CHECK_EQ(del(t, "a/b", 0), 0);
	CHECK_EQ(subtree_node_count(t), 1);
	CHECK_EQ(subtree_count(t), 0);
	/* Nodes kept by someone else's subscription survive. */
	add(t, "x/y", 0, 0, NULL);
	add(t, "x/y", 1, 0, NULL);
	CHECK_EQ(del(t, "x/y", 0), 0);
	CHECK_EQ(subtree_node_count(t), 3);
	subtree_free(t); /* with subscriptions left: ASan checks that all is freed */
}

/* 10,000 subscriptions: a wide node (hash map growth and backward-shift deletion), removal in
 * random order with the survivors checked along the way. */
static void test_many(void)
{
	enum { N = 10000 };
	struct subtree *t = subtree_new();
	size_t *perm = malloc(N * sizeof(*perm));
	bool *gone = calloc(N, sizeof(*gone));
	uint64_t seed = 42;
	struct hits h;
	char f[64];

	hits_init(&h, N + 2);
	for (size_t i = 0; i < N; i++) {
		snprintf(f, sizeof(f), "dev/%zu/temp", i);
		CHECK_EQ(add(t, f, i, 0, NULL), 0);
		perm[i] = i;
	}
	CHECK_EQ(add(t, "dev/+/temp", N, 0, NULL), 0);
	CHECK_EQ(add(t, "dev/#", N + 1, 0, NULL), 0);
	CHECK_EQ(subtree_count(t), N + 2);
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = rnd(&seed) % (i + 1), x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	for (size_t k = 0; k < N; k++) {
		if (k % 1000 == 0) {
			unsigned bad = 0;
			for (size_t i = 0; i < N; i++) {
				snprintf(f, sizeof(f), "dev/%zu/temp", i);
				match(t, f, &h);
				bad += h.nseq != (gone[i] ? 2u : 3u) || h.plain[i] != !gone[i];
			}
			CHECK_EQ(bad, 0);
		}
		snprintf(f, sizeof(f), "dev/%zu/temp", perm[k]);
		CHECK_EQ(del(t, f, perm[k]), 0);
		gone[perm[k]] = true;
	}
	CHECK_EQ(subtree_count(t), 2);
	CHECK_EQ(subtree_node_count(t), 5); /* root dev + temp # */
	CHECK_EQ(del(t, "dev/+/temp", N), 0);
	CHECK_EQ(del(t, "dev/#", N + 1), 0);
	CHECK_EQ(subtree_node_count(t), 1);
	hits_free(&h);
	free(perm);
	free(gone);
	subtree_free(t);
}

/* Topics may have up to 65535 levels: nothing may recurse on depth. */
static void test_deep(void)
{
	enum { LEVELS = 32000 };
	struct subtree *t = subtree_new();
	size_t len = 2 * LEVELS - 1;
	uint8_t *topic = malloc(len), *filter = malloc(len);
	struct sub_opts o = {0};
	struct hits h;

	hits_init(&h, 4);
	for (size_t i = 0; i < len; i++)
		topic[i] = filter[i] = i % 2 ? '/' : 'a';
	CHECK_EQ(subtree_add(t, filter, len, OWNER(0), &o, NULL), 0);
	filter[len - 1] = '+';
	CHECK_EQ(subtree_add(t, filter, len, OWNER(1), &o, NULL), 0);
	filter[len - 1] = '#';
	CHECK_EQ(subtree_add(t, filter, len, OWNER(2), &o, NULL), 0);
	CHECK_EQ(subtree_add(t, U8("+/#"), 3, OWNER(3), &o, NULL), 0);
	hits_reset(&h);
	subtree_match(t, topic, len, on_match, &h);
	CHECK_EQ(h.nseq, 4);
	CHECK_EQ(h.plain[0] + h.plain[1] + h.plain[2] + h.plain[3], 4);
	CHECK_EQ(subtree_remove(t, filter, len, OWNER(2)), 0);
	subtree_free(t); /* deep paths left: freed without recursion */
	hits_free(&h);
	free(topic);
	free(filter);
}

int main(void)
{
	test_table();
	test_dollar();
	test_random();
	test_shared();
	test_replace_remove();
	test_prune();
	test_many();
	test_deep();
	return check_report();
}
