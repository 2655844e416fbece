/* test_paho_sync.c - MQTT 3.1.1 end to end with the Eclipse Paho synchronous client
 * (MQTTClient): publish/subscribe at QoS 0/1/2, retained messages, offline queues of
 * persistent sessions, unsubscribe, and the will of a client that vanishes.
 *
 * Usage: test_paho_sync [BROKER_BINARY] (default $MQTT_FAST_BIN). Port 22000. */
#include <MQTTClient.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker_fixture.h"
#include "check.h"

#define PORT 22000

/* Bounds of every wait: a message expected to arrive, and a window in which none may. */
#define ARRIVE_MS 5000
#define QUIET_MS  300

static const char *g_uri;

static MQTTClient client_new(const char *id)
{
	MQTTClient c = NULL;
	int rc = MQTTClient_create(&c, g_uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	CHECK_EQ(rc, MQTTCLIENT_SUCCESS);
	return rc == MQTTCLIENT_SUCCESS ? c : NULL;
}

/* Connects with MQTT 3.1.1. Returns the MQTTClient_connect code; *present gets the CONNACK
 * Session Present flag when non-NULL. */
static int client_connect(MQTTClient c, int clean, MQTTClient_willOptions *will, int *present)
{
	MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.cleansession = clean;
	o.keepAliveInterval = 30;
	o.connectTimeout = 5;
	o.will = will;
	int rc = MQTTClient_connect(c, &o);
	if (present)
		*present = o.returned.sessionPresent;
	return rc;
}

/* A connected client, or NULL (a failed check). */
static MQTTClient client_up(const char *id, int clean)
{
	MQTTClient c = client_new(id);
	if (!c)
		return NULL;
	int rc = client_connect(c, clean, NULL, NULL);
	CHECK_EQ(rc, MQTTCLIENT_SUCCESS);
	if (rc != MQTTCLIENT_SUCCESS)
		MQTTClient_destroy(&c);
	return c;
}

static void client_down(MQTTClient *c)
{
	if (!*c)
		return;
	if (MQTTClient_isConnected(*c))
		CHECK_EQ(MQTTClient_disconnect(*c, 1000), MQTTCLIENT_SUCCESS);
	MQTTClient_destroy(c);
}

static void subscribe(MQTTClient c, const char *filter, int qos)
{
	CHECK_EQ(MQTTClient_subscribe(c, filter, qos), MQTTCLIENT_SUCCESS);
}

/* Publishes and waits for the QoS flow to complete. */
static void publish(MQTTClient c, const char *topic, const void *payload, int len, int qos,
                    int retained)
{
	MQTTClient_deliveryToken tok = 0;
	int rc = MQTTClient_publish(c, topic, len, payload, qos, retained, &tok);
	CHECK_EQ(rc, MQTTCLIENT_SUCCESS);
	if (rc == MQTTCLIENT_SUCCESS && qos > 0)
		CHECK_EQ(MQTTClient_waitForCompletion(c, tok, ARRIVE_MS), MQTTCLIENT_SUCCESS);
}

static void publish_str(MQTTClient c, const char *topic, const char *payload, int qos, int retained)
{
	publish(c, topic, payload, (int)strlen(payload), qos, retained);
}

/* Waits up to timeout_ms for one message. 1 with the topic and message owned by the caller (to free with
 * MQTTClient_free / MQTTClient_freeMessage), 0 on timeout, or a negative Paho code. */
static int receive(MQTTClient c, int timeout_ms, char **topic, MQTTClient_message **m)
{
	int64_t end = fixture_now_ms() + timeout_ms;
	*topic = NULL;
	*m = NULL;
	for (;;) {
		int64_t left = end - fixture_now_ms();
		int tlen = 0;
		int rc = MQTTClient_receive(c, topic, &tlen, m,
		                            (unsigned long)(left > 0 ? left : 0));
		if (rc < 0 && rc != MQTTCLIENT_TOPICNAME_TRUNCATED)
			return rc;
		if (*m)
			return 1;
		if (left <= 0)
			return 0;
	}
}

/* Checks that the next message on c is exactly (topic, payload, qos, retained, dup); dup -1
 * accepts either value (a message that was in flight when its session went offline is resent
 * with DUP 1 [MQTT-4.4.0-1]). */
#define EXPECT_MSG(c, topic, payload, len, qos, retained)                                          \
	expect_msg_(c, topic, payload, len, qos, retained, 0, __LINE__)

static void expect_msg_(MQTTClient c, const char *topic, const void *payload, int len, int qos,
                        int retained, int dup, int line)
{
	char *t;
	MQTTClient_message *m;
	unsigned before = check_state_.failed;
	int rc = receive(c, ARRIVE_MS, &t, &m);
	CHECK_EQ(rc, 1);
	if (rc == 1) {
		CHECK_MEM(t, strlen(t), topic, strlen(topic));
		CHECK_MEM(m->payload, m->payloadlen, payload, len);
		CHECK_EQ(m->qos, qos);
		CHECK_EQ(m->retained, retained);
		if (dup >= 0)
			CHECK_EQ(m->dup, dup);
		MQTTClient_freeMessage(&m);
		MQTTClient_free(t);
	}
	if (check_state_.failed != before)
		fprintf(stderr, "    (the message expected at line %d, topic %s)\n", line, topic);
}

#define EXPECT_STR(c, topic, payload, qos, retained)                                               \
	expect_msg_(c, topic, payload, (int)strlen(payload), qos, retained, 0, __LINE__)

/* Checks that nothing arrives on c for QUIET_MS. */
#define EXPECT_NONE(c) expect_none_(c, __LINE__)

static void expect_none_(MQTTClient c, int line)
{
	char *t;
	MQTTClient_message *m;
	int rc = receive(c, QUIET_MS, &t, &m);
	CHECK_EQ(rc, 0);
	if (rc == 1) {
		fprintf(stderr, "    line %d: unexpected message on %s: %.*s\n", line, t,
		        m->payloadlen, (const char *)m->payload);
		MQTTClient_freeMessage(&m);
		MQTTClient_free(t);
	}
}

/* QoS 0, 1 and 2 with exact payloads (binary, empty, 64 KiB), and QoS downgrade to the
 * granted QoS [MQTT-3.8.4-6]. */
static void test_qos_levels(void)
{
	MQTTClient sub = client_up("sync-qos-sub", 1), pub = client_up("sync-qos-pub", 1);
	if (!sub || !pub)
		goto out;
	subscribe(sub, "sync/qos/#", 2);
	subscribe(sub, "sync/low/+", 1);

	static const uint8_t bin[] = {0x00, 0xff, 0x01, 0x80, 0x00, 'x', 0x7f};
	publish_str(pub, "sync/qos/0", "zero", 0, 0);
	publish_str(pub, "sync/qos/1", "one", 1, 0);
	publish_str(pub, "sync/qos/2", "two", 2, 0);
	publish(pub, "sync/qos/bin", bin, (int)sizeof(bin), 2, 0);
	publish(pub, "sync/qos/empty", "", 0, 1, 0);
	EXPECT_STR(sub, "sync/qos/0", "zero", 0, 0);
	EXPECT_STR(sub, "sync/qos/1", "one", 1, 0);
	EXPECT_STR(sub, "sync/qos/2", "two", 2, 0);
	EXPECT_MSG(sub, "sync/qos/bin", bin, (int)sizeof(bin), 2, 0);
	EXPECT_MSG(sub, "sync/qos/empty", "", 0, 1, 0);

	/* Large payload, byte for byte. */
	size_t big_len = 65536;
	uint8_t *big = malloc(big_len);
	if (big) {
		for (size_t i = 0; i < big_len; i++)
			big[i] = (uint8_t)(i * 31 + (i >> 8));
		publish(pub, "sync/qos/big", big, (int)big_len, 1, 0);
		EXPECT_MSG(sub, "sync/qos/big", big, (int)big_len, 1, 0);
		free(big);
	}

	/* Published at QoS 2 to a QoS 1 subscription: delivered at QoS 1. */
	publish_str(pub, "sync/low/a", "down", 2, 0);
	EXPECT_STR(sub, "sync/low/a", "down", 1, 0);
	EXPECT_NONE(sub);
out:
	client_down(&sub);
	client_down(&pub);
}

/* A retained message reaches a later subscriber with RETAIN set [MQTT-3.3.1-8]; live
 * deliveries carry RETAIN 0 [MQTT-3.3.1-9]; an empty retained payload clears it
 * [MQTT-3.3.1-10, -11]. */
static void test_retained(void)
{
	MQTTClient pub = client_up("sync-ret-pub", 1), sub = NULL;
	if (!pub)
		goto out;
	publish_str(pub, "sync/ret/a", "kept-a", 1, 1);
	publish_str(pub, "sync/ret/b", "old-b", 0, 1);
	publish_str(pub, "sync/ret/b", "kept-b", 2, 1); /* replaces old-b */

	sub = client_up("sync-ret-sub", 1);
	if (!sub)
		goto out;
	subscribe(sub, "sync/ret/a", 2);
	EXPECT_STR(sub, "sync/ret/a", "kept-a", 1, 1);
	subscribe(sub, "sync/ret/b", 2);
	EXPECT_STR(sub, "sync/ret/b", "kept-b", 2, 1);
	EXPECT_NONE(sub);

	/* Live delivery of a retained publish to an established subscription: RETAIN 0. */
	publish_str(pub, "sync/ret/a", "kept-a2", 1, 1);
	EXPECT_STR(sub, "sync/ret/a", "kept-a2", 1, 0);

	/* Clearing: the empty retained message is delivered live, and no longer stored. */
	publish(pub, "sync/ret/a", "", 0, 1, 1);
	EXPECT_MSG(sub, "sync/ret/a", "", 0, 1, 0);
	client_down(&sub);

	sub = client_up("sync-ret-sub2", 1);
	if (!sub)
		goto out;
	subscribe(sub, "sync/ret/+", 1);
	EXPECT_STR(sub, "sync/ret/b", "kept-b", 1, 1);
	EXPECT_NONE(sub);
out:
	if (pub) /* leave no retained message behind */
		publish(pub, "sync/ret/b", "", 0, 1, 1);
	client_down(&sub);
	client_down(&pub);
}

/* Clean session 0: QoS 1 messages published while the client is away are queued and delivered
 * in order on reconnect, with Session Present 1 [MQTT-3.2.2-2]; clean session 1 discards the
 * session [MQTT-3.1.2-6]. */
static void test_persistent_session(void)
{
	enum { N = 10 };
	MQTTClient pub = client_up("sync-persist-pub", 1), c = client_new("sync-persist");
	int present = -1;
	if (!pub || !c)
		goto out;
	/* Start from no session at all. */
	CHECK_EQ(client_connect(c, 1, NULL, &present), MQTTCLIENT_SUCCESS);
	CHECK_EQ(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);

	CHECK_EQ(client_connect(c, 0, NULL, &present), MQTTCLIENT_SUCCESS);
	CHECK_EQ(present, 0);
	subscribe(c, "sync/persist/#", 1);
	CHECK_EQ(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);

	char payload[32];
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "queued-%02d", i);
		publish_str(pub, i % 2 ? "sync/persist/odd" : "sync/persist/even", payload, 1, 0);
	}

	CHECK_EQ(client_connect(c, 0, NULL, &present), MQTTCLIENT_SUCCESS);
	CHECK_EQ(present, 1);
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "queued-%02d", i);
		/* The broker may have sent the first ones before it read the DISCONNECT. */
		expect_msg_(c, i % 2 ? "sync/persist/odd" : "sync/persist/even", payload,
		            (int)strlen(payload), 1, 0, -1, __LINE__);
	}
	EXPECT_NONE(c);
	/* The subscription survived too: live messages still arrive. */
	publish_str(pub, "sync/persist/live", "live", 1, 0);
	EXPECT_STR(c, "sync/persist/live", "live", 1, 0);
	CHECK_EQ(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);

	/* Clean session 1 discards it: no Session Present, no subscription any more. */
	CHECK_EQ(client_connect(c, 1, NULL, &present), MQTTCLIENT_SUCCESS);
	CHECK_EQ(present, 0);
	publish_str(pub, "sync/persist/gone", "nobody", 1, 0);
	EXPECT_NONE(c);
out:
	client_down(&c);
	client_down(&pub);
}

/* After UNSUBSCRIBE no new message is delivered [MQTT-3.10.4-2]; other subscriptions stay. */
static void test_unsubscribe(void)
{
	MQTTClient sub = client_up("sync-unsub-sub", 1), pub = client_up("sync-unsub-pub", 1);
	if (!sub || !pub)
		goto out;
	subscribe(sub, "sync/unsub/a", 1);
	subscribe(sub, "sync/unsub/marker", 1);
	publish_str(pub, "sync/unsub/a", "before", 1, 0);
	EXPECT_STR(sub, "sync/unsub/a", "before", 1, 0);

	CHECK_EQ(MQTTClient_unsubscribe(sub, "sync/unsub/a"), MQTTCLIENT_SUCCESS);
	publish_str(pub, "sync/unsub/a", "after", 1, 0);
	publish_str(pub, "sync/unsub/marker", "marker", 1, 0);
	/* The marker comes next: "after" was not delivered. */
	EXPECT_STR(sub, "sync/unsub/marker", "marker", 1, 0);
	EXPECT_NONE(sub);
out:
	client_down(&sub);
	client_down(&pub);
}

/* Child process: connects with a will, tells the parent, and exits without DISCONNECT (the
 * kernel closes the socket: a network failure as far as the broker can tell). */
static void will_child(int wfd)
{
	MQTTClient c = NULL;
	MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
	will.topicName = "sync/will/t";
	will.message = "vanished";
	will.qos = 1;
	will.retained = 0;
	char ok = 'n';
	if (MQTTClient_create(&c, g_uri, "sync-will-child", MQTTCLIENT_PERSISTENCE_NONE, NULL) ==
	            MQTTCLIENT_SUCCESS &&
	    client_connect(c, 1, &will, NULL) == MQTTCLIENT_SUCCESS)
		ok = 'y';
	if (write(wfd, &ok, 1) != 1)
		_exit(2);
	_exit(0);
}

/* The will is published when the connection ends without DISCONNECT [MQTT-3.1.2-8], and
 * not after a normal DISCONNECT [MQTT-3.1.2-10]. */
static void test_will(void)
{
	MQTTClient sub = client_up("sync-will-sub", 1), polite = NULL;
	int fds[2] = {-1, -1};
	if (!sub)
		goto out;
	subscribe(sub, "sync/will/#", 1);

	/* A client that disconnects normally: its will is discarded. */
	MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
	will.topicName = "sync/will/polite";
	will.message = "must not appear";
	will.qos = 1;
	polite = client_new("sync-will-polite");
	if (polite) {
		CHECK_EQ(client_connect(polite, 1, &will, NULL), MQTTCLIENT_SUCCESS);
		client_down(&polite);
	}

	CHECK_EQ(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		will_child(fds[1]);
	}
	if (pid < 0)
		goto out;
	close(fds[1]);
	fds[1] = -1;
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	char ok = 0;
	CHECK_EQ(poll(&p, 1, ARRIVE_MS), 1);
	CHECK_EQ(read(fds[0], &ok, 1), 1);
	CHECK_EQ(ok, 'y');
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Only the vanished client's will arrives. */
	EXPECT_STR(sub, "sync/will/t", "vanished", 1, 0);
	EXPECT_NONE(sub);
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	client_down(&polite);
	client_down(&sub);
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	struct broker_fixture f;
	if (!bin)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&f, bin, PORT, NULL) < 0)
		return 1;
	g_uri = f.uri;

	test_qos_levels();
	test_retained();
	test_persistent_session();
	test_unsubscribe();
	test_will();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
