/* log.c - formats one log line per event and writes it to the configured destinations with a
 * single write() each, so concurrent writers to the same file do not interleave mid-line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

#define LOG_LINE_MAX 1024 /* bytes, newline included */

enum { FD_STDERR, FD_STDOUT, FD_FILE };

static void logger_reset(struct logger *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < sizeof(l->fds) / sizeof(l->fds[0]); i++)
		l->fds[i] = -1;
}

int logger_open(struct logger *l, const struct config *c)
{
	logger_reset(l);
	l->types = c->log_types;
	l->timestamp = c->log_timestamp;
	if (c->log_dests & CONFIG_LOG_DEST_STDERR)
		l->fds[FD_STDERR] = STDERR_FILENO;
	if (c->log_dests & CONFIG_LOG_DEST_STDOUT)
		l->fds[FD_STDOUT] = STDOUT_FILENO;
	if ((c->log_dests & CONFIG_LOG_DEST_FILE) && c->log_file) {
		int fd = open(c->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			int rc = -errno;
			logger_reset(l);
			return rc;
		}
		l->fds[FD_FILE] = fd;
		l->own_file = true;
	}
	if (c->log_dests & CONFIG_LOG_DEST_SYSLOG) {
		/* log_facility N is syslog's local N (mosquitto); daemon by default. */
		int facility =
		        c->log_facility >= 0 ? LOG_LOCAL0 + (c->log_facility << 3) : LOG_DAEMON;
		openlog("mqtt-fast", LOG_PID | LOG_NDELAY, facility);
		l->use_syslog = true;
	}
	return 0;
}

void logger_init_fd(struct logger *l, uint32_t types, int fd, bool timestamp)
{
	logger_reset(l);
	l->types = types;
	l->timestamp = timestamp;
	l->fds[FD_FILE] = fd;
}

void logger_close(struct logger *l)
{
	if (l->own_file && l->fds[FD_FILE] >= 0)
		close(l->fds[FD_FILE]);
	if (l->use_syslog)
		closelog();
	logger_reset(l);
}

const char *log_level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LEVEL_INFO:
		return "information";
	case LOG_LEVEL_NOTICE:
		return "notice";
	case LOG_LEVEL_WARNING:
		return "warning";
	case LOG_LEVEL_ERR:
		return "error";
	case LOG_LEVEL_DEBUG:
		return "debug";
	case LOG_LEVEL_SUBSCRIBE:
		return "subscribe";
	case LOG_LEVEL_UNSUBSCRIBE:
		return "unsubscribe";
	case LOG_LEVEL_WEBSOCKETS:
		return "websockets";
	}
	return "unknown";
}

static int syslog_priority(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LEVEL_ERR:
		return LOG_ERR;
	case LOG_LEVEL_WARNING:
		return LOG_WARNING;
	case LOG_LEVEL_NOTICE:
		return LOG_NOTICE;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* A bounded string builder: appends stop at `limit` bytes and set `cut`. */
struct linebuf {
	char *p;
	size_t len;
	size_t limit; /* < capacity of p: a NUL always fits */
	bool cut;
};

static void lb_vappend(struct linebuf *b, const char *fmt, va_list ap)
{
	if (b->len >= b->limit) {
		b->cut = true;
		return;
	}
	int n = vsnprintf(b->p + b->len, b->limit - b->len + 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > b->limit - b->len) {
		b->cut = true;
		b->len = b->limit;
	} else {
		b->len += (size_t)n;
	}
}

__attribute__((format(printf, 2, 3))) static void lb_append(struct linebuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lb_vappend(b, fmt, ap);
	va_end(ap);
}

static void lb_timestamp(struct linebuf *b)
{
	struct timespec ts;
	struct tm tm;
	char date[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	lb_append(b, "%s.%03ldZ ", date, ts.tv_nsec / 1000000);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to report a logging failure */
		p += w;
		n -= (size_t)w;
	}
}

__attribute__((format(printf, 6, 0))) static void log_vline(const struct logger *l,
                                                            uint32_t suppressed, enum log_level lvl,
                                                            const char *client_id, const char *peer,
                                                            const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char suffix[48] = "";
	struct linebuf b = {.p = line, .limit = sizeof(line) - 2}; /* room for '\n' and NUL */
	if (suppressed)
		snprintf(suffix, sizeof(suffix), " (%u similar lines suppressed)", suppressed);
	if (l->timestamp)
		lb_timestamp(&b);
	size_t body = b.len; /* syslog adds its own timestamp */
	lb_append(&b, "%s ", log_level_name(lvl));
	if (client_id || peer)
		lb_append(&b, "[%s %s] ", client_id ? client_id : "-", peer ? peer : "-");
	b.limit -= strlen(suffix); /* the suppression count survives truncation */
	lb_vappend(&b, fmt, ap);
	if (b.cut)
		memcpy(line + b.len - 3, "...", 3);
	b.limit += strlen(suffix);
	lb_append(&b, "%s", suffix);
	for (size_t i = 0; i < b.len; i++) /* no forged lines, no terminal escapes */
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[b.len] = '\n';
	for (size_t i = 0; i < sizeof(l->fds) / sizeof(l->fds[0]); i++)
		if (l->fds[i] >= 0)
			write_all(l->fds[i], line, b.len + 1);
	if (l->use_syslog) {
		line[b.len] = '\0';
		syslog(syslog_priority(lvl), "%s", line + body);
	}
}

void log_line(const struct logger *l, enum log_level lvl, const char *client_id, const char *peer,
              const char *fmt, ...)
{
	if (!log_enabled(l, lvl))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vline(l, 0, lvl, client_id, peer, fmt, ap);
	va_end(ap);
}

void log_ratelimit_init(struct log_ratelimit *rl, int64_t interval_ms, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->interval_ms = interval_ms > 0 ? interval_ms : 1;
	rl->burst = burst ? burst : 1;
	rl->window_start = INT64_MIN; /* first call opens a window */
}

bool log_ratelimit(struct log_ratelimit *rl, int64_t now_ms)
{
	if (rl->window_start == INT64_MIN || now_ms < rl->window_start ||
	    now_ms - rl->window_start >= rl->interval_ms) {
		rl->window_start = now_ms;
		rl->count = 0;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		rl->report = rl->suppressed;
		rl->suppressed = 0;
		return true;
	}
	if (rl->suppressed < UINT32_MAX)
		rl->suppressed++;
	return false;
}

void log_line_limited(const struct logger *l, struct log_ratelimit *rl, int64_t now_ms,
                      enum log_level lvl, const char *client_id, const char *peer, const char *fmt,
                      ...)
{
	if (!log_enabled(l, lvl) || !log_ratelimit(rl, now_ms))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vline(l, rl->report, lvl, client_id, peer, fmt, ap);
	va_end(ap);
}
