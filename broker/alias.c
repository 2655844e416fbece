/* alias.c - server-to-client Topic Aliases (MQTT 5.0 §3.3.2.3.4): per connection, which alias
 * stands for which topic. A topic's first PUBLISH carries the topic and a new alias, later ones
 * an empty topic and the alias; with every alias taken, the least recently used one is given
 * to the new topic, which travels with it again. The map lives with the network connection
 * only: a reconnecting client starts with none [MQTT-3.3.2-7].
 *
 * The map is only changed after a PUBLISH was queued (alias_out_sent), so it always matches
 * what the client has read in wire order. A topic the map fails to record (out of memory)
 * simply goes out with its topic again later. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"

struct alias_entry {
	uint8_t *topic; /* owned copy; NULL when the alias maps nothing we rely on */
	uint16_t len;
	uint32_t hash;
	uint64_t stamp; /* last use (0 when free): least recently used is replaced first */
};

struct alias_out {
	uint16_t count; /* aliases 1..count were handed out */
	uint64_t clock;
	struct alias_entry e[]; /* e[i] is alias i + 1; c->topic_alias_max_out entries */
};

/* FNV-1a: compares a topic against the map with one integer per entry. */
static uint32_t topic_hash(const uint8_t *p, uint16_t len)
{
	uint32_t h = 2166136261u;
	for (uint16_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool entry_is(const struct alias_entry *e, const uint8_t *topic, uint16_t len, uint32_t h)
{
	return e->topic && e->hash == h && e->len == len && memcmp(e->topic, topic, len) == 0;
}

uint16_t alias_out_pick(struct conn *c, const uint8_t *topic, uint16_t len, bool *with_topic)
{
	struct alias_out *a = c->aliases_out;

	*with_topic = true;
	if (c->topic_alias_max_out == 0 || len == 0)
		return 0; /* no Topic Alias Maximum in CONNECT: no aliases [MQTT-3.1.2-27] */
	if (!a) {
		a = calloc(1, sizeof(*a) + (size_t)c->topic_alias_max_out * sizeof(a->e[0]));
		if (!a)
			return 0;
		c->aliases_out = a;
	}
	uint32_t h = topic_hash(topic, len);
	uint16_t lru = 0;
	for (uint16_t i = 0; i < a->count; i++) {
		if (entry_is(&a->e[i], topic, len, h)) {
			*with_topic = false;
			return (uint16_t)(i + 1);
		}
		if (a->e[i].stamp < a->e[lru].stamp)
			lru = i;
	}
	/* Aliases 1..max only, never 0 nor above the client's maximum [MQTT-3.3.2-8],
	 * [MQTT-3.1.2-26]. */
	if (a->count < c->topic_alias_max_out)
		return (uint16_t)(a->count + 1);
	return (uint16_t)(lru + 1);
}

void alias_out_sent(struct conn *c, uint16_t alias, const uint8_t *topic, uint16_t len)
{
	struct alias_out *a = c->aliases_out;
	if (!a || alias == 0 || alias > c->topic_alias_max_out || alias > a->count + 1)
		return;
	struct alias_entry *e = &a->e[alias - 1];
	uint32_t h = topic_hash(topic, len);
	if (alias > a->count)
		a->count = alias;
	if (!entry_is(e, topic, len, h)) {
		/* The client now maps the alias to this topic: forget the previous one. */
		free(e->topic);
		*e = (struct alias_entry){0};
		uint8_t *copy = malloc(len);
		if (!copy)
			return; /* left free: the topic is sent with its alias again next time */
		memcpy(copy, topic, len);
		*e = (struct alias_entry){.topic = copy, .len = len, .hash = h};
	}
	e->stamp = ++a->clock;
}

void alias_out_free(struct alias_out *a)
{
	if (!a)
		return;
	for (uint16_t i = 0; i < a->count; i++)
		free(a->e[i].topic);
	free(a);
}
