/* topic_limits.h - limits against abuse that apply to every protocol the broker speaks: topic length
 * and depth (max_topic_length, max_topic_levels). Queue bounds live with the queues
 * (session.h: max_queued_messages, max_queued_bytes and the broker-wide memory_limit). */
#ifndef MQTT_FAST_TOPIC_LIMITS_H
#define MQTT_FAST_TOPIC_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* True when a topic name or filter of len bytes at t (borrowed) is within max_topic_length
 * bytes and max_topic_levels levels. On false, *why (if not NULL) names the limit. */
bool limits_topic_ok(const struct config *cfg, const uint8_t *t, size_t len, const char **why);

#endif
