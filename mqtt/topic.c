/* topic.c - topic names and filters: validation, wildcard matching, shared subscriptions.
 *
 * Everything here is a single forward pass over the input: no recursion, no allocation. */
#include "topic.h"

#include <errno.h>
#include <string.h>

/* "$share/" prefix of a shared subscription (MQTT 5.0 §4.8.2). */
static const char share_prefix[] = "$share/";
#define SHARE_PREFIX_LEN (sizeof(share_prefix) - 1)

/* One level of a topic as offsets [start, end) into the string. */
struct level {
	size_t start;
	size_t end;
};

/* Level iteration over offsets. A cursor of len + 1 means "past the last level", so that a
 * trailing '/' still yields its empty last level ("a/" has two levels). */
static bool level_next(const uint8_t *t, size_t len, size_t *cursor, struct level *lv)
{
	size_t i = *cursor;

	if (len == 0 || i > len)
		return false;
	lv->start = i;
	while (i < len && t[i] != '/')
		i++;
	lv->end = i;
	*cursor = i + 1; /* past the '/', or len + 1 at the end of the string */
	return true;
}

static bool level_is(const uint8_t *t, const struct level *lv, uint8_t c)
{
	return lv->end - lv->start == 1 && t[lv->start] == c;
}

int mqtt_topic_name_valid(const uint8_t *t, size_t len)
{
	if (len == 0 || len > MQTT_STR_MAX)
		return -EINVAL; /* [MQTT-4.7.3-1], two-byte length prefix */
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '+' || t[i] == '#')
			return -EINVAL; /* [MQTT-3.3.2-2] */
		if (t[i] == 0x00)
			return -EINVAL; /* [MQTT-4.7.3-2] */
	}
	return 0;
}

/* Validity of an ordinary (non-shared) Topic Filter. */
static int filter_valid_plain(const uint8_t *f, size_t len)
{
	size_t cursor = 0;
	struct level lv;

	if (len == 0 || len > MQTT_STR_MAX)
		return -EINVAL; /* [MQTT-4.7.3-1] */
	while (level_next(f, len, &cursor, &lv)) {
		for (size_t i = lv.start; i < lv.end; i++) {
			uint8_t c = f[i];
			if (c == 0x00)
				return -EINVAL; /* [MQTT-4.7.3-2] */
			if (c == '+' && lv.end - lv.start != 1)
				return -EINVAL; /* [MQTT-4.7.1-2]: '+' occupies a whole level */
			/* [MQTT-4.7.1-1]: '#' is a whole level and the last one. */
			if (c == '#' && (lv.end - lv.start != 1 || lv.end != len))
				return -EINVAL;
		}
	}
	return 0;
}

int mqtt_topic_shared_split(const uint8_t *f, size_t len, struct mqtt_str *group,
                            struct mqtt_str *filter)
{
	size_t g_end = SHARE_PREFIX_LEN;

	if (len < SHARE_PREFIX_LEN || memcmp(f, share_prefix, SHARE_PREFIX_LEN) != 0)
		return 0;
	if (len > MQTT_STR_MAX)
		return -EINVAL;
	while (g_end < len && f[g_end] != '/') {
		/* [MQTT-4.8.2-2]: the ShareName has no '+' or '#' (nor '/', ending it here). */
		if (f[g_end] == '+' || f[g_end] == '#' || f[g_end] == 0x00)
			return -EINVAL;
		g_end++;
	}
	/* [MQTT-4.8.2-1]: at least one character, then '/', then a Topic Filter. */
	if (g_end == SHARE_PREFIX_LEN || g_end == len)
		return -EINVAL;
	if (filter_valid_plain(f + g_end + 1, len - g_end - 1) < 0)
		return -EINVAL;
	group->p = f + SHARE_PREFIX_LEN;
	group->len = (uint16_t)(g_end - SHARE_PREFIX_LEN);
	filter->p = f + g_end + 1;
	filter->len = (uint16_t)(len - g_end - 1);
	return 1;
}

int mqtt_topic_filter_valid(const uint8_t *f, size_t len)
{
	struct mqtt_str group, filter;
	int shared = mqtt_topic_shared_split(f, len, &group, &filter);

	if (shared < 0)
		return -EINVAL;
	if (shared > 0)
		return 0; /* the split validated the group and the filter */
	return filter_valid_plain(f, len);
}

bool mqtt_topic_matches(const uint8_t *filter, size_t flen, const uint8_t *name, size_t nlen)
{
	size_t fc = 0, nc = 0;
	struct level fl, nl;

	/* [MQTT-4.7.2-1]: wildcards at the first level never match names starting with '$'. */
	if (flen > 0 && nlen > 0 && name[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return false;
	for (;;) {
		bool have_f = level_next(filter, flen, &fc, &fl);
		bool have_n = level_next(name, nlen, &nc, &nl);

		if (!have_f)
			return !have_n;
		/* '#' matches the remaining levels, including none: "a/#" matches "a"
		 * (MQTT 5.0 §4.7.1.2). */
		if (level_is(filter, &fl, '#'))
			return true;
		if (!have_n)
			return false;
		if (level_is(filter, &fl, '+'))
			continue; /* any single level, empty included (§4.7.1.3) */
		if (fl.end - fl.start != nl.end - nl.start ||
		    memcmp(filter + fl.start, name + nl.start, fl.end - fl.start) != 0)
			return false;
	}
}

int mqtt_topic_next_level(const uint8_t *t, size_t len, size_t *cursor, struct mqtt_str *level)
{
	struct level lv;

	if (!level_next(t, len, cursor, &lv))
		return 0;
	level->p = t + lv.start;
	level->len = (uint16_t)(lv.end - lv.start);
	return 1;
}

size_t mqtt_topic_level_count(const uint8_t *t, size_t len)
{
	size_t n = 1;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n += t[i] == '/';
	return n;
}
