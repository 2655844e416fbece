/* main.c - the mqtt-fast daemon: arguments, configuration, signals, the event loop. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "auth.h"
#include "broker.h"
#include "control.h"
#include "fastpath.h"

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

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void log_warnings(struct broker *b, const struct config *c)
{
	for (size_t i = 0; i < c->warning_count; i++)
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL, "%s", c->warnings[i]);
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
	b->cfg.connection_messages = neu.connection_messages;
	/* MQTT-SN run-time settings; predefined topics and the gateway id need a restart
	 * (clients hold them). */
	b->cfg.sn_allow_qos_m1 = neu.sn_allow_qos_m1;
	b->cfg.sn_retry_interval = neu.sn_retry_interval;
	b->cfg.sn_retry_count = neu.sn_retry_count;
	b->cfg.sn_advertise_interval = neu.sn_advertise_interval;
	b->cfg.sn_advertise_port = neu.sn_advertise_port;
	/* password_file, acl_file, allow_anonymous, sn_allow_anonymous: read again; a bad
	 * file keeps the old one (logged with its file:line). */
	auth_reload(b, &neu);
	acl_reload(b, &neu);
	fastpath_touch(b); /* ACL decisions changed: serve sets are computed again */
	log_warnings(b, &neu);
	if (!config_listeners_equal(&neu, &b->cfg))
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "reload: listener changes need a restart; not applied");
	if (!same_str(neu.user, b->cfg.user))
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "reload: a user change needs a restart; not applied");
	if (neu.persistence != b->cfg.persistence ||
	    !same_str(neu.persistence_location, b->cfg.persistence_location))
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "reload: persistence changes need a restart; not applied");
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
	         "reloaded %s (queue limits, message_size_limit, sys_interval, "
	         "persistent_client_expiration, allow_zero_length_clientid, connection_messages)",
	         b->config_path);
	config_free(&neu);
}

/* `user NAME`: started as root, switch to NAME (its group and supplementary groups first)
 * once the listeners are bound, as mosquitto does. Not root: nothing to do. 0 or -1 (logged:
 * the broker must not go on running as root when asked not to). */
static int drop_privileges(struct broker *b)
{
	const char *name = b->cfg.user;
	if (!name || geteuid() != 0)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "user %s: %s", name,
		         errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0; /* `user root`: already there */
	if (setgid(pw->pw_gid) < 0 || initgroups(name, pw->pw_gid) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "user %s: cannot set group %ld: %s",
		         name, (long)pw->pw_gid, strerror(errno));
		return -1;
	}
	if (setuid(pw->pw_uid) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "user %s: cannot set user id %ld: %s",
		         name, (long)pw->pw_uid, strerror(errno));
		return -1;
	}
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "running as user %s (uid %ld, gid %ld)",
	         name, (long)pw->pw_uid, (long)pw->pw_gid);
	return 0;
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

/* Everything between a loaded configuration and the event loop: the broker instance (takes
 * cfg's contents), its listeners, the pid file, then the switch to `user`. 0, or -1 with the
 * reason written to stderr (the caller frees b). */
static int broker_start(struct broker *b, struct ev_loop *loop, struct config *cfg,
                        const char *path)
{
	int rc = broker_init(b, loop, cfg);
	if (rc == 0) {
		log_warnings(b, &b->cfg);
		rc = listeners_open(b);
		if (rc == 0)
			rc = sn_listeners_open(b);
		if (rc == 0)
			rc = control_open(b); /* mqtt-fast-ctl */
	}
	if (rc < 0) {
		fprintf(stderr, "mqtt-fast: start-up failed: %s\n", strerror(-rc));
		return -1;
	}
	b->config_path = path;
	if (b->cfg.pid_file && (rc = write_pid_file(b->cfg.pid_file)) < 0)
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL, "pid_file %s: %s", b->cfg.pid_file,
		         strerror(-rc));
	if (drop_privileges(b) < 0) {
		fprintf(stderr, "mqtt-fast: start-up failed: cannot switch to user %s\n",
		        b->cfg.user);
		if (b->cfg.pid_file)
			unlink(b->cfg.pid_file);
		return -1;
	}
	return 0;
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
	if (test_only && (rc = auth_check_files(&cfg, err, sizeof(err))) < 0) {
		fprintf(stderr, "mqtt-fast: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (test_only) {
		for (size_t i = 0; i < cfg.warning_count; i++)
			fprintf(stderr, "mqtt-fast: warning: %s\n", cfg.warnings[i]);
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
	if (broker_start(b, loop, &cfg, path) < 0) {
		broker_free(b);
		free(b);
		ev_loop_destroy(loop);
		return 1;
	}

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
	broker_free(b); /* commits and closes the store first */
	rc = b->exit_status;
	free(b);
	ev_loop_destroy(loop);
	return rc;
}
