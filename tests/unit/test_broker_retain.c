/* test_broker_retain.c - the retained store: set, replace, clear, reference counts, lookups by
 * filter against mqtt_topic_matches() as an oracle, '$' topics, size and depth.
 *
 * Pruning is checked on the node count, through retain_node_count(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "retain.h"
#include "topic.h"

#define U8(s) ((const uint8_t *)(s))

static struct msg *mk(const char *topic, const char *payload)
{
	return msg_new(U8(topic), (uint16_t)strlen(topic), U8(payload), (uint32_t)strlen(payload),
	               0, true);
}

/* Collects the messages called back. */
struct seen {
	struct msg **m;
	size_t n;
	size_t cap;
};

static void on_msg(void *ctx, struct msg *m)
{
	struct seen *s = ctx;

	if (s->n < s->cap)
		s->m[s->n] = m;
	s->n++;
}

static size_t seen_count(const struct seen *s, const struct msg *m)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n && i < s->cap; i++)
		k += s->m[i] == m;
	return k;
}

static void lookup(struct retain_store *r, const char *filter, struct seen *s)
{
	s->n = 0;
	retain_match(r, U8(filter), strlen(filter), on_msg, s);
}

static void test_set_clear(void)
{
	struct retain_store *r = retain_new();
	struct msg *m1 = mk("a/b", "1"), *m2 = mk("a/b", "2"), *m3 = mk("a/b/c", "3");
	struct msg *clear = mk("a/b", ""), *clear_none = mk("x/y/z", ""), *found[4];
	struct seen s = {found, 0, 4};

	CHECK_EQ(retain_count(r), 0);
	CHECK_EQ(retain_set(r, m1), 0);
	CHECK_EQ(m1->refs, 2); /* the store took its own reference */
	CHECK_EQ(retain_count(r), 1);
	CHECK_EQ(retain_set(r, m1), 0); /* the same message again: still one reference */
	CHECK_EQ(m1->refs, 2);
	CHECK_EQ(retain_set(r, m2), 0); /* [MQTT-3.3.1-5]: replaces */
	CHECK_EQ(m1->refs, 1);
	CHECK_EQ(m2->refs, 2);
	CHECK_EQ(retain_count(r), 1);
	lookup(r, "a/b", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == m2);
	CHECK_EQ(retain_set(r, m3), 0);
	CHECK_EQ(retain_count(r), 2);
	CHECK_EQ(retain_node_count(r), 4);

	/* [MQTT-3.3.1-6]: an empty payload clears, and is not stored. */
	CHECK_EQ(retain_set(r, clear), 0);
	CHECK_EQ(m2->refs, 1);
	CHECK_EQ(clear->refs, 1);
	CHECK_EQ(retain_count(r), 1);
	CHECK_EQ(retain_node_count(r), 4); /* a/b still leads to a/b/c */
	lookup(r, "a/b", &s);
	CHECK_EQ(s.n, 0);
	lookup(r, "a/#", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == m3);
	CHECK_EQ(retain_set(r, clear_none), 0); /* nothing to clear: no nodes made */
	CHECK_EQ(retain_node_count(r), 4);
	CHECK_EQ(retain_set(r, clear), 0);
	CHECK_EQ(retain_count(r), 1);
	struct msg *clear3 = mk("a/b/c", "");
	CHECK_EQ(retain_set(r, clear3), 0);
	CHECK_EQ(m3->refs, 1);
	CHECK_EQ(retain_count(r), 0);
	CHECK_EQ(retain_node_count(r), 1); /* pruned to the root */

	struct msg *empty_topic = mk("", "x");
	CHECK_EQ(retain_set(r, empty_topic), -EINVAL);
	CHECK_EQ(retain_count(r), 0);

	/* retain_free drops the store's references. */
	CHECK_EQ(retain_set(r, m1), 0);
	CHECK_EQ(retain_set(r, m3), 0);
	CHECK_EQ(m1->refs, 2);
	retain_free(r);
	retain_free(NULL);
	CHECK_EQ(m1->refs, 1);
	CHECK_EQ(m3->refs, 1);
	msg_unref(m1);
	msg_unref(m2);
	msg_unref(m3);
	msg_unref(clear);
	msg_unref(clear_none);
	msg_unref(clear3);
	msg_unref(empty_topic);
}

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
        "$x/+",
        "+/$SYS",
        "/#",
        "$",
        "nothing/#",
        "a/b/+/d/#",
};

/* Stores every topic and checks each filter against the oracle: every matching topic's message
 * is called back exactly once, nothing else. */
static void check_oracle(struct retain_store *r, char **topics, size_t nt, char **filters,
                         size_t nf)
{
	struct msg **msgs = calloc(nt, sizeof(*msgs)), **found = calloc(nt + 1, sizeof(*found));
	struct seen s = {found, 0, nt + 1};

	for (size_t i = 0; i < nt; i++) {
		msgs[i] = mk(topics[i], "p");
		CHECK_EQ(retain_set(r, msgs[i]), 0);
	}
	for (size_t j = 0; j < nf; j++) {
		size_t want_n = 0;
		lookup(r, filters[j], &s);
		for (size_t i = 0; i < nt; i++) {
			size_t want = mqtt_topic_matches(U8(filters[j]), strlen(filters[j]),
			                                 U8(topics[i]), strlen(topics[i]));
			size_t got = seen_count(&s, msgs[i]);
			if (got != want)
				fprintf(stderr,
				        "  filter \"%s\" topic \"%s\": %zu calls, want %zu\n",
				        filters[j], topics[i], got, want);
			CHECK_EQ(got, want);
			want_n += want;
		}
		CHECK_EQ(s.n, want_n);
	}
	for (size_t i = 0; i < nt; i++)
		msg_unref(msgs[i]);
	free(msgs);
	free(found);
}

static void test_table(void)
{
	struct retain_store *r = retain_new();
	size_t nt = sizeof(table_topics) / sizeof(table_topics[0]);

	check_oracle(r, (char **)table_topics, nt, (char **)table_filters,
	             sizeof(table_filters) / sizeof(table_filters[0]));
	CHECK_EQ(retain_count(r), nt);
	retain_free(r);
}

/* [MQTT-4.7.2-1] spelled out, besides the oracle. */
static void test_dollar(void)
{
	struct retain_store *r = retain_new();
	struct msg *sys = mk("$SYS/uptime", "1"), *a = mk("a/$x", "2"), *found[4];
	struct seen s = {found, 0, 4};

	retain_set(r, sys);
	retain_set(r, a);
	lookup(r, "#", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == a);
	lookup(r, "+/uptime", &s);
	CHECK_EQ(s.n, 0);
	lookup(r, "+/+", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == a); /* '$' only matters at the first level */
	lookup(r, "$SYS/#", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == sys);
	lookup(r, "$SYS/+", &s);
	CHECK_EQ(s.n, 1);
	retain_free(r);
	msg_unref(sys);
	msg_unref(a);
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
	enum { NT = 600, NF = 600 };
	uint64_t seed = 0x0123456789abcdefull;
	struct retain_store *r = retain_new();
	char **topics = calloc(NT, sizeof(char *)), **filters = calloc(NF, sizeof(char *));

	/* Names repeat (1-5 levels from a small alphabet); keep the distinct ones, as a repeated
	 * name would replace its earlier message. */
	for (size_t i = 0; i < NT; i++)
		topics[i] = random_topic(&seed, false);
	size_t nt = 0;
	for (size_t i = 0; i < NT; i++) {
		bool dup = false;
		for (size_t j = 0; j < nt && !dup; j++)
			dup = strcmp(topics[i], topics[j]) == 0;
		if (dup)
			free(topics[i]);
		else
			topics[nt++] = topics[i];
	}
	for (size_t i = 0; i < NF; i++) {
		filters[i] = random_topic(&seed, true);
		CHECK_EQ(mqtt_topic_filter_valid(U8(filters[i]), strlen(filters[i])), 0);
	}
	check_oracle(r, topics, nt, filters, NF);
	CHECK_EQ(retain_count(r), nt);
	for (size_t i = 0; i < nt; i++) {
		struct msg *c = mk(topics[i], "");
		CHECK_EQ(retain_set(r, c), 0);
		msg_unref(c);
		free(topics[i]);
	}
	CHECK_EQ(retain_count(r), 0);
	CHECK_EQ(retain_node_count(r), 1);
	for (size_t i = 0; i < NF; i++)
		free(filters[i]);
	free(topics);
	free(filters);
	retain_free(r);
}

/* 10,000 topics: wide nodes, wildcard lookups over all of them, clearing in random order. */
static void test_many(void)
{
	enum { N = 10000 };
	struct retain_store *r = retain_new();
	struct msg **msgs = malloc(N * sizeof(*msgs)), **found = malloc(N * sizeof(*found));
	size_t *perm = malloc(N * sizeof(*perm));
	struct seen s = {found, 0, N};
	uint64_t seed = 7;
	char t[64];

	for (size_t i = 0; i < N; i++) {
		snprintf(t, sizeof(t), "dev/%zu/temp", i);
		msgs[i] = mk(t, "21.5");
		CHECK_EQ(retain_set(r, msgs[i]), 0);
		perm[i] = i;
	}
	CHECK_EQ(retain_count(r), N);
	lookup(r, "dev/+/temp", &s);
	CHECK_EQ(s.n, N);
	lookup(r, "#", &s);
	CHECK_EQ(s.n, N);
	lookup(r, "dev/4242/#", &s);
	CHECK_EQ(s.n, 1);
	CHECK(found[0] == msgs[4242]);
	lookup(r, "dev/+/hum", &s);
	CHECK_EQ(s.n, 0);
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = rnd(&seed) % (i + 1), x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	for (size_t k = 0; k < N; k++) {
		size_t i = perm[k];
		if (k == N / 2) {
			unsigned bad = 0;
			lookup(r, "dev/+/temp", &s);
			CHECK_EQ(s.n, N - N / 2);
			for (size_t m = 0; m < N; m++) {
				snprintf(t, sizeof(t), "dev/%zu/temp", m);
				lookup(r, t, &s);
				bad += s.n != (msgs[m]->refs == 2);
			}
			CHECK_EQ(bad, 0);
		}
		snprintf(t, sizeof(t), "dev/%zu/temp", i);
		struct msg *c = mk(t, "");
		CHECK_EQ(retain_set(r, c), 0);
		msg_unref(c);
		CHECK_EQ(msgs[i]->refs, 1);
	}
	CHECK_EQ(retain_count(r), 0);
	CHECK_EQ(retain_node_count(r), 1);
	for (size_t i = 0; i < N; i++)
		msg_unref(msgs[i]);
	free(msgs);
	free(found);
	free(perm);
	retain_free(r);
}

/* Topics may have up to 65535 levels: nothing may recurse on depth. */
static void test_deep(void)
{
	enum { LEVELS = 32000 };
	size_t len = 2 * LEVELS - 1;
	uint8_t *topic = malloc(len), *filter = malloc(len);
	struct retain_store *r = retain_new();
	struct msg *m, *found[2];
	struct seen s = {found, 0, 2};

	for (size_t i = 0; i < len; i++)
		topic[i] = filter[i] = i % 2 ? '/' : 'a';
	m = msg_new(topic, (uint16_t)len, U8("x"), 1, 0, true);
	CHECK_EQ(retain_set(r, m), 0);
	retain_match(r, filter, len, on_msg, &s);
	CHECK_EQ(s.n, 1);
	filter[len - 1] = '+';
	s.n = 0;
	retain_match(r, filter, len, on_msg, &s);
	CHECK_EQ(s.n, 1);
	s.n = 0;
	retain_match(r, U8("a/#"), 3, on_msg, &s);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(retain_node_count(r), LEVELS + 1);
	retain_free(r); /* a deep path left: freed without recursion */
	CHECK_EQ(m->refs, 1);
	msg_unref(m);
	free(topic);
	free(filter);
}

int main(void)
{
	test_set_clear();
	test_table();
	test_dollar();
	test_random();
	test_many();
	test_deep();
	return check_report();
}
