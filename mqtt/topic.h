/* topic.h - topic names and filters: validation, matching, shared subscriptions (I/O-free).
 *
 * All functions borrow their inputs; nothing is allocated. Topics are byte strings with an
 * explicit length (not NUL-terminated). UTF-8 well-formedness is checked by the decoders; these
 * functions check the topic rules of MQTT 5.0 §4.7 / MQTT 3.1.1 §4.7. */
#ifndef MQTT_FAST_TOPIC_H
#define MQTT_FAST_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt.h"

/* 0 when `t` is a valid Topic Name: at least one byte [MQTT-4.7.3-1], no '+' or '#'
 * [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2], at most 65535 bytes. Otherwise -EINVAL. */
int mqtt_topic_name_valid(const uint8_t *t, size_t len);

/* 0 when `f` is a valid Topic Filter: non-empty, '#' only as the whole last level
 * [MQTT-4.7.1-1], '+' only as a whole level [MQTT-4.7.1-2], no U+0000. A shared subscription
 * `$share/{group}/{filter}` is valid when the group is non-empty without '/', '+' or '#' and the
 * filter is valid [MQTT-4.8.2-1, MQTT-4.8.2-2]. Otherwise -EINVAL. */
int mqtt_topic_filter_valid(const uint8_t *f, size_t len);

/* True when Topic Name `name` matches Topic Filter `filter` (both already valid, filter not a
 * $share form). A filter starting with '+' or '#' does not match a name starting with '$'
 * [MQTT-4.7.2-1]; "a/#" also matches "a" (MQTT 5.0 §4.7.1.2). */
bool mqtt_topic_matches(const uint8_t *filter, size_t flen, const uint8_t *name, size_t nlen);

/* Splits a shared subscription. Returns 1 and sets *group and *filter (views into f) when `f`
 * is `$share/{group}/{filter}`, 0 when it is an ordinary filter, -EINVAL when it starts with
 * "$share/" but is malformed. */
int mqtt_topic_shared_split(const uint8_t *f, size_t len, struct mqtt_str *group,
                            struct mqtt_str *filter);

/* Level iteration: sets *level to the level starting at *cursor (initially 0) and moves the
 * cursor past it. Returns 1 while a level was produced, 0 at the end. "a//b" has three levels,
 * the middle one empty; "" has none; "/" has two empty ones. */
int mqtt_topic_next_level(const uint8_t *t, size_t len, size_t *cursor, struct mqtt_str *level);

/* Number of levels (1 + number of '/'), 0 for an empty string. */
size_t mqtt_topic_level_count(const uint8_t *t, size_t len);

#endif
