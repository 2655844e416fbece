/* paho_v5.h - helpers shared by the MQTT 5 Paho suites (test_paho_v5.c,
 * test_paho_v5_session.c): the broker settings they check against, client set-up with
 * CONNECT options, subscribe / publish with their reason codes, and message expectations.
 * Each suite sets g_uri from its own broker fixture before calling them. */
#ifndef MQTT_FAST_PAHO_V5_H
#define MQTT_FAST_PAHO_V5_H

#include <MQTTClient.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

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

static inline void on_published(void *ctx, int dt, int packet_type, MQTTProperties *props,
                                enum MQTTReasonCodes reason)
{
	(void)ctx;
	(void)dt;
	(void)props;
	g_pub_type = packet_type;
	g_pub_reason = (int)reason;
	g_pub_done = 1;
}

static inline MQTTClient client_new(const char *id)
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

static inline void prop_int(MQTTProperties *ps, enum MQTTPropertyCodes id, unsigned v)
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
static inline int connect5(MQTTClient c, const char *id, const struct copts *o,
                           MQTTProperties *connack)
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
static inline MQTTClient client_up(const char *id)
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

static inline void client_down(MQTTClient *c)
{
	if (!*c)
		return;
	if (MQTTClient_isConnected(*c))
		CHECK_EQ(MQTTClient_disconnect5(*c, 1000, MQTTREASONCODE_SUCCESS, NULL),
		         MQTTCLIENT_SUCCESS);
	MQTTClient_destroy(c);
}

/* Subscribes; returns the SUBACK reason code, or -1. sub_id 0 = none. */
static inline int subscribe5(MQTTClient c, const char *filter, int qos,
                             const MQTTSubscribe_options *so, unsigned sub_id)
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
static inline int publish5(MQTTClient c, const char *topic, const void *payload, int len, int qos,
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

static inline void pub_str(MQTTClient c, const char *topic, const char *payload, int qos,
                           int retained)
{
	int rc = publish5(c, topic, payload, (int)strlen(payload), qos, retained, NULL);
	CHECK(rc == 0 || rc == MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);
}

/* One received message; free with msg_free. */
struct rx {
	char *topic;
	MQTTClient_message *m;
};

static inline void msg_free(struct rx *r)
{
	if (r->m)
		MQTTClient_freeMessage(&r->m);
	if (r->topic)
		MQTTClient_free(r->topic);
	r->topic = NULL;
	r->m = NULL;
}

/* Waits up to timeout_ms for a message: 1 (r filled), 0 timeout, or a negative Paho code. */
static inline int receive(MQTTClient c, int timeout_ms, struct rx *r)
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

static inline int expect_rx_(MQTTClient c, struct rx *r, const char *topic, const char *payload,
                             int line)
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

static inline void expect_none_(MQTTClient c, int line)
{
	struct rx r;
	int rc = receive(c, QUIET_MS, &r);
	CHECK_EQ(rc, 0);
	if (rc == 1)
		fprintf(stderr, "    line %d: unexpected message on %s: %.*s\n", line, r.topic,
		        r.m->payloadlen, (const char *)r.m->payload);
	msg_free(&r);
}

#endif
