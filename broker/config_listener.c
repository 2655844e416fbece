/* config_listener.c - the listener part of the configuration: `listener` lines, mosquitto's
 * default listener (`port`, `bind_address`), the implicit local listeners of a file without
 * listeners, collisions between listeners, and comparing two listener sets (reload). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define IMPLICIT_LISTENER_SOURCE "(default)"
#define DEFAULT_PORT             1883

void cfgp_listener_free(struct listener_conf *l)
{
	char **strs[] = {&l->bind_address, &l->cafile,  &l->capath,      &l->certfile,
	                 &l->keyfile,      &l->ciphers, &l->tls_version, &l->source_file};
	for (size_t i = 0; i < CFG_ARRAY_LEN(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

/* Deep copy of src into dst (dst owns nothing yet); dst is left empty on failure. */
static int listener_copy(struct listener_conf *dst, const struct listener_conf *src)
{
	*dst = *src;
	char **strs[] = {&dst->bind_address, &dst->cafile,  &dst->capath,      &dst->certfile,
	                 &dst->keyfile,      &dst->ciphers, &dst->tls_version, &dst->source_file};
	int rc = 0;
	for (size_t i = 0; i < CFG_ARRAY_LEN(strs); i++) {
		const char *s = *strs[i];
		*strs[i] = NULL;
		if (rc == 0 && s)
			rc = cfgp_store_string(strs[i], s);
	}
	if (rc)
		cfgp_listener_free(dst);
	return rc;
}

/* Appends a listener with the listener-scope defaults; returns it or NULL on ENOMEM. */
static struct listener_conf *listener_add(struct parser *p)
{
	struct config *c = p->c;
	if (c->listener_count == p->listener_cap) {
		size_t cap = p->listener_cap ? p->listener_cap * 2 : 4;
		struct listener_conf *n = realloc(c->listeners, cap * sizeof(*n));
		if (!n)
			return NULL;
		c->listeners = n;
		p->listener_cap = cap;
	}
	struct listener_conf *l = &c->listeners[c->listener_count];
	memset(l, 0, sizeof(*l));
	if (cfgp_apply_defaults(l, S_LISTENER)) {
		cfgp_listener_free(l);
		return NULL;
	}
	c->listener_count++;
	return l;
}

/* Appends a copy of the default listener template; NULL on ENOMEM. */
static struct listener_conf *listener_add_from_tmpl(struct parser *p)
{
	struct listener_conf *l = listener_add(p);
	if (!l)
		return NULL;
	cfgp_listener_free(l);
	if (listener_copy(l, &p->tmpl) == 0)
		return l;
	p->c->listener_count--; /* l is empty */
	return NULL;
}

int cfgp_h_listener(struct parser *p, const struct directive *d, char *value)
{
	static const struct directive port = {"listener", D_UINT, .min = 1, .max = 65535};
	char *w = cfgp_next_word(&value);
	char *bind = cfgp_next_word(&value);
	int64_t v = 0;
	if (!w)
		return cfgp_fail(p, "%s: missing value", d->name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: too many arguments", d->name);
	int rc = cfgp_parse_int(p, &port, w, &v);
	if (rc)
		return rc;
	struct listener_conf *l = listener_add(p);
	if (!l)
		return -ENOMEM;
	p->cur_listener = p->c->listener_count;
	l->port = (uint16_t)v;
	l->source_line = p->line;
	if (cfgp_store_string(&l->bind_address, bind) ||
	    cfgp_store_string(&l->source_file, p->name))
		return -ENOMEM;
	return 0;
}

/* `port N` (mosquitto 1.x style, deprecated in 2.0): the port of the default listener, which
 * then listens on all interfaces (or bind_address) instead of the local-only pair. */
int cfgp_h_port(struct parser *p, const struct directive *d, char *value)
{
	static const struct directive range = {"port", D_UINT, .min = 1, .max = 65535};
	char *w;
	int64_t v = 0;
	int rc = cfgp_one_word(p, d->name, value, &w);
	if (rc == 0)
		rc = cfgp_parse_int(p, &range, w, &v);
	if (rc)
		return rc;
	if (p->tmpl.port)
		rc = cfgp_warn(p, "port given more than once; the last one (%u) is used",
		               (unsigned)v);
	else
		rc = cfgp_warn(p, "port is deprecated in mosquitto 2.0; prefer 'listener %u'",
		               (unsigned)v);
	p->tmpl.port = (uint16_t)v;
	p->default_listener = true;
	p->default_line = p->line;
	if (cfgp_store_string(&p->tmpl.source_file, p->name))
		return -ENOMEM;
	return rc;
}

/* `bind_address ADDR` (deprecated in mosquitto 2.0): the address of the default listener. */
int cfgp_h_bind_address(struct parser *p, const struct directive *d, char *value)
{
	char *w;
	int rc = cfgp_one_word(p, d->name, value, &w);
	if (rc)
		return rc;
	if (cfgp_store_string(&p->tmpl.bind_address, w) ||
	    cfgp_store_string(&p->tmpl.source_file, p->name))
		return -ENOMEM;
	p->default_listener = true;
	p->default_line = p->line;
	return cfgp_warn(
	        p, "bind_address is deprecated in mosquitto 2.0; prefer 'listener PORT %s'", w);
}

static bool same_transport(const struct listener_conf *a, const struct listener_conf *b)
{
	return (a->protocol == LISTENER_MQTTSN) == (b->protocol == LISTENER_MQTTSN);
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Two listeners on the same port, transport, address and overlapping domain cannot both bind. */
static int check_listeners(struct parser *p)
{
	const struct config *c = p->c;
	for (size_t i = 1; i < c->listener_count; i++) {
		const struct listener_conf *b = &c->listeners[i];
		for (size_t j = 0; j < i; j++) {
			const struct listener_conf *a = &c->listeners[j];
			bool domains = a->socket_domain == b->socket_domain ||
			               a->socket_domain == SOCKET_DOMAIN_ANY ||
			               b->socket_domain == SOCKET_DOMAIN_ANY;
			if (a->port != b->port || !same_string(a->bind_address, b->bind_address) ||
			    !domains || !same_transport(a, b))
				continue;
			const char *fmt =
			        p->default_listener && i == c->listener_count - 1
			                ? "port %u (the default listener) is already used "
			                  "by the listener at line %u"
			                : "listener %u is already defined at line %u";
			p->name = b->source_file;
			p->line = b->source_line;
			return cfgp_fail(p, fmt, b->port, a->source_line);
		}
	}
	return 0;
}

/* mosquitto 2.0 appends the default listener after the `listener` ones when `port` or
 * `bind_address` was given: port 1883 unless set, all interfaces unless bind_address. */
static int add_default_listener(struct parser *p)
{
	if (!p->default_listener)
		return 0;
	struct listener_conf *l = listener_add_from_tmpl(p);
	if (!l)
		return -ENOMEM;
	if (!l->port)
		l->port = DEFAULT_PORT;
	l->source_line = p->default_line; /* source_file: set with it */
	return 0;
}

/* Without listeners: port 1883 on 127.0.0.1 and ::1 (mosquitto 2.0 local-only mode), carrying
 * the listener settings given before (socket_domain ipv4/ipv6 keeps one of them). */
static int add_implicit_listeners(struct parser *p)
{
	static const struct {
		const char *bind;
		enum socket_domain domain;
	} local[] = {{"127.0.0.1", SOCKET_DOMAIN_IPV4}, {"::1", SOCKET_DOMAIN_IPV6}};
	for (size_t i = 0; i < CFG_ARRAY_LEN(local); i++) {
		if (p->tmpl.socket_domain != SOCKET_DOMAIN_ANY &&
		    p->tmpl.socket_domain != local[i].domain)
			continue;
		struct listener_conf *l = listener_add_from_tmpl(p);
		if (!l)
			return -ENOMEM;
		l->port = DEFAULT_PORT;
		l->socket_domain = local[i].domain;
		l->implicit = true;
		l->source_line = 0;
		if (cfgp_store_string(&l->bind_address, local[i].bind) ||
		    cfgp_store_string(&l->source_file, IMPLICIT_LISTENER_SOURCE))
			return -ENOMEM;
	}
	return 0;
}

int cfgp_finish_listeners(struct parser *p)
{
	int rc = add_default_listener(p);
	if (rc == 0)
		rc = check_listeners(p);
	if (rc == 0 && p->c->listener_count == 0)
		rc = add_implicit_listeners(p);
	return rc;
}

static bool listener_equal(const struct listener_conf *a, const struct listener_conf *b)
{
	return a->port == b->port && a->socket_domain == b->socket_domain &&
	       a->protocol == b->protocol && a->max_connections == b->max_connections &&
	       a->require_certificate == b->require_certificate &&
	       a->use_identity_as_username == b->use_identity_as_username &&
	       same_string(a->bind_address, b->bind_address) && same_string(a->cafile, b->cafile) &&
	       same_string(a->capath, b->capath) && same_string(a->certfile, b->certfile) &&
	       same_string(a->keyfile, b->keyfile) && same_string(a->ciphers, b->ciphers) &&
	       same_string(a->tls_version, b->tls_version);
}

bool config_listeners_equal(const struct config *a, const struct config *b)
{
	if (a->listener_count != b->listener_count)
		return false;
	for (size_t i = 0; i < a->listener_count; i++)
		if (!listener_equal(&a->listeners[i], &b->listeners[i]))
			return false;
	return true;
}
