/* config.c - mosquitto.conf-compatible configuration parser, driven by one table of directives
 * {name, type, scope, offset, min, max, default, handler/adjust}.
 *
 * File format (mosquitto.conf(5)): one directive per line, "name value..."; leading and trailing
 * whitespace ignored, CRLF tolerated, '#' as the first non-blank character starts a comment line
 * (a '#' after a value is not a comment, as in mosquitto). String values (paths, prefixes) are
 * the rest of the line, so they may contain spaces; other values are exactly one word. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "log.h"

#define MQTT_MAX_PACKET  268435460ll /* 1 + 4 + 268435455 */
#define MQTT_MAX_PAYLOAD 268435455ll
#define DURATION_MAX     (100ll * 365 * 86400) /* 100y */
#define ARRAY_LEN(a)     CFG_ARRAY_LEN(a)

#define GLOBAL(f)                                                                                  \
	.scope = S_GLOBAL, .offset = offsetof(struct config, f),                                   \
	.size = sizeof(((struct config *)0)->f)
#define LISTENER(f)                                                                                \
	.scope = S_LISTENER, .offset = offsetof(struct listener_conf, f),                          \
	.size = sizeof(((struct listener_conf *)0)->f)

static int h_log_type(struct parser *p, const struct directive *d, char *value);
static int h_log_dest(struct parser *p, const struct directive *d, char *value);
static int h_per_listener_settings(struct parser *p, const struct directive *d, char *value);
static int h_obsolete(struct parser *p, const struct directive *d, char *value);
static int h_sn_predefined(struct parser *p, const struct directive *d, char *value);
static int h_sn_advertise_address(struct parser *p, const struct directive *d, char *value);
static int adj_inflight(struct parser *p, const struct directive *d, const char *w, int64_t *v);
static int adj_packet_size(struct parser *p, const struct directive *d, const char *w, int64_t *v);

static const char *const protocol_names[] = {"mqtt", "mqttsn", "websockets"};
/* SOCKET_DOMAIN_ANY is the default only; mosquitto accepts ipv4 and ipv6. */
static const char *const domain_names[] = {NULL, "ipv4", "ipv6"};

static const struct directive directives[] = {
        /* Listeners */
        {"listener", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_listener},
        {"include_dir", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_include_dir},
        {"port", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_port},
        {"bind_address", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_bind_address},
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
        {"max_topic_length", D_UINT, GLOBAL(max_topic_length), 1, 65535, 65535},
        {"max_topic_levels", D_UINT, GLOBAL(max_topic_levels), 1, 65535, 128},
        {"memory_limit", D_UINT, GLOBAL(memory_limit), 0, INT64_MAX, 0},
        {"retain_available", D_BOOL, GLOBAL(retain_available), .def = true},
        {"persistent_client_expiration", D_DURATION, GLOBAL(persistent_client_expiration), 3600,
         DURATION_MAX, 0},
        {"sys_interval", D_UINT, GLOBAL(sys_interval), 0, 65535, 10},
        {"set_tcp_nodelay", D_BOOL, GLOBAL(set_tcp_nodelay), .def = true},
        {"user", D_STRING, GLOBAL(user)},
        /* Persistence */
        {"persistence", D_BOOL, GLOBAL(persistence), .def = false},
        {"persistence_location", D_STRING, GLOBAL(persistence_location)},
        {"persistence_file", D_STRING, GLOBAL(persistence_file), .def_str = "mosquitto.db"},
        {"autosave_interval", D_UINT, GLOBAL(autosave_interval), 0, INT32_MAX, 1800},
        {"autosave_on_changes", D_BOOL, GLOBAL(autosave_on_changes), .def = false},
        /* Logging */
        {"log_type", D_SPECIAL, GLOBAL(log_types), .def = LOG_LEVEL_DEFAULT, .handler = h_log_type},
        {"log_dest", D_SPECIAL, GLOBAL(log_dests), .def = CONFIG_LOG_DEST_STDERR,
         .handler = h_log_dest},
        {"log_timestamp", D_BOOL, GLOBAL(log_timestamp), .def = true},
        {"log_facility", D_INT, GLOBAL(log_facility), 0, 7, -1},
        {"connection_messages", D_BOOL, GLOBAL(connection_messages), .def = true},
        {"pid_file", D_STRING, GLOBAL(pid_file)},
        /* MQTT-SN gateway */
        {"sn_gateway_id", D_UINT, GLOBAL(sn_gateway_id), 1, 255, 1},
        {"sn_allow_anonymous", D_BOOL, GLOBAL(sn_allow_anonymous), .def = true},
        {"sn_allow_qos_m1", D_BOOL, GLOBAL(sn_allow_qos_m1), .def = true},
        {"sn_retry_interval", D_UINT, GLOBAL(sn_retry_interval), 1, 3600, 10},
        {"sn_retry_count", D_UINT, GLOBAL(sn_retry_count), 0, 100, 3},
        {"sn_advertise_interval", D_UINT, GLOBAL(sn_advertise_interval), 0, 65535, 0},
        {"sn_advertise_address", D_SPECIAL, GLOBAL(sn_advertise_address),
         .def_str = "255.255.255.255", .handler = h_sn_advertise_address},
        {"sn_advertise_port", D_UINT, GLOBAL(sn_advertise_port), 0, 65535, 0},
        {"sn_predefined_topic", D_SPECIAL, S_GLOBAL, .handler = h_sn_predefined},
        /* Kernel fast path (config_fastpath.c) */
        {"fastpath_interface", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_fastpath_interface},
        {"fastpath_mode", D_ENUM, GLOBAL(fastpath_mode), .def = FASTPATH_MODE_AUTO,
         .names = cfgp_fastpath_mode_names, .nnames = 3},
        {"fastpath", D_SPECIAL, S_GLOBAL, .handler = cfgp_h_fastpath},
        {"control_socket", D_STRING, GLOBAL(control_socket), .def_str = "/run/mqtt-fast.sock"},
        /* Obsolete in mosquitto 2.0: accepted with a warning (def_str says why). */
        {"retry_interval", D_SPECIAL, S_GLOBAL, .def_str = "has no effect", .handler = h_obsolete},
        {"store_clean_interval", D_SPECIAL, S_GLOBAL, .def_str = "has no effect",
         .handler = h_obsolete},
        {"allow_duplicate_messages", D_SPECIAL, S_GLOBAL,
         .def_str = "duplicate messages are always delivered", .handler = h_obsolete},
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
        "bind_interface", "mount_point", "retained_persistence", "queue_qos0_messages",
        "upgrade_outgoing_qos", "check_retain_source", "max_qos", "maximum_qos",
        "max_inflight_bytes", "log_timestamp_format", "clientid_prefixes",
        "use_username_as_clientid", "listener_allow_anonymous", "listener_auto_id_prefix",
        "accept_protocol_versions", "enable_proxy_protocol"};

int cfgp_fail(struct parser *p, const char *fmt, ...)
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

int cfgp_warn(struct parser *p, const char *fmt, ...)
{
	struct config *c = p->c;
	char line[512];
	int n = snprintf(line, sizeof(line), "%s:%u: ", p->name, p->line);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (c->warning_count == p->warning_cap) {
		size_t cap = p->warning_cap ? p->warning_cap * 2 : 4;
		char **w = realloc(c->warnings, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		c->warnings = w;
		p->warning_cap = cap;
	}
	if (!(c->warnings[c->warning_count] = strdup(line)))
		return -ENOMEM;
	c->warning_count++;
	return 0;
}

char *cfgp_skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

char *cfgp_next_word(char **s)
{
	char *w = cfgp_skip_blank(*s);
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

int cfgp_one_word(struct parser *p, const char *name, char *value, char **out)
{
	*out = cfgp_next_word(&value);
	if (!*out)
		return cfgp_fail(p, "%s: missing value", name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: too many arguments", name);
	return 0;
}

int cfgp_parse_int(struct parser *p, const struct directive *d, const char *w, int64_t *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(w, &end, 10);
	if (end == w || *end || !(w[0] == '-' || (w[0] >= '0' && w[0] <= '9')))
		return cfgp_fail(p, "%s: '%.64s' is not a number", d->name, w);
	if (errno == ERANGE || n < d->min || n > d->max)
		return cfgp_fail(p, "%s: %.64s is out of range %lld..%lld", d->name, w,
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
		return cfgp_fail(p, "%s: '%.64s' is not true or false", name, w);
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
		return cfgp_fail(
		        p, "%s: '%.64s' is not a duration (a number followed by h, d, w, m or y)",
		        d->name, w);
	int64_t n = 0;
	for (size_t i = 0; i < digits; i++) {
		n = n * 10 + (w[i] - '0');
		if (n > d->max)
			break;
	}
	if (n * mult < d->min || n * mult > d->max)
		return cfgp_fail(p, "%s: %.64s is out of range 1h..100y", d->name, w);
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

int cfgp_store_string(char **field, const char *s)
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
	return cfgp_fail(p, "%s: '%.64s' is not one of %s", d->name, w, list);
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
			return cfgp_fail(p, "%s: missing value", d->name);
		return cfgp_store_string(field, value);
	}
	if ((rc = cfgp_one_word(p, d->name, value, &w)))
		return rc;
	switch (d->type) {
	case D_BOOL:
		return parse_bool(p, d->name, w, field);
	case D_UINT:
	case D_INT:
		rc = cfgp_parse_int(p, d, w, &v);
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
		return cfgp_fail(p, "%s: %.64s is too small (0 for no limit, or at least 20)",
		                 d->name, w);
	return 0;
}

static int h_per_listener_settings(struct parser *p, const struct directive *d, char *value)
{
	char *w;
	bool on = false;
	int rc = cfgp_one_word(p, d->name, value, &w);
	if (rc == 0)
		rc = parse_bool(p, d->name, w, &on);
	if (rc == 0 && on)
		rc = cfgp_fail(p, "per_listener_settings true is not supported by mqtt-fast yet");
	return rc;
}

/* Directives mosquitto 2.0 removed: accepted (any value), never silently. */
static int h_obsolete(struct parser *p, const struct directive *d, char *value)
{
	(void)value;
	return cfgp_warn(p, "%s is obsolete since mosquitto 2.0 (%s); ignored", d->name,
	                 d->def_str);
}

static int h_log_type(struct parser *p, const struct directive *d, char *value)
{
	static const char *const names[] = {"information", "notice",    "warning",
	                                    "error",       "debug",     "subscribe",
	                                    "unsubscribe", "websockets"};
	char *w;
	int rc = cfgp_one_word(p, d->name, value, &w);
	if (rc)
		return rc;
	uint32_t bit = 0;
	if (strcmp(w, "none") != 0 && strcmp(w, "all") != 0) {
		for (size_t i = 0; i < ARRAY_LEN(names) && !bit; i++)
			if (strcmp(w, names[i]) == 0)
				bit = 1u << i; /* enum log_level order */
		if (!bit)
			return cfgp_fail(
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

/* sn_predefined_topic ID NAME: a topic every MQTT-SN client may use by id without REGISTER
 * (MQTT-SN 1.2 §3 "pre-defined topic ids"). Ids and names must be unique. */
static int h_sn_predefined(struct parser *p, const struct directive *d, char *value)
{
	char *w = cfgp_next_word(&value);
	char *name = cfgp_next_word(&value);
	char *end;
	if (!w || !name)
		return cfgp_fail(p, "%s: expected a topic id and a topic name", d->name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: unexpected text after the topic name", d->name);
	unsigned long id = strtoul(w, &end, 10);
	if (*end || id < 1 || id > 65534)
		return cfgp_fail(p, "%s: topic id '%s' is not in 1..65534", d->name, w);
	if (!*name || strchr(name, '+') || strchr(name, '#') || strlen(name) > 65535)
		return cfgp_fail(p, "%s: '%s' is not a valid topic name", d->name, name);
	struct config *c = p->c;
	for (size_t i = 0; i < c->sn_predefined_count; i++) {
		if (c->sn_predefined[i].id == id)
			return cfgp_fail(p, "%s: topic id %lu is already predefined", d->name, id);
		if (strcmp(c->sn_predefined[i].name, name) == 0)
			return cfgp_fail(p, "%s: topic '%s' is already predefined", d->name, name);
	}
	struct sn_predefined_topic *t =
	        realloc(c->sn_predefined, (c->sn_predefined_count + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->sn_predefined = t;
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	t[c->sn_predefined_count++] =
	        (struct sn_predefined_topic){.id = (uint16_t)id, .name = copy};
	return 0;
}

/* sn_advertise_address ADDR: where ADVERTISE goes; an IPv4 address (broadcast or unicast). */
static int h_sn_advertise_address(struct parser *p, const struct directive *d, char *value)
{
	char *w = cfgp_next_word(&value);
	struct in_addr a;
	if (!w)
		return cfgp_fail(p, "%s: missing value", d->name);
	if (*cfgp_skip_blank(value))
		return cfgp_fail(p, "%s: unexpected text after the address", d->name);
	if (inet_pton(AF_INET, w, &a) != 1)
		return cfgp_fail(p, "%s: '%s' is not an IPv4 address", d->name, w);
	char *copy = strdup(w);
	if (!copy)
		return -ENOMEM;
	free(p->c->sn_advertise_address);
	p->c->sn_advertise_address = copy;
	return 0;
}

static int h_log_dest(struct parser *p, const struct directive *d, char *value)
{
	char *w = cfgp_next_word(&value);
	char *rest = cfgp_skip_blank(value);
	uint32_t bit = 0;
	if (!w)
		return cfgp_fail(p, "%s: missing value", d->name);
	if (strcmp(w, "file") == 0) {
		if (!*rest)
			return cfgp_fail(p, "log_dest: file needs a path");
		if (p->c->log_file)
			return cfgp_fail(p, "log_dest: file given twice");
		bit = CONFIG_LOG_DEST_FILE;
	} else if (strcmp(w, "stderr") == 0) {
		bit = CONFIG_LOG_DEST_STDERR;
	} else if (strcmp(w, "stdout") == 0) {
		bit = CONFIG_LOG_DEST_STDOUT;
	} else if (strcmp(w, "syslog") == 0) {
		bit = CONFIG_LOG_DEST_SYSLOG;
	} else if (strcmp(w, "topic") == 0 || strcmp(w, "dlt") == 0) {
		return cfgp_fail(p, "log_dest %s is not supported by mqtt-fast yet", w);
	} else if (strcmp(w, "none") != 0) {
		return cfgp_fail(
		        p, "log_dest: '%.64s' is not one of stderr, stdout, file, syslog, none", w);
	}
	if (bit != CONFIG_LOG_DEST_FILE && *rest)
		return cfgp_fail(p, "log_dest: too many arguments");
	if (bit == CONFIG_LOG_DEST_FILE && cfgp_store_string(&p->c->log_file, rest))
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

int cfgp_apply_defaults(void *base, enum dscope scope)
{
	for (size_t i = 0; i < ARRAY_LEN(directives); i++) {
		const struct directive *d = &directives[i];
		void *field = (char *)base + d->offset;
		if (d->scope != scope || d->size == 0)
			continue;
		/* A D_SPECIAL with a field and a def_str is a string checked by its handler. */
		if (d->type == D_STRING || (d->type == D_SPECIAL && d->def_str)) {
			if (cfgp_store_string(field, d->def_str))
				return -ENOMEM;
		} else if (d->type == D_BOOL) {
			*(bool *)field = d->def != 0;
		} else {
			store_int(field, d->size, d->def);
		}
	}
	return 0;
}

/* Rejects mosquitto directives mqtt-fast does not implement, then unknown ones. */
static int reject_directive(struct parser *p, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(unsupported); i++) {
		const char *u = unsupported[i];
		size_t n = strlen(u);
		if (u[n - 1] == '*' ? strncmp(name, u, n - 1) == 0 : strcmp(name, u) == 0)
			return cfgp_fail(p, "'%.64s' is not supported by mqtt-fast yet", name);
	}
	return cfgp_fail(p, "unknown directive '%.64s'", name);
}

static int parse_line(struct parser *p, char *s)
{
	size_t len = strlen(s);
	while (len > 0 && (is_blank(s[len - 1]) || s[len - 1] == '\n'))
		s[--len] = '\0';
	s = cfgp_skip_blank(s);
	if (*s == '\0' || *s == '#')
		return 0;
	char *name = cfgp_next_word(&s);
	char *value = cfgp_skip_blank(s);
	const struct directive *d = NULL;
	for (size_t i = 0; i < ARRAY_LEN(directives) && !d; i++)
		if (strcmp(name, directives[i].name) == 0)
			d = &directives[i];
	if (!d)
		return reject_directive(p, name);
	if (d->needs_listener && p->cur_listener == 0)
		return cfgp_fail(p, "%s: must follow a listener line", d->name);
	if (d->type == D_SPECIAL)
		return d->handler(p, d, value);
	void *base = p->c;
	if (d->scope == S_LISTENER)
		base = p->cur_listener ? (void *)&p->c->listeners[p->cur_listener - 1]
		                       : (void *)&p->tmpl;
	return set_value(p, d, base, value);
}

int cfgp_parse_text(struct parser *p, char *text)
{
	int rc = 0;
	for (char *s = text, *next; s && rc == 0; s = next) {
		char *nl = strchr(s, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		p->line++;
		rc = parse_line(p, s);
	}
	return rc;
}

int config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	int rc = cfgp_apply_defaults(c, S_GLOBAL);
	if (rc)
		config_free(c);
	return rc;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->listener_count; i++)
		cfgp_listener_free(&c->listeners[i]);
	free(c->listeners);
	char *strs[] = {c->auto_id_prefix,       c->password_file,    c->acl_file, c->user,
	                c->persistence_location, c->persistence_file, c->log_file, c->pid_file};
	for (size_t i = 0; i < ARRAY_LEN(strs); i++)
		free(strs[i]);
	for (size_t i = 0; i < c->warning_count; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->sn_advertise_address);
	for (size_t i = 0; i < c->sn_predefined_count; i++)
		free(c->sn_predefined[i].name);
	free(c->sn_predefined);
	cfgp_fastpath_free(c);
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
	if (cfgp_apply_defaults(&p.tmpl, S_LISTENER) || !(buf = strdup(text))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = cfgp_parse_text(&p, buf);
	if (rc == 0)
		rc = cfgp_finish_listeners(&p);
out:
	if (rc == -ENOMEM && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	if (rc)
		config_free(out);
	cfgp_listener_free(&p.tmpl);
	free(buf);
	return rc;
}

const char *config_protocol_name(enum listener_protocol p)
{
	return (size_t)p < ARRAY_LEN(protocol_names) ? protocol_names[p] : "?";
}
