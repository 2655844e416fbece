/* store.c - the LMDB persistence store: opening and checking it at start, loading it into the
 * broker, and one durable write transaction per loop iteration (store.h). One environment in
 * persistence_location with four named databases:
 *   meta       "schema" -> schema record (magic, version)          store_codec.c
 *              "auto_id" -> the last assigned client id number (8 bytes, little-endian)
 *   sessions   client id -> session record                         store_codec.c
 *   retained   topic name -> message record                        store_codec.c
 *   topic_ids  normal MQTT-SN topic id (2 bytes, big-endian) -> topic name
 * LMDB keeps durability (no MDB_NOSYNC): mdb_txn_commit returns after fsync. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "store_codec.h"

/* Map size: LMDB reserves address space, the file grows with use. Doubled when full. */
#define STORE_MAP_SIZE_INITIAL (1ull << 30)
#define STORE_MAP_SIZE_MAX     (1ull << 40)

struct gone_id {
	uint8_t *id; /* owned */
	uint16_t len;
};

struct store {
	MDB_env *env;
	MDB_dbi meta, sessions, retained, topic_ids;
	int lock_fd;
	const char *dir; /* borrowed from the configuration */
	size_t map_size;
	bool broken;      /* a commit failed: no more output, the loop stops */
	struct msg **ret; /* retained messages set or cleared since the last commit (refs) */
	size_t nret, ret_cap;
	struct gone_id *gone; /* sessions ended since the last commit */
	size_t ngone, gone_cap;
	struct session_dirty_list dirty; /* sessions changed since the last commit */
	struct session **batch;          /* scratch: the dirty sessions of one commit */
	size_t batch_cap;
	uint64_t auto_id_stored;           /* b->next_auto_id as stored */
	size_t ids_stored;                 /* normal topic ids in the store */
	uint8_t ids_bits[65536 / 8];       /* which ones */
	struct log_ratelimit key_warnings; /* names too long for an LMDB key */
};

static struct store_clock clock_now(const struct broker *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct store_clock){.mono_ms = broker_now_ms(b),
	                            .wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
}

static int store_err(struct broker *b, const char *what, int rc)
{
	log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "persistence: %s in %s: %s", what,
	         b->store->dir, mdb_strerror(rc));
	return rc == ENOMEM ? -ENOMEM : -EIO;
}

/* True when `len` bytes fit an LMDB key; otherwise logs (rate-limited) and returns false. */
static bool key_fits(struct broker *b, const char *what, const uint8_t *p, size_t len)
{
	struct store *st = b->store;
	if (len > 0 && len <= (size_t)mdb_env_get_maxkeysize(st->env))
		return true;
	if (log_ratelimit(&st->key_warnings, broker_now_ms(b)))
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "persistence: %s of %zu bytes is longer than the store's key limit %d: "
		         "not persisted (%.*s...)",
		         what, len, mdb_env_get_maxkeysize(st->env), (int)(len < 32 ? len : 32),
		         (const char *)p);
	return false;
}

/* ---- opening ------------------------------------------------------------------------------ */

/* One process per store: LMDB would let a second broker write the same sessions. */
static int lock_dir(struct broker *b, struct store *st)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/mqtt-fast.lock", st->dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "persistence: %s: %s", path,
		         err == EWOULDBLOCK ? "the store is in use by another mqtt-fast process"
		                            : strerror(err));
		return -err;
	}
	return 0;
}

static int corrupt(struct broker *b, const char *what, const MDB_val *key);

/* Assigned client ids ("auto-N") continue after a restart: a new client must never be
 * handed the id of a restored session. */
static int load_auto_id(struct broker *b, MDB_txn *txn)
{
	MDB_val key = {7, "auto_id"}, val;
	int rc = mdb_get(txn, b->store->meta, &key, &val);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return store_err(b, "reading the client id counter", rc);
	if (val.mv_size != 8)
		return corrupt(b, "meta", &key);
	const uint8_t *p = val.mv_data;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	b->next_auto_id = b->store->auto_id_stored = v;
	return 0;
}

static int put_auto_id(struct broker *b, MDB_txn *txn)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(b->next_auto_id >> (8 * i));
	MDB_val key = {7, "auto_id"}, val = {8, le};
	return mdb_put(txn, b->store->meta, &key, &val, 0);
}

/* Checks the schema record, or writes it into a new, empty store. */
static int check_schema(struct broker *b, MDB_txn *txn)
{
	struct store *st = b->store;
	MDB_val key = {6, "schema"}, val;
	int rc = mdb_get(txn, st->meta, &key, &val);
	if (rc == MDB_NOTFOUND) {
		MDB_stat s1, s2, s3;
		mdb_stat(txn, st->sessions, &s1);
		mdb_stat(txn, st->retained, &s2);
		mdb_stat(txn, st->topic_ids, &s3);
		if (s1.ms_entries || s2.ms_entries || s3.ms_entries) {
			log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
			         "persistence: store %s is corrupt: records but no schema version; "
			         "refusing to start (move the directory away to start empty)",
			         st->dir);
			return -EBADMSG;
		}
		struct store_buf out = {0};
		int err = store_encode_schema(&out, STORE_SCHEMA_VERSION);
		if (err == 0) {
			val = (MDB_val){out.len, out.p};
			rc = mdb_put(txn, st->meta, &key, &val, 0);
			err = rc ? store_err(b, "writing the schema version", rc) : 0;
		}
		store_buf_free(&out);
		return err;
	}
	if (rc)
		return store_err(b, "reading the schema version", rc);
	uint32_t version;
	if (store_decode_schema(val.mv_data, val.mv_size, &version) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "persistence: store %s is corrupt: bad schema record; refusing to start "
		         "(move the directory away to start empty)",
		         st->dir);
		return -EBADMSG;
	}
	if (version != STORE_SCHEMA_VERSION) {
		log_line(
		        &b->log, LOG_LEVEL_ERR, NULL, NULL,
		        "persistence: store %s has schema version %u, this mqtt-fast reads version "
		        "%u: refusing to start (%s)",
		        st->dir, version, STORE_SCHEMA_VERSION,
		        version > STORE_SCHEMA_VERSION ? "written by a newer mqtt-fast"
		                                       : "no migration from that version");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int corrupt(struct broker *b, const char *what, const MDB_val *key)
{
	log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
	         "persistence: store %s is corrupt: %s record '%.*s' does not decode; refusing to "
	         "start (move the directory away to start empty)",
	         b->store->dir, what, (int)(key->mv_size < 64 ? key->mv_size : 64),
	         (const char *)key->mv_data);
	return -EBADMSG;
}

static int load_topic_ids(struct broker *b, MDB_txn *txn)
{
	struct store *st = b->store;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc = mdb_cursor_open(txn, st->topic_ids, &cur), err = 0;
	if (rc)
		return store_err(b, "opening topic ids", rc);
	while (err == 0 && (rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) == 0) {
		const uint8_t *k = key.mv_data;
		uint16_t id = key.mv_size == 2 ? (uint16_t)(k[0] << 8 | k[1]) : 0;
		if (id == 0 || val.mv_size == 0 || val.mv_size > UINT16_MAX ||
		    topic_ids_restore(b->sn.ids, id, val.mv_data, (uint16_t)val.mv_size) < 0) {
			err = corrupt(b, "topic id", &val);
			break;
		}
		st->ids_bits[id / 8] |= (uint8_t)(1u << (id % 8));
		st->ids_stored++;
	}
	mdb_cursor_close(cur);
	if (err == 0 && rc != MDB_NOTFOUND)
		err = store_err(b, "reading topic ids", rc);
	return err;
}

static int load_retained(struct broker *b, MDB_txn *txn, const struct store_clock *clk)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int rc = mdb_cursor_open(txn, b->store->retained, &cur), err = 0;
	if (rc)
		return store_err(b, "opening retained messages", rc);
	while (err == 0 && (rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) == 0) {
		struct msg *m;
		err = store_decode_msg(val.mv_data, val.mv_size, clk, &m);
		if (err == -EBADMSG || (err == 0 && (m->topic_len != key.mv_size ||
		                                     memcmp(m->topic, key.mv_data, key.mv_size)))) {
			msg_unref(m);
			err = corrupt(b, "retained", &key);
			break;
		}
		if (err < 0)
			break;
		if (msg_expired(m, clk->mono_ms)) /* expired while stopped [MQTT-3.3.2-5] */
			rc = mdb_cursor_del(cur, 0);
		else
			err = retain_set(b->retained, m);
		msg_unref(m);
		if (rc)
			err = store_err(b, "deleting an expired retained message", rc);
	}
	mdb_cursor_close(cur);
	if (err == 0 && rc != MDB_NOTFOUND)
		err = store_err(b, "reading retained messages", rc);
	return err;
}

/* Puts a decoded session in the table and its subscriptions in the tree. Takes s and will. */
static int adopt_session(struct broker *b, struct session *s, struct store_will *will)
{
	int err = sessions_add(b, s);
	if (err < 0) {
		session_free(s);
		msg_unref(will->m);
		return err;
	}
	for (struct session_sub *sub = s->subs; sub && err == 0; sub = sub->next) {
		bool replaced;
		err = subtree_add(b->subs, sub->filter, sub->len, s, &sub->opts, &replaced);
	}
	if (will->m) {
		struct pending_will *w = malloc(sizeof(*w));
		if (!w) {
			msg_unref(will->m);
			return -ENOMEM;
		}
		*w = (struct pending_will){.next = b->wills, .s = s, .m = will->m, .at = will->at};
		b->wills = w;
	}
	return err;
}

static int load_sessions(struct broker *b, MDB_txn *txn, const struct store_clock *clk)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int rc = mdb_cursor_open(txn, b->store->sessions, &cur), err = 0;
	if (rc)
		return store_err(b, "opening sessions", rc);
	while (err == 0 && (rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) == 0) {
		struct session *s;
		struct store_will will;
		if (key.mv_size > UINT16_MAX) {
			err = corrupt(b, "session", &key);
			break;
		}
		err = store_decode_session(key.mv_data, (uint16_t)key.mv_size, val.mv_data,
		                           val.mv_size, clk, &s, &will);
		if (err == -EBADMSG ||
		    (err == 0 && sessions_find(b, s->client_id, s->client_id_len))) {
			err = corrupt(b, "session", &key);
			break;
		}
		if (err == 0)
			err = adopt_session(b, s, &will);
	}
	mdb_cursor_close(cur);
	if (err == 0 && rc != MDB_NOTFOUND)
		err = store_err(b, "reading sessions", rc);
	return err;
}

/* Opens the named databases, checks the schema and loads, in one write transaction. */
static int open_and_load(struct broker *b)
{
	struct store *st = b->store;
	struct store_clock clk = clock_now(b);
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->env, NULL, 0, &txn), err;
	if (rc)
		return store_err(b, "starting the load", rc);
	const char *names[] = {"meta", "sessions", "retained", "topic_ids"};
	MDB_dbi *dbis[] = {&st->meta, &st->sessions, &st->retained, &st->topic_ids};
	for (size_t i = 0; i < 4; i++) {
		rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
		if (rc) {
			err = store_err(b, "opening a database (corrupt store?)", rc);
			goto fail;
		}
	}
	err = check_schema(b, txn);
	if (err == 0)
		err = load_auto_id(b, txn);
	if (err == 0)
		err = load_topic_ids(b, txn);
	if (err == 0)
		err = load_retained(b, txn, &clk);
	if (err == 0)
		err = load_sessions(b, txn, &clk);
	if (err < 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	if (rc)
		return store_err(b, "committing the load", rc);
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
	         "persistence: %s: %zu sessions, %zu retained messages, %zu topic ids restored",
	         st->dir, b->sessions.count, retain_count(b->retained), st->ids_stored);
	return 0;
fail:
	mdb_txn_abort(txn);
	return err;
}

/* Sessions whose expiry passed while the broker was down end now, before any client can
 * resume them (the once-a-second tick would be too late); delayed wills they still had are
 * published [MQTT-3.1.3-9]. */
static void expire_overdue(struct broker *b)
{
	int64_t now = broker_now_ms(b);
	struct session_table *t = &b->sessions;
	for (size_t i = 0; i < t->cap; i++) {
		struct session *s = t->slots[i];
		if (!s || !s->expires_at || s->expires_at > now)
			continue;
		log_line(&b->log, LOG_LEVEL_NOTICE, (const char *)s->client_id, NULL,
		         "session expired while the broker was stopped");
		session_destroy(b, s);
		b->clients_expired++;
		i--; /* backward shift may have moved another entry into slot i */
	}
}

/* mosquitto's save-file directives mean nothing here: say so once, at start. */
static void explain_mosquitto_directives(struct broker *b)
{
	const struct config *c = &b->cfg;
	if ((c->persistence_file && strcmp(c->persistence_file, "mosquitto.db") != 0) ||
	    c->autosave_interval != 1800 || c->autosave_on_changes)
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
		         "persistence: persistence_file, autosave_interval and autosave_on_changes "
		         "are ignored: every change is committed to the LMDB store in %s before it "
		         "is "
		         "acknowledged (group commit once per loop iteration)",
		         b->store->dir);
}

int store_open(struct broker *b)
{
	struct store *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	b->store = st;
	st->lock_fd = -1;
	st->dir = b->cfg.persistence_location ? b->cfg.persistence_location : ".";
	st->map_size = STORE_MAP_SIZE_INITIAL;
	st->broken = true; /* until loaded: a refused store is never written back */
	log_ratelimit_init(&st->key_warnings, 10000, 5);
	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST) {
		int err = errno;
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "persistence: cannot create persistence_location %s: %s", st->dir,
		         strerror(err));
		return -err;
	}
	int err = lock_dir(b, st);
	if (err < 0)
		return err;
	int rc = mdb_env_create(&st->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, 4);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env, st->map_size);
	if (rc == 0)
		rc = mdb_env_open(st->env, st->dir, 0, 0600);
	if (rc) {
		const char *why =
		        rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED
		                ? "corrupt or not an LMDB store"
		                : "cannot open";
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "persistence: store %s: %s (%s); refusing to start (move the directory "
		         "away "
		         "to start empty)",
		         st->dir, why, mdb_strerror(rc));
		return rc == MDB_INVALID || rc == MDB_CORRUPTED ? -EBADMSG : -EIO;
	}
	err = open_and_load(b);
	if (err < 0)
		return err;
	st->broken = false;
	expire_overdue(b);
	explain_mosquitto_directives(b);
	return store_commit(b);
}

/* ---- committing --------------------------------------------------------------------------- */

static struct store_will session_will(const struct broker *b, const struct session *s)
{
	for (const struct pending_will *w = b->wills; w; w = w->next)
		if (w->s == s)
			return (struct store_will){.m = w->m, .at = w->at};
	return (struct store_will){0};
}

/* Moves the dirty sessions from the list into st->batch (their store_dirty stays set until
 * the commit succeeded). Returns how many, or -ENOMEM. */
static long collect_dirty(struct broker *b)
{
	struct store *st = b->store;
	size_t n = 0;
	while (st->dirty.head) {
		struct session *s = st->dirty.head;
		if (n == st->batch_cap) {
			size_t cap = st->batch_cap ? st->batch_cap * 2 : 64;
			struct session **nb = realloc(st->batch, cap * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			st->batch = nb;
			st->batch_cap = cap;
		}
		st->dirty.head = s->dirty_next;
		s->dirty_next = NULL;
		if (s->expiry_interval == 0 && !s->stored)
			s->store_dirty = false; /* ends with its connection: nothing to keep */
		else
			st->batch[n++] = s;
	}
	return (long)n;
}

static int put_session(struct broker *b, MDB_txn *txn, struct session *s,
                       const struct store_clock *clk)
{
	struct store *st = b->store;
	MDB_val key = {s->client_id_len, s->client_id};
	if (s->expiry_interval == 0) {
		int rc = mdb_del(txn, st->sessions, &key, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (!key_fits(b, "client id", s->client_id, s->client_id_len))
		return 0;
	struct store_buf out = {0};
	struct store_will will = session_will(b, s);
	int rc = store_encode_session(&out, s, &will, clk) < 0 ? ENOMEM : 0;
	if (rc == 0) {
		MDB_val val = {out.len, out.p};
		rc = mdb_put(txn, st->sessions, &key, &val, 0);
	}
	store_buf_free(&out);
	return rc;
}

static int put_retained(struct broker *b, MDB_txn *txn, const struct msg *m,
                        const struct store_clock *clk)
{
	MDB_val key = {m->topic_len, (void *)m->topic};
	if (!key_fits(b, "retained topic", m->topic, m->topic_len))
		return 0;
	if (m->payload_len == 0) { /* clears the topic [MQTT-3.3.1-6] */
		int rc = mdb_del(txn, b->store->retained, &key, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	struct store_buf out = {0};
	int rc = store_encode_msg(&out, m, clk) < 0 ? ENOMEM : 0;
	if (rc == 0) {
		MDB_val val = {out.len, out.p};
		rc = mdb_put(txn, b->store->retained, &key, &val, 0);
	}
	store_buf_free(&out);
	return rc;
}

/* Normal topic ids assigned since the last commit (ids are never removed). */
static int put_topic_ids(struct broker *b, MDB_txn *txn)
{
	struct store *st = b->store;
	if (topic_ids_count(b->sn.ids) == st->ids_stored)
		return 0;
	for (uint32_t id = 1; id < 0xFFFF; id++) {
		if (st->ids_bits[id / 8] & (1u << (id % 8)))
			continue;
		struct mqtt_str name = topic_ids_name(b->sn.ids, false, (uint16_t)id);
		if (!name.len)
			continue;
		uint8_t k[2] = {(uint8_t)(id >> 8), (uint8_t)id};
		MDB_val key = {2, k}, val = {name.len, (void *)name.p};
		int rc = mdb_put(txn, st->topic_ids, &key, &val, 0);
		if (rc)
			return rc;
	}
	return 0;
}

/* One write transaction with everything pending; an LMDB error code (0 = committed). */
static int write_pending(struct broker *b, size_t nbatch)
{
	struct store *st = b->store;
	struct store_clock clk = clock_now(b);
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc)
		return rc;
	/* Ended sessions first: a session of the same id made in this iteration comes after. */
	for (size_t i = 0; i < st->ngone && rc == 0; i++) {
		MDB_val key = {st->gone[i].len, st->gone[i].id};
		rc = mdb_del(txn, st->sessions, &key, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	for (size_t i = 0; i < st->nret && rc == 0; i++)
		rc = put_retained(b, txn, st->ret[i], &clk);
	for (size_t i = 0; i < nbatch && rc == 0; i++)
		rc = put_session(b, txn, st->batch[i], &clk);
	if (rc == 0)
		rc = put_topic_ids(b, txn);
	/* With the sessions it may name; a clean client's id alone is not worth an fsync. */
	if (rc == 0 && nbatch && b->next_auto_id != st->auto_id_stored)
		rc = put_auto_id(b, txn);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn); /* durable: fsync before it returns */
}

/* After a successful commit: what was pending is now stored. */
static void commit_done(struct broker *b, size_t nbatch)
{
	struct store *st = b->store;
	if (nbatch)
		st->auto_id_stored = b->next_auto_id;
	for (size_t i = 0; i < nbatch; i++) {
		st->batch[i]->store_dirty = false;
		st->batch[i]->stored = st->batch[i]->expiry_interval != 0;
	}
	for (size_t i = 0; i < st->nret; i++)
		msg_unref(st->ret[i]);
	st->nret = 0;
	for (size_t i = 0; i < st->ngone; i++)
		free(st->gone[i].id);
	st->ngone = 0;
	if (topic_ids_count(b->sn.ids) != st->ids_stored) {
		for (uint32_t id = 1; id < 0xFFFF; id++)
			if (topic_ids_name(b->sn.ids, false, (uint16_t)id).len)
				st->ids_bits[id / 8] |= (uint8_t)(1u << (id % 8));
		st->ids_stored = topic_ids_count(b->sn.ids);
	}
}

static int commit_failed(struct broker *b, int rc)
{
	struct store *st = b->store;
	st->broken = true;
	log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
	         "persistence: commit to %s failed: %s; stopping without sending the "
	         "acknowledgements of unstored messages",
	         st->dir, rc == ENOMEM ? "out of memory" : mdb_strerror(rc));
	b->exit_status = 1;
	if (b->loop)
		ev_break(b->loop, EVBREAK_ALL);
	return rc == ENOMEM ? -ENOMEM : -EIO;
}

int store_commit(struct broker *b)
{
	struct store *st = b->store;
	if (!st || !st->env)
		return 0;
	if (st->broken)
		return -EIO;
	long n = collect_dirty(b);
	if (n < 0)
		return commit_failed(b, ENOMEM);
	if (n == 0 && st->nret == 0 && st->ngone == 0 &&
	    topic_ids_count(b->sn.ids) == st->ids_stored)
		return 0;
	int rc = write_pending(b, (size_t)n);
	while (rc == MDB_MAP_FULL && st->map_size < STORE_MAP_SIZE_MAX) {
		/* No transaction is open after the abort: the map may grow now. */
		st->map_size *= 2;
		rc = mdb_env_set_mapsize(st->env, st->map_size);
		if (rc == 0)
			rc = write_pending(b, (size_t)n);
	}
	if (rc)
		return commit_failed(b, rc);
	commit_done(b, (size_t)n);
	return 0;
}

bool store_refuses_output(const struct broker *b)
{
	return b->store && b->store->broken;
}

/* ---- hooks -------------------------------------------------------------------------------- */

void store_retained_changed(struct broker *b, struct msg *m)
{
	struct store *st = b->store;
	if (!st || !st->env || st->broken)
		return;
	/* $SYS is the broker's own, re-published at every start (mosquitto does not keep it). */
	if (m->topic_len >= 4 && memcmp(m->topic, "$SYS", 4) == 0)
		return;
	if (st->nret == st->ret_cap) {
		size_t cap = st->ret_cap ? st->ret_cap * 2 : 16;
		struct msg **nr = realloc(st->ret, cap * sizeof(*nr));
		if (!nr) {
			(void)commit_failed(b, ENOMEM);
			return;
		}
		st->ret = nr;
		st->ret_cap = cap;
	}
	st->ret[st->nret++] = msg_ref(m);
}

void store_session_added(struct broker *b, struct session *s)
{
	if (!b->store)
		return;
	s->dirty_list = &b->store->dirty;
	if (s->store_dirty) { /* changed before it was in the table: list it now */
		s->store_dirty = false;
		session_mark_changed(s);
	}
}

void store_session_gone(struct broker *b, struct session *s)
{
	struct store *st = b->store;
	if (!st)
		return;
	if (s->store_dirty) /* off the dirty list before it is freed */
		for (struct session **pp = &st->dirty.head; *pp; pp = &(*pp)->dirty_next)
			if (*pp == s) {
				*pp = s->dirty_next;
				break;
			}
	s->dirty_list = NULL;
	s->store_dirty = false;
	if (!st->env || st->broken || !s->stored)
		return;
	if (st->ngone == st->gone_cap) {
		size_t cap = st->gone_cap ? st->gone_cap * 2 : 16;
		struct gone_id *ng = realloc(st->gone, cap * sizeof(*ng));
		if (!ng) {
			(void)commit_failed(b, ENOMEM);
			return;
		}
		st->gone = ng;
		st->gone_cap = cap;
	}
	uint8_t *id = malloc(s->client_id_len ? s->client_id_len : 1);
	if (!id) {
		(void)commit_failed(b, ENOMEM);
		return;
	}
	memcpy(id, s->client_id, s->client_id_len);
	st->gone[st->ngone++] = (struct gone_id){.id = id, .len = s->client_id_len};
}

void store_close(struct broker *b)
{
	struct store *st = b->store;
	if (!st)
		return;
	if (st->env && !st->broken)
		(void)store_commit(b);
	for (size_t i = 0; i < b->sessions.cap; i++) /* the list head goes with the store */
		if (b->sessions.slots[i])
			b->sessions.slots[i]->dirty_list = NULL;
	for (size_t i = 0; i < st->nret; i++)
		msg_unref(st->ret[i]);
	for (size_t i = 0; i < st->ngone; i++)
		free(st->gone[i].id);
	free(st->ret);
	free(st->gone);
	free(st->batch);
	if (st->env)
		mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
	b->store = NULL;
}
