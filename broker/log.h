/* log.h - the broker's logger: one line per event, filtered by mosquitto's log_type mask, written
 * to the log_dest destinations of the config (stderr, stdout, a file, syslog).
 *
 * Line format (UTC, millisecond precision; the timestamp is left out with log_timestamp false):
 *   2026-11-22T01:02:03.456Z notice [client-id 192.0.2.7:51234] message
 * The bracket part is omitted when both client id and peer are NULL; a missing one of the two is
 * written "-". Control characters anywhere in the line (a client id or topic with a newline) are
 * written as '?', so a client cannot forge log lines.
 *
 * Secrets: callers must never pass passwords, password hashes, TLS keys or authentication data
 * to log_line, in the format or the arguments; the logger cannot tell them apart. */
#ifndef MQTT_FAST_LOG_H
#define MQTT_FAST_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct config;

/* One bit per mosquitto log_type (same values as mosquitto's MOSQ_LOG_*). */
enum log_level {
	LOG_LEVEL_INFO = 1u << 0, /* "information" */
	LOG_LEVEL_NOTICE = 1u << 1,
	LOG_LEVEL_WARNING = 1u << 2,
	LOG_LEVEL_ERR = 1u << 3, /* "error" */
	LOG_LEVEL_DEBUG = 1u << 4,
	LOG_LEVEL_SUBSCRIBE = 1u << 5,
	LOG_LEVEL_UNSUBSCRIBE = 1u << 6,
	LOG_LEVEL_WEBSOCKETS = 1u << 7,
};

#define LOG_LEVEL_NONE    0u
#define LOG_LEVEL_ALL     0xffu
#define LOG_LEVEL_DEFAULT (LOG_LEVEL_ERR | LOG_LEVEL_WARNING | LOG_LEVEL_NOTICE | LOG_LEVEL_INFO)

struct logger {
	uint32_t types;  /* enum log_level mask of what is written */
	int fds[3];      /* stderr / stdout / file descriptors, -1 = unused */
	bool own_file;   /* fds[2] was opened by logger_open and is closed by logger_close */
	bool use_syslog; /* openlog was called by logger_open */
	bool timestamp;
};

/* Sets l up from the log_* fields of c: opens log_file for appending (O_APPEND|O_CLOEXEC, mode
 * 0640) and syslog when configured. Borrows c (nothing is kept). Returns 0, or a negative errno
 * from open() with l left closed (logging nowhere). */
int logger_open(struct logger *l, const struct config *c);

/* Sets l up to write every type in `types` to fd only (tests, early start-up). Borrows fd: the
 * caller keeps it open for as long as l is used and closes it. */
void logger_init_fd(struct logger *l, uint32_t types, int fd, bool timestamp);

/* Closes what logger_open opened; l then logs nowhere. Safe to call twice. */
void logger_close(struct logger *l);

/* The mosquitto log_type keyword of one level ("information", "notice", ...). */
const char *log_level_name(enum log_level lvl);

static inline bool log_enabled(const struct logger *l, enum log_level lvl)
{
	return l && (l->types & (uint32_t)lvl);
}

/* Writes one line when lvl is enabled. client_id and peer may be NULL. Borrows everything. Lines
 * longer than 1 KiB are cut and end in "...". Never fails (write errors are ignored). */
void log_line(const struct logger *l, enum log_level lvl, const char *client_id, const char *peer,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Flood limiter: at most `burst` lines per `interval_ms`. Embed one per noisy event source. */
struct log_ratelimit {
	int64_t interval_ms;
	uint32_t burst;
	int64_t window_start;
	uint32_t count;      /* lines allowed in the current window */
	uint32_t suppressed; /* lines refused since the last allowed one */
	/* Set by log_ratelimit when it returns true: how many lines were refused just before this
	 * one; the caller mentions it ("(N similar lines suppressed)"). log_line_limited does. */
	uint32_t report;
};

void log_ratelimit_init(struct log_ratelimit *rl, int64_t interval_ms, uint32_t burst);

/* True when a line may be written at now_ms (any monotonic millisecond clock). */
bool log_ratelimit(struct log_ratelimit *rl, int64_t now_ms);

/* log_line through a limiter: drops the line when rl refuses it, and appends
 * " (N similar lines suppressed)" to the first line allowed after refusals. Lines of disabled
 * types neither count nor get suppressed. */
void log_line_limited(const struct logger *l, struct log_ratelimit *rl, int64_t now_ms,
                      enum log_level lvl, const char *client_id, const char *peer, const char *fmt,
                      ...) __attribute__((format(printf, 7, 8)));

#endif
