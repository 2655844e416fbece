/* topic_ids.c - the MQTT-SN topic id registry: two spaces (normal, predefined), each a pair of
 * maps name -> id (hash) and id -> name (array indexed by id, allocated on first use). */
#include "topic_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One id space. Names are owned by `names[id]`; the hash stores ids (0 = empty slot). */
struct id_space {
	uint8_t **names; /* [65536], NULL until the first id; names[id] = len-prefixed copy */
	uint16_t *slots; /* open addressing over names, 0 = empty */
	size_t cap, count;
	uint16_t next; /* normal space: next id to try */
};

struct topic_ids {
	struct id_space normal, predefined;
};

#define NAME_LEN(n) ((uint16_t)((n)[0] << 8 | (n)[1]))

static uint64_t name_hash(const uint8_t *p, uint16_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: ids are chosen by the broker, names by
						clients, but a name only enters after a REGISTER
						from a connected client */
	for (uint16_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static bool name_is(const uint8_t *stored, const uint8_t *p, uint16_t len)
{
	return NAME_LEN(stored) == len && memcmp(stored + 2, p, len) == 0;
}

static uint16_t space_find(const struct id_space *s, const uint8_t *p, uint16_t len)
{
	if (!s->cap)
		return 0;
	for (size_t i = name_hash(p, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		uint16_t id = s->slots[i];
		if (id == 0 || name_is(s->names[id], p, len))
			return id;
	}
}

static void slot_put(struct id_space *s, uint16_t id)
{
	const uint8_t *n = s->names[id];
	size_t i = name_hash(n + 2, NAME_LEN(n)) & (s->cap - 1);
	while (s->slots[i])
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = id;
}

/* Adds name under id (both known to be free). */
static int space_add(struct id_space *s, uint16_t id, const uint8_t *p, uint16_t len)
{
	if (!s->names && !(s->names = calloc(65536, sizeof(*s->names))))
		return -ENOMEM;
	if ((s->count + 1) * 4 > s->cap * 3) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint16_t *slots = calloc(cap, sizeof(*slots)), *old = s->slots;
		if (!slots)
			return -ENOMEM;
		s->slots = slots;
		s->cap = cap;
		for (size_t i = 0; i < cap / 2 && old; i++)
			if (old[i])
				slot_put(s, old[i]);
		free(old);
	}
	uint8_t *copy = malloc((size_t)len + 2);
	if (!copy)
		return -ENOMEM;
	copy[0] = (uint8_t)(len >> 8);
	copy[1] = (uint8_t)len;
	memcpy(copy + 2, p, len);
	s->names[id] = copy;
	slot_put(s, id);
	s->count++;
	return 0;
}

static void space_free(struct id_space *s)
{
	if (s->names)
		for (size_t i = 0; i < 65536; i++)
			free(s->names[i]);
	free(s->names);
	free(s->slots);
}

struct topic_ids *topic_ids_new(void)
{
	struct topic_ids *t = calloc(1, sizeof(*t));
	if (t)
		t->normal.next = 1;
	return t;
}

void topic_ids_free(struct topic_ids *t)
{
	if (!t)
		return;
	space_free(&t->normal);
	space_free(&t->predefined);
	free(t);
}

static int add_checked(struct id_space *s, uint16_t id, const uint8_t *name, uint16_t len)
{
	if (id == 0 || id == 0xFFFF || len == 0)
		return -EINVAL; /* 0x0000 and 0xFFFF are reserved (§5.3.11) */
	if ((s->names && s->names[id]) || space_find(s, name, len))
		return -EEXIST;
	return space_add(s, id, name, len);
}

int topic_ids_predefine(struct topic_ids *t, uint16_t id, const uint8_t *name, uint16_t len)
{
	return add_checked(&t->predefined, id, name, len);
}

int topic_ids_restore(struct topic_ids *t, uint16_t id, const uint8_t *name, uint16_t len)
{
	int err = add_checked(&t->normal, id, name, len);
	if (err == 0 && id >= t->normal.next)
		t->normal.next = id == 0xFFFE ? 1 : (uint16_t)(id + 1);
	return err;
}

int topic_ids_assign(struct topic_ids *t, const uint8_t *name, uint16_t len, uint16_t *id)
{
	struct id_space *s = &t->normal;
	if (len == 0)
		return -EINVAL;
	uint16_t found = space_find(s, name, len);
	if (found) {
		*id = found;
		return 0;
	}
	if (s->count >= 0xFFFE)
		return -ENOSPC;
	/* Ids are never reused while the broker runs: a client may still hold an old one. */
	while (s->names && s->names[s->next])
		s->next = s->next == 0xFFFE ? 1 : (uint16_t)(s->next + 1);
	int err = space_add(s, s->next, name, len);
	if (err < 0)
		return err;
	*id = s->next;
	s->next = s->next == 0xFFFE ? 1 : (uint16_t)(s->next + 1);
	return 0;
}

struct mqtt_str topic_ids_name(const struct topic_ids *t, bool predefined, uint16_t id)
{
	const struct id_space *s = predefined ? &t->predefined : &t->normal;
	if (!s->names || !s->names[id])
		return (struct mqtt_str){NULL, 0};
	return (struct mqtt_str){s->names[id] + 2, NAME_LEN(s->names[id])};
}

int topic_ids_find(const struct topic_ids *t, bool predefined, const uint8_t *name, uint16_t len,
                   uint16_t *id)
{
	uint16_t found = space_find(predefined ? &t->predefined : &t->normal, name, len);
	if (found)
		*id = found;
	return found ? 1 : 0;
}

size_t topic_ids_count(const struct topic_ids *t)
{
	return t->normal.count;
}

uint16_t topic_ids_next(const struct topic_ids *t, bool predefined, uint16_t after)
{
	const struct id_space *s = predefined ? &t->predefined : &t->normal;
	if (!s->names)
		return 0;
	for (uint32_t id = (uint32_t)after + 1; id < 0xFFFF; id++)
		if (s->names[id])
			return (uint16_t)id;
	return 0;
}
