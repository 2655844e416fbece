/* config.h - the broker configuration: mosquitto.conf-compatible directives parsed from a file
 * into one struct config (global settings + one struct listener_conf per listener).
 *
 * Directive names, value syntax and defaults follow mosquitto 2.0 (see mqtt-fast.conf for the
 * documented list). Directives mosquitto has but mqtt-fast does not implement are rejected with
 * "'NAME' is not supported by mqtt-fast yet" rather than silently ignored; directives mosquitto
 * 2.0 made obsolete are accepted with a warning in config.warnings. */
#ifndef MQTT_FAST_CONFIG_H
#define MQTT_FAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum listener_protocol {
	LISTENER_MQTT = 0,   /* MQTT over TCP */
	LISTENER_MQTTSN,     /* MQTT-SN over UDP */
	LISTENER_WEBSOCKETS, /* MQTT over WebSockets (TCP) */
};

enum socket_domain {
	SOCKET_DOMAIN_ANY = 0, /* both IPv4 and IPv6 (mosquitto's default) */
	SOCKET_DOMAIN_IPV4,
	SOCKET_DOMAIN_IPV6,
};

/* log_dest bits (config.log_dests). */
enum config_log_dest {
	CONFIG_LOG_DEST_STDERR = 1u << 0,
	CONFIG_LOG_DEST_STDOUT = 1u << 1,
	CONFIG_LOG_DEST_FILE = 1u << 2, /* path in config.log_file */
	CONFIG_LOG_DEST_SYSLOG = 1u << 3,
};

/* fastpath_mode: how XDP is attached to each fastpath_interface. */
enum fastpath_mode {
	FASTPATH_MODE_AUTO = 0, /* native where the driver has it, else generic */
	FASTPATH_MODE_NATIVE,
	FASTPATH_MODE_GENERIC,
};

struct listener_conf {
	uint16_t port;      /* 1..65535 */
	char *bind_address; /* owned; NULL = all interfaces */
	enum socket_domain socket_domain;
	enum listener_protocol protocol; /* default LISTENER_MQTT */
	int32_t max_connections;         /* -1 = unlimited (default) */
	/* TLS settings, checked and used when the listeners open (tls.h). Strings owned, NULL = not
	 * set. */
	char *cafile;
	char *capath;
	char *certfile;
	char *keyfile;
	char *ciphers;
	char *tls_version;
	bool require_certificate;      /* default false */
	bool use_identity_as_username; /* default false */
	/* True for the listeners added because the file had no `listener` line (port 1883 on
	 * 127.0.0.1 and on ::1, mosquitto 2.0's local-only mode). The caller may tolerate a bind
	 * failure on these (e.g. ::1 on a host without IPv6). */
	bool implicit;
	char *source_file;    /* owned; the config name the listener came from ("(default)") */
	unsigned source_line; /* line of its `listener` directive; 0 for implicit listeners */
};

struct config {
	/* Listeners, in file order; owned array of listener_count entries. Never empty after a
	 * successful load: without `listener` lines it holds the two implicit local listeners. */
	struct listener_conf *listeners;
	size_t listener_count;

	/* Security */
	bool allow_anonymous;            /* default false (mosquitto 2.0) */
	bool allow_zero_length_clientid; /* default true */
	char *auto_id_prefix;            /* owned; default "auto-" */
	char *password_file;             /* owned; NULL = not set */
	char *acl_file;                  /* owned; NULL = not set */

	/* Limits. */
	uint16_t
	        max_inflight_messages; /* default 20; `0` in the file (unlimited) is stored 65535 */
	uint32_t max_queued_messages;  /* default 1000; 0 = unlimited */
	uint64_t max_queued_bytes;     /* default 0 = unlimited */
	uint32_t max_packet_size;      /* default 0 = protocol maximum; otherwise >= 20 */
	uint32_t message_size_limit;   /* default 0 = unlimited; at most 268435455 */
	uint16_t max_keepalive;        /* default 65535; 10..65535 */
	uint16_t max_topic_alias;      /* default 10 */
	uint32_t max_topic_length;     /* bytes of a topic name or filter; default 65535 */
	uint32_t max_topic_levels;     /* levels of a topic name or filter; default 128 */
	/* Bytes held in all clients' queues together (topic + payload of each queued message);
	 * default 0 = unlimited. mosquitto's directive bounds its whole heap; here it bounds the
	 * part a stalled subscriber can grow. */
	uint64_t memory_limit;
	bool retain_available; /* default true */
	/* Seconds after which a disconnected persistent session is dropped; 0 = never (default).
	 * Written as N followed by h, d, w, m (30 days) or y (365 days), as mosquitto. */
	int64_t persistent_client_expiration;
	uint32_t sys_interval; /* seconds between $SYS updates; default 10; 0 disables */
	bool set_tcp_nodelay;  /* default true (mosquitto: false), see mqtt-fast.conf */
	/* User to run as after binding, when started as root (main.c). Owned; NULL (default) =
	 * stay as started (mosquitto's default is "mosquitto"). */
	char *user;

	/* Persistence */
	bool persistence;           /* default false */
	char *persistence_location; /* owned; NULL = current directory */
	/* mosquitto's snapshot settings: accepted and ignored (store.c logs why when set). */
	char *persistence_file; /* owned; default "mosquitto.db" */
	uint32_t
	        autosave_interval; /* seconds (or changes, with autosave_on_changes); default 1800 */
	bool autosave_on_changes;  /* default false */

	/* Logging */
	uint32_t
	        log_types; /* enum log_level bits (log.h); default error|warning|notice|information */
	uint32_t log_dests;       /* enum config_log_dest bits; default CONFIG_LOG_DEST_STDERR */
	char *log_file;           /* owned; set with CONFIG_LOG_DEST_FILE */
	bool log_timestamp;       /* default true */
	int8_t log_facility;      /* syslog facility local0..local7 as 0..7; default -1 = daemon */
	bool connection_messages; /* default true: log client connects and disconnects */

	char *pid_file; /* owned; NULL = none */

	/* MQTT-SN gateway (listeners with `protocol mqttsn`). */
	uint8_t sn_gateway_id;          /* GwId in ADVERTISE / GWINFO; default 1 */
	bool sn_allow_anonymous;        /* default true: any client id may connect */
	bool sn_allow_qos_m1;           /* default true: QoS -1 PUBLISH from unconnected devices */
	uint32_t sn_retry_interval;     /* Tretry, seconds; default 10 */
	uint32_t sn_retry_count;        /* Nretry; default 3 */
	uint32_t sn_advertise_interval; /* seconds between ADVERTISE; 0 (default) = none */
	char *sn_advertise_address;     /* owned; IPv4 destination of ADVERTISE; 255.255.255.255 */
	uint16_t sn_advertise_port;     /* default 0 = the listener's port */
	struct sn_predefined_topic {
		uint16_t id;
		char *name; /* owned */
	} * sn_predefined;  /* owned array from `sn_predefined_topic ID NAME` lines */
	size_t sn_predefined_count;

	/* Kernel fast path (broker/fastpath.c, config_fastpath.c). */
	char **fastpath_interfaces; /* owned, from `fastpath_interface IFNAME` lines; none = off */
	size_t fastpath_interface_count;
	enum fastpath_mode fastpath_mode; /* default FASTPATH_MODE_AUTO */
	char **fastpath_filters;          /* owned, from `fastpath FILTER` lines */
	size_t fastpath_filter_count;
	char *control_socket; /* owned; default "/run/mqtt-fast.sock"; "" = no control socket */

	/* Warnings of the loader ("file:line: message", owned), for the caller to log: obsolete
	 * directives (retry_interval, ...), deprecated ones (port, bind_address), repeats. */
	char **warnings;
	size_t warning_count;
};

/* Fills c with every default (no listeners). c must not own anything yet; pair with
 * config_free. Returns 0 or -ENOMEM (auto_id_prefix copy). */
int config_init_defaults(struct config *c);

/* Frees everything c owns and leaves it zeroed. NULL is ignored. */
void config_free(struct config *c);

/* Parses the file at path into out (which this initialises: pass an uninitialised or freed
 * struct). On error returns a negative errno (-EINVAL bad content, -ENOENT/-EACCES/... open
 * failure, -EFBIG larger than 1 MiB, -ENOMEM), writes "file:line: reason" (or "file: reason")
 * into err when errlen > 0, and leaves out empty (freed). On success the caller owns out and
 * releases it with config_free. Borrows path. */
int config_load_file(const char *path, struct config *out, char *err, size_t errlen);

/* Same as config_load_file for text already in memory; name is used in messages. Borrows name
 * and text. */
int config_load_string(const char *name, const char *text, struct config *out, char *err,
                       size_t errlen);

/* True when a and b have the same listeners with the same settings (a reload cannot change
 * them). Borrows both. */
bool config_listeners_equal(const struct config *a, const struct config *b);

/* The mosquitto keyword of a protocol ("mqtt", "mqttsn", "websockets"). */
const char *config_protocol_name(enum listener_protocol p);

#endif
