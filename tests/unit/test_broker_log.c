/* test_broker_log.c - log line format, type-mask filtering, destinations from a config, control
 * character scrubbing, truncation and the flood limiter. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"

#define CHECK_STREQ(a, b)                                                                          \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		if (strcmp(sa_, sb_) == 0) {                                                       \
			check_state_.passed++;                                                     \
		} else {                                                                           \
			check_state_.failed++;                                                     \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, sa_,      \
			        sb_);                                                              \
		}                                                                                  \
	} while (0)

/* Reads whatever the pipe holds (non-blocking) into buf as a C string. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	buf[n] = '\0';
	return n;
}

static int open_pipe(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* "2026-11-22T01:02:03.456Z " */
static bool is_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

static void test_format(void)
{
	int p[2];
	char buf[4096];
	struct logger l;
	if (open_pipe(p) < 0) {
		CHECK(!"pipe");
		return;
	}
	logger_init_fd(&l, LOG_LEVEL_ALL, p[1], false);
	log_line(&l, LOG_LEVEL_NOTICE, "client-1", "192.0.2.7:51234", "new client, keepalive %d",
	         60);
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf, "notice [client-1 192.0.2.7:51234] new client, keepalive 60\n");

	log_line(&l, LOG_LEVEL_ERR, NULL, NULL, "plain");
	log_line(&l, LOG_LEVEL_INFO, "c", NULL, "only client");
	log_line(&l, LOG_LEVEL_WARNING, NULL, "[::1]:1883", "only peer");
	log_line(&l, LOG_LEVEL_DEBUG, NULL, NULL, "d");
	log_line(&l, LOG_LEVEL_SUBSCRIBE, NULL, NULL, "s");
	log_line(&l, LOG_LEVEL_UNSUBSCRIBE, NULL, NULL, "u");
	log_line(&l, LOG_LEVEL_WEBSOCKETS, NULL, NULL, "w");
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf, "error plain\n"
	                 "information [c -] only client\n"
	                 "warning [- [::1]:1883] only peer\n"
	                 "debug d\n"
	                 "subscribe s\n"
	                 "unsubscribe u\n"
	                 "websockets w\n");

	/* Control characters from clients cannot forge a second line. */
	log_line(&l, LOG_LEVEL_NOTICE, "evil\nerror fake", NULL, "topic a\r\x1b[2Jb");
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf, "notice [evil?error fake -] topic a??[2Jb\n");

	/* Long lines are cut to 1 KiB, end in "..." and still end in a newline. */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_line(&l, LOG_LEVEL_NOTICE, NULL, NULL, "%s", big);
	size_t n = drain(p[0], buf, sizeof(buf));
	CHECK_EQ(n, 1023);
	CHECK(n == 1023 && memcmp(buf + n - 4, "...\n", 4) == 0);
	CHECK(memchr(buf, '\n', n) == buf + n - 1);

	/* With timestamps: an ISO 8601 UTC prefix with milliseconds. */
	logger_init_fd(&l, LOG_LEVEL_ALL, p[1], true);
	log_line(&l, LOG_LEVEL_NOTICE, "id", "peer", "hello");
	drain(p[0], buf, sizeof(buf));
	CHECK(is_timestamp(buf));
	CHECK_STREQ(buf + 25, "notice [id peer] hello\n");
	CHECK_EQ(strlen(buf), 25 + strlen("notice [id peer] hello\n"));

	CHECK_STREQ(log_level_name(LOG_LEVEL_INFO), "information");
	CHECK_STREQ(log_level_name(LOG_LEVEL_ERR), "error");
	log_line(NULL, LOG_LEVEL_ERR, NULL, NULL, "no logger is a no-op");
	logger_close(&l); /* borrowed fd stays open */
	CHECK(fcntl(p[1], F_GETFD) >= 0);
	close(p[0]);
	close(p[1]);
}

static void test_mask(void)
{
	int p[2];
	char buf[1024];
	struct logger l;
	if (open_pipe(p) < 0)
		return;
	logger_init_fd(&l, LOG_LEVEL_DEFAULT, p[1], false);
	CHECK(log_enabled(&l, LOG_LEVEL_NOTICE));
	CHECK(!log_enabled(&l, LOG_LEVEL_DEBUG));
	log_line(&l, LOG_LEVEL_DEBUG, NULL, NULL, "hidden");
	log_line(&l, LOG_LEVEL_SUBSCRIBE, NULL, NULL, "hidden");
	log_line(&l, LOG_LEVEL_ERR, NULL, NULL, "shown");
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf, "error shown\n");

	logger_init_fd(&l, LOG_LEVEL_NONE, p[1], false);
	log_line(&l, LOG_LEVEL_ERR, NULL, NULL, "hidden");
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf, "");
	close(p[0]);
	close(p[1]);
}

/* logger_open from a parsed config: log_dest file appends to the file. */
static void test_open_file(void)
{
	char path[] = "/tmp/test_broker_log.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		CHECK(!"mkstemp");
		return;
	}
	CHECK_EQ(write(fd, "old\n", 4), 4);
	close(fd);

	char text[256], err[256], buf[512];
	snprintf(text, sizeof(text),
	         "log_dest file %s\nlog_type warning\nlog_type debug\nlog_timestamp false\n", path);
	struct config c;
	struct logger l;
	CHECK_EQ(config_load_string("l.conf", text, &c, err, sizeof(err)), 0);
	CHECK_EQ(logger_open(&l, &c), 0);
	log_line(&l, LOG_LEVEL_WARNING, "cid", NULL, "disk %d%% full", 91);
	log_line(&l, LOG_LEVEL_NOTICE, NULL, NULL, "filtered out");
	log_line(&l, LOG_LEVEL_DEBUG, NULL, NULL, "dbg");
	logger_close(&l);
	logger_close(&l); /* idempotent */
	config_free(&c);

	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
		CHECK_STREQ(buf, "old\nwarning [cid -] disk 91% full\ndebug dbg\n");
	}
	unlink(path);

	/* An unwritable log file is reported, and the logger is left closed. */
	CHECK_EQ(config_load_string("l.conf", "log_dest file /nonexistent/dir/x.log\n", &c, err,
	                            sizeof(err)),
	         0);
	CHECK(logger_open(&l, &c) < 0);
	CHECK_EQ(l.types, 0);
	config_free(&c);

	/* Defaults: stderr only, syslog/file unused. */
	CHECK_EQ(config_load_string("l.conf", "", &c, err, sizeof(err)), 0);
	CHECK_EQ(logger_open(&l, &c), 0);
	CHECK_EQ(l.fds[0], STDERR_FILENO);
	CHECK(l.fds[1] < 0 && l.fds[2] < 0 && !l.use_syslog && l.timestamp);
	CHECK_EQ(l.types, LOG_LEVEL_DEFAULT);
	logger_close(&l);
	config_free(&c);
}

static void test_ratelimit(void)
{
	struct log_ratelimit rl;
	log_ratelimit_init(&rl, 1000, 3);
	/* 3 lines per second pass, the rest are counted. */
	CHECK(log_ratelimit(&rl, 5000));
	CHECK(log_ratelimit(&rl, 5001));
	CHECK(log_ratelimit(&rl, 5002));
	CHECK_EQ(rl.report, 0);
	for (int i = 0; i < 10; i++)
		CHECK(!log_ratelimit(&rl, 5100 + i));
	CHECK(!log_ratelimit(&rl, 5999));
	CHECK_EQ(rl.suppressed, 11);
	/* Next window: the first allowed line reports the 11. */
	CHECK(log_ratelimit(&rl, 6000));
	CHECK_EQ(rl.report, 11);
	CHECK_EQ(rl.suppressed, 0);
	CHECK(log_ratelimit(&rl, 6001));
	CHECK_EQ(rl.report, 0);
	/* A clock going backwards opens a new window instead of blocking forever. */
	CHECK(log_ratelimit(&rl, 6002));
	CHECK(!log_ratelimit(&rl, 6003));
	CHECK(log_ratelimit(&rl, 100));
	CHECK_EQ(rl.report, 1);

	/* Through the logger. */
	int p[2];
	char buf[2048];
	struct logger l;
	if (open_pipe(p) < 0)
		return;
	logger_init_fd(&l, LOG_LEVEL_DEFAULT, p[1], false);
	log_ratelimit_init(&rl, 1000, 2);
	for (int i = 0; i < 5; i++)
		log_line_limited(&l, &rl, 0, LOG_LEVEL_WARNING, NULL, "198.51.100.1:4000",
		                 "bad packet %d", i);
	log_line_limited(&l, &rl, 10, LOG_LEVEL_DEBUG, NULL, NULL, "disabled type: not counted");
	log_line_limited(&l, &rl, 1000, LOG_LEVEL_WARNING, NULL, "198.51.100.1:4000",
	                 "bad packet %d", 5);
	drain(p[0], buf, sizeof(buf));
	CHECK_STREQ(buf,
	            "warning [- 198.51.100.1:4000] bad packet 0\n"
	            "warning [- 198.51.100.1:4000] bad packet 1\n"
	            "warning [- 198.51.100.1:4000] bad packet 5 (3 similar lines suppressed)\n");

	/* The suppression count survives truncation of a long line. */
	char big[2000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_line_limited(&l, &rl, 1001, LOG_LEVEL_WARNING, NULL, NULL, "%s", big);
	log_line_limited(&l, &rl, 1002, LOG_LEVEL_WARNING, NULL, NULL, "%s", big);
	log_line_limited(&l, &rl, 2000, LOG_LEVEL_WARNING, NULL, NULL, "%s", big);
	size_t n = drain(p[0], buf, sizeof(buf));
	const char *tail = "... (1 similar lines suppressed)\n";
	CHECK(n > strlen(tail) && strcmp(buf + n - strlen(tail), tail) == 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_format();
	test_mask();
	test_open_file();
	test_ratelimit();
	return check_report();
}
