/* levelmap.h - the per-node map of child levels shared by the subscription tree and the
 * retained store: level string -> child node, open addressing with linear probing and
 * backward-shift deletion, keyed by SipHash-1-3 with a random per-tree seed (level strings come
 * from clients, so the hash must not be predictable).
 *
 * The map is intrusive: each value (a tree node) embeds a struct levelmap_entry that holds its
 * key, and the map stores pointers to those entries. levelmap_value() turns an entry back into
 * its node. The map owns only its slot array; entries, their nodes and their key bytes stay owned
 * by the caller. A zeroed struct levelmap is an empty map. Nothing here does I/O. */
#ifndef MQTT_FAST_LEVELMAP_H
#define MQTT_FAST_LEVELMAP_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in every value put in a map. Set key, len and hash before levelmap_put() and leave
 * them unchanged while the entry is in a map. */
struct levelmap_entry {
	const uint8_t *key; /* the level bytes, owned by the value (usually its own tail) */
	uint32_t hash;      /* levelmap_hash() of the key with the map's seed */
	uint16_t len;       /* key length */
};

/* Map of entries, keyed by (key, len). Zeroed = empty, no allocation. */
struct levelmap {
	struct levelmap_entry **slot; /* NULL while empty */
	uint32_t mask;                /* capacity - 1 */
	uint32_t n;                   /* entries */
};

/* The value (of type `type`, embedding the entry as `member`) that entry `e` belongs to. */
#define levelmap_value(e, type, member) ((type *)(void *)((char *)(e)-offsetof(type, member)))

/* Fills seed with random bytes for levelmap_hash(), or with a time/address/pid mix when the
 * kernel has no entropy yet. Writes only seed (borrowed); call once per tree. */
void levelmap_seed_init(uint64_t seed[2]);

/* Keyed hash (SipHash-1-3, folded to 32 bits) of the level p[0..len). Borrows seed and p. */
uint32_t levelmap_hash(const uint64_t seed[2], const uint8_t *p, size_t len);

/* The entry with key p[0..len) whose hash is `hash`, or NULL. Borrows m and p; the returned
 * entry is borrowed from the caller's own value. */
struct levelmap_entry *levelmap_get(const struct levelmap *m, const uint8_t *p, size_t len,
                                    uint32_t hash);

/* Makes room for one more entry so that the next levelmap_put() cannot fail. 0, or -ENOMEM with
 * the map unchanged. */
int levelmap_reserve(struct levelmap *m);

/* Inserts e, whose key is not in the map yet; levelmap_reserve() must have succeeded since the
 * last put. The map borrows e until levelmap_del() or levelmap_release(): the caller must not free
 * or change it before. */
void levelmap_put(struct levelmap *m, struct levelmap_entry *e);

/* Removes e, which is in the map (backward-shift deletion: no tombstones). Frees the slot array
 * when the map becomes empty. e itself is not touched beyond being forgotten. */
void levelmap_del(struct levelmap *m, const struct levelmap_entry *e);

/* Iterates: returns the first entry at slot index >= *i and sets *i past it, or NULL at the end.
 * Start with *i = 0; the map must not change during the iteration. Entries are borrowed. */
struct levelmap_entry *levelmap_next(const struct levelmap *m, uint32_t *i);

/* Frees the slot array and empties m, without touching the entries (the caller frees its
 * values). */
void levelmap_release(struct levelmap *m);

/* Number of entries. */
static inline uint32_t levelmap_size(const struct levelmap *m)
{
	return m->n;
}

#endif
