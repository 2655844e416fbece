/* levelmap.c - the per-node map of child levels (see levelmap.h): SipHash-1-3 of the level
 * string with a per-tree seed, open addressing with linear probing, load factor at most 3/4,
 * backward-shift deletion. */
#include "levelmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAP_MIN_CAP 4u

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

uint32_t levelmap_hash(const uint64_t seed[2], const uint8_t *p, size_t len)
{
	uint64_t v[4] = {seed[0] ^ 0x736f6d6570736575ull, seed[1] ^ 0x646f72616e646f6dull,
	                 seed[0] ^ 0x6c7967656e657261ull, seed[1] ^ 0x7465646279746573ull};
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

void levelmap_seed_init(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(seed[0]), GRND_NONBLOCK) == 2 * sizeof(seed[0]))
		return;
	/* No entropy yet (early boot): still differs per process and per tree. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)seed;
	seed[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ (uint64_t)getpid();
}

/* ---- the map ---- */

static bool key_eq(const struct levelmap_entry *e, const uint8_t *p, size_t len, uint32_t hash)
{
	return e->hash == hash && e->len == len && (len == 0 || memcmp(e->key, p, len) == 0);
}

struct levelmap_entry *levelmap_get(const struct levelmap *m, const uint8_t *p, size_t len,
                                    uint32_t hash)
{
	if (!m->slot)
		return NULL;
	/* Terminates: the load factor stays below 3/4, so an empty slot exists. */
	for (uint32_t i = hash & m->mask;; i = (i + 1) & m->mask) {
		struct levelmap_entry *e = m->slot[i];
		if (!e || key_eq(e, p, len, hash))
			return e;
	}
}

static void place(struct levelmap_entry **slot, uint32_t mask, struct levelmap_entry *e)
{
	uint32_t i = e->hash & mask;

	while (slot[i])
		i = (i + 1) & mask;
	slot[i] = e;
}

int levelmap_reserve(struct levelmap *m)
{
	uint32_t cap = m->slot ? m->mask + 1 : 0;

	if (m->slot && (m->n + 1) * 4 <= cap * 3)
		return 0;
	if (cap > UINT32_MAX / 4)
		return -ENOMEM;
	uint32_t ncap = cap ? cap * 2 : MAP_MIN_CAP;
	struct levelmap_entry **slot = calloc(ncap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		if (m->slot[i])
			place(slot, ncap - 1, m->slot[i]);
	free(m->slot);
	m->slot = slot;
	m->mask = ncap - 1;
	return 0;
}

void levelmap_put(struct levelmap *m, struct levelmap_entry *e)
{
	place(m->slot, m->mask, e);
	m->n++;
}

void levelmap_del(struct levelmap *m, const struct levelmap_entry *e)
{
	uint32_t i = e->hash & m->mask, j;

	while (m->slot[i] != e)
		i = (i + 1) & m->mask;
	for (j = (i + 1) & m->mask; m->slot[j]; j = (j + 1) & m->mask) {
		uint32_t home = m->slot[j]->hash & m->mask;
		/* Entry j may move back to the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i] = NULL;
	if (--m->n == 0)
		levelmap_release(m);
}

struct levelmap_entry *levelmap_next(const struct levelmap *m, uint32_t *i)
{
	/* The capacity is at most 2^31 (levelmap_reserve), so *i <= mask cannot wrap. */
	while (m->n && *i <= m->mask) {
		struct levelmap_entry *e = m->slot[(*i)++];
		if (e)
			return e;
	}
	return NULL;
}

void levelmap_release(struct levelmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->mask = 0;
	m->n = 0;
}
