/* auth.h - password_file in mosquitto's format and the CONNECT authentication decision.
 *
 * A password file holds one `user:HASH` line per user, as written by mosquitto_passwd:
 *   $7$ITERATIONS$SALT$HASH   PBKDF2-HMAC-SHA512 (mosquitto 2.0's default)
 *   $6$SALT$HASH              SHA-512 of the password followed by the salt (mosquitto 1.x)
 * SALT and HASH are base64; HASH is 64 bytes. Blank lines and lines starting with '#' are
 * skipped; anything else that is not such a line refuses the whole file with "file:line:
 * reason" (mosquitto would drop the line and go on). Passwords are compared in constant time;
 * no hash, salt or password ever reaches a log line or an error message. */
#ifndef MQTT_FAST_AUTH_H
#define MQTT_FAST_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_db; /* a parsed password file */
struct broker;
struct config;
struct conn;
struct mqtt_connect;

/* Reads a whole password or ACL file (at most 16 MiB, no NUL byte) into an owned
 * NUL-terminated buffer. 0, or a negative errno with "path: reason" in err. Borrows path. */
int auth_read_file(const char *path, char **out, char *err, size_t errlen);

/* Parses the text of a password file; `name` is used in messages. On success *out is an owned
 * database (free with auth_db_free). On error returns -EINVAL (bad line) or -ENOMEM and writes
 * "name:line: reason" into err. Borrows name and text. */
int auth_db_parse(const char *name, const char *text, struct auth_db **out, char *err,
                  size_t errlen);
/* Reads and parses the file at path (as auth_db_parse; open errors give "path: reason"). */
int auth_db_load(const char *path, struct auth_db **out, char *err, size_t errlen);
/* Frees a database. NULL is ignored. */
void auth_db_free(struct auth_db *db);
/* Number of users in the database. */
size_t auth_db_count(const struct auth_db *db);

/* Checks a user name and password (both byte strings, borrowed). 0 when they match, -ENOENT
 * for an unknown user (a hash is still computed, so both failures take the same time),
 * -EACCES for a wrong password, -ENOMEM. */
int auth_db_check(const struct auth_db *db, const uint8_t *user, size_t ulen, const uint8_t *pw,
                  size_t pwlen);

/* ---- the broker's use of it ------------------------------------------------------------- */

/* Loads b->cfg.password_file into b->passwords (nothing when unset). 0, or a negative errno
 * with the "file:line: reason" logged. */
int auth_init(struct broker *b);
/* SIGHUP: takes neu's password_file path and allow_anonymous and loads the file again. On an
 * error the old database and settings stay and the error is logged. */
void auth_reload(struct broker *b, struct config *neu);
/* The CONNECT authentication decision, as mosquitto 2.0:
 *  - password_file set: a client with a user name must match a line (0x86 Bad User Name or
 *    Password otherwise; 3.1.1: 0x04); a client without one needs allow_anonymous true (0x87
 *    Not Authorized; 3.1.1: 0x05).
 *  - no password_file: allow_anonymous true lets everyone in (user names are not checked);
 *    false refuses everyone (anonymous 0x87, with a user name 0x86).
 * Returns 0 or the MQTT 5 reason code; *why is a static text for the log and Reason String
 * (it never says whether the user exists; the log line that names the user does). */
uint8_t auth_connect_check(struct conn *c, const struct mqtt_connect *p, const char **why);
/* --test-config: loads cfg's password_file and acl_file and frees them again. 0, or a negative
 * errno with the reason in err. */
int auth_check_files(const struct config *cfg, char *err, size_t errlen);

#endif
