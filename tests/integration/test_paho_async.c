/* test_paho_async.c - the Eclipse Paho asynchronous client (MQTTAsync) against the broker, over
 * MQTT 3.1.1 and 5: connect/subscribe/publish through callbacks, 100 QoS 1 messages received
 * in order and exactly once, and the MQTT 5 Session Present flag (which Paho's synchronous
 * client does not report for MQTT 5).
 *
 * Every wait is a condition variable with a deadline. Usage: test_paho_async [BROKER_BINARY]
 * (default $MQTT_FAST_BIN). Port 22010. */
#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_fixture.h"
#include "check.h"

#define PORT 22010

#define NMSG       100
#define ARRIVE_MS  10000
#define QUIET_MS   300
#define CONNECT_MS 5000

static const char *g_uri;

/* Everything the callbacks of one client record, under mu. */
struct client {
	MQTTAsync h;
	int version; /* MQTTVERSION_3_1_1 or MQTTVERSION_5 */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* connect / disconnect / subscribe outcomes: 0 pending, 1 success, -1 failure */
	int connected, disconnected, subscribed;
	int session_present;
	int sub_reason; /* granted QoS / SUBACK reason code */
	int conn_lost;
	/* publishing */
	int pub_ok, pub_failed, pub_bad_reason;
	/* receiving: sequence numbers in arrival order */
	int received, bad_msgs, wrong_qos, dups;
	int order[NMSG * 2];
};

static void client_init(struct client *c, int version)
{
	memset(c, 0, sizeof(*c));
	c->version = version;
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, &a);
	pthread_condattr_destroy(&a);
}

static void client_fini(struct client *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* Runs `stmt` under the client's lock and wakes waiters. */
#define LOCKED(c, stmt)                                                                            \
	do {                                                                                       \
		pthread_mutex_lock(&(c)->mu);                                                      \
		stmt;                                                                              \
		pthread_cond_broadcast(&(c)->cv);                                                  \
		pthread_mutex_unlock(&(c)->mu);                                                    \
	} while (0)

/* Waits (at most ms) until pred(c, arg) holds, evaluated under the client's lock. Returns
 * whether it held. */
typedef bool (*client_pred)(const struct client *c, int arg);

static bool wait_until(struct client *c, client_pred pred, int arg, int ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	bool ok;
	while (!(ok = pred(c, arg)))
		if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT) {
			ok = pred(c, arg);
			break;
		}
	pthread_mutex_unlock(&c->mu);
	return ok;
}

static bool connect_done(const struct client *c, int arg)
{
	(void)arg;
	return c->connected != 0;
}

static bool disconnect_done(const struct client *c, int arg)
{
	(void)arg;
	return c->disconnected != 0;
}

static bool subscribe_done(const struct client *c, int arg)
{
	(void)arg;
	return c->subscribed != 0;
}

static bool publishes_done(const struct client *c, int n)
{
	return c->pub_ok + c->pub_failed >= n;
}

static bool received_at_least(const struct client *c, int n)
{
	return c->received >= n;
}

/* ---- callbacks ----------------------------------------------------------------------------- */

static void on_conn_lost(void *ctx, char *cause)
{
	(void)cause;
	struct client *c = ctx;
	LOCKED(c, c->conn_lost++);
}

/* Payloads are "seq=NNN"; records the arrival order. */
static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	struct client *c = ctx;
	(void)tlen;
	int seq = -1;
	if (m->payloadlen == 7 && memcmp(m->payload, "seq=", 4) == 0)
		seq = atoi((const char *)m->payload + 4);
	pthread_mutex_lock(&c->mu);
	if (seq < 0 || seq >= NMSG)
		c->bad_msgs++;
	if (m->qos != 1)
		c->wrong_qos++;
	if (m->dup)
		c->dups++;
	if (c->received < (int)(sizeof(c->order) / sizeof(c->order[0])))
		c->order[c->received] = seq;
	c->received++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_connect(void *ctx, MQTTAsync_successData *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->connected = 1, c->session_present = d ? d->alt.connect.sessionPresent : -1));
}

static void on_connect5(void *ctx, MQTTAsync_successData5 *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->connected = 1, c->session_present = d ? d->alt.connect.sessionPresent : -1));
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
	struct client *c = ctx;
	fprintf(stderr, "connect failed: %d %s\n", d ? d->code : 0,
	        d && d->message ? d->message : "");
	LOCKED(c, c->connected = -1);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *d)
{
	struct client *c = ctx;
	fprintf(stderr, "connect failed: reason 0x%02x %s\n", d ? (unsigned)d->reasonCode : 0u,
	        d && d->message ? d->message : "");
	LOCKED(c, c->connected = -1);
}

static void on_disconnect(void *ctx, MQTTAsync_successData *d)
{
	(void)d;
	struct client *c = ctx;
	LOCKED(c, c->disconnected = 1);
}

static void on_disconnect5(void *ctx, MQTTAsync_successData5 *d)
{
	(void)d;
	struct client *c = ctx;
	LOCKED(c, c->disconnected = 1);
}

static void on_sub(void *ctx, MQTTAsync_successData *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->subscribed = 1, c->sub_reason = d ? d->alt.qos : -1));
}

static void on_sub5(void *ctx, MQTTAsync_successData5 *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->subscribed = 1, c->sub_reason = d ? (int)d->reasonCode : -1));
}

static void on_sub_fail(void *ctx, MQTTAsync_failureData *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->subscribed = -1, c->sub_reason = d ? d->code : -1));
}

static void on_sub_fail5(void *ctx, MQTTAsync_failureData5 *d)
{
	struct client *c = ctx;
	LOCKED(c, (c->subscribed = -1, c->sub_reason = d ? (int)d->reasonCode : -1));
}

static void on_pub(void *ctx, MQTTAsync_successData *d)
{
	(void)d;
	struct client *c = ctx;
	LOCKED(c, c->pub_ok++);
}

static void on_pub5(void *ctx, MQTTAsync_successData5 *d)
{
	struct client *c = ctx;
	/* A subscriber exists: PUBACK must be Success (0x10 would mean nobody matched). */
	LOCKED(c, (c->pub_ok++, c->pub_bad_reason += d && d->reasonCode != 0));
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData *d)
{
	(void)d;
	struct client *c = ctx;
	LOCKED(c, c->pub_failed++);
}

static void on_pub_fail5(void *ctx, MQTTAsync_failureData5 *d)
{
	(void)d;
	struct client *c = ctx;
	LOCKED(c, c->pub_failed++);
}

/* ---- operations ---------------------------------------------------------------------------- */

static bool client_create(struct client *c, const char *id)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	co.MQTTVersion = c->version;
	int rc = MQTTAsync_createWithOptions(&c->h, g_uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
	                                     &co);
	CHECK_EQ(rc, MQTTASYNC_SUCCESS);
	if (rc != MQTTASYNC_SUCCESS)
		return false;
	CHECK_EQ(MQTTAsync_setCallbacks(c->h, c, on_conn_lost, on_message, NULL),
	         MQTTASYNC_SUCCESS);
	return true;
}

/* Connects and waits for the outcome; true when connected. session_expiry is sent (MQTT 5)
 * when non-zero. */
static bool client_connect(struct client *c, int clean, unsigned session_expiry)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTProperties props = MQTTProperties_initializer;
	bool v5 = c->version == MQTTVERSION_5;
	MQTTAsync_connectOptions *p = v5 ? &o5 : &o;

	p->keepAliveInterval = 30;
	p->connectTimeout = CONNECT_MS / 1000;
	p->context = c;
	p->MQTTVersion = c->version;
	if (v5) {
		p->cleanstart = clean;
		p->onSuccess5 = on_connect5;
		p->onFailure5 = on_connect_fail5;
		if (session_expiry) {
			MQTTProperty e = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
			e.value.integer4 = session_expiry;
			CHECK_EQ(MQTTProperties_add(&props, &e), 0);
			p->connectProperties = &props;
		}
	} else {
		p->cleansession = clean;
		p->onSuccess = on_connect;
		p->onFailure = on_connect_fail;
	}
	LOCKED(c, (c->connected = 0, c->session_present = -1));
	int rc = MQTTAsync_connect(c->h, p);
	MQTTProperties_free(&props);
	CHECK_EQ(rc, MQTTASYNC_SUCCESS);
	if (rc != MQTTASYNC_SUCCESS)
		return false;
	CHECK(wait_until(c, connect_done, 0, CONNECT_MS + 1000));
	CHECK_EQ(c->connected, 1);
	return c->connected == 1;
}

static void client_disconnect(struct client *c)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;
	o.timeout = 1000;
	o.context = c;
	if (c->version == MQTTVERSION_5)
		o.onSuccess5 = on_disconnect5;
	else
		o.onSuccess = on_disconnect;
	LOCKED(c, c->disconnected = 0);
	CHECK_EQ(MQTTAsync_disconnect(c->h, &o), MQTTASYNC_SUCCESS);
	CHECK(wait_until(c, disconnect_done, 0, 5000));
}

static void client_destroy(struct client *c)
{
	if (c->h) {
		if (MQTTAsync_isConnected(c->h))
			client_disconnect(c);
		MQTTAsync_destroy(&c->h);
	}
	client_fini(c);
}

/* Subscribes and waits for the SUBACK; returns its code (granted QoS), or -1. */
static int client_subscribe(struct client *c, const char *filter, int qos)
{
	MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
	o.context = c;
	if (c->version == MQTTVERSION_5) {
		o.onSuccess5 = on_sub5;
		o.onFailure5 = on_sub_fail5;
	} else {
		o.onSuccess = on_sub;
		o.onFailure = on_sub_fail;
	}
	LOCKED(c, (c->subscribed = 0, c->sub_reason = -1));
	int rc = MQTTAsync_subscribe(c->h, filter, qos, &o);
	CHECK_EQ(rc, MQTTASYNC_SUCCESS);
	if (rc != MQTTASYNC_SUCCESS)
		return -1;
	CHECK(wait_until(c, subscribe_done, 0, 5000));
	CHECK_EQ(c->subscribed, 1);
	return c->sub_reason;
}

/* Queues one QoS 1 publish; retries (bounded) while Paho's in-flight window is full. */
static bool publish_one(struct client *c, const char *topic, int seq)
{
	char payload[16];
	snprintf(payload, sizeof(payload), "seq=%03d", seq);
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 1;
	MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
	o.context = c;
	if (c->version == MQTTVERSION_5) {
		o.onSuccess5 = on_pub5;
		o.onFailure5 = on_pub_fail5;
	} else {
		o.onSuccess = on_pub;
		o.onFailure = on_pub_fail;
	}
	int64_t end = fixture_now_ms() + ARRIVE_MS;
	for (;;) {
		int rc = MQTTAsync_sendMessage(c->h, topic, &m, &o);
		if (rc == MQTTASYNC_SUCCESS)
			return true;
		if (rc != MQTTASYNC_MAX_MESSAGES_INFLIGHT || fixture_now_ms() >= end) {
			fprintf(stderr, "publish %d: rc %d (%s)\n", seq, rc,
			        MQTTAsync_strerror(rc));
			CHECK_EQ(rc, MQTTASYNC_SUCCESS);
			return false;
		}
		fixture_sleep_ms(2);
	}
}

/* ---- tests --------------------------------------------------------------------------------- */

/* 100 QoS 1 messages from one publisher arrive at the subscriber in publish order, each once,
 * at QoS 1, without DUP (MQTT 3.1.1 §4.6 / 5.0 §4.6 ordered topics); every PUBLISH of the
 * publisher is acknowledged (PUBACK reason 0 in MQTT 5). */
static void test_hundred_in_order(int version)
{
	struct client sub, pub;
	char sid[32], pid[32], topic[32];
	const char *v = version == MQTTVERSION_5 ? "5" : "311";
	snprintf(sid, sizeof(sid), "async-sub-v%s", v);
	snprintf(pid, sizeof(pid), "async-pub-v%s", v);
	snprintf(topic, sizeof(topic), "async/v%s/t", v);
	client_init(&sub, version);
	client_init(&pub, version);

	if (!client_create(&sub, sid) || !client_create(&pub, pid))
		goto out;
	if (!client_connect(&sub, 1, 0) || !client_connect(&pub, 1, 0))
		goto out;
	CHECK_EQ(client_subscribe(&sub, topic, 1), 1);

	int queued = 0;
	for (int i = 0; i < NMSG; i++)
		queued += publish_one(&pub, topic, i);
	CHECK_EQ(queued, NMSG);

	CHECK(wait_until(&pub, publishes_done, queued, ARRIVE_MS));
	CHECK(wait_until(&sub, received_at_least, NMSG, ARRIVE_MS));
	/* Nothing more may follow (no duplicates). */
	CHECK(!wait_until(&sub, received_at_least, NMSG + 1, QUIET_MS));

	pthread_mutex_lock(&sub.mu);
	CHECK_EQ(sub.received, NMSG);
	CHECK_EQ(sub.bad_msgs, 0);
	CHECK_EQ(sub.wrong_qos, 0);
	CHECK_EQ(sub.dups, 0);
	int out_of_order = 0;
	for (int i = 0; i < sub.received && i < NMSG; i++)
		if (sub.order[i] != i && out_of_order++ < 5)
			fprintf(stderr, "    v%s: message %d is seq %d\n", v, i, sub.order[i]);
	CHECK_EQ(out_of_order, 0);
	pthread_mutex_unlock(&sub.mu);

	pthread_mutex_lock(&pub.mu);
	CHECK_EQ(pub.pub_ok, NMSG);
	CHECK_EQ(pub.pub_failed, 0);
	CHECK_EQ(pub.pub_bad_reason, 0);
	pthread_mutex_unlock(&pub.mu);
	CHECK_EQ(sub.conn_lost, 0);
	CHECK_EQ(pub.conn_lost, 0);
	printf("v%s: %d sent, %d received\n", v, pub.pub_ok, sub.received);
out:
	client_destroy(&sub);
	client_destroy(&pub);
}

/* Session Present in CONNACK: 0 for a new session and with Clean Start / Clean Session 1, 1
 * when a stored session is resumed [MQTT-3.2.2-2, -3]. MQTT 5 keeps the session for its
 * Session Expiry Interval (60 s here); 3.1.1 keeps it only for Clean Session 0. */
static void test_session_present(int version)
{
	struct client c;
	bool v5 = version == MQTTVERSION_5;
	unsigned expiry = v5 ? 60 : 0;
	client_init(&c, version);
	if (!client_create(&c, v5 ? "async-sess-v5" : "async-sess-v311"))
		goto out;
	/* Clean start: no session before; MQTT 5 stores one from now on. */
	if (client_connect(&c, 1, expiry)) {
		CHECK_EQ(c.session_present, 0);
		CHECK_EQ(client_subscribe(&c, "async/sess", 1), 1);
		client_disconnect(&c);
	}
	if (!v5 && client_connect(&c, 0, 0)) {
		/* 3.1.1: Clean Session 1 left nothing behind; this one stores a session. */
		CHECK_EQ(c.session_present, 0);
		CHECK_EQ(client_subscribe(&c, "async/sess", 1), 1);
		client_disconnect(&c);
	}
	if (client_connect(&c, 0, expiry)) {
		CHECK_EQ(c.session_present, 1);
		client_disconnect(&c);
	}
	/* Clean Start discards it: Session Present 0. */
	if (client_connect(&c, 1, 0)) {
		CHECK_EQ(c.session_present, 0);
		client_disconnect(&c);
	}
out:
	client_destroy(&c);
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

	test_hundred_in_order(MQTTVERSION_3_1_1);
	test_hundred_in_order(MQTTVERSION_5);
	test_session_present(MQTTVERSION_3_1_1);
	test_session_present(MQTTVERSION_5);

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
