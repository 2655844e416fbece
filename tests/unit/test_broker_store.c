/* test_broker_store.c - the LMDB store (store.c) under a real broker instance, in a temporary
 * directory: state made through the broker's own functions survives a stop and a start (also
 * without a clean stop: the store is only ever written by commits), a cleared retained topic
 * and an ended session are deleted, and stores that must be refused are refused with the
 * reason in the log: a newer schema, a corrupt file, a record that does not decode, records
 * without a schema, a store held by another process. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "check.h"
#include "store.h"
#include "store_codec.h"

#define U8(s) ((const uint8_t *)(s))

static char dir[256], logpath[300];

/* A broker on `loop` with persistence in dir, logging to logpath (truncated). 0 or the
 * broker_init error. */
static int start(struct broker *b, struct ev_loop *loop)
{
	char conf[1024], err[256];
	struct config cfg;
	snprintf(conf, sizeof(conf),
	         "persistence true\npersistence_location %s/db\nsys_interval 0\n"
	         "log_dest file %s\nlog_type all\nsn_predefined_topic 5 pre/defined\n",
	         dir, logpath);
	unlink(logpath);
	if (config_load_string("t", conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return -EINVAL;
	}
	return broker_init(b, loop, &cfg);
}

/* True when the log of the last start contains `text`. */
static bool log_has(const char *text)
{
	char buf[16384];
	FILE *f = fopen(logpath, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void publish(struct broker *b, const char *topic, const char *payload, uint8_t qos,
                    bool retain)
{
	struct msg *m = msg_new(U8(topic), (uint16_t)strlen(topic), U8(payload),
	                        (uint32_t)strlen(payload), qos, retain);
	route_message(b, m, NULL);
	msg_unref(m);
}

static struct session *add_session(struct broker *b, const char *id, uint32_t expiry,
                                   const char *filter, uint8_t qos)
{
	struct session *s = session_new(U8(id), (uint16_t)strlen(id));
	s->expiry_interval = expiry;
	s->expires_at = expiry == UINT32_MAX ? 0 : broker_now_ms(b) + (int64_t)expiry * 1000;
	CHECK(sessions_add(b, s) == 0);
	struct sub_opts o = {.qos = qos, .sub_id = 12};
	bool replaced;
	CHECK(session_sub_add(s, U8(filter), (uint16_t)strlen(filter), &o) == 0);
	CHECK(subtree_add(b->subs, U8(filter), strlen(filter), s, &o, &replaced) == 0);
	return s;
}

/* The first run, in a child killed with SIGKILL after its second commit and one more change:
 * the store sees exactly what a kill -9 of the daemon leaves. Exits 1 when a check failed. */
static void first_run_then_killed(struct ev_loop *loop)
{
	struct broker *b = calloc(1, sizeof(*b));
	CHECK_EQ(start(b, loop), 0);
	CHECK(log_has("0 sessions, 0 retained messages, 0 topic ids restored"));

	publish(b, "keep/me", "retained-1", 1, true);
	publish(b, "drop/me", "retained-2", 0, true);
	struct session *s = add_session(b, "persist-1", 3600, "q/#", 2);
	add_session(b, "clean-1", 0, "q/#", 1);
	add_session(b, "ends-1", 100, "z", 1);
	/* Changed and ended in the same iteration: off the change list, never written. */
	session_destroy(b, add_session(b, "gone-at-once", 100, "y", 1));
	uint16_t id1 = 0, id2 = 0;
	CHECK(topic_ids_assign(b->sn.ids, U8("sn/one"), 6, &id1) == 0);
	CHECK(topic_ids_assign(b->sn.ids, U8("sn/two"), 6, &id2) == 0);
	CHECK(id1 == 1 && id2 == 2);
	publish(b, "q/1", "first", 1, false);
	publish(b, "q/2", "second", 2, false);
	CHECK_EQ(s->queued_count, 2);
	CHECK_EQ(store_commit(b), 0);

	/* Second iteration: a retained topic cleared, a session ended, one more message. */
	publish(b, "drop/me", "", 0, true);
	session_destroy(b, sessions_find(b, U8("ends-1"), 6));
	publish(b, "q/3", "third", 1, false);
	CHECK_EQ(store_commit(b), 0);
	/* Not committed: lost with the process, and never acknowledged. */
	publish(b, "q/4", "not committed", 1, false);
	fflush(NULL);
	if (check_state_.failed)
		_exit(1);
	raise(SIGKILL);
}

/* Everything committed in the first run is there in the second; what ended is gone. */
static void test_restart_restores(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct broker *b = calloc(1, sizeof(*b));
	uint16_t id1 = 1, id2 = 2;
	struct session *s;
	pid_t pid = fork();
	if (pid == 0)
		first_run_then_killed(loop);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	CHECK_EQ(start(b, loop), 0);
	CHECK(log_has("1 sessions, 1 retained messages, 2 topic ids restored"));
	CHECK_EQ(retain_count(b->retained), 1);
	s = sessions_find(b, U8("persist-1"), 9);
	CHECK(s != NULL);
	CHECK(sessions_find(b, U8("clean-1"), 7) == NULL);
	CHECK(sessions_find(b, U8("ends-1"), 6) == NULL);
	CHECK(sessions_find(b, U8("gone-at-once"), 12) == NULL);
	if (s) {
		CHECK_EQ(s->queued_count, 3);
		CHECK(s->subs && s->subs->opts.qos == 2 && s->subs->opts.sub_id == 12);
		const struct delivery *d = s->queue;
		CHECK(d && d->m && d->m->payload_len == 5 &&
		      memcmp(d->m->payload, "first", 5) == 0);
		CHECK(d && d->nsub_ids == 1 && d->sub_ids[0] == 12);
		CHECK(s->queue_tail && memcmp(s->queue_tail->m->payload, "third", 5) == 0);
		/* The session is back in the subscription tree: a new message reaches it. */
		publish(b, "q/5", "after restart", 1, false);
		CHECK_EQ(s->queued_count, 4);
		CHECK(s->expires_at > broker_now_ms(b) + 3500 * 1000);
	}
	uint16_t id = 0;
	CHECK_EQ(topic_ids_find(b->sn.ids, false, U8("sn/one"), 6, &id), 1);
	CHECK_EQ(id, id1);
	CHECK_EQ(topic_ids_find(b->sn.ids, false, U8("sn/two"), 6, &id), 1);
	CHECK_EQ(id, id2);
	/* A new name gets a new id, not one of the restored ones. */
	uint16_t id3 = 0;
	CHECK(topic_ids_assign(b->sn.ids, U8("sn/three"), 8, &id3) == 0);
	CHECK(id3 != id1 && id3 != id2 && id3 != 0);
	CHECK_EQ(store_commit(b), 0);
	broker_free(b); /* a clean stop commits */

	CHECK_EQ(start(b, loop), 0);
	CHECK(log_has("1 sessions, 1 retained messages, 3 topic ids restored"));
	s = sessions_find(b, U8("persist-1"), 9);
	CHECK(s && s->queued_count == 4);
	/* Ending the session deletes its record. */
	if (s)
		session_destroy(b, s);
	broker_free(b);
	CHECK_EQ(start(b, loop), 0);
	CHECK(log_has("0 sessions, 1 retained messages, 3 topic ids restored"));
	broker_free(b);
	free(b);
	ev_loop_destroy(loop);
}

/* Writes the schema record with `version` straight into the store. */
static void set_schema(uint32_t version)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db", dir);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	struct store_buf out = {0};
	CHECK(store_encode_schema(&out, version) == 0);
	CHECK(mdb_env_create(&env) == 0);
	mdb_env_set_maxdbs(env, 4);
	CHECK(mdb_env_open(env, path, 0, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi) == 0);
	MDB_val key = {6, "schema"}, val = {out.len, out.p};
	CHECK(mdb_put(txn, dbi, &key, &val, 0) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	store_buf_free(&out);
}

/* Puts raw bytes as a record of database `db`. */
static void put_raw(const char *db, const char *k, const void *v, size_t vlen)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db", dir);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	mkdir(path, 0700);
	CHECK(mdb_env_create(&env) == 0);
	mdb_env_set_maxdbs(env, 4);
	int rc = mdb_env_open(env, path, 0, 0600);
	if (rc)
		fprintf(stderr, "open %s: %s\n", path, mdb_strerror(rc));
	CHECK(rc == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, db, MDB_CREATE, &dbi) == 0);
	MDB_val key = {strlen(k), (void *)k}, val = {vlen, (void *)v};
	CHECK(mdb_put(txn, dbi, &key, &val, 0) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static void wipe_db(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/db", dir);
	CHECK(system(cmd) == 0);
}

/* Starts expecting a refusal with `reason` in the log, and the store left as it was. */
static void expect_refused(struct ev_loop *loop, const char *reason)
{
	struct broker *b = calloc(1, sizeof(*b));
	int rc = start(b, loop);
	CHECK(rc < 0);
	if (!log_has(reason))
		fprintf(stderr, "log of the refused start lacks \"%s\"\n", reason);
	CHECK(log_has(reason));
	CHECK(log_has("refusing to start"));
	broker_free(b);
	free(b);
}

static void test_refused_stores(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct broker *b = calloc(1, sizeof(*b));
	char path[400];

	/* A newer schema: refused, and still newer afterwards (never reset). */
	wipe_db();
	CHECK_EQ(start(b, loop), 0);
	publish(b, "keep/me", "v", 0, true);
	broker_free(b);
	set_schema(STORE_SCHEMA_VERSION + 1);
	expect_refused(loop, "schema version 2, this mqtt-fast reads version 1");
	expect_refused(loop, "written by a newer mqtt-fast");
	set_schema(STORE_SCHEMA_VERSION); /* back to ours: the data was kept */
	CHECK_EQ(start(b, loop), 0);
	CHECK(log_has("0 sessions, 1 retained messages"));
	broker_free(b);

	/* A record that does not decode. */
	put_raw("sessions", "broken-client", "\x53\x01", 2);
	expect_refused(loop, "corrupt: session record 'broken-client' does not decode");

	/* A bad schema record. */
	wipe_db();
	put_raw("meta", "schema", "garbage", 7);
	expect_refused(loop, "corrupt: bad schema record");

	/* Records without a schema version. */
	wipe_db();
	put_raw("retained", "a/b", "x", 1);
	expect_refused(loop, "records but no schema version");

	/* A data file that is not an LMDB environment at all. */
	wipe_db();
	snprintf(path, sizeof(path), "%s/db", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/db/data.mdb", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 4096; i++)
		fputc(i * 7 + 3, f);
	fclose(f);
	expect_refused(loop, "corrupt or not an LMDB store");
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 4096); /* left as it was */

	/* Another process holds the store. */
	wipe_db();
	CHECK_EQ(start(b, loop), 0);
	struct broker *b2 = calloc(1, sizeof(*b2));
	char conf[1024], err[256];
	struct config cfg;
	snprintf(conf, sizeof(conf),
	         "persistence true\npersistence_location %s/db\n"
	         "sys_interval 0\nlog_type none\n",
	         dir);
	CHECK(config_load_string("t", conf, &cfg, err, sizeof(err)) == 0);
	pid_t pid = fork();
	if (pid == 0) /* flock is per open file: a second process sees the lock */
		_exit(broker_init(b2, loop, &cfg) == -EWOULDBLOCK ? 0 : 1);
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	config_free(&cfg);
	free(b2);
	broker_free(b);
	free(b);
	ev_loop_destroy(loop);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/mqtt-fast-store.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/broker.log", dir);
	test_restart_restores();
	test_refused_stores();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_report();
}
