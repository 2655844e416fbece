/* main.c - the mqtt-fast daemon: arguments, configuration, signals, the event loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: mqtt-fast [-c FILE] [-v] [--test-config]\n"
	             "  -c FILE          configuration file (mosquitto.conf syntax)\n"
	             "  -v               log everything (log_type all)\n"
	             "  --test-config    check the configuration and exit\n");
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	struct broker *b = w->data;
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* SIGHUP: re-read the file; only what can change at run time is applied. */
static void on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct broker *b = w->data;
	struct config neu;
	char err[512];
	if (!b->config_path || config_load_file(b->config_path, &neu, err, sizeof(err)) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "reload failed, keeping the old configuration: %s",
		         b->config_path ? err : "no configuration file");
		return;
	}
	b->cfg.max_queued_messages = neu.max_queued_messages;
	b->cfg.max_queued_bytes = neu.max_queued_bytes;
	b->cfg.message_size_limit = neu.message_size_limit;
	b->cfg.sys_interval = neu.sys_interval;
	b->cfg.persistent_client_expiration = neu.persistent_client_expiration;
	b->cfg.allow_zero_length_clientid = neu.allow_zero_length_clientid;
	if (neu.listener_count != b->cfg.listener_count)
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "reload: listener changes need a restart; not applied");
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
	         "reloaded %s (queue limits, message_size_limit, sys_interval, "
	         "persistent_client_expiration, allow_zero_length_clientid)",
	         b->config_path);
	config_free(&neu);
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool verbose = false, test_only = false;
	struct config cfg;
	char err[512];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--test-config")) {
			test_only = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mqtt-fast: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	rc = path ? config_load_file(path, &cfg, err, sizeof(err))
	          : config_load_string("(defaults)", "", &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "mqtt-fast: %s\n", err);
		return 1;
	}
	if (test_only) {
		printf("%s: configuration OK\n", path ? path : "(defaults)");
		config_free(&cfg);
		return 0;
	}
	if (verbose)
		cfg.log_types = LOG_LEVEL_ALL;

	signal(SIGPIPE, SIG_IGN);
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	struct broker *b = malloc(sizeof(*b));
	if (!loop || !b) {
		fprintf(stderr, "mqtt-fast: out of memory\n");
		return 1;
	}
	rc = broker_init(b, loop, &cfg);
	if (rc == 0)
		rc = listeners_open(b);
	if (rc < 0) {
		fprintf(stderr, "mqtt-fast: start-up failed: %s\n", strerror(-rc));
		broker_free(b);
		free(b);
		return 1;
	}
	b->config_path = path;
	if (b->cfg.pid_file && (rc = write_pid_file(b->cfg.pid_file)) < 0)
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL, "pid_file %s: %s", b->cfg.pid_file,
		         strerror(-rc));

	ev_signal_init(&b->sigterm, on_stop, SIGTERM);
	ev_signal_init(&b->sigint, on_stop, SIGINT);
	ev_signal_init(&b->sighup, on_reload, SIGHUP);
	b->sigterm.data = b->sigint.data = b->sighup.data = b;
	ev_signal_start(loop, &b->sigterm);
	ev_signal_start(loop, &b->sigint);
	ev_signal_start(loop, &b->sighup);
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "mqtt-fast %s running", MQTT_FAST_VERSION);

	ev_run(loop, 0);

	ev_signal_stop(loop, &b->sigterm);
	ev_signal_stop(loop, &b->sigint);
	ev_signal_stop(loop, &b->sighup);
	if (b->cfg.pid_file)
		unlink(b->cfg.pid_file);
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "stopped");
	broker_free(b);
	free(b);
	ev_loop_destroy(loop);
	return 0;
}
