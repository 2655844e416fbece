/* topic_limits.c - topic length and depth limits (see topic_limits.h). EMQX users know them as
 * max_topic_levels / max_topic_length; mosquitto has no equivalent, so both default to what the
 * protocol allows in practice (65535 bytes, 128 levels as EMQX). A deep topic costs one tree
 * level per '/' on every match, so the depth bound also bounds the cost of one PUBLISH. */
#include "topic_limits.h"

#include <string.h>

#include "config.h"

bool limits_topic_ok(const struct config *cfg, const uint8_t *t, size_t len, const char **why)
{
	if (cfg->max_topic_length && len > cfg->max_topic_length) {
		if (why)
			*why = "topic longer than max_topic_length";
		return false;
	}
	if (cfg->max_topic_levels) {
		size_t levels = 1;
		for (const uint8_t *p = t, *end = t + len;
		     (p = memchr(p, '/', (size_t)(end - p))) != NULL; p++)
			if (++levels > cfg->max_topic_levels) {
				if (why)
					*why = "topic deeper than max_topic_levels";
				return false;
			}
	}
	return true;
}
