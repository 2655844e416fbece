/* topic_ids.h - broker-global MQTT-SN topic ids: one topic name has one id for every client
 * (the gateway chooses ids, MQTT-SN 1.2 §6.9), so the PUBLISH a subscriber receives can be the
 * very bytes its publisher sent (DESIGN.md "Topic identity"). Predefined ids come from the
 * configuration and live in their own id space (topic id type 1, §5.3.4). */
#ifndef MQTT_FAST_TOPIC_IDS_H
#define MQTT_FAST_TOPIC_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt.h"

struct topic_ids;

/* Returns an owned empty registry, or NULL. */
struct topic_ids *topic_ids_new(void);
/* Frees it. NULL is ignored. */
void topic_ids_free(struct topic_ids *t);

/* Declares predefined topic `id` (1..65534) for `name` (copied). 0, -EEXIST when the id or
 * the name is already predefined, -EINVAL for id 0 / 0xFFFF or an empty name, -ENOMEM. */
int topic_ids_predefine(struct topic_ids *t, uint16_t id, const uint8_t *name, uint16_t len);

/* The normal topic id of `name`, assigning the next free one (1..65534, never reused while the
 * broker runs) when the name is new. 0, -ENOSPC when every id is taken, -ENOMEM. */
int topic_ids_assign(struct topic_ids *t, const uint8_t *name, uint16_t len, uint16_t *id);

/* Restores a normal id known from the store. 0, -EEXIST on a conflict, -ENOMEM. */
int topic_ids_restore(struct topic_ids *t, uint16_t id, const uint8_t *name, uint16_t len);

/* The topic name of a normal (predefined = false) or predefined id, as a view valid while the
 * registry lives; len 0 / p NULL when unknown. */
struct mqtt_str topic_ids_name(const struct topic_ids *t, bool predefined, uint16_t id);

/* Looks a name up without assigning: sets *id and returns 1 when found in the chosen space,
 * 0 when not. */
int topic_ids_find(const struct topic_ids *t, bool predefined, const uint8_t *name, uint16_t len,
                   uint16_t *id);

/* The smallest id above `after` that has a name in the chosen space, 0 when none: walks every
 * id (the fast-path control enumerates its topics with it). */
uint16_t topic_ids_next(const struct topic_ids *t, bool predefined, uint16_t after);
/* Number of normal ids assigned. */
size_t topic_ids_count(const struct topic_ids *t);

#endif
