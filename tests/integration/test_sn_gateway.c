/* test_sn_gateway.c - the MQTT-SN gateway against raw peers, exact bytes both ways: CONNECT and
 * the will dialogue (§6.3), REGISTER (§6.5), PUBLISH at QoS 0/1/2 to an MQTT subscriber,
 * QoS -1 (§6.8), SUBSCRIBE by name / predefined id / short name / wildcard with REGISTER before
 * the first PUBLISH (§6.9, §6.10), UNSUBSCRIBE.
 *
 * Usage: test_sn_gateway [BROKER_BINARY] (default $MQTT_FAST_BIN). Ports 23000..23003: MQTT on
 * the even port, MQTT-SN on the next one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"
#include "sn_peer.h"

#define PORT    23000
#define SN_PORT (PORT + 1)
#define PORT_M1 (PORT + 2) /* a second broker with sn_allow_qos_m1 false */

#define PREDEF_ID   7
#define PREDEF_NAME "sn/pre"

/* Keep alive expiry: 1.5 x Duration, checked once a second. */
#define EXPIRE_MS 4000

#define OK(expr) CHECK_EQ((expr), 0)

static const char *g_extra = "listener 23001 127.0.0.1\n"
                             "protocol mqttsn\n"
                             "sn_predefined_topic 7 sn/pre\n"
                             "sn_retry_interval 1\n";

static char pubhex[512];

/* ---- 1. CONNECT and wills ------------------------------------------------------------- */

static void test_connect_plain(void)
{
	struct sn_peer p;
	OK(sn_peer_open(&p, SN_PORT, 0));
	OK(sn_peer_send_hex(&p, "08 04 04 01 00 3c 'c1'"));
	OK(sn_peer_expect(&p, "03 05 00"));
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect(&p, "02 17"));
	OK(sn_peer_down(&p));
}

static void test_connect_client_id_length(void)
{
	struct sn_peer p;
	OK(sn_peer_open(&p, SN_PORT, 0));
	/* ClientId of 0 characters: CONNACK "rejected: not supported". */
	OK(sn_peer_send_hex(&p, "06 04 04 01 00 3c"));
	OK(sn_peer_expect(&p, "03 05 03"));
	/* 24 characters: refused; 23: accepted (§5.3.1). */
	OK(sn_peer_send_hex(&p, "1e 04 04 01 00 3c '123456789012345678901234'"));
	OK(sn_peer_expect(&p, "03 05 03"));
	OK(sn_peer_send_hex(&p, "1d 04 04 01 00 3c '12345678901234567890123'"));
	OK(sn_peer_expect(&p, "03 05 00"));
	OK(sn_peer_down(&p));
}

static void test_connect_will_dialogue(void)
{
	struct sn_peer p;
	OK(sn_peer_open(&p, SN_PORT, 0));
	OK(sn_peer_send_hex(&p, "08 04 0c 01 00 3c 'w1'"));
	OK(sn_peer_expect(&p, "02 06")); /* WILLTOPICREQ */
	OK(sn_peer_send_hex(&p, "0c 07 20 'sn/will/1'"));
	OK(sn_peer_expect(&p, "02 08")); /* WILLMSGREQ */
	OK(sn_peer_send_hex(&p, "05 09 'bye'"));
	OK(sn_peer_expect(&p, "03 05 00"));
	OK(sn_peer_down(&p));
}

/* An empty WILLTOPIC means no will: CONNACK, and nothing published when the client is lost. */
static void test_connect_empty_willtopic(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-empty-will", "sn/will/#"));
	OK(sn_peer_open(&p, SN_PORT, 0));
	OK(sn_peer_send_hex(&p, "08 04 0c 01 00 01 'w2'"));
	OK(sn_peer_expect(&p, "02 06"));
	OK(sn_peer_send_hex(&p, "02 07"));
	OK(sn_peer_expect(&p, "03 05 00"));
	OK(mq_peer_expect_none(&m, EXPIRE_MS)); /* keep alive of 1 s expires: no will */
	sn_peer_close(&p);
	mq_peer_close(&m);
}

/* Connects `id` with a will on `topic` (QoS 0) and Duration `duration`. */
static void connect_with_will(struct sn_peer *p, const char *id, uint16_t duration,
                              const char *topic, const char *msg)
{
	OK(sn_peer_open(p, SN_PORT, 0));
	OK(sn_peer_send_hex(p, hexf("%02zx 04 0c 01 %02x %02x '%s'", 6 + strlen(id), duration >> 8,
	                            duration & 0xff, id)));
	OK(sn_peer_expect(p, "02 06"));
	OK(sn_peer_send_hex(p, hexf("%02zx 07 00 '%s'", 3 + strlen(topic), topic)));
	OK(sn_peer_expect(p, "02 08"));
	OK(sn_peer_send_hex(p, hexf("%02zx 09 '%s'", 2 + strlen(msg), msg)));
	OK(sn_peer_expect(p, "03 05 00"));
}

static void test_will_on_keepalive_expiry(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-will-ka", "sn/will/ka"));
	connect_with_will(&p, "w3", 1, "sn/will/ka", "gone");
	/* Duration 1 s, then silence: lost after 1.5 s, its will published. */
	OK(mq_peer_expect_ms(&m, mq_publish_hex(pubhex, sizeof(pubhex), "sn/will/ka", "gone", 0),
	                     EXPIRE_MS));
	/* The gateway forgot the client: a PINGREQ from its address gets no answer. */
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	sn_peer_close(&p);
	mq_peer_close(&m);
}

static void test_no_will_after_disconnect(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-will-disc", "sn/will/disc"));
	connect_with_will(&p, "w4", 1, "sn/will/disc", "gone");
	OK(sn_peer_down(&p));
	OK(mq_peer_expect_none(&m, EXPIRE_MS));
	mq_peer_close(&m);
}

/* ---- 2. REGISTER and PUBLISH from clients --------------------------------------------- */

static void test_register_same_id(void)
{
	struct sn_peer a, b;
	OK(sn_peer_up(&a, SN_PORT, "reg-a"));
	OK(sn_peer_up(&b, SN_PORT, "reg-b"));
	int ida = sn_peer_register(&a, "sn/reg/same", 0x0101);
	int idb = sn_peer_register(&b, "sn/reg/same", 0x0202);
	CHECK(ida > 0);
	CHECK_EQ(ida, idb); /* broker-global ids (§6.9: the gateway chooses) */
	int other = sn_peer_register(&a, "sn/reg/other", 0x0102);
	CHECK(other > 0 && other != ida);
	OK(sn_peer_down(&a));
	OK(sn_peer_down(&b));
}

static void test_publish_qos012(void)
{
	struct sn_peer p;
	struct mq_peer m;
	const char *t = "sn/reg/pub";
	OK(mq_peer_sub(&m, PORT, "mq-pub", t));
	OK(sn_peer_up(&p, SN_PORT, "pub-1"));
	int id = sn_peer_register(&p, t, 1);
	CHECK(id > 0);
	int hi = id >> 8, lo = id & 0xff;

	OK(sn_peer_send_hex(&p, hexf("09 0c 00 %02x %02x 00 00 'q0'", hi, lo)));
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), t, "q0", 0)));

	OK(sn_peer_send_hex(&p, hexf("09 0c 20 %02x %02x 00 05 'q1'", hi, lo)));
	OK(sn_peer_expect(&p, hexf("07 0d %02x %02x 00 05 00", hi, lo)));
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), t, "q1", 0)));

	OK(sn_peer_send_hex(&p, hexf("09 0c 40 %02x %02x 00 06 'q2'", hi, lo)));
	OK(sn_peer_expect(&p, "04 0f 00 06")); /* PUBREC */
	OK(sn_peer_send_hex(&p, "04 10 00 06"));
	OK(sn_peer_expect(&p, "04 0e 00 06")); /* PUBCOMP */
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), t, "q2", 0)));

	/* A QoS 2 retransmission before PUBREL is acknowledged, not routed twice. */
	OK(sn_peer_send_hex(&p, hexf("09 0c 40 %02x %02x 00 08 'r2'", hi, lo)));
	OK(sn_peer_expect(&p, "04 0f 00 08"));
	OK(sn_peer_send_hex(&p, hexf("09 0c c0 %02x %02x 00 08 'r2'", hi, lo)));
	OK(sn_peer_expect(&p, "04 0f 00 08"));
	OK(sn_peer_send_hex(&p, "04 10 00 08"));
	OK(sn_peer_expect(&p, "04 0e 00 08"));
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), t, "r2", 0)));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));

	/* A topic id nobody registered: PUBACK "rejected: invalid topic ID" (§6.5). */
	OK(sn_peer_send_hex(&p, "09 0c 20 77 77 00 07 'xx'"));
	OK(sn_peer_expect(&p, "07 0d 77 77 00 07 02"));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* ---- 3. QoS -1 --------------------------------------------------------------------------- */

static void test_qos_m1(void)
{
	struct sn_peer p, reg;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-m1"));
	OK(mq_peer_subscribe(&m, "sn/#", 0));
	OK(sn_peer_open(&p, SN_PORT, 0)); /* never connects */

	OK(sn_peer_send_hex(&p, "09 0c 61 00 07 00 00 'p1'")); /* predefined id 7 */
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), PREDEF_NAME, "p1", 0)));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS)); /* no reply to QoS -1 */

	OK(mq_peer_subscribe(&m, "ab", 0));
	OK(sn_peer_send_hex(&p, "09 0c 62 'ab' 00 00 's1'")); /* short topic name */
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), "ab", "s1", 0)));

	/* A normal topic id, even a registered one, is not allowed at QoS -1 (§6.8). */
	OK(sn_peer_up(&reg, SN_PORT, "m1-reg"));
	int id = sn_peer_register(&reg, "sn/m1/normal", 1);
	CHECK(id > 0);
	OK(sn_peer_send_hex(&p, hexf("09 0c 60 %02x %02x 00 00 'n1'", id >> 8, id & 0xff)));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	OK(sn_peer_expect_none(&p, 0));
	/* Unknown predefined id: dropped. */
	OK(sn_peer_send_hex(&p, "09 0c 61 00 63 00 00 'u1'"));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	OK(sn_peer_down(&reg));
	sn_peer_close(&p);
	mq_peer_close(&m);
}

static void test_qos_m1_disabled(void)
{
	const char *bin = getenv("MQTT_FAST_BIN");
	struct broker_fixture f;
	struct sn_peer p;
	struct mq_peer m;
	if (broker_fixture_start(&f, bin, PORT_M1,
	                         "listener 23003 127.0.0.1\nprotocol mqttsn\n"
	                         "sn_predefined_topic 7 sn/pre\nsn_allow_qos_m1 false") < 0) {
		CHECK(0);
		return;
	}
	OK(mq_peer_sub(&m, PORT_M1, "mq-m1-off", "#"));
	OK(sn_peer_open(&p, PORT_M1 + 1, 0));
	OK(sn_peer_send_hex(&p, "09 0c 61 00 07 00 00 'p1'"));
	OK(sn_peer_send_hex(&p, "09 0c 62 'ab' 00 00 's1'"));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	OK(sn_peer_expect_none(&p, 0));
	sn_peer_close(&p);
	mq_peer_close(&m);
	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	struct broker_fixture f;
	if (!bin)
		return 2;
	setenv("MQTT_FAST_BIN", bin, 1);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&f, bin, PORT, g_extra) < 0)
		return 1;

	test_connect_plain();
	test_connect_client_id_length();
	test_connect_will_dialogue();
	test_connect_empty_willtopic();
	test_will_on_keepalive_expiry();
	test_no_will_after_disconnect();
	test_register_same_id();
	test_publish_qos012();
	test_qos_m1();
	test_qos_m1_disabled();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
