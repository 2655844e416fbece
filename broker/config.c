/* config.c - mosquitto.conf-compatible configuration parser, driven by one table of directives
 * {name, type, scope, offset, min, max, default, handler/adjust}.
 *
 * File format (mosquitto.conf(5)): one directive per line, "name value..."; leading and trailing
 * whitespace ignored, CRLF tolerated, '#' as the first non-blank character starts a comment line
 * (a '#' after a value is not a comment, as in mosquitto). String values (paths, prefixes) are
 * the rest of the line, so they may contain spaces; other values are exactly one word. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define CONFIG_MAX_FILE          (1024 * 1024)
#define MQTT_MAX_PACKET          268435460ll /* 1 + 4 + 268435455 */
#define MQTT_MAX_PAYLOAD         268435455ll
#define DURATION_MAX             (100ll * 365 * 86400) /* 100y */
#define IMPLICIT_LISTENER_SOURCE "(default)"

enum dtype {
	D_BOOL,     /* true | false */
	D_UINT,     /* decimal integer in [min, max], stored in an unsigned field of `size` bytes */
	D_INT,      /* same, signed field */
	D_DURATION, /* N{h,d,w,m,y} in seconds, int64_t field */
	D_STRING,   /* rest of the line, owned char * field */
	D_ENUM,     /* one of names[] (index = value), int-sized enum field */
	D_SPECIAL,  /* handler() does everything; field (if size) only gets the default */
};

enum dscope {
	S_GLOBAL,   /* offset into struct config */
	S_LISTENER, /* offset into struct listener_conf: the last listener, or the implicit one */
};

struct parser;
struct directive;

typedef int (*directive_handler)(struct parser *p, const struct directive *d, char *value);
/* Post-parse hook for numbers: may check or rewrite *v; returns 0 or fail(). */
typedef int (*directive_adjust)(struct parser *p, const struct directive *d, const char *word,
                                int64_t *v);

struct directive {
	const char *name;
	enum dtype type;
	enum dscope scope;
	size_t offset;
	size_t size;
	int64_t min, max;
	int64_t def;         /* default of numbers, bools, enums, and sized D_SPECIAL fields */
	const char *def_str; /* default of D_STRING (NULL = unset) */
	const char *const *names;
	size_t nnames;
	bool needs_listener; /* error when no `listener` line came before */
	directive_handler handler;
	directive_adjust adjust;
};

struct parser {
	struct config *c;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	size_t listener_cap;
	/* Listener-scoped settings seen before the first `listener` line: like mosquitto's default
	 * listener, they apply only to the implicit listeners (no `listener` line at all). */
	struct listener_conf tmpl;
	bool log_type_set; /* the first log_type / log_dest line replaces the default */
	bool log_dest_set;
};

#define GLOBAL(f)                                                                                  \
	.scope = S_GLOBAL, .offset = offsetof(struct config, f),                                   \
	.size = sizeof(((struct config *)0)->f)
#define LISTENER(f)                                                                                \
	.scope = S_LISTENER, .offset = offsetof(struct listener_conf, f),                          \
	.size = sizeof(((struct listener_conf *)0)->f)

static int h_listener(struct parser *p, const struct directive *d, char *value);
static int h_log_type(struct parser *p, const struct directive *d, char *value);
static int h_log_dest(struct parser *p, const struct directive *d, char *value);
static int h_per_listener_settings(struct parser *p, const struct directive *d, char *value);
static int adj_inflight(struct parser *p, const struct directive *d, const char *w, int64_t *v);
static int adj_packet_size(struct parser *p, const struct directive *d, const char *w, int64_t *v);

static const char *const protocol_names[] = {"mqtt", "mqttsn", "websockets"};
/* SOCKET_DOMAIN_ANY is the default only; mosquitto accepts ipv4 and ipv6. */
static const char *const domain_names[] = {NULL, "ipv4", "ipv6"};

static const struct directive directives[] = {
        /* Listeners */
        {"listener", D_SPECIAL, S_GLOBAL, .handler = h_listener},
        {"protocol", D_ENUM, LISTENER(protocol), .def = LISTENER_MQTT, .names = protocol_names,
         .nnames = 3, .needs_listener = true},
        {"socket_domain", D_ENUM, LISTENER(socket_domain), .def = SOCKET_DOMAIN_ANY,
         .names = domain_names, .nnames = 3},
        {"max_connections", D_INT, LISTENER(max_connections), -1, INT32_MAX, -1},
        {"cafile", D_STRING, LISTENER(cafile)},
        {"capath", D_STRING, LISTENER(capath)},
        {"certfile", D_STRING, LISTENER(certfile)},
        {"keyfile", D_STRING, LISTENER(keyfile)},
        {"ciphers", D_STRING, LISTENER(ciphers)},
        {"tls_version", D_STRING, LISTENER(tls_version)},
        {"require_certificate", D_BOOL, LISTENER(require_certificate)},
        {"use_identity_as_username", D_BOOL, LISTENER(use_identity_as_username)},
        /* Security */
        {"per_listener_settings", D_SPECIAL, S_GLOBAL, .handler = h_per_listener_settings},
        {"allow_anonymous", D_BOOL, GLOBAL(allow_anonymous), .def = false},
        {"allow_zero_length_clientid", D_BOOL, GLOBAL(allow_zero_length_clientid), .def = true},
        {"auto_id_prefix", D_STRING, GLOBAL(auto_id_prefix), .def_str = "auto-"},
        {"password_file", D_STRING, GLOBAL(password_file)},
        {"acl_file", D_STRING, GLOBAL(acl_file)},
        /* Limits */
        {"max_inflight_messages", D_UINT, GLOBAL(max_inflight_messages), 0, 65535, 20,
         .adjust = adj_inflight},
        {"max_queued_messages", D_UINT, GLOBAL(max_queued_messages), 0, INT32_MAX, 1000},
        {"max_queued_bytes", D_UINT, GLOBAL(max_queued_bytes), 0, INT64_MAX, 0},
        {"max_packet_size", D_UINT, GLOBAL(max_packet_size), 0, MQTT_MAX_PACKET, 0,
         .adjust = adj_packet_size},
        {"message_size_limit", D_UINT, GLOBAL(message_size_limit), 0, MQTT_MAX_PAYLOAD, 0},
        {"max_keepalive", D_UINT, GLOBAL(max_keepalive), 10, 65535, 65535},
        {"max_topic_alias", D_UINT, GLOBAL(max_topic_alias), 0, 65535, 10},
        {"retain_available", D_BOOL, GLOBAL(retain_available), .def = true},
        {"persistent_client_expiration", D_DURATION, GLOBAL(persistent_client_expiration), 3600,
         DURATION_MAX, 0},
        {"sys_interval", D_UINT, GLOBAL(sys_interval), 0, 65535, 10},
        {"set_tcp_nodelay", D_BOOL, GLOBAL(set_tcp_nodelay), .def = false},
        /* Persistence */
        {"persistence", D_BOOL, GLOBAL(persistence), .def = false},
        {"persistence_location", D_STRING, GLOBAL(persistence_location)},
        /* Logging */
        {"log_type", D_SPECIAL, GLOBAL(log_types), .def = LOG_LEVEL_DEFAULT, .handler = h_log_type},
        {"log_dest", D_SPECIAL, GLOBAL(log_dests), .def = CONFIG_LOG_DEST_STDERR,
         .handler = h_log_dest},
        {"log_timestamp", D_BOOL, GLOBAL(log_timestamp), .def = true},
        {"pid_file", D_STRING, GLOBAL(pid_file)},
};

/* mosquitto 2.0 directives mqtt-fast rejects for now ("is not supported by mqtt-fast yet"). A
 * trailing '*' matches a prefix. */
static const char *const unsupported[] = {
        /* bridges */
        "connection", "address", "addresses", "bridge_*", "cleansession", "idle_timeout",
        "keepalive_interval", "local_cleansession", "local_clientid", "local_password",
        "local_username", "notifications", "notifications_local_only", "notification_topic",
        "password", "remote_clientid", "remote_password", "remote_username", "restart_timeout",
        "round_robin", "start_type", "threshold", "topic", "try_private", "username",
        /* websockets, plugins, PSK, TLS extras */
        "websockets_log_level", "websockets_headers_size", "http_dir", "psk_hint", "psk_file",
        "plugin", "plugin_opt_*", "auth_plugin", "auth_opt_*", "auth_plugin_deny_special_chars",
        "global_plugin", "plugin_load", "plugin_use", "crlfile", "dhparamfile", "ciphers_tls1.3",
        "tls_engine", "tls_engine_kpass_sha1", "tls_keyform", "use_subject_as_username",
        /* everything else */
        "include_dir", "port", "bind_address", "bind_interface", "user", "mount_point",
        "autosave_interval", "autosave_on_changes", "persistence_file", "retained_persistence",
        "queue_qos0_messages", "upgrade_outgoing_qos", "check_retain_source", "max_qos",
        "maximum_qos", "max_inflight_bytes", "memory_limit", "log_timestamp_format", "log_facility",
        "clientid_prefixes", "connection_messages", "use_username_as_clientid",
        "allow_duplicate_messages", "retry_interval", "store_clean_interval",
        "listener_allow_anonymous", "listener_auto_id_prefix", "accept_protocol_versions",
        "enable_proxy_protocol"};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Writes "name:line: message" into p->err and returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	if (p->errlen == 0)
		return -EINVAL;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* Cuts the next blank-separated word from *s (NUL-terminating it) and advances *s past it.
 * Returns NULL when only blanks remain. */
static char *next_word(char **s)
{
	char *w = skip_blank(*s);
	if (!*w)
		return NULL;
	char *e = w;
	while (*e && !is_blank(*e))
		e++;
	if (*e)
		*e++ = '\0';
	*s = e;
	return w;
}

/* The single word of value; "missing value" / "too many arguments" otherwise. */
static int one_word(struct parser *p, const char *name, char *value, char **out)
{
	*out = next_word(&value);
	if (!*out)
		return fail(p, "%s: missing value", name);
	if (*skip_blank(value))
		return fail(p, "%s: too many arguments", name);
	return 0;
}

static int parse_int(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(w, &end, 10);
	if (end == w || *end || !(w[0] == '-' || (w[0] >= '0' && w[0] <= '9')))
		return fail(p, "%s: '%.64s' is not a number", d->name, w);
	if (errno == ERANGE || n < d->min || n > d->max)
		return fail(p, "%s: %.64s is out of range %lld..%lld", d->name, w,
		            (long long)d->min, (long long)d->max);
	*v = n;
	return 0;
}

static int parse_bool(struct parser *p, const char *name, const char *w, bool *out)
{
	if (strcmp(w, "true") == 0)
		*out = true;
	else if (strcmp(w, "false") == 0)
		*out = false;
	else
		return fail(p, "%s: '%.64s' is not true or false", name, w);
	return 0;
}

/* mosquitto durations: a positive integer and a unit, h d w m(=30d) y(=365d). */
static int parse_duration(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {
	        {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}, {'m', 30 * 86400}, {'y', 365 * 86400}};
	size_t len = strlen(w);
	int64_t mult = 0;
	for (size_t i = 0; len > 1 && i < ARRAY_LEN(units); i++)
		if (w[len - 1] == units[i].unit)
			mult = units[i].secs;
	size_t digits = strspn(w, "0123456789");
	if (mult == 0 || digits != len - 1)
		return fail(p,
		            "%s: '%.64s' is not a duration (a number followed by h, d, w, m or y)",
		            d->name, w);
	int64_t n = 0;
	for (size_t i = 0; i < digits; i++) {
		n = n * 10 + (w[i] - '0');
		if (n > d->max)
			break;
	}
	if (n * mult < d->min || n * mult > d->max)
		return fail(p, "%s: %.64s is out of range 1h..100y", d->name, w);
	*v = n * mult;
	return 0;
}

static void store_int(void *field, size_t size, int64_t v)
{
	if (size == 1) {
		uint8_t x = (uint8_t)v;
		memcpy(field, &x, 1);
	} else if (size == 2) {
		uint16_t x = (uint16_t)v;
		memcpy(field, &x, 2);
	} else if (size == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(field, &x, 4);
	} else if (size == 8) {
		uint64_t x = (uint64_t)v;
		memcpy(field, &x, 8);
	}
}

/* Replaces the owned string in *field with a copy of s (NULL clears). */
static int store_string(char **field, const char *s)
{
	char *copy = NULL;
	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int parse_enum(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	char list[128] = "";
	for (size_t i = 0; i < d->nnames; i++) {
		if (!d->names[i])
			continue;
		if (strcmp(w, d->names[i]) == 0) {
			*v = (int64_t)i;
			return 0;
		}
		size_t n = strlen(list);
		snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", d->names[i]);
	}
	return fail(p, "%s: '%.64s' is not one of %s", d->name, w, list);
}

/* Parses value by the directive's type into the field at base + d->offset. */
static int set_value(struct parser *p, const struct directive *d, void *base, char *value)
{
	void *field = (char *)base + d->offset;
	char *w = NULL;
	int64_t v = 0;
	int rc;
	if (d->type == D_STRING) {
		if (!*value)
			return fail(p, "%s: missing value", d->name);
		return store_string(field, value);
	}
	if ((rc = one_word(p, d->name, value, &w)))
		return rc;
	switch (d->type) {
	case D_BOOL:
		return parse_bool(p, d->name, w, field);
	case D_UINT:
	case D_INT:
		rc = parse_int(p, d, w, &v);
		break;
	case D_DURATION:
		rc = parse_duration(p, d, w, &v);
		break;
	case D_ENUM:
		rc = parse_enum(p, d, w, &v);
		break;
	default:
		return -EINVAL;
	}
	if (rc == 0 && d->adjust)
		rc = d->adjust(p, d, w, &v);
	if (rc == 0)
		store_int(field, d->size, v);
	return rc;
}

static int adj_inflight(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	(void)p, (void)d, (void)w;
	if (*v == 0)
		*v = 65535; /* 0 = unlimited */
	return 0;
}

static int adj_packet_size(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	if (*v != 0 && *v < 20)
		return fail(p, "%s: %.64s is too small (0 for no limit, or at least 20)", d->name,
		            w);
	return 0;
}

static int h_per_listener_settings(struct parser *p, const struct directive *d, char *value)
{
	char *w;
	bool on = false;
	int rc = one_word(p, d->name, value, &w);
	if (rc == 0)
		rc = parse_bool(p, d->name, w, &on);
	if (rc == 0 && on)
		rc = fail(p, "per_listener_settings true is not supported by mqtt-fast yet");
	return rc;
}

static int h_log_type(struct parser *p, const struct directive *d, char *value)
{
	static const char *const names[] = {"information", "notice",    "warning",
	                                    "error",       "debug",     "subscribe",
	                                    "unsubscribe", "websockets"};
	char *w;
	int rc = one_word(p, d->name, value, &w);
	if (rc)
		return rc;
	uint32_t bit = 0;
	if (strcmp(w, "none") != 0 && strcmp(w, "all") != 0) {
		for (size_t i = 0; i < ARRAY_LEN(names) && !bit; i++)
			if (strcmp(w, names[i]) == 0)
				bit = 1u << i; /* enum log_level order */
		if (!bit)
			return fail(
			        p,
			        "log_type: '%.64s' is not one of none, information, notice, "
			        "warning, error, debug, subscribe, unsubscribe, websockets, all",
			        w);
	}
	if (!p->log_type_set)
		p->c->log_types = 0;
	p->log_type_set = true;
	if (strcmp(w, "none") == 0)
		p->c->log_types = LOG_LEVEL_NONE;
	else if (strcmp(w, "all") == 0)
		p->c->log_types = LOG_LEVEL_ALL;
	else
		p->c->log_types |= bit;
	return 0;
}

static int h_log_dest(struct parser *p, const struct directive *d, char *value)
{
	char *w = next_word(&value);
	char *rest = skip_blank(value);
	uint32_t bit = 0;
	if (!w)
		return fail(p, "%s: missing value", d->name);
	if (strcmp(w, "file") == 0) {
		if (!*rest)
			return fail(p, "log_dest: file needs a path");
		if (p->c->log_file)
			return fail(p, "log_dest: file given twice");
		bit = CONFIG_LOG_DEST_FILE;
	} else if (strcmp(w, "stderr") == 0) {
		bit = CONFIG_LOG_DEST_STDERR;
	} else if (strcmp(w, "stdout") == 0) {
		bit = CONFIG_LOG_DEST_STDOUT;
	} else if (strcmp(w, "syslog") == 0) {
		bit = CONFIG_LOG_DEST_SYSLOG;
	} else if (strcmp(w, "topic") == 0 || strcmp(w, "dlt") == 0) {
		return fail(p, "log_dest %s is not supported by mqtt-fast yet", w);
	} else if (strcmp(w, "none") != 0) {
		return fail(p, "log_dest: '%.64s' is not one of stderr, stdout, file, syslog, none",
		            w);
	}
	if (bit != CONFIG_LOG_DEST_FILE && *rest)
		return fail(p, "log_dest: too many arguments");
	if (bit == CONFIG_LOG_DEST_FILE && store_string(&p->c->log_file, rest))
		return -ENOMEM;
	if (!p->log_dest_set)
		p->c->log_dests = 0;
	p->log_dest_set = true;
	if (bit)
		p->c->log_dests |= bit;
	else
		p->c->log_dests = 0; /* none */
	return 0;
}

/* Applies the defaults of every directive of `scope` to base. */
static int apply_defaults(void *base, enum dscope scope)
{
	for (size_t i = 0; i < ARRAY_LEN(directives); i++) {
		const struct directive *d = &directives[i];
		void *field = (char *)base + d->offset;
		if (d->scope != scope || d->size == 0)
			continue;
		if (d->type == D_STRING) {
			if (store_string(field, d->def_str))
				return -ENOMEM;
		} else if (d->type == D_BOOL) {
			*(bool *)field = d->def != 0;
		} else {
			store_int(field, d->size, d->def);
		}
	}
	return 0;
}

static void listener_free(struct listener_conf *l)
{
	char **strs[] = {&l->bind_address, &l->cafile,  &l->capath,      &l->certfile,
	                 &l->keyfile,      &l->ciphers, &l->tls_version, &l->source_file};
	for (size_t i = 0; i < ARRAY_LEN(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

/* Deep copy of src into dst (dst owns nothing yet). */
static int listener_copy(struct listener_conf *dst, const struct listener_conf *src)
{
	*dst = *src;
	char **strs[] = {&dst->bind_address, &dst->cafile,  &dst->capath,      &dst->certfile,
	                 &dst->keyfile,      &dst->ciphers, &dst->tls_version, &dst->source_file};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(strs); i++) {
		const char *s = *strs[i];
		*strs[i] = NULL;
		if (rc == 0 && s)
			rc = store_string(strs[i], s);
	}
	if (rc)
		listener_free(dst);
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
	if (apply_defaults(l, S_LISTENER)) {
		listener_free(l);
		return NULL;
	}
	c->listener_count++;
	return l;
}

static int h_listener(struct parser *p, const struct directive *d, char *value)
{
	static const struct directive port = {"listener", D_UINT, .min = 1, .max = 65535};
	char *w = next_word(&value);
	char *bind = next_word(&value);
	int64_t v = 0;
	if (!w)
		return fail(p, "%s: missing value", d->name);
	if (*skip_blank(value))
		return fail(p, "%s: too many arguments", d->name);
	int rc = parse_int(p, &port, w, &v);
	if (rc)
		return rc;
	struct listener_conf *l = listener_add(p);
	if (!l)
		return -ENOMEM;
	l->port = (uint16_t)v;
	l->source_line = p->line;
	if (store_string(&l->bind_address, bind) || store_string(&l->source_file, p->name))
		return -ENOMEM;
	return 0;
}

/* Rejects mosquitto directives mqtt-fast does not implement, then unknown ones. */
static int reject_directive(struct parser *p, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(unsupported); i++) {
		const char *u = unsupported[i];
		size_t n = strlen(u);
		if (u[n - 1] == '*' ? strncmp(name, u, n - 1) == 0 : strcmp(name, u) == 0)
			return fail(p, "'%.64s' is not supported by mqtt-fast yet", name);
	}
	return fail(p, "unknown directive '%.64s'", name);
}

static int parse_line(struct parser *p, char *s)
{
	size_t len = strlen(s);
	while (len > 0 && (is_blank(s[len - 1]) || s[len - 1] == '\n'))
		s[--len] = '\0';
	s = skip_blank(s);
	if (*s == '\0' || *s == '#')
		return 0;
	char *name = next_word(&s);
	char *value = skip_blank(s);
	const struct directive *d = NULL;
	for (size_t i = 0; i < ARRAY_LEN(directives) && !d; i++)
		if (strcmp(name, directives[i].name) == 0)
			d = &directives[i];
	if (!d)
		return reject_directive(p, name);
	if (d->needs_listener && p->c->listener_count == 0)
		return fail(p, "%s: must follow a listener line", d->name);
	if (d->type == D_SPECIAL)
		return d->handler(p, d, value);
	void *base = p->c;
	if (d->scope == S_LISTENER)
		base = p->c->listener_count ? (void *)&p->c->listeners[p->c->listener_count - 1]
		                            : (void *)&p->tmpl;
	return set_value(p, d, base, value);
}

static bool same_transport(const struct listener_conf *a, const struct listener_conf *b)
{
	return (a->protocol == LISTENER_MQTTSN) == (b->protocol == LISTENER_MQTTSN);
}

/* Two listeners on the same port, transport, address and overlapping domain cannot both bind. */
static int check_listeners(struct parser *p)
{
	const struct config *c = p->c;
	for (size_t i = 1; i < c->listener_count; i++) {
		const struct listener_conf *b = &c->listeners[i];
		for (size_t j = 0; j < i; j++) {
			const struct listener_conf *a = &c->listeners[j];
			bool same_bind = (!a->bind_address && !b->bind_address) ||
			                 (a->bind_address && b->bind_address &&
			                  strcmp(a->bind_address, b->bind_address) == 0);
			bool domains = a->socket_domain == b->socket_domain ||
			               a->socket_domain == SOCKET_DOMAIN_ANY ||
			               b->socket_domain == SOCKET_DOMAIN_ANY;
			if (a->port != b->port || !same_bind || !domains || !same_transport(a, b))
				continue;
			p->line = b->source_line;
			return fail(p, "listener %u is already defined at line %u", b->port,
			            a->source_line);
		}
	}
	return 0;
}

/* Without `listener` lines: port 1883 on 127.0.0.1 and ::1 (mosquitto 2.0 local-only mode),
 * carrying the listener settings given before (socket_domain ipv4/ipv6 keeps one of them). */
static int add_implicit_listeners(struct parser *p)
{
	static const struct {
		const char *bind;
		enum socket_domain domain;
	} local[] = {{"127.0.0.1", SOCKET_DOMAIN_IPV4}, {"::1", SOCKET_DOMAIN_IPV6}};
	for (size_t i = 0; i < ARRAY_LEN(local); i++) {
		if (p->tmpl.socket_domain != SOCKET_DOMAIN_ANY &&
		    p->tmpl.socket_domain != local[i].domain)
			continue;
		struct listener_conf *l = listener_add(p);
		if (!l)
			return -ENOMEM;
		listener_free(l);
		if (listener_copy(l, &p->tmpl)) /* leaves l empty on failure */
			return -ENOMEM;
		l->port = 1883;
		l->socket_domain = local[i].domain;
		l->implicit = true;
		l->source_line = 0;
		if (store_string(&l->bind_address, local[i].bind) ||
		    store_string(&l->source_file, IMPLICIT_LISTENER_SOURCE))
			return -ENOMEM;
	}
	return 0;
}

int config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	int rc = apply_defaults(c, S_GLOBAL);
	if (rc)
		config_free(c);
	return rc;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->listener_count; i++)
		listener_free(&c->listeners[i]);
	free(c->listeners);
	char *strs[] = {c->auto_id_prefix,       c->password_file, c->acl_file,
	                c->persistence_location, c->log_file,      c->pid_file};
	for (size_t i = 0; i < ARRAY_LEN(strs); i++)
		free(strs[i]);
	memset(c, 0, sizeof(*c));
}

int config_load_string(const char *name, const char *text, struct config *out, char *err,
                       size_t errlen)
{
	struct parser p = {.c = out, .name = name, .err = err, .errlen = errlen};
	char *buf = NULL;
	if (errlen)
		err[0] = '\0';
	int rc = config_init_defaults(out);
	if (rc)
		return rc;
	if (apply_defaults(&p.tmpl, S_LISTENER) || !(buf = strdup(text))) {
		rc = -ENOMEM;
		goto out;
	}
	for (char *s = buf, *next; s && rc == 0; s = next) {
		char *nl = strchr(s, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		p.line++;
		rc = parse_line(&p, s);
	}
	if (rc == 0)
		rc = check_listeners(&p);
	if (rc == 0 && out->listener_count == 0)
		rc = add_implicit_listeners(&p);
out:
	if (rc == -ENOMEM && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	if (rc)
		config_free(out);
	listener_free(&p.tmpl);
	free(buf);
	return rc;
}

/* Reads the whole file (at most CONFIG_MAX_FILE bytes) into an owned NUL-terminated buffer. */
static int read_file(const char *path, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!(buf = malloc(CONFIG_MAX_FILE + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, CONFIG_MAX_FILE + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CONFIG_MAX_FILE) {
			rc = -EFBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int config_load_file(const char *path, struct config *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	int rc = read_file(path, &text, &len);
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "%s: %s", path,
			         rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return rc;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *s = text; s < nul; s++)
			line += *s == '\n';
		if (errlen)
			snprintf(err, errlen, "%s:%u: NUL byte in the file", path, line);
		rc = -EINVAL;
		goto out;
	}
	rc = config_load_string(path, text, out, err, errlen);
out:
	free(text);
	return rc;
}

const char *config_protocol_name(enum listener_protocol p)
{
	return (size_t)p < ARRAY_LEN(protocol_names) ? protocol_names[p] : "?";
}
