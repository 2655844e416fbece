/* test_paho_v5.c - MQTT 5 end to end with the Eclipse Paho synchronous client (MQTTClient,
 * MQTTVERSION_5): forwarded properties, message expiry, subscription identifiers, subscription
 * options, topic aliases, shared subscriptions, the client's limits (Receive Maximum, Maximum
 * Packet Size), the server's CONNACK properties, session expiry and reason codes.
 *
 * Usage: test_paho_v5 [BROKER_BINARY] (default $MQTT_FAST_BIN). Port 22020.
 *
 * Ordering trick: a client goes offline with DISCONNECT reason 0x04 (Disconnect with Will
 * Message) and a will on v5/fence/ID; when a watcher receives that will, the broker has
 * processed the DISCONNECT, so later publishes find the session offline (no sleeping). */
#include <MQTTClient.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"

#define PORT 22020

/* Broker settings this suite checks against. */
#define MAX_KEEPALIVE   10
#define MAX_TOPIC_ALIAS 10
#define MAX_INFLIGHT    20
#define BROKER_EXTRA                                                                               \
	"max_keepalive 10\n"                                                                       \
	"max_topic_alias 10\n"                                                                     \
	"max_inflight_messages 20\n"

#define ARRIVE_MS 5000
#define QUIET_MS  300

static const char *g_uri;

/* ---- Paho helpers ------------------------------------------------------------------------ */

/* What the published callback saw last (sync mode: it runs inside our own calls). */
static volatile int g_pub_done, g_pub_type, g_pub_reason;

static void on_published(void *ctx, int dt, int packet_type, MQTTProperties *props,
                         enum MQTTReasonCodes reason)
{
	(void)ctx;
	(void)dt;
	(void)props;
	g_pub_type = packet_type;
	g_pub_reason = (int)reason;
	g_pub_done = 1;
}

static MQTTClient client_new(const char *id)
{
	MQTTClient c = NULL;
	MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
	co.MQTTVersion = MQTTVERSION_5;
	int rc =
	        MQTTClient_createWithOptions(&c, g_uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	CHECK_EQ(rc, MQTTCLIENT_SUCCESS);
	if (rc != MQTTCLIENT_SUCCESS)
		return NULL;
	CHECK_EQ(MQTTClient_setPublished(c, NULL, on_published), MQTTCLIENT_SUCCESS);
	return c;
}

static void prop_int(MQTTProperties *ps, enum MQTTPropertyCodes id, unsigned v)
{
	MQTTProperty p = {.identifier = id};
	switch (MQTTProperty_getType(id)) {
	case MQTTPROPERTY_TYPE_BYTE:
		p.value.byte = (unsigned char)v;
		break;
	case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER:
		p.value.integer2 = (unsigned short)v;
		break;
	default:
		p.value.integer4 = v;
		break;
	}
	CHECK_EQ(MQTTProperties_add(ps, &p), 0);
}

/* String or binary data property (copied by Paho). */
static void prop_bytes(MQTTProperties *ps, enum MQTTPropertyCodes id, const void *data, int len)
{
	MQTTProperty p = {.identifier = id};
	p.value.data.data = (char *)data;
	p.value.data.len = len;
	CHECK_EQ(MQTTProperties_add(ps, &p), 0);
}

static void prop_user(MQTTProperties *ps, const char *k, const char *v)
{
	MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
	p.value.data.data = (char *)k;
	p.value.data.len = (int)strlen(k);
	p.value.value.data = (char *)v;
	p.value.value.len = (int)strlen(v);
	CHECK_EQ(MQTTProperties_add(ps, &p), 0);
}

/* CONNECT parameters; zero fields mean "not sent". */
struct copts {
	int clean;
	int keepalive; /* 0 = 30 */
	unsigned session_expiry;
	unsigned receive_max;
	unsigned max_packet;
	bool fence_will; /* will on v5/fence/ID, for go_offline() */
};

/* Connects; returns the reason code (0 on success, else the CONNACK reason or -1) and, when
 * non-NULL, the CONNACK properties (owned: MQTTProperties_free). */
static int connect5(MQTTClient c, const char *id, const struct copts *o, MQTTProperties *connack)
{
	MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer5;
	MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	char will_topic[128];

	co.cleanstart = o->clean;
	co.keepAliveInterval = o->keepalive ? o->keepalive : 30;
	co.connectTimeout = 5;
	if (o->session_expiry)
		prop_int(&props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, o->session_expiry);
	if (o->receive_max)
		prop_int(&props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM, o->receive_max);
	if (o->max_packet)
		prop_int(&props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE, o->max_packet);
	if (o->fence_will) {
		snprintf(will_topic, sizeof(will_topic), "v5/fence/%s", id);
		will.topicName = will_topic;
		will.message = "offline";
		will.qos = 1;
		co.will = &will;
	}
	MQTTResponse r = MQTTClient_connect5(c, &co, &props, NULL);
	int rc = r.reasonCode;
	if (rc == 0 && !MQTTClient_isConnected(c))
		rc = -1;
	if (connack)
		*connack = r.properties ? MQTTProperties_copy(r.properties)
		                        : (MQTTProperties)MQTTProperties_initializer;
	MQTTResponse_free(r);
	MQTTProperties_free(&props);
	return rc;
}

/* A connected client with a default clean session, or NULL (a failed check). */
static MQTTClient client_up(const char *id)
{
	MQTTClient c = client_new(id);
	if (!c)
		return NULL;
	struct copts o = {.clean = 1};
	int rc = connect5(c, id, &o, NULL);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		MQTTClient_destroy(&c);
	return c;
}

static void client_down(MQTTClient *c)
{
	if (!*c)
		return;
	if (MQTTClient_isConnected(*c))
		CHECK_EQ(MQTTClient_disconnect5(*c, 1000, MQTTREASONCODE_SUCCESS, NULL),
		         MQTTCLIENT_SUCCESS);
	MQTTClient_destroy(c);
}

/* Subscribes; returns the SUBACK reason code, or -1. sub_id 0 = none. */
static int subscribe5(MQTTClient c, const char *filter, int qos, const MQTTSubscribe_options *so,
                      unsigned sub_id)
{
	MQTTSubscribe_options def = MQTTSubscribe_options_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	if (sub_id)
		prop_int(&props, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER, sub_id);
	MQTTResponse r = MQTTClient_subscribe5(c, filter, qos,
	                                       (MQTTSubscribe_options *)(so ? so : &def), &props);
	int rc = (int)r.reasonCode;
	if (r.reasonCodeCount > 0 && r.reasonCodes)
		rc = (int)r.reasonCodes[0];
	MQTTResponse_free(r);
	MQTTProperties_free(&props);
	return rc;
}

/* Publishes and waits for the QoS flow; returns the reason code of the flow's last packet as
 * the published callback saw it (PUBACK for QoS 1, PUBCOMP for QoS 2; 0 for QoS 0), a Paho
 * error code (< 0) or -1. Borrows props (may be NULL). */
static int publish5(MQTTClient c, const char *topic, const void *payload, int len, int qos,
                    int retained, MQTTProperties *props)
{
	MQTTProperties none = MQTTProperties_initializer;
	MQTTClient_deliveryToken tok = 0;
	g_pub_done = 0;
	g_pub_reason = -1;
	MQTTResponse r = MQTTClient_publish5(c, topic, len, payload, qos, retained,
	                                     props ? props : &none, &tok);
	int rc = (int)r.reasonCode;
	MQTTResponse_free(r);
	if (rc < 0 || rc >= 0x80)
		return rc;
	if (qos == 0)
		return 0;
	if (MQTTClient_waitForCompletion(c, tok, ARRIVE_MS) != MQTTCLIENT_SUCCESS)
		return -1;
	/* Without callbacks set the client has no thread of its own and the published callback
	 * runs inside the wait above; the bounded loop only guards against a library that defers
	 * it to another thread. */
	for (int i = 0; i < 100 && !g_pub_done; i++)
		fixture_sleep_ms(10);
	return g_pub_done ? g_pub_reason : -1;
}

static void pub_str(MQTTClient c, const char *topic, const char *payload, int qos, int retained)
{
	int rc = publish5(c, topic, payload, (int)strlen(payload), qos, retained, NULL);
	CHECK(rc == 0 || rc == MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);
}

/* One received message; free with msg_free. */
struct rx {
	char *topic;
	MQTTClient_message *m;
};

static void msg_free(struct rx *r)
{
	if (r->m)
		MQTTClient_freeMessage(&r->m);
	if (r->topic)
		MQTTClient_free(r->topic);
	r->topic = NULL;
	r->m = NULL;
}

/* Waits up to timeout_ms for a message: 1 (r filled), 0 timeout, or a negative Paho code. */
static int receive(MQTTClient c, int timeout_ms, struct rx *r)
{
	int64_t end = fixture_now_ms() + timeout_ms;
	r->topic = NULL;
	r->m = NULL;
	for (;;) {
		int64_t left = end - fixture_now_ms();
		int tlen = 0;
		int rc = MQTTClient_receive(c, &r->topic, &tlen, &r->m,
		                            (unsigned long)(left > 0 ? left : 0));
		if (rc < 0 && rc != MQTTCLIENT_TOPICNAME_TRUNCATED)
			return rc;
		if (r->m)
			return 1;
		if (left <= 0)
			return 0;
	}
}

/* Receives the next message and checks its topic and payload; returns 1 when it matched, 0
 * otherwise. The message stays in *r for further checks (free with msg_free). */
#define EXPECT_RX(c, r, topic, payload) expect_rx_(c, r, topic, payload, __LINE__)

static int expect_rx_(MQTTClient c, struct rx *r, const char *topic, const char *payload, int line)
{
	unsigned before = check_state_.failed;
	int rc = receive(c, ARRIVE_MS, r);
	CHECK_EQ(rc, 1);
	if (rc == 1) {
		CHECK_MEM(r->topic, strlen(r->topic), topic, strlen(topic));
		CHECK_MEM(r->m->payload, r->m->payloadlen, payload, strlen(payload));
	}
	if (check_state_.failed != before) {
		fprintf(stderr, "    (line %d expected %s \"%s\"", line, topic, payload);
		if (rc == 1)
			fprintf(stderr, ", got %s \"%.*s\"", r->topic, r->m->payloadlen,
			        (const char *)r->m->payload);
		fprintf(stderr, ")\n");
		return 0;
	}
	return 1;
}

/* Checks that nothing arrives for QUIET_MS. */
#define EXPECT_NONE(c) expect_none_(c, __LINE__)

static void expect_none_(MQTTClient c, int line)
{
	struct rx r;
	int rc = receive(c, QUIET_MS, &r);
	CHECK_EQ(rc, 0);
	if (rc == 1)
		fprintf(stderr, "    line %d: unexpected message on %s: %.*s\n", line, r.topic,
		        r.m->payloadlen, (const char *)r.m->payload);
	msg_free(&r);
}

/* A watcher for go_offline(), subscribed to v5/fence/#; one per test (an idle client would
 * outlive the Server Keep Alive). */
static MQTTClient fence_up(void)
{
	MQTTClient f = client_up("v5-fence");
	if (f)
		CHECK_EQ(subscribe5(f, "v5/fence/#", 1, NULL, 0), 1);
	return f;
}

/* Takes `c` (connected with fence_will) offline and waits until the broker has processed its
 * DISCONNECT: the watcher `fence` receives its will. */
static void go_offline(MQTTClient c, const char *id, MQTTClient fence)
{
	char topic[128];
	struct rx r;
	snprintf(topic, sizeof(topic), "v5/fence/%s", id);
	CHECK_EQ(MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE, NULL),
	         MQTTCLIENT_SUCCESS);
	if (!fence || !EXPECT_RX(fence, &r, topic, "offline"))
		fprintf(stderr, "    go_offline(%s): the fence will did not arrive\n", id);
	msg_free(&r);
}

static MQTTProperty *prop_at(MQTTClient_message *m, enum MQTTPropertyCodes id, int i)
{
	return MQTTProperties_getPropertyAt(&m->properties, id, i);
}

static void check_lenstr(const MQTTLenString *s, const void *want, int wlen)
{
	CHECK_MEM(s->data, s->len, want, wlen);
}

/* ---- tests ------------------------------------------------------------------------------- */

/* User Properties keep order and content, duplicates included [MQTT-3.3.2-17, -18]; Response
 * Topic, Correlation Data, Content Type and Payload Format Indicator are forwarded unaltered
 * [MQTT-3.3.2-4, -20]. */
static void test_forwarded_properties(void)
{
	MQTTClient sub = client_up("v5-props-sub"), pub = client_up("v5-props-pub");
	struct rx r = {0};
	if (!sub || !pub)
		goto out;
	CHECK_EQ(subscribe5(sub, "v5/props/#", 1, NULL, 0), 1);

	static const char *const users[][2] = {
	        {"k1", "v1"}, {"k2", "v2"}, {"k1", "v3"}, {"", ""}, {"sp ace", "ü-utf8"}};
	const int nusers = (int)(sizeof(users) / sizeof(users[0]));
	MQTTProperties ps = MQTTProperties_initializer;
	for (int i = 0; i < nusers; i++)
		prop_user(&ps, users[i][0], users[i][1]);
	CHECK_EQ(publish5(pub, "v5/props/user", "u", 1, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	if (EXPECT_RX(sub, &r, "v5/props/user", "u")) {
		CHECK_EQ(MQTTProperties_propertyCount(&r.m->properties,
		                                      MQTTPROPERTY_CODE_USER_PROPERTY),
		         nusers);
		for (int i = 0; i < nusers; i++) {
			MQTTProperty *p = prop_at(r.m, MQTTPROPERTY_CODE_USER_PROPERTY, i);
			CHECK(p != NULL);
			if (!p)
				continue;
			check_lenstr(&p->value.data, users[i][0], (int)strlen(users[i][0]));
			check_lenstr(&p->value.value, users[i][1], (int)strlen(users[i][1]));
		}
	}
	msg_free(&r);

	static const uint8_t corr[] = {0x00, 0x01, 0xfe, 0xff, 0x00};
	const char *json = "{\"a\":1}";
	prop_bytes(&ps, MQTTPROPERTY_CODE_RESPONSE_TOPIC, "v5/props/reply", 14);
	prop_bytes(&ps, MQTTPROPERTY_CODE_CORRELATION_DATA, corr, (int)sizeof(corr));
	prop_bytes(&ps, MQTTPROPERTY_CODE_CONTENT_TYPE, "application/json", 16);
	prop_int(&ps, MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR, 1);
	CHECK_EQ(publish5(pub, "v5/props/req", json, (int)strlen(json), 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	if (EXPECT_RX(sub, &r, "v5/props/req", json)) {
		MQTTProperty *p = prop_at(r.m, MQTTPROPERTY_CODE_RESPONSE_TOPIC, 0);
		CHECK(p != NULL);
		if (p)
			check_lenstr(&p->value.data, "v5/props/reply", 14);
		p = prop_at(r.m, MQTTPROPERTY_CODE_CORRELATION_DATA, 0);
		CHECK(p != NULL);
		if (p)
			check_lenstr(&p->value.data, corr, (int)sizeof(corr));
		p = prop_at(r.m, MQTTPROPERTY_CODE_CONTENT_TYPE, 0);
		CHECK(p != NULL);
		if (p)
			check_lenstr(&p->value.data, "application/json", 16);
		CHECK_EQ(MQTTProperties_getNumericValue(&r.m->properties,
		                                        MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR),
		         1);
		CHECK_EQ(MQTTProperties_propertyCount(&r.m->properties,
		                                      MQTTPROPERTY_CODE_USER_PROPERTY),
		         0);
	}
	msg_free(&r);

	/* Message Expiry Interval on a live delivery: the remaining interval [MQTT-3.3.2-6]. */
	prop_int(&ps, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 60);
	CHECK_EQ(publish5(pub, "v5/props/exp", "e", 1, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	if (EXPECT_RX(sub, &r, "v5/props/exp", "e")) {
		int left = MQTTProperties_getNumericValue(
		        &r.m->properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL);
		CHECK(left >= 55 && left <= 60);
	}
	msg_free(&r);

	/* A retained message keeps its User Properties for a later subscriber. */
	prop_user(&ps, "origin", "retained");
	CHECK_EQ(publish5(pub, "v5/propsret/t", "r", 1, 1, 1, &ps),
	         MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);
	MQTTProperties_free(&ps);
	CHECK_EQ(subscribe5(sub, "v5/propsret/t", 1, NULL, 0), 1);
	if (EXPECT_RX(sub, &r, "v5/propsret/t", "r")) {
		MQTTProperty *p = prop_at(r.m, MQTTPROPERTY_CODE_USER_PROPERTY, 0);
		CHECK(p != NULL);
		if (p) {
			check_lenstr(&p->value.data, "origin", 6);
			check_lenstr(&p->value.value, "retained", 8);
		}
	}
	msg_free(&r);
	CHECK_EQ(publish5(pub, "v5/propsret/t", "", 0, 1, 1, NULL), 0);
	EXPECT_RX(sub, &r, "v5/propsret/t", ""); /* the clearing publish, live */
	msg_free(&r);

	/* A message without properties arrives without any (nothing left over). */
	CHECK_EQ(publish5(pub, "v5/props/none", "n", 1, 1, 0, NULL), 0);
	if (EXPECT_RX(sub, &r, "v5/props/none", "n"))
		CHECK_EQ(r.m->properties.count, 0);
	msg_free(&r);
out:
	client_down(&sub);
	client_down(&pub);
}

/* Message Expiry Interval: an expired message is not delivered to an offline session
 * [MQTT-3.3.2-5]; a live one carries the remaining interval [MQTT-3.3.2-6]. Also Session
 * Expiry Interval 1 s: after the same wait the session and its subscription are gone
 * [MQTT-3.1.2-23], observed as PUBACK 0x10 for its topic. */
static void test_expiry(void)
{
	MQTTClient fence = fence_up();
	MQTTClient c = client_new("v5-exp"), brief = client_new("v5-exp-brief");
	MQTTClient pub = client_up("v5-exp-pub");
	struct copts o = {.clean = 1, .session_expiry = 300, .fence_will = true};
	struct copts ob = {.clean = 1, .session_expiry = 1, .fence_will = true};
	struct rx r = {0};
	if (!c || !brief || !pub)
		goto out;
	CHECK_EQ(connect5(c, "v5-exp", &o, NULL), 0);
	CHECK_EQ(subscribe5(c, "v5/exp/t", 1, NULL, 0), 1);
	go_offline(c, "v5-exp", fence);
	CHECK_EQ(connect5(brief, "v5-exp-brief", &ob, NULL), 0);
	CHECK_EQ(subscribe5(brief, "v5/exp/brief", 1, NULL, 0), 1);
	go_offline(brief, "v5-exp-brief", fence);
	/* The brief session is still there right after going offline. */
	CHECK_EQ(publish5(pub, "v5/exp/brief", "kept", 4, 1, 0, NULL), 0);

	MQTTProperties ps = MQTTProperties_initializer;
	prop_int(&ps, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 1);
	CHECK_EQ(publish5(pub, "v5/exp/t", "short", 5, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	prop_int(&ps, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 60);
	CHECK_EQ(publish5(pub, "v5/exp/t", "long", 4, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	/* Retained messages expire too: a later subscriber gets only the unexpired one. */
	prop_int(&ps, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 1);
	CHECK(publish5(pub, "v5/expret/short", "r-short", 7, 1, 1, &ps) >= 0);
	MQTTProperties_free(&ps);
	prop_int(&ps, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 60);
	CHECK(publish5(pub, "v5/expret/long", "r-long", 6, 1, 1, &ps) >= 0);
	MQTTProperties_free(&ps);
	int64_t published = fixture_now_ms();
	fixture_sleep_ms(2500);

	CHECK_EQ(subscribe5(pub, "v5/expret/+", 1, NULL, 0), 1);
	if (EXPECT_RX(pub, &r, "v5/expret/long", "r-long")) {
		CHECK_EQ(r.m->retained, 1);
		int left = MQTTProperties_getNumericValue(
		        &r.m->properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL);
		CHECK(left >= 50 && left <= 58);
	}
	msg_free(&r);
	EXPECT_NONE(pub); /* r-short expired [MQTT-3.3.2-5] */
	CHECK(publish5(pub, "v5/expret/long", "", 0, 1, 1, NULL) >= 0);
	CHECK(publish5(pub, "v5/expret/short", "", 0, 1, 1, NULL) >= 0);
	EXPECT_RX(pub, &r, "v5/expret/long", ""); /* the clearing publishes, live */
	msg_free(&r);
	EXPECT_RX(pub, &r, "v5/expret/short", "");
	msg_free(&r);

	/* Session expired (1 s): nobody subscribes to its topic any more. */
	CHECK_EQ(publish5(pub, "v5/exp/brief", "gone", 4, 1, 0, NULL),
	         MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);

	o.clean = 0;
	o.fence_will = false;
	CHECK_EQ(connect5(c, "v5-exp", &o, NULL), 0);
	if (EXPECT_RX(c, &r, "v5/exp/t", "long")) {
		CHECK(MQTTProperties_hasProperty(&r.m->properties,
		                                 MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL));
		int left = MQTTProperties_getNumericValue(
		        &r.m->properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL);
		int waited = (int)((fixture_now_ms() - published + 999) / 1000);
		/* At least 2.5 s went by: at most 58 left (rounded up); at least 60 - waited. */
		CHECK(left <= 58);
		CHECK(left >= 60 - waited - 1);
		if (left > 58 || left < 60 - waited - 1)
			fprintf(stderr, "    remaining expiry %d after %d s\n", left, waited);
	}
	msg_free(&r);
	EXPECT_NONE(c); /* "short" expired */
	/* End the session: reconnect with clean start and no expiry. */
	CHECK_EQ(MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL), MQTTCLIENT_SUCCESS);
	struct copts z = {.clean = 1};
	CHECK_EQ(connect5(c, "v5-exp", &z, NULL), 0);
out:
	client_down(&c);
	client_down(&brief);
	client_down(&pub);
	client_down(&fence);
}

/* Session Expiry Interval 60: reconnecting within it resumes the session with its
 * subscription and queued messages [MQTT-3.1.2-23]. A CONNECT without the property sets the
 * interval to 0: the session ends with that connection, observed as PUBACK 0x10 for its topic.
 * (Paho 1.3.12's MQTTClient does not report Session Present for MQTT 5, so that flag is
 * checked in test_paho_async.) */
static void test_session_resume(void)
{
	MQTTClient fence = fence_up();
	MQTTClient c = client_new("v5-sess"), pub = client_up("v5-sess-pub");
	struct copts o = {.clean = 1, .session_expiry = 60, .fence_will = true};
	struct rx r = {0};
	if (!c || !pub)
		goto out;
	CHECK_EQ(connect5(c, "v5-sess", &o, NULL), 0);
	CHECK_EQ(subscribe5(c, "v5/sess/t", 1, NULL, 0), 1);
	go_offline(c, "v5-sess", fence);
	CHECK_EQ(publish5(pub, "v5/sess/t", "while-away", 10, 1, 0, NULL), 0);

	o.clean = 0;
	CHECK_EQ(connect5(c, "v5-sess", &o, NULL), 0);
	EXPECT_RX(c, &r, "v5/sess/t", "while-away");
	msg_free(&r);
	EXPECT_NONE(c);
	go_offline(c, "v5-sess", fence);

	/* Resumed again without a Session Expiry Interval: the session ends at disconnect. */
	struct copts z = {.clean = 0, .fence_will = true};
	CHECK_EQ(connect5(c, "v5-sess", &z, NULL), 0);
	CHECK_EQ(publish5(pub, "v5/sess/t", "live", 4, 1, 0, NULL), 0);
	EXPECT_RX(c, &r, "v5/sess/t", "live");
	msg_free(&r);
	go_offline(c, "v5-sess", fence);
	CHECK_EQ(publish5(pub, "v5/sess/t", "nobody", 6, 1, 0, NULL),
	         MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);
out:
	client_down(&c);
	client_down(&pub);
	client_down(&fence);
}

/* Two overlapping subscriptions with identifiers 1 and 2: ONE message carrying both
 * [MQTT-3.3.4-2, -3, -4]. */
static void test_subscription_ids(void)
{
	MQTTClient sub = client_up("v5-sid-sub"), pub = client_up("v5-sid-pub");
	struct rx r = {0};
	if (!sub || !pub)
		goto out;
	CHECK_EQ(subscribe5(sub, "v5/sid/+", 0, NULL, 1), 0);
	CHECK_EQ(subscribe5(sub, "v5/sid/#", 1, NULL, 2), 1);
	CHECK_EQ(subscribe5(sub, "v5/sidless/#", 1, NULL, 0), 1);

	pub_str(pub, "v5/sid/x", "both", 1, 0);
	if (EXPECT_RX(sub, &r, "v5/sid/x", "both")) {
		MQTTProperties *p = &r.m->properties;
		CHECK_EQ(r.m->qos, 1); /* the higher of the two granted QoS [MQTT-3.3.4-2] */
		int n = MQTTProperties_propertyCount(p, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER);
		CHECK_EQ(n, 2);
		if (n == 2) {
			int a = MQTTProperties_getNumericValueAt(
			        p, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER, 0);
			int b = MQTTProperties_getNumericValueAt(
			        p, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER, 1);
			CHECK((a == 1 && b == 2) || (a == 2 && b == 1));
		}
	}
	msg_free(&r);
	pub_str(pub, "v5/sid/x/y", "hash-only", 1, 0);
	if (EXPECT_RX(sub, &r, "v5/sid/x/y", "hash-only")) {
		MQTTProperties *p = &r.m->properties;
		CHECK_EQ(MQTTProperties_propertyCount(p, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		         1);
		CHECK_EQ(MQTTProperties_getNumericValue(p,
		                                        MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		         2);
	}
	msg_free(&r);
	pub_str(pub, "v5/sidless/z", "no-id", 1, 0);
	if (EXPECT_RX(sub, &r, "v5/sidless/z", "no-id"))
		CHECK_EQ(MQTTProperties_propertyCount(&r.m->properties,
		                                      MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		         0);
	msg_free(&r);
	EXPECT_NONE(sub); /* one copy of "both", not two */

	/* A retained message sent because of a SUBSCRIBE carries that subscription's id. */
	pub_str(pub, "v5/sidret/t", "ret", 1, 1);
	CHECK_EQ(subscribe5(sub, "v5/sidret/t", 1, NULL, 7), 1);
	if (EXPECT_RX(sub, &r, "v5/sidret/t", "ret")) {
		CHECK_EQ(r.m->retained, 1);
		CHECK_EQ(MQTTProperties_propertyCount(&r.m->properties,
		                                      MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		         1);
		CHECK_EQ(MQTTProperties_getNumericValue(&r.m->properties,
		                                        MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		         7);
	}
	msg_free(&r);
	CHECK(publish5(pub, "v5/sidret/t", "", 0, 1, 1, NULL) >= 0);
out:
	client_down(&sub);
	client_down(&pub);
}

/* No Local: a client's own publications are not sent back to it [MQTT-3.8.3-3]. */
static void test_no_local(void)
{
	MQTTClient a = client_up("v5-nl-a"), b = client_up("v5-nl-b");
	MQTTSubscribe_options nl = MQTTSubscribe_options_initializer;
	struct rx r = {0};
	nl.noLocal = 1;
	if (!a || !b)
		goto out;
	CHECK_EQ(subscribe5(a, "v5/nl/t", 1, &nl, 0), 1);
	CHECK_EQ(subscribe5(b, "v5/nl/t", 1, NULL, 0), 1);
	pub_str(a, "v5/nl/t", "from-a", 1, 0);
	pub_str(b, "v5/nl/t", "from-b", 1, 0);
	/* a gets only b's message; b (no No Local) gets both. */
	EXPECT_RX(a, &r, "v5/nl/t", "from-b");
	msg_free(&r);
	EXPECT_RX(b, &r, "v5/nl/t", "from-a");
	msg_free(&r);
	EXPECT_RX(b, &r, "v5/nl/t", "from-b");
	msg_free(&r);
	EXPECT_NONE(a);
out:
	client_down(&a);
	client_down(&b);
}

/* Receives the next message and checks topic, payload and RETAIN. */
static void expect_retain(MQTTClient c, const char *topic, const char *payload, int retained,
                          int line)
{
	struct rx r = {0};
	if (expect_rx_(c, &r, topic, payload, line)) {
		CHECK_EQ(r.m->retained, retained);
		if (r.m->retained != retained)
			fprintf(stderr, "    (RETAIN of the message at line %d)\n", line);
	}
	msg_free(&r);
}

/* Retain Handling 0/1/2 [MQTT-3.3.1-9, -10, -11] and Retain As Published [MQTT-3.3.1-12, -13].
 * Each negative check is fenced by a marker message that must come next. */
static void test_retain_options(void)
{
	MQTTClient pub = client_up("v5-rh-pub"), c = client_up("v5-rh-c");
	MQTTSubscribe_options so = MQTTSubscribe_options_initializer;
	if (!pub || !c)
		goto out;
	pub_str(pub, "v5/rh/t", "kept", 1, 1);
	CHECK_EQ(subscribe5(c, "v5/rh/marker", 1, NULL, 0), 1);

	/* 0: on every SUBSCRIBE, new or not. */
	so.retainHandling = 0;
	CHECK_EQ(subscribe5(c, "v5/rh/t", 1, &so, 0), 1);
	expect_retain(c, "v5/rh/t", "kept", 1, __LINE__);
	CHECK_EQ(subscribe5(c, "v5/rh/t", 1, &so, 0), 1);
	expect_retain(c, "v5/rh/t", "kept", 1, __LINE__);

	/* 1: only when the subscription is new. */
	so.retainHandling = 1;
	CHECK_EQ(subscribe5(c, "v5/rh/+", 1, &so, 0), 1);
	expect_retain(c, "v5/rh/t", "kept", 1, __LINE__);
	CHECK_EQ(subscribe5(c, "v5/rh/+", 1, &so, 0), 1);
	pub_str(pub, "v5/rh/marker", "m1", 1, 0);
	/* The marker matches v5/rh/+ and v5/rh/marker: one copy [MQTT-3.3.4-2]. */
	expect_retain(c, "v5/rh/marker", "m1", 0, __LINE__);

	/* 2: never. */
	so.retainHandling = 2;
	CHECK_EQ(subscribe5(c, "v5/rh/#", 1, &so, 0), 1);
	pub_str(pub, "v5/rh/marker", "m2", 1, 0);
	expect_retain(c, "v5/rh/marker", "m2", 0, __LINE__);
	EXPECT_NONE(c);
	client_down(&c);

	/* Retain As Published: live deliveries keep RETAIN 1 only with the option. */
	MQTTClient rap = client_up("v5-rap-1"), norap = client_up("v5-rap-0");
	if (rap && norap) {
		so.retainHandling = 2;
		so.retainAsPublished = 1;
		CHECK_EQ(subscribe5(rap, "v5/rap/t", 1, &so, 0), 1);
		so.retainAsPublished = 0;
		CHECK_EQ(subscribe5(norap, "v5/rap/t", 1, &so, 0), 1);
		pub_str(pub, "v5/rap/t", "flagged", 1, 1);
		pub_str(pub, "v5/rap/t", "plain", 1, 0);
		expect_retain(rap, "v5/rap/t", "flagged", 1, __LINE__);
		expect_retain(rap, "v5/rap/t", "plain", 0, __LINE__);
		expect_retain(norap, "v5/rap/t", "flagged", 0, __LINE__);
		expect_retain(norap, "v5/rap/t", "plain", 0, __LINE__);
	}
	client_down(&rap);
	client_down(&norap);
out:
	if (pub) {
		CHECK(publish5(pub, "v5/rh/t", "", 0, 1, 1, NULL) >= 0);
		CHECK(publish5(pub, "v5/rap/t", "", 0, 1, 1, NULL) >= 0);
	}
	client_down(&c);
	client_down(&pub);
}

/* Topic Alias from client to server: alias + topic sets it, alias alone uses it; subscribers
 * get the full topic and no alias (they allowed none [MQTT-3.1.2-27]) [MQTT-3.3.2-12].
 * Aliases from server to client: test_paho_v5_alias.c. */
static void test_topic_alias(void)
{
	MQTTClient sub = client_up("v5-alias-sub"), pub = client_new("v5-alias-pub");
	MQTTProperties connack = MQTTProperties_initializer, ps = MQTTProperties_initializer;
	struct copts o = {.clean = 1};
	struct rx r = {0};
	if (!sub || !pub)
		goto out;
	CHECK_EQ(connect5(pub, "v5-alias-pub", &o, &connack), 0);
	CHECK_EQ(MQTTProperties_getNumericValue(&connack, MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM),
	         MAX_TOPIC_ALIAS);
	CHECK_EQ(subscribe5(sub, "v5/alias/#", 1, NULL, 0), 1);

	prop_int(&ps, MQTTPROPERTY_CODE_TOPIC_ALIAS, 1);
	CHECK_EQ(publish5(pub, "v5/alias/t", "set", 3, 1, 0, &ps), 0);
	CHECK_EQ(publish5(pub, "", "use", 3, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	prop_int(&ps, MQTTPROPERTY_CODE_TOPIC_ALIAS, MAX_TOPIC_ALIAS);
	CHECK_EQ(publish5(pub, "v5/alias/u", "set-max", 7, 0, 0, &ps), 0);
	CHECK_EQ(publish5(pub, "", "use-max", 7, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);
	prop_int(&ps, MQTTPROPERTY_CODE_TOPIC_ALIAS, 1);
	CHECK_EQ(publish5(pub, "v5/alias/v", "reset", 5, 1, 0, &ps), 0);
	CHECK_EQ(publish5(pub, "", "use-reset", 9, 1, 0, &ps), 0);
	MQTTProperties_free(&ps);

	static const char *const want[][2] = {
	        {"v5/alias/t", "set"},     {"v5/alias/t", "use"},   {"v5/alias/u", "set-max"},
	        {"v5/alias/u", "use-max"}, {"v5/alias/v", "reset"}, {"v5/alias/v", "use-reset"}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (EXPECT_RX(sub, &r, want[i][0], want[i][1]))
			CHECK(!MQTTProperties_hasProperty(&r.m->properties,
			                                  MQTTPROPERTY_CODE_TOPIC_ALIAS));
		msg_free(&r);
	}
	EXPECT_NONE(sub);
	CHECK(MQTTClient_isConnected(pub));
out:
	MQTTProperties_free(&connack);
	client_down(&sub);
	client_down(&pub);
}

/* $share/g/t with two members: each message goes to exactly one of them (5.0 §4.8.2); a
 * plain subscriber to t still gets every message. */
static void test_shared(void)
{
	enum { N = 20 };
	MQTTClient s1 = client_up("v5-share-1"), s2 = client_up("v5-share-2");
	MQTTClient plain = client_up("v5-share-plain"), pub = client_up("v5-share-pub");
	int seen[N] = {0}, per[2] = {0, 0}, total = 0;
	char payload[16];
	struct rx r = {0};
	if (!s1 || !s2 || !plain || !pub)
		goto out;
	CHECK_EQ(subscribe5(s1, "$share/g/v5/shared/t", 1, NULL, 0), 1);
	CHECK_EQ(subscribe5(s2, "$share/g/v5/shared/t", 1, NULL, 0), 1);
	CHECK_EQ(subscribe5(plain, "v5/shared/t", 1, NULL, 0), 1);
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "s%02d", i);
		pub_str(pub, "v5/shared/t", payload, 1, 0);
	}
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "s%02d", i);
		EXPECT_RX(plain, &r, "v5/shared/t", payload);
		msg_free(&r);
	}
	/* Drain both members until N arrived in total or nothing comes for ARRIVE_MS. */
	int64_t end = fixture_now_ms() + ARRIVE_MS;
	while (total < N && fixture_now_ms() < end) {
		MQTTClient m[2] = {s1, s2};
		for (int k = 0; k < 2; k++) {
			if (receive(m[k], 50, &r) != 1)
				continue;
			int idx = -1;
			if (r.m->payloadlen == 3 && ((char *)r.m->payload)[0] == 's')
				idx = atoi((char *)r.m->payload + 1);
			CHECK(idx >= 0 && idx < N);
			if (idx >= 0 && idx < N)
				seen[idx]++;
			per[k]++;
			total++;
			msg_free(&r);
		}
	}
	CHECK_EQ(total, N);
	for (int i = 0; i < N; i++)
		if (seen[i] != 1) {
			fprintf(stderr, "    shared message s%02d delivered %d times\n", i,
			        seen[i]);
			CHECK_EQ(seen[i], 1);
		}
	EXPECT_NONE(s1);
	EXPECT_NONE(s2);
	printf("shared: member 1 got %d, member 2 got %d\n", per[0], per[1]);
out:
	client_down(&s1);
	client_down(&s2);
	client_down(&plain);
	client_down(&pub);
}

/* Receive Maximum 2 with 10 QoS 1 messages queued: all arrive, in order [MQTT-3.3.4-9]. */
static void test_receive_maximum(void)
{
	MQTTClient fence = fence_up();
	enum { N = 10 };
	MQTTClient c = client_new("v5-rmax"), pub = client_up("v5-rmax-pub");
	struct copts o = {.clean = 1, .session_expiry = 60, .receive_max = 2, .fence_will = true};
	char payload[16];
	struct rx r = {0};
	if (!c || !pub)
		goto out;
	CHECK_EQ(connect5(c, "v5-rmax", &o, NULL), 0);
	CHECK_EQ(subscribe5(c, "v5/rmax/t", 1, NULL, 0), 1);
	go_offline(c, "v5-rmax", fence);
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "q%02d", i);
		pub_str(pub, "v5/rmax/t", payload, 1, 0);
	}
	o.clean = 0;
	CHECK_EQ(connect5(c, "v5-rmax", &o, NULL), 0);
	for (int i = 0; i < N; i++) {
		snprintf(payload, sizeof(payload), "q%02d", i);
		if (EXPECT_RX(c, &r, "v5/rmax/t", payload))
			CHECK_EQ(r.m->qos, 1);
		msg_free(&r);
	}
	EXPECT_NONE(c);
	CHECK_EQ(MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL), MQTTCLIENT_SUCCESS);
	o.clean = 1;
	o.session_expiry = 0;
	o.fence_will = false;
	CHECK_EQ(connect5(c, "v5-rmax", &o, NULL), 0);
out:
	client_down(&c);
	client_down(&pub);
	client_down(&fence);
}

/* CONNACK properties: Server Keep Alive replaces a larger client keep alive (max_keepalive),
 * Receive Maximum and Topic Alias Maximum from the config (5.0 §3.2.2.3). Assigned Client
 * Identifier for an empty client id [MQTT-3.2.2-16]. */
static void test_connack_properties(void)
{
	MQTTClient c = client_new("v5-ka");
	MQTTProperties ack = MQTTProperties_initializer;
	struct copts o = {.clean = 1, .keepalive = 60};
	if (c) {
		CHECK_EQ(connect5(c, "v5-ka", &o, &ack), 0);
		CHECK(MQTTProperties_hasProperty(&ack, MQTTPROPERTY_CODE_SERVER_KEEP_ALIVE));
		CHECK_EQ(MQTTProperties_getNumericValue(&ack, MQTTPROPERTY_CODE_SERVER_KEEP_ALIVE),
		         MAX_KEEPALIVE);
		CHECK_EQ(MQTTProperties_getNumericValue(&ack, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM),
		         MAX_INFLIGHT);
		CHECK(!MQTTProperties_hasProperty(&ack,
		                                  MQTTPROPERTY_CODE_ASSIGNED_CLIENT_IDENTIFER));
		MQTTProperties_free(&ack);
		client_down(&c);
	}

	char first[128] = "";
	for (int k = 0; k < 2; k++) {
		c = client_new("");
		if (!c)
			break;
		o.keepalive = 5;
		CHECK_EQ(connect5(c, "anon", &o, &ack), 0);
		MQTTProperty *p = MQTTProperties_getProperty(
		        &ack, MQTTPROPERTY_CODE_ASSIGNED_CLIENT_IDENTIFER);
		CHECK(p != NULL);
		if (p) {
			CHECK(p->value.data.len > 0 && p->value.data.len < (int)sizeof(first));
			if (k == 0 && p->value.data.len < (int)sizeof(first))
				snprintf(first, sizeof(first), "%.*s", p->value.data.len,
				         p->value.data.data);
			else /* two clients never share an assigned id */
				CHECK(p->value.data.len != (int)strlen(first) ||
				      memcmp(p->value.data.data, first, strlen(first)) != 0);
		}
		MQTTProperties_free(&ack);
		client_down(&c);
	}
}

/* Maximum Packet Size 100: a 500-byte message is not sent to the client [MQTT-3.1.2-24], the
 * client stays connected and still gets small ones. */
static void test_max_packet_size(void)
{
	MQTTClient c = client_new("v5-mps"), pub = client_up("v5-mps-pub");
	struct copts o = {.clean = 1, .max_packet = 100};
	char big[500];
	struct rx r = {0};
	memset(big, 'B', sizeof(big));
	if (!c || !pub)
		goto out;
	CHECK_EQ(connect5(c, "v5-mps", &o, NULL), 0);
	CHECK_EQ(subscribe5(c, "v5/mps/#", 1, NULL, 0), 1);
	CHECK_EQ(publish5(pub, "v5/mps/big", big, (int)sizeof(big), 1, 0, NULL), 0);
	CHECK_EQ(publish5(pub, "v5/mps/big0", big, (int)sizeof(big), 0, 0, NULL), 0);
	pub_str(pub, "v5/mps/small", "small", 1, 0);
	EXPECT_RX(c, &r, "v5/mps/small", "small");
	msg_free(&r);
	EXPECT_NONE(c);
	CHECK(MQTTClient_isConnected(c));
	/* Just under the limit still arrives: 2 + 2 + 8 ("v5/mps/x") + 2 + 1 + payload <= 100. */
	char fit[85];
	memset(fit, 'f', sizeof(fit) - 1);
	fit[sizeof(fit) - 1] = '\0';
	pub_str(pub, "v5/mps/x", fit, 1, 0);
	EXPECT_RX(c, &r, "v5/mps/x", fit);
	msg_free(&r);
out:
	client_down(&c);
	client_down(&pub);
}

/* Reason codes: SUBACK 0x8F for an invalid filter, next to a granted one (5.0 §3.9.3);
 * PUBACK 0x10 when nobody subscribed (5.0 §3.4.2.1). */
static void test_reason_codes(void)
{
	MQTTClient c = client_up("v5-rc");
	if (!c)
		return;
	CHECK_EQ(subscribe5(c, "a/#/b", 1, NULL, 0), MQTTREASONCODE_TOPIC_FILTER_INVALID);
	CHECK(MQTTClient_isConnected(c));

	char *const filters[] = {"v5/rc/ok", "a/b#", "v5/rc/ok2"};
	int qos[] = {2, 1, 0};
	MQTTSubscribe_options opts[3] = {MQTTSubscribe_options_initializer,
	                                 MQTTSubscribe_options_initializer,
	                                 MQTTSubscribe_options_initializer};
	MQTTResponse r = MQTTClient_subscribeMany5(c, 3, filters, qos, opts, NULL);
	CHECK_EQ(r.reasonCodeCount, 3);
	if (r.reasonCodeCount == 3 && r.reasonCodes) {
		CHECK_EQ(r.reasonCodes[0], 2);
		CHECK_EQ(r.reasonCodes[1], MQTTREASONCODE_TOPIC_FILTER_INVALID);
		CHECK_EQ(r.reasonCodes[2], 0);
	}
	MQTTResponse_free(r);

	/* UNSUBACK: 0x00 for an existing subscription, 0x11 for none (5.0 §3.11.3). */
	MQTTResponse u = MQTTClient_unsubscribe5(c, "v5/rc/ok2", NULL);
	CHECK_EQ(u.reasonCode, MQTTREASONCODE_SUCCESS);
	MQTTResponse_free(u);
	u = MQTTClient_unsubscribe5(c, "v5/rc/never", NULL);
	CHECK_EQ(u.reasonCode, MQTTREASONCODE_NO_SUBSCRIPTION_FOUND);
	MQTTResponse_free(u);

	CHECK_EQ(publish5(c, "v5/rc/nobody/here", "x", 1, 1, 0, NULL),
	         MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);
	CHECK_EQ(g_pub_type, 4 /* PUBACK */);
	/* With a subscriber (itself): 0x00. */
	CHECK_EQ(publish5(c, "v5/rc/ok", "y", 1, 1, 0, NULL), 0);
	client_down(&c);
}

/* max_keepalive with MQTT 3.1.1, which cannot be told a Server Keep Alive: mqtt-fast.conf
 * documents "MQTT 3.1.1 clients are disconnected" when they ask for more (mosquitto refuses
 * the CONNECT with 0x02 Identifier Rejected). A keep alive within the limit is accepted. */
static void test_v311_keepalive_limit(void)
{
	MQTTClient c = NULL;
	MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.connectTimeout = 5;
	if (MQTTClient_create(&c, g_uri, "v311-ka", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	    MQTTCLIENT_SUCCESS) {
		CHECK(0);
		return;
	}
	o.keepAliveInterval = MAX_KEEPALIVE;
	CHECK_EQ(MQTTClient_connect(c, &o), MQTTCLIENT_SUCCESS);
	if (MQTTClient_isConnected(c))
		MQTTClient_disconnect(c, 1000);
	o.keepAliveInterval = 60;
	int rc = MQTTClient_connect(c, &o);
	CHECK(rc != MQTTCLIENT_SUCCESS);
	if (rc == MQTTCLIENT_SUCCESS) {
		fprintf(stderr,
		        "    3.1.1 CONNECT with keep alive 60 > max_keepalive %d was accepted\n",
		        MAX_KEEPALIVE);
		MQTTClient_disconnect(c, 1000);
	}
	MQTTClient_destroy(&c);
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	struct broker_fixture f;
	if (!bin)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&f, bin, PORT, BROKER_EXTRA) < 0)
		return 1;
	g_uri = f.uri;

	test_forwarded_properties();
	test_subscription_ids();
	test_no_local();
	test_retain_options();
	test_topic_alias();
	test_shared();
	test_receive_maximum();
	test_connack_properties();
	test_v311_keepalive_limit();
	test_max_packet_size();
	test_reason_codes();
	test_session_resume();
	test_expiry();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
