/* test_topic.c - topic name/filter validation, matching, shared subscriptions, levels. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "topic.h"

#define U8(s) ((const uint8_t *)(s))

struct match_case {
	const char *filter;
	const char *name;
	bool match;
};

/* MQTT 5.0 §4.7.1.2 (multi-level), §4.7.1.3 (single-level), §4.7.2 ($-topics) and edge cases. */
static const struct match_case match_cases[] = {
        /* §4.7.1.2 non-normative examples. */
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"#", "sport", true},
        {"#", "sport/tennis/player1", true},
        {"#", "/", true},
        {"#", "/finance", true},
        /* §4.7.1.3 non-normative examples. */
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player2", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+/tennis/#", "sport/tennis", true},
        {"+/tennis/#", "sport/tennis/player1", true},
        {"+/tennis/#", "sport/football/player1", false},
        {"sport/+/player1", "sport/tennis/player1", true},
        {"sport/+/player1", "sport//player1", true},
        {"sport/+/player1", "sport/player1", false},
        /* §4.7.2: '$' topics and wildcards at the first level [MQTT-4.7.2-1]. */
        {"#", "$SYS/monitor/Clients", false},
        {"#", "$SYS", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"+", "$SYS", false},
        {"$SYS/#", "$SYS/monitor/Clients", true},
        {"$SYS/#", "$SYS/x", true},
        {"$SYS/#", "$SYS", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"$SYS/+", "$SYS/x", true},
        {"$SYS", "$SYS", true},
        {"a/$b", "a/$b", true},
        {"a/+", "a/$b", true}, /* '$' only matters at the first level */
        {"a/#", "a/$b/c", true},
        /* Exact matches and case sensitivity (§4.7.3). */
        {"sport", "sport", true},
        {"sport", "Sport", false},
        {"sport", "sports", false},
        {"sports", "sport", false},
        {"sport/tennis", "sport/tennis/", false},
        {"sport/tennis/", "sport/tennis/", true},
        {"sport/tennis/", "sport/tennis", false},
        {"ACCOUNTS", "Accounts", false},
        {"a b", "a b", true},
        {"a/b", "a/c", false},
        {"a/b", "a", false},
        {"a", "a/b", false},
        /* Empty levels and a leading '/'. */
        {"/", "/", true},
        {"//", "//", true},
        {"/", "//", false},
        {"+", "/", false},
        {"+/+", "/", true},
        {"+/+/+", "//", true},
        {"+//+", "a//b", true},
        {"+//+", "a/x/b", false},
        {"/finance", "/finance", true},
        {"/finance", "finance", false},
        {"finance", "/finance", false},
        {"/#", "/finance", true},
        {"/#", "finance", false},
        {"/#", "/", true},
        {"a/#", "a/", true},
        {"a/#", "a//", true},
        {"a/+/#", "a/b", true},
        {"a/+/#", "a", false},
        {"a/+/#", "a/", true},
        {"+/#", "a", true},
        {"+/#", "/", true},
        {"#", "a", true},
        {"a/+", "a/b/", false},
        {"a/+/", "a/b/", true},
        {"+", "a", true},
        {"+", "", false},
        /* Wildcards only as whole levels: '+' and '#' in the middle compare as text never arise
	 * for valid inputs, but long levels still compare fully. */
        {"abcdefghij/klmnopqrst", "abcdefghij/klmnopqrsT", false},
        {"abcdefghij/klmnopqrst", "abcdefghij/klmnopqrst", true},
        /* UTF-8 is compared byte for byte. */
        {"caf\xc3\xa9/+", "caf\xc3\xa9/x", true},
        {"caf\xc3\xa9", "cafe", false},
};

static void test_matches(void)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		bool got = mqtt_topic_matches(U8(c->filter), strlen(c->filter), U8(c->name),
		                              strlen(c->name));
		if (got != c->match)
			fprintf(stderr, "match case %zu: \"%s\" vs \"%s\": got %d\n", i, c->filter,
			        c->name, got);
		CHECK(got == c->match);
	}
}

struct valid_case {
	const char *s;
	size_t len; /* 0: strlen(s) */
	bool valid;
};

static size_t case_len(const struct valid_case *c)
{
	return c->len ? c->len : strlen(c->s);
}

static const struct valid_case name_cases[] = {
        {"sport", 0, true},       {"sport/tennis/player1", 0, true},
        {"/", 0, true},           {"//", 0, true},
        {"/finance", 0, true},    {"finance/", 0, true},
        {"a//b", 0, true},        {" ", 0, true},
        {"a b/c d", 0, true},     {"$SYS/monitor/Clients", 0, true},
        {"$share/g/t", 0, true}, /* a name, not a subscription: nothing special */
        {"caf\xc3\xa9", 0, true}, {"\xef\xbb\xbf", 0, true}, /* BOM [MQTT-1.5.4-3] */
        {"", 0, false},                                      /* [MQTT-4.7.3-1] */
        {"+", 0, false},                                     /* [MQTT-3.3.2-2] */
        {"#", 0, false},          {"sport/+", 0, false},
        {"sport/#", 0, false},    {"sport+", 0, false},
        {"sp#ort", 0, false},     {"a/+/b", 0, false},
        {"a\0b", 3, false}, /* [MQTT-4.7.3-2] */
        {"\0", 1, false},         {"a/\0", 3, false},
};

static const struct valid_case filter_cases[] = {
        {"sport", 0, true},
        {"sport/tennis/player1/#", 0, true},
        {"sport/#", 0, true},
        {"#", 0, true},
        {"+", 0, true},
        {"+/tennis/#", 0, true},
        {"sport/+/player1", 0, true},
        {"+/+", 0, true},
        {"/+", 0, true},
        {"/", 0, true},
        {"//", 0, true},
        {"/#", 0, true},
        {"+/#", 0, true},
        {"$SYS/#", 0, true},
        {"$share", 0, true},      /* no '/': an ordinary filter */
        {"$sharex/g/t", 0, true}, /* not the prefix */
        {"a/$share/g/t", 0, true},
        {"", 0, false},              /* [MQTT-4.7.3-1] */
        {"sport/tennis#", 0, false}, /* [MQTT-4.7.1-1] */
        {"sport/tennis/#/ranking", 0, false},
        {"#/", 0, false},
        {"##", 0, false},
        {"a/#/", 0, false},
        {"sport+", 0, false}, /* [MQTT-4.7.1-2] */
        {"+sport", 0, false},
        {"sport/+tennis", 0, false},
        {"++", 0, false},
        {"a/++/b", 0, false},
        {"+#", 0, false},
        {"a\0b", 3, false}, /* [MQTT-4.7.3-2] */
        {"+/\0", 3, false},
        /* Shared subscriptions [MQTT-4.8.2-1, MQTT-4.8.2-2]. */
        {"$share/g/t", 0, true},
        {"$share/group/sport/#", 0, true},
        {"$share/g/#", 0, true},
        {"$share/g/+", 0, true},
        {"$share/g//", 0, true},
        {"$share/g/$SYS/#", 0, true},
        {"$share/", 0, false},
        {"$share//t", 0, false},
        {"$share/g", 0, false},
        {"$share/g/", 0, false},
        {"$share/+/t", 0, false},
        {"$share/#/t", 0, false},
        {"$share/g+/t", 0, false},
        {"$share/g#/t", 0, false},
        {"$share/g/t#", 0, false},
        {"$share/g/a+/b", 0, false},
};

static void test_validity(const struct valid_case *cases, size_t n, bool filter)
{
	for (size_t i = 0; i < n; i++) {
		const struct valid_case *c = &cases[i];
		size_t len = case_len(c);
		int err = filter ? mqtt_topic_filter_valid(U8(c->s), len)
		                 : mqtt_topic_name_valid(U8(c->s), len);
		if ((err == 0) != c->valid)
			fprintf(stderr, "%s case %zu \"%s\": got %d\n", filter ? "filter" : "name",
			        i, c->s, err);
		CHECK_EQ(err, c->valid ? 0 : -EINVAL);
	}
}

static void test_length_limits(void)
{
	static uint8_t big[65536];

	memset(big, 'a', sizeof(big));
	CHECK_EQ(mqtt_topic_name_valid(big, 65535), 0);
	CHECK_EQ(mqtt_topic_name_valid(big, 65536), -EINVAL);
	CHECK_EQ(mqtt_topic_filter_valid(big, 65535), 0);
	CHECK_EQ(mqtt_topic_filter_valid(big, 65536), -EINVAL);
	CHECK(mqtt_topic_matches(big, 65535, big, 65535));
	CHECK(!mqtt_topic_matches(big, 65535, big, 65534));

	/* 32768 empty levels: matching and counting stay linear, with no recursion. */
	memset(big, '/', 65535);
	CHECK_EQ(mqtt_topic_level_count(big, 65535), 65536);
	CHECK(mqtt_topic_matches(big, 65535, big, 65535));
	for (size_t i = 0; i < 65535; i += 2)
		big[i] = '+';
	CHECK_EQ(mqtt_topic_filter_valid(big, 65535), 0);
	CHECK(!mqtt_topic_matches(big, 65535, U8("/"), 1));
	big[65534] = '#';
	CHECK_EQ(mqtt_topic_filter_valid(big, 65535), 0);
}

static void test_shared_split(void)
{
	struct mqtt_str g = {0}, f = {0};
	const char *s;

	s = "$share/consumer1/sport/tennis/+";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 1);
	CHECK_STR(g, "consumer1");
	CHECK_STR(f, "sport/tennis/+");
	CHECK(g.p == U8(s) + 7); /* views into the input */
	CHECK(f.p == U8(s) + 17);

	s = "$share/g/#";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 1);
	CHECK_STR(g, "g");
	CHECK_STR(f, "#");

	s = "$share/g//";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 1);
	CHECK_STR(f, "/");

	/* Ordinary filters: 0, outputs untouched. */
	g.len = 99;
	s = "sport/#";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 0);
	CHECK_EQ(g.len, 99);
	s = "$share";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 0);
	s = "$SHARE/g/t"; /* the prefix is case-sensitive */
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 0);
	s = "$shar";
	CHECK_EQ(mqtt_topic_shared_split(U8(s), strlen(s), &g, &f), 0);
	CHECK_EQ(mqtt_topic_shared_split(U8(""), 0, &g, &f), 0);

	/* Malformed shared forms [MQTT-4.8.2-1, MQTT-4.8.2-2]. */
	static const char *const bad[] = {
	        "$share/",    "$share//t",   "$share/g",       "$share/g/",
	        "$share/+/t", "$share/a#/t", "$share/g/a/#/b", "$share/g/+x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(mqtt_topic_shared_split(U8(bad[i]), strlen(bad[i]), &g, &f), -EINVAL);
	CHECK_EQ(mqtt_topic_shared_split(U8("$share/g\0/t"), 11, &g, &f), -EINVAL);
}

/* Collects the levels of `t` joined with '|' for comparison. */
static size_t levels_joined(const char *t, char *out, size_t cap)
{
	size_t cursor = 0, n = 0, count = 0;
	struct mqtt_str lv;

	while (mqtt_topic_next_level(U8(t), strlen(t), &cursor, &lv)) {
		if (count++)
			out[n++] = '|';
		if (n + lv.len + 2 > cap)
			break;
		memcpy(out + n, lv.p, lv.len);
		n += lv.len;
	}
	out[n] = '\0';
	return count;
}

static void test_levels(void)
{
	static const struct {
		const char *t;
		size_t count;
		const char *joined;
	} cases[] = {
	        {"", 0, ""},
	        {"a", 1, "a"},
	        {"/", 2, "|"},
	        {"//", 3, "||"},
	        {"a//b", 3, "a||b"},
	        {"/finance", 2, "|finance"},
	        {"finance/", 2, "finance|"},
	        {"sport/tennis/player1", 3, "sport|tennis|player1"},
	        {"$share/g/#", 3, "$share|g|#"},
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t t_len = strlen(cases[i].t);
		CHECK_EQ(mqtt_topic_level_count(U8(cases[i].t), t_len), cases[i].count);
		CHECK_EQ(levels_joined(cases[i].t, buf, sizeof(buf)), cases[i].count);
		CHECK_STR(((struct mqtt_str){U8(buf), (uint16_t)strlen(buf)}), cases[i].joined);
	}

	/* Level views point into the input; the cursor stays at the end once reached. */
	const char *t = "ab/c";
	size_t cursor = 0;
	struct mqtt_str lv;
	CHECK_EQ(mqtt_topic_next_level(U8(t), 4, &cursor, &lv), 1);
	CHECK(lv.p == U8(t));
	CHECK_EQ(lv.len, 2);
	CHECK_EQ(mqtt_topic_next_level(U8(t), 4, &cursor, &lv), 1);
	CHECK(lv.p == U8(t) + 3);
	CHECK_EQ(lv.len, 1);
	CHECK_EQ(mqtt_topic_next_level(U8(t), 4, &cursor, &lv), 0);
	CHECK_EQ(mqtt_topic_next_level(U8(t), 4, &cursor, &lv), 0);
}

/* ---- Randomized comparison with a reference written differently: split into level arrays,
 * then compare level lists as a whole. Small alphabet so that wildcards and '$' are frequent. */

#define REF_MAX 16

struct ref_levels {
	struct mqtt_str lv[REF_MAX + 1];
	size_t n;
};

static void ref_split(const uint8_t *t, size_t len, struct ref_levels *out)
{
	size_t start = 0;

	out->n = 0;
	if (len == 0)
		return;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || t[i] == '/') {
			out->lv[out->n].p = t + start;
			out->lv[out->n].len = (uint16_t)(i - start);
			out->n++;
			start = i + 1;
		}
	}
}

static bool ref_is(struct mqtt_str l, char c)
{
	return l.len == 1 && l.p[0] == (uint8_t)c;
}

static bool ref_matches(const uint8_t *f, size_t flen, const uint8_t *n, size_t nlen)
{
	struct ref_levels fl, nl;
	size_t k;

	ref_split(f, flen, &fl);
	ref_split(n, nlen, &nl);
	if (nlen && n[0] == '$' && (ref_is(fl.lv[0], '+') || ref_is(fl.lv[0], '#')))
		return false;
	bool multi = fl.n && ref_is(fl.lv[fl.n - 1], '#');
	k = multi ? fl.n - 1 : fl.n; /* levels that must pair up one to one */
	if (multi ? nl.n < k : nl.n != k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (!ref_is(fl.lv[i], '+') && !(fl.lv[i].len == nl.lv[i].len &&
		                                memcmp(fl.lv[i].p, nl.lv[i].p, fl.lv[i].len) == 0))
			return false;
	return true;
}

static bool ref_filter_valid(const uint8_t *f, size_t len)
{
	struct ref_levels fl;

	ref_split(f, len, &fl);
	for (size_t i = 0; i < fl.n; i++) {
		bool wild = memchr(fl.lv[i].p, '+', fl.lv[i].len) ||
		            memchr(fl.lv[i].p, '#', fl.lv[i].len);
		if (wild && fl.lv[i].len != 1)
			return false;
		if (ref_is(fl.lv[i], '#') && i != fl.n - 1)
			return false;
	}
	return len > 0;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t random_topic(uint32_t *seed, uint8_t *out)
{
	static const char alphabet[] = "ab//+#$";
	size_t len = xorshift(seed) % 9;

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)alphabet[xorshift(seed) % (sizeof(alphabet) - 1)];
	return len;
}

static void test_random_vs_reference(void)
{
	uint32_t seed = 0x12345678;
	unsigned bad = 0, matched = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		uint8_t f[8], n[8];
		size_t flen = random_topic(&seed, f), nlen = random_topic(&seed, n);
		bool fvalid = mqtt_topic_filter_valid(f, flen) == 0;
		bool nvalid = mqtt_topic_name_valid(n, nlen) == 0;
		bool want_nvalid = nlen > 0 && !memchr(n, '+', nlen) && !memchr(n, '#', nlen);

		if (fvalid != ref_filter_valid(f, flen) || nvalid != want_nvalid) {
			bad++;
			continue;
		}
		if (!fvalid || !nvalid)
			continue;
		bool got = mqtt_topic_matches(f, flen, n, nlen);
		if (got != ref_matches(f, flen, n, nlen)) {
			fprintf(stderr, "random: \"%.*s\" vs \"%.*s\": got %d\n", (int)flen,
			        (const char *)f, (int)nlen, (const char *)n, got);
			bad++;
		}
		matched += got;
	}
	CHECK_EQ(bad, 0);
	CHECK(matched > 1000); /* the generator does produce matches */
}

int main(void)
{
	test_matches();
	test_validity(name_cases, sizeof(name_cases) / sizeof(name_cases[0]), false);
	test_validity(filter_cases, sizeof(filter_cases) / sizeof(filter_cases[0]), true);
	test_length_limits();
	test_shared_split();
	test_levels();
	test_random_vs_reference();
	return check_report();
}
