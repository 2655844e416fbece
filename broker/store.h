/* store.h - crash-safe persistence in LMDB (`persistence true`): retained messages, persistent
 * sessions (subscriptions, queued and in-flight QoS 1/2 deliveries, inbound QoS 2 ids, delayed
 * wills, expiry) and the MQTT-SN topic ids.
 *
 * Group commit: the changes of one loop iteration are written in one durable LMDB transaction
 * from the broker's ev_prepare watcher, *before* the iteration's output is flushed, so a
 * PUBACK/PUBREC/PUBCOMP (held in the output queues until then) never leaves before what it
 * acknowledges is on disk. Record formats: store_codec.h. */
#ifndef MQTT_FAST_STORE_H
#define MQTT_FAST_STORE_H

#include <stdbool.h>

struct broker;
struct msg;
struct session;

/* Opens (or creates) the store in persistence_location, checks its schema and loads
 * everything into `b` (retained store, session table and subscription tree, delayed wills,
 * topic ids). A store of a newer schema, a corrupt one, or one in use by another process is
 * refused with a log line naming the cause: the caller exits non-zero. Called by
 * broker_init when persistence is on. 0 or a negative errno. */
int store_open(struct broker *b);

/* Writes the changes since the last commit in one durable transaction. 0 when committed (or
 * nothing to do, or persistence off); a negative errno when the commit failed: that is logged
 * once, the loop is stopped with exit status 1 and no more output leaves (store_refuses_output),
 * so nothing unstored is ever acknowledged. */
int store_commit(struct broker *b);

/* True after a failed commit: connections must not write. */
bool store_refuses_output(const struct broker *b);

/* Hooks: a retained message was set or cleared (m borrowed: a reference is kept until the
 * commit); a session entered the session table (its changes are tracked from now on); a
 * session ended for good (off the change list; its record goes at the next commit). No-ops
 * without persistence. */
void store_retained_changed(struct broker *b, struct msg *m);
void store_session_added(struct broker *b, struct session *s);
void store_session_gone(struct broker *b, struct session *s);

/* Commits what is left and closes the store. NULL store is ignored. */
void store_close(struct broker *b);

#endif
