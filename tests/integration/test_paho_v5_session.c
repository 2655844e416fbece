/* test_paho_v5_session.c - MQTT 5 sessions end to end with the Eclipse Paho synchronous client
 * (MQTTClient, MQTTVERSION_5): session expiry and resumption, message expiry for an offline
 * session, and Receive Maximum over a queue built while offline.
 *
 * Usage: test_paho_v5_session [BROKER_BINARY] (default $MQTT_FAST_BIN). Port 22040.
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
#include "paho_v5.h"

#define PORT 22040

/* ---- Going offline ----------------------------------------------------------------------- */

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

/* ---- tests ------------------------------------------------------------------------------- */

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

	test_receive_maximum();
	test_session_resume();
	test_expiry();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
