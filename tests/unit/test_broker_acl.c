/* test_broker_acl.c - acl_file: parsing (mosquitto 2.0 syntax, refused lines with file:line),
 * the allow/deny table for anonymous clients, user sections, patterns with %c and %u, deny
 * first, '$' topics, and the broker-level checks for MQTT and MQTT-SN sessions.
 *
 * Expected decisions follow mosquitto 2.0.11's default ACL check; the cases marked (mosquitto)
 * were confirmed against the real broker with mosquitto_pub -d (PUBACK reason 0x87). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "check.h"

#define U8(s) ((const uint8_t *)(s))

static const char acl_text[] = "# anonymous clients\n"
                               "topic read public/#\n"
                               "topic write anon/in\n"
                               "topic deny public/private\n"
                               "\n"
                               "pattern readwrite clients/%c/#\n"
                               "pattern write users/%u/out\n"
                               "pattern deny clients/%c/locked\n"
                               "pattern read shared/%u/%c\n"
                               "\n"
                               "user alice\n"
                               "topic readwrite sensors/#\n"
                               "topic deny sensors/secret\n"
                               "topic read $SYS/#\n"
                               "topic alice/only\n"
                               "\n"
                               "user bob\n"
                               "topic read sensors/+/temp\n"
                               "user   alice\n" /* a second section of alice adds to the first */
                               "topic write later/alice\n";

struct row {
	const char *cid, *user, *topic;
	unsigned access;
	bool want;
};

static void test_table(void)
{
	struct acl *a = NULL;
	char err[256] = "";
	CHECK_EQ(acl_parse("acl", acl_text, &a, err, sizeof(err)), 0);
	if (!a) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	static const struct row rows[] = {
	        /* anonymous: the topic lines before any user line */
	        {"c1", NULL, "public/news", ACL_READ, true},
	        {"c1", NULL, "public/news", ACL_WRITE, false},
	        {"c1", NULL, "public/private", ACL_READ, false}, /* deny wins, listed after */
	        {"c1", NULL, "anon/in", ACL_WRITE, true},
	        {"c1", NULL, "anon/in", ACL_READ, false},
	        {"c1", NULL, "sensors/a", ACL_READ, false},
	        /* patterns apply to everyone with a client id */
	        {"c1", NULL, "clients/c1/x", ACL_WRITE, true},
	        {"c1", NULL, "clients/c1", ACL_READ, true}, /* "#" matches the parent level */
	        {"c1", NULL, "clients/c2/x", ACL_WRITE, false},
	        {"c1", NULL, "clients/c1/locked", ACL_WRITE, false},
	        {"c1", "bob", "clients/c1/locked", ACL_READ, false},
	        {"c1", NULL, "users/c1/out", ACL_WRITE, false}, /* %u needs a user name */
	        {"c1", "bob", "users/bob/out", ACL_WRITE, true},
	        {"c1", "bob", "users/alice/out", ACL_WRITE, false},
	        {"c1", "bob", "users/bob/out", ACL_READ, false},
	        {"c9", "bob", "shared/bob/c9", ACL_READ, true},
	        {"c9", "bob", "shared/bob/c1", ACL_READ, false},
	        /* a client id with a '/' just adds levels (mosquitto 2.0) */
	        {"a/b", NULL, "clients/a/b/x", ACL_WRITE, true},
	        /* '+' or '#' in an identity: the patterns deny (mosquitto) */
	        {"c+1", NULL, "clients/c+1/x", ACL_WRITE, false},
	        {"c#", "bob", "users/bob/out", ACL_WRITE, false},
	        {"c1", "b+b", "users/b+b/out", ACL_WRITE, false},
	        /* alice: her section (deny first), then the patterns */
	        {"ca", "alice", "sensors/a", ACL_READ, true},
	        {"ca", "alice", "sensors/a", ACL_WRITE, true},
	        {"ca", "alice", "sensors/secret", ACL_READ, false},  /* (mosquitto) */
	        {"ca", "alice", "sensors/secret", ACL_WRITE, false}, /* (mosquitto) */
	        {"ca", "alice", "sensors/secret/x", ACL_WRITE, true},
	        {"ca", "alice", "alice/only", ACL_WRITE, true}, /* no access word: readwrite */
	        {"ca", "alice", "later/alice", ACL_WRITE, true},
	        {"ca", "alice", "public/news", ACL_READ, false}, /* anonymous lines are not hers */
	        {"ca", "alice", "clients/ca/x", ACL_READ, true},
	        {"ca", "alice", "users/alice/out", ACL_WRITE, true},
	        /* '$' topics: only lines written for them; $SYS is never writable */
	        {"ca", "alice", "$SYS/broker/uptime", ACL_READ, true},
	        {"ca", "alice", "$SYS/broker/uptime", ACL_WRITE, false},
	        {"ca", "alice", "$other/x", ACL_READ, false},
	        /* bob */
	        {"cb", "bob", "sensors/k/temp", ACL_READ, true},
	        {"cb", "bob", "sensors/k/temp", ACL_WRITE, false},
	        {"cb", "bob", "sensors/k/hum", ACL_READ, false},
	        /* a user name without a section: only the patterns */
	        {"cz", "zed", "public/news", ACL_READ, false},
	        {"cz", "zed", "clients/cz/x", ACL_READ, true},
	        /* no client id (MQTT-SN QoS -1): anonymous lines only */
	        {NULL, NULL, "anon/in", ACL_WRITE, true},
	        {NULL, NULL, "clients/x/y", ACL_WRITE, false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
		const struct row *r = &rows[i];
		bool got = acl_check(a, r->cid, r->user, U8(r->topic), strlen(r->topic), r->access);
		if (got != r->want)
			fprintf(stderr, "  row %zu: client %s user %s %s %s: got %s\n", i,
			        r->cid ? r->cid : "-", r->user ? r->user : "-",
			        r->access == ACL_READ ? "read" : "write", r->topic,
			        got ? "allowed" : "denied");
		CHECK_EQ(got, r->want);
	}
	CHECK(acl_has_user(a, U8("alice"), 5));
	CHECK(acl_has_user(a, U8("bob"), 3));
	CHECK(!acl_has_user(a, U8("bo"), 2));
	CHECK(!acl_has_user(a, U8("zed"), 3));
	CHECK(!acl_has_user(NULL, U8("bob"), 3));
	/* No acl_file: everything is allowed. */
	CHECK(acl_check(NULL, "c", NULL, U8("x"), 1, ACL_WRITE));
	acl_free(a);
}

static void test_user_rules_before_patterns(void)
{
	/* mosquitto checks the client's own lines first: a pattern deny does not take back what
	 * the user's section allows (confirmed with mosquitto 2.0.11), while a deny in the same
	 * list always wins. */
	static const char text[] = "pattern deny sensors/x\n"
	                           "user alice\n"
	                           "topic readwrite sensors/#\n";
	struct acl *a = NULL;
	char err[256];
	CHECK_EQ(acl_parse("acl", text, &a, err, sizeof(err)), 0);
	CHECK(acl_check(a, "c1", "alice", U8("sensors/x"), 9, ACL_WRITE));
	CHECK(!acl_check(a, "c1", "bob", U8("sensors/x"), 9, ACL_WRITE));
	acl_free(a);

	/* An empty file (or only comments) denies everything. */
	CHECK_EQ(acl_parse("acl", "# nothing\n", &a, err, sizeof(err)), 0);
	CHECK(!acl_check(a, "c1", NULL, U8("a"), 1, ACL_READ));
	CHECK(!acl_check(a, "c1", "alice", U8("a"), 1, ACL_WRITE));
	acl_free(a);
}

static void test_long_substitution(void)
{
	/* A client id long enough that the substituted pattern does not fit the stack buffer. */
	char cid[700], topic[1500];
	memset(cid, 'k', sizeof(cid) - 1);
	cid[sizeof(cid) - 1] = '\0';
	snprintf(topic, sizeof(topic), "c/%s/%s", cid, cid);
	struct acl *a = NULL;
	char err[256];
	CHECK_EQ(acl_parse("acl", "pattern write c/%c/%c\n", &a, err, sizeof(err)), 0);
	CHECK(acl_check(a, cid, NULL, U8(topic), strlen(topic), ACL_WRITE));
	topic[strlen(topic) - 1] = 'j';
	CHECK(!acl_check(a, cid, NULL, U8(topic), strlen(topic), ACL_WRITE));
	acl_free(a);
}

static void expect_refused(const char *line, const char *want)
{
	char text[256], err[256] = "";
	struct acl *a = (struct acl *)1;
	snprintf(text, sizeof(text), "topic read ok\n%s\n", line);
	CHECK_EQ(acl_parse("acl.txt", text, &a, err, sizeof(err)), -EINVAL);
	CHECK(a == NULL);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "  line '%s'\n    error '%s'\n    want  '%s'\n", line, err, want);
		CHECK(0);
	}
}

static void test_malformed(void)
{
	expect_refused("topic", "acl.txt:2: missing topic");
	expect_refused("pattern   ", "acl.txt:2: missing topic");
	expect_refused("topic readonly a/b",
	               "acl.txt:2: access must be read, write, readwrite or deny");
	expect_refused("topic read a/#/b", "acl.txt:2: invalid topic filter");
	expect_refused("pattern write a/b+", "acl.txt:2: invalid topic filter");
	expect_refused("user", "acl.txt:2: missing user name");
	expect_refused("users alice",
	               "acl.txt:2: unknown keyword (expected topic, pattern or user)");
	expect_refused("Topic read a",
	               "acl.txt:2: unknown keyword (expected topic, pattern or user)");

	/* Accepted layouts: indentation, tabs, CRLF, `topic read` meaning topic "read". */
	struct acl *a = NULL;
	char err[256];
	CHECK_EQ(acl_parse("acl", "  # c\r\n\ttopic\tread\ta b\r\ntopic read\r\n", &a, err,
	                   sizeof(err)),
	         0);
	CHECK(acl_check(a, "c", NULL, U8("a b"), 3, ACL_READ));
	CHECK(!acl_check(a, "c", NULL, U8("a b"), 3, ACL_WRITE));
	CHECK(acl_check(a, "c", NULL, U8("read"), 4, ACL_WRITE));
	acl_free(a);
}

/* The broker's checks: identity from the session, MQTT-SN client id as user name. */
static void test_sessions(void)
{
	struct config cfg;
	char err[256];
	struct broker *b = malloc(sizeof(*b));
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	if (!b || !loop ||
	    config_load_string("t", "log_type none\nsys_interval 0\n", &cfg, err, sizeof(err)) <
	            0 ||
	    broker_init(b, loop, &cfg) < 0) {
		CHECK(0);
		return;
	}
	struct session *s = session_new(U8("dev1"), 4);
	/* No acl_file: one pointer test, everything allowed. */
	CHECK(acl_can_read(b, s, U8("x/y"), 3));
	CHECK(acl_can_write(b, NULL, U8("x/y"), 3));
	CHECK(acl_can_subscribe(b, s, U8("x/y"), 3));

	CHECK_EQ(acl_parse("acl",
	                   "topic read open/#\n"
	                   "user dev1\n"
	                   "topic write up/dev1\n"
	                   "topic read down/dev1\n"
	                   "user alice\n"
	                   "topic read down/#\n",
	                   &b->acl, err, sizeof(err)),
	         0);
	/* An MQTT session without a user name: anonymous lines. */
	s->proto = SESSION_MQTT;
	CHECK(acl_can_read(b, s, U8("open/1"), 6));
	CHECK(!acl_can_write(b, s, U8("up/dev1"), 7));
	CHECK_EQ(session_set_username(s, U8("alice"), 5), 0);
	CHECK(acl_can_read(b, s, U8("down/x"), 6));
	CHECK(!acl_can_read(b, s, U8("open/1"), 6));
	/* The same session attached over MQTT-SN: the client id is the user name. */
	s->proto = SESSION_SN;
	CHECK(acl_can_write(b, s, U8("up/dev1"), 7));
	CHECK(acl_can_read(b, s, U8("down/dev1"), 9));
	CHECK(!acl_can_read(b, s, U8("down/x"), 6));
	/* SUBSCRIBE: exact filters need read access, wildcard filters are granted (checked per
	 * message), $share/GROUP/ is looked through. */
	CHECK(acl_can_subscribe(b, s, U8("down/dev1"), 9));
	CHECK(!acl_can_subscribe(b, s, U8("down/x"), 6));
	CHECK(acl_can_subscribe(b, s, U8("down/+"), 6));
	CHECK(acl_can_subscribe(b, s, U8("#"), 1));
	CHECK(!acl_can_subscribe(b, s, U8("$share/g/down/x"), 15));
	CHECK(acl_can_subscribe(b, s, U8("$share/g/down/dev1"), 18));
	/* No session (MQTT-SN QoS -1): anonymous, no client id. */
	CHECK(!acl_can_write(b, NULL, U8("up/dev1"), 7));
	CHECK(acl_can_read(b, NULL, U8("open/x"), 6));
	session_free(s);
	broker_free(b); /* frees b->acl */
	free(b);
	ev_loop_destroy(loop);
}

int main(void)
{
	test_table();
	test_user_rules_before_patterns();
	test_long_substitution();
	test_malformed();
	test_sessions();
	return check_report();
}
