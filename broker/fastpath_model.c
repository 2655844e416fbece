/* fastpath_model.c - level indices, the shadow bitsets and serve generations
 * (fastpath_model.h). Pure: no I/O, no broker state. */
#include "fastpath_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fp_levels *fp_levels_new(void)
{
	return calloc(1, sizeof(struct fp_levels));
}

void fp_levels_free(struct fp_levels *lv)
{
	if (!lv)
		return;
	for (unsigned d = 0; d < FP_MAX_LEVELS; d++)
		for (unsigned i = 0; i < FP_MAX_INDEX; i++)
			free(lv->depth[d].names[i]);
	free(lv);
}

static uint32_t level_hash(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void bucket_put(struct fp_level_depth *ld, uint16_t index)
{
	size_t b = level_hash((const uint8_t *)ld->names[index], ld->lens[index]) &
	           (FP_LEVEL_BUCKETS - 1);
	while (ld->buckets[b])
		b = (b + 1) & (FP_LEVEL_BUCKETS - 1);
	ld->buckets[b] = (uint16_t)(index + 1);
}

int fp_levels_index(struct fp_levels *lv, unsigned depth, const uint8_t *name, size_t len,
                    uint16_t *out)
{
	if (depth >= FP_MAX_LEVELS)
		return -ERANGE;
	struct fp_level_depth *ld = &lv->depth[depth];
	/* At most FP_MAX_INDEX of FP_LEVEL_BUCKETS buckets are full: the probe ends. */
	for (size_t b = level_hash(name, len) & (FP_LEVEL_BUCKETS - 1);;
	     b = (b + 1) & (FP_LEVEL_BUCKETS - 1)) {
		uint16_t i = ld->buckets[b];
		if (!i)
			break;
		i--;
		if (ld->lens[i] == len && memcmp(ld->names[i], name, len) == 0) {
			ld->used[i] = true;
			*out = i;
			return 0;
		}
	}
	if (ld->count == FP_MAX_INDEX)
		return -ENOSPC;
	uint16_t i = 0;
	while (ld->names[i])
		i++;
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, len);
	copy[len] = '\0';
	ld->names[i] = copy;
	ld->lens[i] = (uint16_t)len;
	ld->used[i] = true;
	ld->count++;
	bucket_put(ld, i);
	*out = i;
	return 0;
}

void fp_levels_sweep(struct fp_levels *lv)
{
	for (unsigned d = 0; d < FP_MAX_LEVELS; d++) {
		struct fp_level_depth *ld = &lv->depth[d];
		memset(ld->buckets, 0, sizeof(ld->buckets));
		for (uint16_t i = 0; i < FP_MAX_INDEX; i++) {
			if (ld->names[i] && !ld->used[i]) {
				free(ld->names[i]);
				ld->names[i] = NULL;
				ld->count--;
			}
			ld->used[i] = false;
			if (ld->names[i])
				bucket_put(ld, i);
		}
	}
}

/* The next level of a topic or filter starting at *pos: its bytes and length; *pos moves past
 * the separator. Returns false at the end. */
static bool next_level(const uint8_t *s, size_t len, size_t *pos, bool *done, const uint8_t **lp,
                       size_t *ll)
{
	if (*done)
		return false;
	const uint8_t *slash = memchr(s + *pos, '/', len - *pos);
	size_t end = slash ? (size_t)(slash - s) : len;
	*lp = s + *pos;
	*ll = end - *pos;
	*done = !slash;
	*pos = end + 1;
	return true;
}

int fp_shadow_add_filter(struct fp_shadow *sh, struct fp_levels *lv, const uint8_t *filter,
                         size_t len, unsigned slot)
{
	/* '$' topics are never fast-path (and $share groups go through userspace). */
	if (len == 0 || filter[0] == '$')
		return 0;
	/* Count the levels first: a filter deeper than any fast-path topic adds nothing. */
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		n += filter[i] == '/';
	bool hash = filter[len - 1] == '#';
	/* "a/#" has '#' at depth n-1 and matches topics of n-1 levels and more [MQTT-4.7.1-2];
	 * a filter without '#' matches exactly n levels. */
	if ((hash && n - 1 > FP_MAX_LEVELS) || (!hash && n > FP_MAX_LEVELS))
		return 0;
	size_t pos = 0;
	bool done = false;
	const uint8_t *lp;
	size_t ll;
	int rc = 0;
	for (unsigned d = 0; next_level(filter, len, &pos, &done, &lp, &ll); d++) {
		if (ll == 1 && lp[0] == '#') {
			for (unsigned k = d; k <= FP_MAX_LEVELS; k++)
				fp_bit_set(sh->wild[k].hash_cum, slot);
			return rc;
		}
		if (ll == 1 && lp[0] == '+') {
			fp_bit_set(sh->wild[d].plus, slot);
			continue;
		}
		uint16_t idx;
		int err = fp_levels_index(lv, d, lp, ll, &idx);
		if (err < 0) {
			rc = err; /* this level matches nothing in the kernel: fewer matches */
			continue;
		}
		fp_bit_set(sh->exact[d * FP_MAX_INDEX + idx].w, slot);
	}
	fp_bit_set(sh->wild[n].ends, slot);
	return rc;
}

void fp_shadow_match(const struct fp_shadow *sh, unsigned nlevels, const uint16_t *idx,
                     struct fp_bits *out)
{
	if (nlevels == 0 || nlevels > FP_MAX_LEVELS) {
		memset(out, 0, sizeof(*out));
		return;
	}
	for (unsigned w = 0; w < FP_SUB_WORDS; w++)
		out->w[w] = sh->wild[nlevels].ends[w] | sh->wild[nlevels].hash_cum[w];
	for (unsigned d = 0; d < nlevels; d++) {
		const struct fp_bits *e = &sh->exact[d * FP_MAX_INDEX + (idx[d] % FP_MAX_INDEX)];
		for (unsigned w = 0; w < FP_SUB_WORDS; w++)
			out->w[w] &= e->w[w] | sh->wild[d].plus[w] | sh->wild[d].hash_cum[w];
	}
}

int fp_topic_levels(struct fp_levels *lv, const uint8_t *name, size_t len, uint8_t *nlevels,
                    uint16_t idx[FP_MAX_LEVELS])
{
	if (len == 0 || name[0] == '$')
		return -EPERM;
	size_t pos = 0;
	bool done = false;
	const uint8_t *lp;
	size_t ll;
	unsigned d = 0;
	for (; next_level(name, len, &pos, &done, &lp, &ll); d++) {
		if (d == FP_MAX_LEVELS)
			return -E2BIG;
		int rc = fp_levels_index(lv, d, lp, ll, &idx[d]);
		if (rc < 0)
			return rc;
	}
	*nlevels = (uint8_t)d;
	return 0;
}

uint32_t fp_gen_next(uint32_t gen)
{
	gen++;
	if ((gen & FP_MARK_GEN_MASK) == 0)
		gen++;
	return gen;
}

void fp_history_push(struct fp_history *h, uint32_t gen, const struct fp_bits *serve)
{
	h->e[h->next].gen = gen;
	h->e[h->next].serve = *serve;
	h->next = (h->next + 1) % FP_GEN_HISTORY;
	if (h->count < FP_GEN_HISTORY)
		h->count++;
}

int fp_history_find(const struct fp_history *h, uint32_t mark_gen, struct fp_bits *out)
{
	for (unsigned i = 0; i < h->count; i++) {
		if ((h->e[i].gen & FP_MARK_GEN_MASK) == (mark_gen & FP_MARK_GEN_MASK)) {
			*out = h->e[i].serve;
			return 0;
		}
	}
	return -ENOENT;
}
