/* test_broker_fastpath_model.c - the pure logic of the fast-path control: level indices, the
 * per-level bitsets and the match the kernel computes on them (against mqtt_topic_matches as
 * the oracle), and serve-generation history. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fastpath_model.h"
#include "topic.h"

#define S(s) (const uint8_t *)(s), strlen(s)

static void test_level_indices(void)
{
	struct fp_levels *lv = fp_levels_new();
	uint16_t a, b, again, other_depth;
	CHECK_EQ(fp_levels_index(lv, 0, S("sensors"), &a), 0);
	CHECK_EQ(fp_levels_index(lv, 0, S("actuators"), &b), 0);
	CHECK(a != b);
	CHECK_EQ(fp_levels_index(lv, 0, S("sensors"), &again), 0);
	CHECK_EQ(again, a);
	/* Indices are per depth: the same string at depth 1 is independent. */
	CHECK_EQ(fp_levels_index(lv, 1, S("sensors"), &other_depth), 0);
	CHECK(other_depth < FP_MAX_INDEX);
	CHECK_EQ(fp_levels_index(lv, FP_MAX_LEVELS, S("x"), &a), -ERANGE);
	/* Empty levels ("a//b") are level strings too. */
	CHECK_EQ(fp_levels_index(lv, 2, S(""), &a), 0);

	/* A sweep frees what was not used since the previous one; used ones keep their index. */
	fp_levels_sweep(lv); /* clears every mark */
	CHECK_EQ(fp_levels_index(lv, 0, S("sensors"), &again), 0);
	fp_levels_sweep(lv); /* frees "actuators", keeps "sensors" */
	uint16_t s2;
	CHECK_EQ(fp_levels_index(lv, 0, S("sensors"), &s2), 0);
	CHECK_EQ(s2, again);
	CHECK_EQ(lv->depth[0].count, 1);
	fp_levels_free(lv);
}

static void test_level_exhaustion(void)
{
	struct fp_levels *lv = fp_levels_new();
	char name[16];
	uint16_t idx = 0;
	int err = 0;
	for (int i = 0; i < FP_MAX_INDEX && err == 0; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		err = fp_levels_index(lv, 3, S(name), &idx);
	}
	CHECK_EQ(err, 0);
	CHECK_EQ(idx, FP_MAX_INDEX - 1);
	CHECK_EQ(fp_levels_index(lv, 3, S("one-too-many"), &idx), -ENOSPC);
	CHECK_EQ(fp_levels_index(lv, 3, S("l17"), &idx), 0); /* known strings still resolve */
	CHECK_EQ(idx, 17);
	fp_levels_free(lv);
}

static void test_topic_levels(void)
{
	struct fp_levels *lv = fp_levels_new();
	uint8_t n = 0;
	uint16_t idx[FP_MAX_LEVELS], idx2[FP_MAX_LEVELS];
	CHECK_EQ(fp_topic_levels(lv, S("sensors/kitchen/temp"), &n, idx), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(fp_topic_levels(lv, S("sensors/hall/temp"), &n, idx2), 0);
	CHECK_EQ(idx[0], idx2[0]);
	CHECK(idx[1] != idx2[1]);
	CHECK_EQ(idx[2], idx2[2]);
	CHECK_EQ(fp_topic_levels(lv, S("$SYS/broker"), &n, idx), -EPERM);
	CHECK_EQ(fp_topic_levels(lv, S("a/b/c/d/e/f/g/h"), &n, idx), 0);
	CHECK_EQ(n, 8);
	CHECK_EQ(fp_topic_levels(lv, S("a/b/c/d/e/f/g/h/i"), &n, idx), -E2BIG);
	fp_levels_free(lv);
}

/* The kernel's match for topic `t` on a shadow. */
static bool kernel_matches(struct fp_shadow *sh, struct fp_levels *lv, const char *t, unsigned slot)
{
	uint8_t n;
	uint16_t idx[FP_MAX_LEVELS];
	struct fp_bits m;
	if (fp_topic_levels(lv, S(t), &n, idx) < 0)
		return false;
	fp_shadow_match(sh, n, idx, &m);
	return fp_bit_test(m.w, slot);
}

static const char *const filters[] = {
        "#",
        "+",
        "a",
        "a/#",
        "a/+",
        "+/b",
        "a/b",
        "a/b/#",
        "+/+",
        "a/+/c",
        "+/b/#",
        "a/b/c",
        "b/#",
        "+/#",
        "a//c",
        "/#",
        "a/b/c/d/e/f/g/h",
        "a/b/c/d/e/f/g/h/#",
        "+/+/+/+/+/+/+/+",
        "a/b/c/d/e/f/g/h/i",
        "$SYS/#",
};
static const char *const topics[] = {
        "a",
        "b",
        "a/b",
        "a/c",
        "b/b",
        "a/b/c",
        "a/x/c",
        "x/b/y",
        "a//c",
        "/a",
        "a/b/c/d/e/f/g/h",
        "a/b/c/d/e/f/g/x",
        "x",
};

/* One filter per slot: the kernel's answer equals MQTT matching, for every pair. */
static void test_match_equals_mqtt(void)
{
	struct fp_levels *lv = fp_levels_new();
	struct fp_shadow *sh = calloc(1, sizeof(*sh));
	size_t nf = sizeof(filters) / sizeof(filters[0]);
	for (size_t f = 0; f < nf; f++)
		CHECK_EQ(fp_shadow_add_filter(sh, lv, S(filters[f]), (unsigned)f), 0);
	for (size_t t = 0; t < sizeof(topics) / sizeof(topics[0]); t++) {
		for (size_t f = 0; f < nf; f++) {
			bool want = mqtt_topic_matches(S(filters[f]), S(topics[t]));
			bool got = kernel_matches(sh, lv, topics[t], (unsigned)f);
			if (want != got)
				fprintf(stderr, "filter %s topic %s: kernel %d mqtt %d\n",
				        filters[f], topics[t], got, want);
			CHECK_EQ(got, want);
		}
	}
	free(sh);
	fp_levels_free(lv);
}

/* Several filters on one slot may over-approximate ("a/b" + "c/d" lets "a/d" through), never
 * under-approximate: that is why serve sets come from userspace matching. */
static void test_match_never_misses(void)
{
	struct fp_levels *lv = fp_levels_new();
	struct fp_shadow *sh = calloc(1, sizeof(*sh));
	CHECK_EQ(fp_shadow_add_filter(sh, lv, S("a/b"), 5), 0);
	CHECK_EQ(fp_shadow_add_filter(sh, lv, S("c/d"), 5), 0);
	CHECK(kernel_matches(sh, lv, "a/b", 5));
	CHECK(kernel_matches(sh, lv, "c/d", 5));
	CHECK(kernel_matches(sh, lv, "a/d", 5));  /* the documented over-approximation */
	CHECK(!kernel_matches(sh, lv, "a/b", 6)); /* other slots untouched */
	CHECK(!kernel_matches(sh, lv, "a/b/c", 5));
	/* High slots use the last word of the bitset. */
	CHECK_EQ(fp_shadow_add_filter(sh, lv, S("z/+"), FP_MAX_SUBS - 1), 0);
	CHECK(kernel_matches(sh, lv, "z/q", FP_MAX_SUBS - 1));
	CHECK(!kernel_matches(sh, lv, "z", FP_MAX_SUBS - 1));
	free(sh);
	fp_levels_free(lv);
}

static void test_filter_without_index(void)
{
	struct fp_levels *lv = fp_levels_new();
	struct fp_shadow *sh = calloc(1, sizeof(*sh));
	char name[16];
	uint16_t idx;
	for (int i = 0; i < FP_MAX_INDEX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		(void)fp_levels_index(lv, 1, S(name), &idx);
	}
	/* No index left for "full" at depth 1: reported, and the kernel misses the filter
	 * rather than matching something it should not. */
	CHECK_EQ(fp_shadow_add_filter(sh, lv, S("a/full"), 1), -ENOSPC);
	CHECK(!kernel_matches(sh, lv, "a/n3", 1));
	free(sh);
	fp_levels_free(lv);
}

static void test_history(void)
{
	struct fp_history h = {0};
	struct fp_bits s = {0}, out;
	uint32_t gen = 0;
	for (unsigned i = 0; i < FP_GEN_HISTORY + 3; i++) {
		gen = fp_gen_next(gen);
		memset(&s, 0, sizeof(s));
		fp_bit_set(s.w, i);
		fp_history_push(&h, gen, &s);
	}
	/* The newest FP_GEN_HISTORY generations are found with their own serve set. */
	CHECK_EQ(fp_history_find(&h, gen & FP_MARK_GEN_MASK, &out), 0);
	CHECK(fp_bit_test(out.w, FP_GEN_HISTORY + 2));
	CHECK(!fp_bit_test(out.w, FP_GEN_HISTORY + 1));
	CHECK_EQ(fp_history_find(&h, gen - (FP_GEN_HISTORY - 1), &out), 0);
	CHECK(fp_bit_test(out.w, 3));
	/* Older ones are gone: the caller then serves everyone. */
	CHECK_EQ(fp_history_find(&h, gen - FP_GEN_HISTORY, &out), -ENOENT);
	/* Generations never have 0 in the 24 bits the mark carries. */
	CHECK_EQ(fp_gen_next(0), 1);
	CHECK_EQ(fp_gen_next(FP_MARK_GEN_MASK) & FP_MARK_GEN_MASK, 1);
	/* A mark compares on its low 24 bits only. */
	struct fp_history h2 = {0};
	fp_history_push(&h2, 0x01000005u, &s);
	CHECK_EQ(fp_history_find(&h2, 5, &out), 0);
}

int main(void)
{
	test_level_indices();
	test_level_exhaustion();
	test_topic_levels();
	test_match_equals_mqtt();
	test_match_never_misses();
	test_filter_without_index();
	test_history();
	return check_report();
}
