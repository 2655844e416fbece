/* test_broker_config_files.c - the config parser on real files: missing files, NUL bytes,
 * include_dir, the shipped mqtt-fast.conf, and random lines (no crash, no leak).
 *
 * Usage: test_broker_config_files [path/to/mqtt-fast.conf]; without an argument the path comes
 * from MQTT_FAST_SOURCE_DIR (set by tests/CMakeLists.txt). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "config_checks.h"

static int write_temp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* include_dir: every *.conf of the directory in strcmp order (capitals first), each with its
 * own name and line numbers, listener lines at its top going to the default listener again;
 * only from the main file. */
static void test_include_dir(void)
{
	char dir[] = "/tmp/test_broker_config_inc.XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	char sub[600], text[700], want[700], err[800];
	struct config c;
	snprintf(sub, sizeof(sub), "%s/bad", dir);
	CHECK_EQ(mkdir(sub, 0700), 0);
	CHECK_EQ(write_file(dir, "b.conf", "max_keepalive 60\nlistener 1999\n"), 0);
	CHECK_EQ(write_file(dir, "A.conf", "max_keepalive 30\nmax_connections 4\nsys_interval 3\n"),
	         0);
	CHECK_EQ(write_file(dir, "notes.txt", "frobnicate\n"), 0);
	CHECK_EQ(write_file(dir, ".conf", "frobnicate\n"), 0);
	CHECK_EQ(write_file(sub, "x.conf", "#\nfrobnicate 1\n"), 0);

	snprintf(text, sizeof(text), "listener 1883\ninclude_dir %s\nmax_connections 9\n", dir);
	CHECK_EQ(config_load_string("m.conf", text, &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.max_keepalive, 60); /* b.conf after A.conf */
	CHECK_EQ(c.sys_interval, 3);
	CHECK_EQ(c.listener_count, 2);
	if (c.listener_count == 2) {
		/* A.conf's max_connections went to the default listener, not to 1883; the main
		 * file's line after include_dir goes back to 1883. */
		CHECK_EQ(c.listeners[0].port, 1883);
		CHECK_EQ(c.listeners[0].max_connections, 9);
		CHECK_EQ(c.listeners[1].port, 1999);
		snprintf(want, sizeof(want), "%s/b.conf", dir);
		CHECK_STREQ(c.listeners[1].source_file, want);
		CHECK_EQ(c.listeners[1].source_line, 2);
	}
	config_free(&c);

	snprintf(text, sizeof(text), "\ninclude_dir %s\n", sub);
	snprintf(want, sizeof(want), "%s/x.conf:2: unknown directive 'frobnicate'", sub);
	CHECK_EQ(config_load_string("m.conf", text, &c, err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, want);

	/* Only from the main file. */
	snprintf(text, sizeof(text), "include_dir %s\n", dir);
	CHECK_EQ(write_file(sub, "x.conf", text), 0);
	snprintf(text, sizeof(text), "include_dir %s\n", sub);
	snprintf(want, sizeof(want),
	         "%s/x.conf:1: include_dir: only allowed in the main configuration file", sub);
	CHECK_EQ(config_load_string("m.conf", text, &c, err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, want);

	const char *names[] = {"b.conf", "A.conf", "notes.txt", ".conf", "bad/x.conf", "bad"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "%s/%s", dir, names[i]);
		remove(text);
	}
	rmdir(dir);
}

static void test_files(const char *shipped)
{
	struct config c;
	char err[512];
	CHECK_EQ(config_load_file("/nonexistent/mqtt-fast.conf", &c, err, sizeof(err)), -ENOENT);
	CHECK_STREQ(err, "/nonexistent/mqtt-fast.conf: No such file or directory");
	CHECK_EQ(config_load_file("/", &c, err, sizeof(err)), -EISDIR);

	char path[] = "/tmp/test_broker_config.XXXXXX";
	static const char nul[] = "listener 1883\nmax_connections 1\0 0\n";
	if (write_temp(path, nul, sizeof(nul) - 1) == 0) {
		char want[600];
		snprintf(want, sizeof(want), "%s:2: NUL byte in the file", path);
		CHECK_EQ(config_load_file(path, &c, err, sizeof(err)), -EINVAL);
		CHECK_STREQ(err, want);
		unlink(path);
	} else {
		CHECK(!"mkstemp");
	}

	char path2[] = "/tmp/test_broker_config.XXXXXX";
	static const char good[] = "listener 1883\nmax_keepalive 60\n";
	if (write_temp(path2, good, sizeof(good) - 1) == 0) {
		CHECK_EQ(config_load_file(path2, &c, err, sizeof(err)), 0);
		CHECK_EQ(c.max_keepalive, 60);
		CHECK_STREQ(c.listeners[0].source_file, path2);
		config_free(&c);
		unlink(path2);
	}

	/* The configuration scripts/start.sh uses must parse, with its two listeners. */
	if (!shipped) {
		fprintf(stderr, "note: no path to mqtt-fast.conf, shipped-file check skipped\n");
		return;
	}
	int rc = config_load_file(shipped, &c, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK_EQ(c.allow_anonymous, true);
	CHECK_EQ(c.listener_count, 2);
	if (c.listener_count == 2) {
		CHECK_EQ(c.listeners[0].port, 1883);
		CHECK_EQ(c.listeners[0].protocol, LISTENER_MQTT);
		CHECK(c.listeners[0].bind_address == NULL);
		CHECK_EQ(c.listeners[1].port, 1884);
		CHECK_EQ(c.listeners[1].protocol, LISTENER_MQTTSN);
	}
	/* Every other setting in the shipped file is a commented-out default. */
	struct config d;
	CHECK_EQ(config_load_string("d.conf", "", &d, err, sizeof(err)), 0);
	CHECK_EQ(c.max_inflight_messages, d.max_inflight_messages);
	CHECK_EQ(c.max_queued_messages, d.max_queued_messages);
	CHECK_EQ(c.max_keepalive, d.max_keepalive);
	CHECK_EQ(c.log_types, d.log_types);
	CHECK_EQ(c.log_dests, d.log_dests);
	CHECK_EQ(c.sys_interval, d.sys_interval);
	/* ... the MQTT-SN gateway's too. */
	CHECK_EQ(c.sn_gateway_id, d.sn_gateway_id);
	CHECK_EQ(c.sn_allow_anonymous, d.sn_allow_anonymous);
	CHECK_EQ(c.sn_allow_qos_m1, d.sn_allow_qos_m1);
	CHECK_EQ(c.sn_retry_interval, d.sn_retry_interval);
	CHECK_EQ(c.sn_retry_count, d.sn_retry_count);
	CHECK_EQ(c.sn_advertise_interval, d.sn_advertise_interval);
	CHECK_STREQ(c.sn_advertise_address, d.sn_advertise_address);
	CHECK_EQ(c.sn_advertise_port, d.sn_advertise_port);
	/* ... but for the predefined topic of the README's QoS -1 example. */
	CHECK_EQ(c.sn_predefined_count, 1);
	if (c.sn_predefined_count == 1) {
		CHECK_EQ(c.sn_predefined[0].id, 1);
		CHECK_STREQ(c.sn_predefined[0].name, "sensors/outdoor");
	}
	config_free(&d);
	config_free(&c);
}

/* Random lines built from directive names and hostile values: no crash, no leak (ASan). */
static void test_garbage(void)
{
	static const char *const words[] = {"listener",
	                                    "protocol",
	                                    "mqttsn",
	                                    "log_dest",
	                                    "file",
	                                    "log_type",
	                                    "all",
	                                    "1883",
	                                    "-1",
	                                    "0",
	                                    "70000",
	                                    "true",
	                                    "#",
	                                    "\r",
	                                    "\t",
	                                    "\n",
	                                    "\xff",
	                                    " ",
	                                    "cafile",
	                                    "max_connections",
	                                    "socket_domain",
	                                    "ipv6",
	                                    "persistent_client_expiration",
	                                    "9y",
	                                    "auto_id_prefix",
	                                    "port",
	                                    "bind_address",
	                                    "retry_interval",
	                                    "127.0.0.1"};
	uint32_t seed = 12345;
	char text[256];
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;
		text[0] = '\0';
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];
			size_t wl = strlen(w);
			if (n + wl + 2 >= sizeof(text))
				break;
			memcpy(text + n, w, wl);
			n += wl;
			text[n++] = (seed >> 8) & 1 ? ' ' : '\n';
			text[n] = '\0';
		}
		struct config c;
		char err[128];
		if (config_load_string("g.conf", text, &c, err, sizeof(err)) == 0) {
			CHECK(c.listener_count > 0);
			config_free(&c);
		}
	}
}

int main(int argc, char **argv)
{
	const char *shipped = argc > 1 ? argv[1] : NULL;
#ifdef MQTT_FAST_SOURCE_DIR
	if (!shipped)
		shipped = MQTT_FAST_SOURCE_DIR "/mqtt-fast.conf";
#endif
	test_include_dir();
	test_files(shipped);
	test_garbage();
	return check_report();
}
