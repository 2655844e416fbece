/* acl.h - acl_file in mosquitto's format and the access decisions built on it.
 *
 * The file (mosquitto 2.0 syntax):
 *   # comment
 *   topic [read|write|readwrite|deny] TOPIC    before any `user` line: anonymous clients
 *   user NAME                                  the following `topic` lines are NAME's
 *   pattern [read|write|readwrite|deny] TOPIC  every client; %c = client id, %u = user name
 * Without an access word a line grants readwrite. TOPIC is the rest of the line and may use
 * '+' and '#'. Unknown keywords, a bad access word, a missing user name or an invalid topic
 * filter refuse the whole file with "file:line: reason".
 *
 * Decisions, as mosquitto 2.0's default ACL check: with no acl_file everything is allowed.
 * Otherwise a client's own list is searched first (its `user` section, or the anonymous one
 * when it has no user name), `deny` lines before the others; the first matching line decides.
 * Then the patterns the same way (a pattern with %u is skipped for a client without a user
 * name; a client id or user name containing '+' or '#' is denied by the patterns). No matching
 * line: denied. A topic starting with '$' only matches a line whose topic starts with '$', and
 * $SYS topics are never writable. MQTT-SN clients have no user name: their client id is used
 * as the user name (for `user` sections and %u). */
#ifndef MQTT_FAST_ACL_H
#define MQTT_FAST_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum acl_access {
	ACL_READ = 1u << 0,
	ACL_WRITE = 1u << 1,
};

struct acl; /* a parsed ACL file */
struct broker;
struct config;
struct session;

/* Parses the text of an ACL file; `name` is used in messages. On success *out is owned (free
 * with acl_free). On error returns -EINVAL or -ENOMEM with "name:line: reason" in err. Borrows
 * name and text. */
int acl_parse(const char *name, const char *text, struct acl **out, char *err, size_t errlen);
/* Reads and parses the file at path. */
int acl_load(const char *path, struct acl **out, char *err, size_t errlen);
/* NULL is ignored. */
void acl_free(struct acl *a);

/* The decision for one access (ACL_READ or ACL_WRITE) to Topic Name `topic` by the client with
 * id `client_id` (NUL-terminated; NULL = none, e.g. an MQTT-SN QoS -1 sender) and `username`
 * (NULL = anonymous). All borrowed. */
bool acl_check(const struct acl *a, const char *client_id, const char *username,
               const uint8_t *topic, size_t len, unsigned access);
/* True when the file has a `user NAME` section (len bytes, borrowed). */
bool acl_has_user(const struct acl *a, const uint8_t *name, size_t len);

/* ---- the broker's use of it ------------------------------------------------------------- */

/* Loads b->cfg.acl_file into b->acl (nothing when unset). 0, or a negative errno (logged). */
int acl_init(struct broker *b);
/* SIGHUP: takes neu's acl_file path and sn_allow_anonymous and loads the file again; on an
 * error the old ones stay and the error is logged. */
void acl_reload(struct broker *b, struct config *neu);

/* May session `s` (NULL = no session: anonymous, no client id) receive / publish on `topic`?
 * Always true without an acl_file (one pointer test). The identity is the session's client id
 * and the user name of its last CONNECT, or the client id for an MQTT-SN session. */
bool acl_can_read(struct broker *b, const struct session *s, const uint8_t *topic, size_t len);
/* As acl_can_read for writing; a denial is logged (debug) naming the client and the topic. */
bool acl_can_write(struct broker *b, const struct session *s, const uint8_t *topic, size_t len);
/* SUBSCRIBE: a filter without wildcards needs read access to that topic (refused at SUBSCRIBE);
 * a filter with '+' or '#' is granted and each message is checked when it is delivered. A
 * $share/GROUP/ prefix is looked through. A refusal is logged (debug). */
bool acl_can_subscribe(struct broker *b, const struct session *s, const uint8_t *filter,
                       size_t len);

#endif
