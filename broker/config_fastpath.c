/* config_fastpath.c - the kernel fast path's directives: `fastpath_interface IFNAME`
 * (repeatable), `fastpath FILTER` (repeatable), and the words of `fastpath_mode`. The names are
 * only checked for form here; broker/fastpath.c opens the interfaces at start. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "topic.h"

const char *const cfgp_fastpath_mode_names[3] = {"auto", "native", "generic"};

/* Appends a copy of s to a (char **, count) list. 0 or -ENOMEM. */
static int list_push(char ***list, size_t *count, const char *s)
{
	char **l = realloc(*list, (*count + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	*list = l;
	if (!(l[*count] = strdup(s)))
		return -ENOMEM;
	(*count)++;
	return 0;
}

static bool list_has(char **list, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* fastpath_interface IFNAME: XDP + TC are attached there (one line per interface). */
int cfgp_h_fastpath_interface(struct parser *p, const struct directive *d, char *value)
{
	char *name = cfgp_next_word(&value);
	struct config *c = p->c;
	if (!name)
		return cfgp_fail(p, "%s: expected an interface name", d->name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: one interface per line", d->name);
	if (strlen(name) >= IF_NAMESIZE)
		return cfgp_fail(p, "%s: '%s' is longer than an interface name can be", d->name,
		                 name);
	if (list_has(c->fastpath_interfaces, c->fastpath_interface_count, name))
		return cfgp_fail(p, "%s: %s is already listed", d->name, name);
	if (c->fastpath_interface_count == 16) /* FP_MAX_IFACES */
		return cfgp_fail(p, "%s: at most 16 interfaces", d->name);
	return list_push(&c->fastpath_interfaces, &c->fastpath_interface_count, name);
}

/* fastpath FILTER: topics matching it are fanned out by the kernel (QoS 0/-1 MQTT-SN). */
int cfgp_h_fastpath(struct parser *p, const struct directive *d, char *value)
{
	char *filter = cfgp_next_word(&value);
	struct config *c = p->c;
	if (!filter)
		return cfgp_fail(p, "%s: expected a topic filter", d->name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: one topic filter per line", d->name);
	if (mqtt_topic_filter_valid((const uint8_t *)filter, strlen(filter)) < 0 ||
	    strncmp(filter, "$share/", 7) == 0)
		return cfgp_fail(p, "%s: '%s' is not a valid topic filter", d->name, filter);
	if (list_has(c->fastpath_filters, c->fastpath_filter_count, filter))
		return cfgp_fail(p, "%s: '%s' is already listed", d->name, filter);
	return list_push(&c->fastpath_filters, &c->fastpath_filter_count, filter);
}

void cfgp_fastpath_free(struct config *c)
{
	for (size_t i = 0; i < c->fastpath_interface_count; i++)
		free(c->fastpath_interfaces[i]);
	free(c->fastpath_interfaces);
	for (size_t i = 0; i < c->fastpath_filter_count; i++)
		free(c->fastpath_filters[i]);
	free(c->fastpath_filters);
	free(c->control_socket);
}
