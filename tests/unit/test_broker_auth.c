/* test_broker_auth.c - password_file: lines written by the real mosquitto_passwd ($7$ and $6$),
 * right and wrong passwords, unknown users, malformed lines refused with "file:line: reason",
 * files on disk, and the CONNECT decision table of auth_connect_check (mosquitto 2.0 rules). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "broker.h"
#include "check.h"

#define U8(s) ((const uint8_t *)(s))

/* Produced with Debian's mosquitto_passwd 2.0.11 (the broker's drop-in target):
 *   mosquitto_passwd -b -c pw alice secret1
 *   mosquitto_passwd -b pw bob 'p@ss:w0rd é'
 *   mosquitto_passwd -H sha512 -b -c pw6 carol hunter2
 *   mosquitto_passwd -H sha512 -b pw6 dave ''
 * The first two are $7$ (PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt), the others $6$
 * (SHA-512 of password then salt). Cross-checked with Python's hashlib.pbkdf2_hmac/sha512. */
static const char vectors[] =
        "alice:$7$101$tZ1tU9TQdBwzJZ2i$2JjPLIzWKUhgoCsxN6re7RNF5mX0NnwvkcIY/"
        "eFKcidB+KHR7VPoccptNkNdmeumidQvjzpKPM4zRsebrwEz/Q==\n"
        "bob:$7$101$/MQkPqMcf3NRWpqH$bS7Xh5ocw2Bf1N7xGQrfZWN/qCFSMm4xt9louXdMvkW5P6LV++"
        "JUAESoXwpRUfNazxIQZHmU5m/ZjnZITmLrrA==\n"
        "carol:$6$GVChMaeJUI6drnHF$mr4LXRctEdXEqHsFVnD6Xux8tUPN9+SsoFL2InBR4iJ+"
        "3xCEsbpxdiT3HUrCsfWfB+DMp7y4JaDsARIAY1MNmw==\n"
        "dave:$6$Vl1UVxfXxlvrxjx/$wOtaMP/"
        "wPocJG75slZLgP0T9ZW4SiNx2nHQZ6qv8gw0ZhVAy6U2p19NTAxhbP72WJh1D5dd0GNGtsbfVXCO5aQ==\n";

static int check(const struct auth_db *db, const char *user, const char *pw)
{
	return auth_db_check(db, U8(user), strlen(user), U8(pw), strlen(pw));
}

static void test_vectors(void)
{
	struct auth_db *db = NULL;
	char err[256] = "";
	CHECK_EQ(auth_db_parse("pw", vectors, &db, err, sizeof(err)), 0);
	if (!db) {
		fprintf(stderr, "  parse failed: %s\n", err);
		return;
	}
	CHECK_EQ(auth_db_count(db), 4);
	CHECK_EQ(check(db, "alice", "secret1"), 0);
	CHECK_EQ(check(db, "bob", "p@ss:w0rd é"), 0);
	CHECK_EQ(check(db, "carol", "hunter2"), 0);
	CHECK_EQ(check(db, "dave", ""), 0);

	CHECK_EQ(check(db, "alice", "secret"), -EACCES);
	CHECK_EQ(check(db, "alice", "secret1x"), -EACCES);
	CHECK_EQ(check(db, "alice", "Secret1"), -EACCES);
	CHECK_EQ(check(db, "alice", ""), -EACCES);
	CHECK_EQ(check(db, "carol", "hunter"), -EACCES);
	CHECK_EQ(check(db, "carol", "secret1"), -EACCES);
	CHECK_EQ(check(db, "dave", "x"), -EACCES);

	CHECK_EQ(check(db, "Alice", "secret1"), -ENOENT); /* user names are case-sensitive */
	CHECK_EQ(check(db, "alic", "secret1"), -ENOENT);
	CHECK_EQ(check(db, "alicee", "secret1"), -ENOENT);
	CHECK_EQ(check(db, "", ""), -ENOENT);
	CHECK_EQ(auth_db_check(db, U8("alice"), 5, NULL, 0), -EACCES);
	/* The password is bytes with a length: a NUL inside does not cut it short. */
	CHECK_EQ(auth_db_check(db, U8("alice"), 5, U8("secret1\0x"), 9), -EACCES);
	auth_db_free(db);
}

static void test_layout(void)
{
	/* Comments, blank lines, CRLF endings and blanks around fields are fine. */
	static const char text[] =
	        "# made by mosquitto_passwd\r\n"
	        "\r\n"
	        "   \n"
	        "  carol : $6$GVChMaeJUI6drnHF$mr4LXRctEdXEqHsFVnD6Xux8tUPN9+SsoFL2InBR4iJ+"
	        "3xCEsbpxdiT3HUrCsfWfB+DMp7y4JaDsARIAY1MNmw==  \r\n"
	        "# end";
	struct auth_db *db = NULL;
	char err[256] = "";
	CHECK_EQ(auth_db_parse("pw", text, &db, err, sizeof(err)), 0);
	CHECK_EQ(auth_db_count(db), 1);
	CHECK_EQ(check(db, "carol", "hunter2"), 0);
	auth_db_free(db);

	CHECK_EQ(auth_db_parse("empty", "", &db, err, sizeof(err)), 0);
	CHECK_EQ(auth_db_count(db), 0);
	CHECK_EQ(check(db, "carol", "hunter2"), -ENOENT);
	auth_db_free(db);
}

static const char good6[] = "$6$GVChMaeJUI6drnHF$mr4LXRctEdXEqHsFVnD6Xux8tUPN9+SsoFL2InBR4iJ+"
                            "3xCEsbpxdiT3HUrCsfWfB+DMp7y4JaDsARIAY1MNmw==";

static void expect_refused(const char *line, const char *want)
{
	char text[512], err[256] = "";
	struct auth_db *db = (struct auth_db *)1;
	/* The bad line is line 2, after a good one. */
	snprintf(text, sizeof(text), "carol:%s\n%s\n", good6, line);
	int rc = auth_db_parse("pw.txt", text, &db, err, sizeof(err));
	CHECK_EQ(rc, -EINVAL);
	CHECK(db == NULL);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "  line %s\n    error '%s'\n    want  '%s'\n", line, err, want);
		CHECK(0);
	}
	/* No hash material in the message. */
	CHECK(strstr(err, "GVCh") == NULL && strstr(err, "tZ1t") == NULL &&
	      strstr(err, "AAAA") == NULL);
}

static void test_malformed(void)
{
	expect_refused("dave", "pw.txt:2: expected user:hash");
	expect_refused(":$6$abcd$abcd", "pw.txt:2: empty user name");
	expect_refused("dave:plaintext",
	               "pw.txt:2: password is not hashed (mosquitto_passwd -U hashes a plain-text "
	               "file)");
	expect_refused("dave:", "pw.txt:2: password is not hashed (mosquitto_passwd -U hashes a "
	                        "plain-text file)");
	expect_refused("dave:$5$abcd$abcd",
	               "pw.txt:2: unknown hash type (mosquitto_passwd writes $7$ or $6$)");
	expect_refused("dave:$7$0$tZ1tU9TQdBwzJZ2i$AAAA",
	               "pw.txt:2: bad iteration count in a $7$ hash");
	expect_refused("dave:$7$x1$tZ1tU9TQdBwzJZ2i$AAAA",
	               "pw.txt:2: bad iteration count in a $7$ hash");
	expect_refused("dave:$7$$tZ1tU9TQdBwzJZ2i$AAAA",
	               "pw.txt:2: bad iteration count in a $7$ hash");
	expect_refused("dave:$6$GVChMaeJUI6drnHF",
	               "pw.txt:2: expected $7$ITERATIONS$SALT$HASH or $6$SALT$HASH");
	expect_refused("dave:$6$a$b$c",
	               "pw.txt:2: expected $7$ITERATIONS$SALT$HASH or $6$SALT$HASH");
	expect_refused("dave:$6$GVCh*aeJUI6drnHF$AAAA",
	               "pw.txt:2: salt is not base64 (at most 64 bytes)");
	expect_refused("dave:$6$GVChMaeJUI6drnH$AAAA",
	               "pw.txt:2: salt is not base64 (at most 64 bytes)");
	expect_refused("dave:$6$GVChMaeJUI6drnHF$AAAA", "pw.txt:2: hash is not 64 bytes of base64");
	expect_refused("dave:$6$GVChMaeJUI6drnHF$mr4LXRctEdXEqHsFVnD6Xux8tUPN9+SsoFL2InBR4iJ+"
	               "3xCEsbpxdiT3HUrCsfWfB+DMp7y4JaDsARIAY1MN=w==",
	               "pw.txt:2: hash is not 64 bytes of base64");
	expect_refused("dave:x:$6$abc",
	               "pw.txt:2: more than one ':' (a user name cannot contain one)");

	/* A user listed twice: the later line is named. */
	char text[512], err[256] = "";
	struct auth_db *db = NULL;
	snprintf(text, sizeof(text), "carol:%s\n#\ncarol:%s\n", good6, good6);
	CHECK_EQ(auth_db_parse("pw", text, &db, err, sizeof(err)), -EINVAL);
	CHECK(strcmp(err, "pw:3: user 'carol' listed twice") == 0);
}

static void test_files(void)
{
	char path[] = "/tmp/test_broker_auth.XXXXXX", err[256] = "";
	struct auth_db *db = NULL;
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, vectors, strlen(vectors)), (long long)strlen(vectors));
	close(fd);
	CHECK_EQ(auth_db_load(path, &db, err, sizeof(err)), 0);
	CHECK_EQ(auth_db_count(db), 4);
	CHECK_EQ(check(db, "bob", "p@ss:w0rd é"), 0);
	auth_db_free(db);
	unlink(path);

	CHECK_EQ(auth_db_load(path, &db, err, sizeof(err)), -ENOENT);
	CHECK(db == NULL);
	CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, ": No such file") != NULL);
	CHECK_EQ(auth_db_load("/tmp", &db, err, sizeof(err)), -EISDIR);
}

/* ---- the CONNECT decision ---------------------------------------------------------------- */

struct decision {
	const char *conf;        /* extra configuration */
	const char *user, *pass; /* NULL = absent */
	uint8_t want;            /* 0 = accepted */
};

static void test_connect_decisions(void)
{
	static const struct decision table[] = {
	        /* password_file set */
	        {"allow_anonymous false", "alice", "secret1", 0},
	        {"allow_anonymous false", "alice", "wrong", MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	        {"allow_anonymous false", "alice", NULL, MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	        {"allow_anonymous false", "mallory", "x", MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	        {"allow_anonymous false", NULL, NULL, MQTT_RC_NOT_AUTHORIZED},
	        {"allow_anonymous false", NULL, "secret1", MQTT_RC_NOT_AUTHORIZED},
	        {"allow_anonymous true", NULL, NULL, 0},
	        {"allow_anonymous true", "alice", "secret1", 0},
	        {"allow_anonymous true", "alice", "wrong", MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	        {"allow_anonymous true", "mallory", "x", MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	        {"allow_anonymous true", "dave", "", 0},
	        {"allow_anonymous true", "dave", NULL, MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	};
	static const struct decision nofile[] = {
	        /* no password_file: allow_anonymous decides for everyone */
	        {"allow_anonymous true", NULL, NULL, 0},
	        {"allow_anonymous true", "anyone", "anything", 0},
	        {"allow_anonymous false", NULL, NULL, MQTT_RC_NOT_AUTHORIZED},
	        {"allow_anonymous false", "alice", "secret1", MQTT_RC_BAD_USERNAME_OR_PASSWORD},
	};
	for (int pass = 0; pass < 2; pass++) {
		const struct decision *t = pass ? nofile : table;
		size_t n = pass ? sizeof(nofile) / sizeof(*nofile) : sizeof(table) / sizeof(*table);
		for (size_t i = 0; i < n; i++) {
			char conf[256], err[256];
			struct config cfg;
			struct broker *b = malloc(sizeof(*b));
			struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
			snprintf(conf, sizeof(conf), "log_type none\nsys_interval 0\n%s\n",
			         t[i].conf);
			if (!b || !loop ||
			    config_load_string("t", conf, &cfg, err, sizeof(err)) < 0 ||
			    broker_init(b, loop, &cfg) < 0) {
				CHECK(0);
				return;
			}
			if (!pass)
				CHECK_EQ(auth_db_parse("pw", vectors, &b->passwords, err,
				                       sizeof(err)),
				         0);
			struct conn c = {.b = b};
			strcpy(c.peer, "test");
			struct mqtt_connect p = {.version = MQTT_V5, .clean_start = true};
			p.client_id = (struct mqtt_str){U8("c"), 1};
			if (t[i].user) {
				p.has_username = true;
				p.username = (struct mqtt_str){U8(t[i].user),
				                               (uint16_t)strlen(t[i].user)};
			}
			if (t[i].pass) {
				p.has_password = true;
				p.password = (struct mqtt_str){U8(t[i].pass),
				                               (uint16_t)strlen(t[i].pass)};
			}
			const char *why = NULL;
			uint8_t got = auth_connect_check(&c, &p, &why);
			if (got != t[i].want)
				fprintf(stderr, "  %s file, %s, user %s pass %s: got 0x%02x\n",
				        pass ? "no" : "with", t[i].conf,
				        t[i].user ? t[i].user : "-", t[i].pass ? t[i].pass : "-",
				        got);
			CHECK_EQ(got, t[i].want);
			CHECK(got == 0 || (why && !strstr(why, "secret1")));
			broker_free(b);
			free(b);
			ev_loop_destroy(loop);
		}
	}
}

int main(void)
{
	test_vectors();
	test_layout();
	test_malformed();
	test_files();
	test_connect_decisions();
	return check_report();
}
