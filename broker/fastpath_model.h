/* fastpath_model.h - the pure part of the kernel fast path's control: per-depth level indices,
 * the userspace copy ("shadow") of the per-level subscriber bitsets fp_exact / fp_wild, the
 * match the kernel computes on them, and the per-topic history of serve generations. No I/O
 * and no broker state: broker/fastpath.c feeds it and writes what changed to the maps.
 *
 * Data model: docs/FASTPATH.md and bpf/common.h. */
#ifndef MQTT_FAST_FASTPATH_MODEL_H
#define MQTT_FAST_FASTPATH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* ---- level indices: (depth, level string) -> index < FP_MAX_INDEX ---- */

#define FP_LEVEL_BUCKETS (2 * FP_MAX_INDEX) /* open addressing, power of two */

struct fp_level_depth {
	char *names[FP_MAX_INDEX]; /* owned copies, NUL-terminated; NULL = free index */
	uint16_t lens[FP_MAX_INDEX];
	bool used[FP_MAX_INDEX];            /* marked since the last fp_levels_sweep */
	uint16_t buckets[FP_LEVEL_BUCKETS]; /* index + 1; 0 = empty */
	uint16_t count;
};

struct fp_levels {
	struct fp_level_depth depth[FP_MAX_LEVELS];
};

/* Returns an owned empty table, or NULL. */
struct fp_levels *fp_levels_new(void);
void fp_levels_free(struct fp_levels *lv); /* NULL is ignored */
/* The index of `name` (len bytes, borrowed) at `depth`, assigning a free one when new; marks it
 * used. 0, -ENOSPC (FP_MAX_INDEX strings at that depth), -ERANGE (depth), -ENOMEM. */
int fp_levels_index(struct fp_levels *lv, unsigned depth, const uint8_t *name, size_t len,
                    uint16_t *out);
/* Frees every index not marked since the previous sweep and clears the marks. Call only once
 * no map entry refers to the unmarked indices any more. */
void fp_levels_sweep(struct fp_levels *lv);

/* ---- the shadow of fp_exact and fp_wild ---- */

struct fp_shadow {
	struct fp_bits exact[FP_MAX_LEVELS * FP_MAX_INDEX];
	struct fp_wild wild[FP_MAX_LEVELS + 1];
};

static inline void fp_bit_set(__u64 *w, unsigned slot)
{
	w[(slot & FP_SLOT_MASK) / 64] |= 1ull << (slot % 64);
}
static inline bool fp_bit_test(const __u64 *w, unsigned slot)
{
	return (w[(slot & FP_SLOT_MASK) / 64] >> (slot % 64)) & 1;
}

/* Adds subscriber `slot`'s filter (len bytes, borrowed, a valid MQTT filter) to the shadow: one
 * bit per level (E or P), plus N at its length or Hc from its '#' depth on. A filter that can
 * never match a fast-path topic ('$' first level, $share, more levels than FP_MAX_LEVELS
 * allows) adds nothing and returns 0. -ENOSPC when a level string finds no index: the filter
 * is then only partly represented, and the caller must not trust the kernel for this slot
 * (fp_shadow_match still tells, since a missing bit only removes matches). */
int fp_shadow_add_filter(struct fp_shadow *sh, struct fp_levels *lv, const uint8_t *filter,
                         size_t len, unsigned slot);
/* What the kernel computes for a topic of `nlevels` levels with indices idx:
 * (N[L] | Hc[L]) & AND over d < L of (E[d][idx_d] | P[d] | Hc[d]). */
void fp_shadow_match(const struct fp_shadow *sh, unsigned nlevels, const uint16_t *idx,
                     struct fp_bits *out);

/* Splits topic name `name` into per-level indices (assigning new ones). 0; -E2BIG when it has
 * more than FP_MAX_LEVELS levels; -EPERM when it starts with '$' (never fast-path, so the
 * first-level wildcard rule [MQTT-4.7.2-1] needs no kernel code); -ENOSPC; -ENOMEM. */
int fp_topic_levels(struct fp_levels *lv, const uint8_t *name, size_t len, uint8_t *nlevels,
                    uint16_t idx[FP_MAX_LEVELS]);

/* ---- serve generations of one topic ---- */

#define FP_GEN_HISTORY 8

struct fp_history {
	struct {
		uint32_t gen;
		struct fp_bits serve;
	} e[FP_GEN_HISTORY];
	unsigned next, count;
};

/* The generation after `gen` (never 0, and distinct from gen in its low 24 bits). */
uint32_t fp_gen_next(uint32_t gen);
/* Records that `serve` (borrowed) was published to the kernel as generation `gen`. */
void fp_history_push(struct fp_history *h, uint32_t gen, const struct fp_bits *serve);
/* The serve set of the generation whose low 24 bits are `mark_gen` (from skb->mark). 0, or
 * -ENOENT when it is older than the history (the caller then serves everyone). */
int fp_history_find(const struct fp_history *h, uint32_t mark_gen, struct fp_bits *out);

#endif
