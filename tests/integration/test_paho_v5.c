/* test_paho_v5.c - MQTT 5 end to end with the Eclipse Paho synchronous client (MQTTClient,
 * MQTTVERSION_5): forwarded properties, subscription identifiers, subscription options, topic
 * aliases, shared subscriptions, Maximum Packet Size, the server's CONNACK properties and
 * reason codes. Sessions, message expiry and Receive Maximum: test_paho_v5_session.c.
 *
 * Usage: test_paho_v5 [BROKER_BINARY] (default $MQTT_FAST_BIN). Port 22020. */
#include <MQTTClient.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"
#include "paho_v5.h"

#define PORT 22020

/* ---- Property helpers -------------------------------------------------------------------- */

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
	test_connack_properties();
	test_v311_keepalive_limit();
	test_max_packet_size();
	test_reason_codes();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
