/* test_sn_subscribe.c - SUBSCRIBE through the MQTT-SN gateway, exact bytes: by topic name
 * (SUBACK carries the broker-global id), by predefined id, by short name, with `+` and `#`
 * (SUBACK topic id 0, then REGISTER before the first PUBLISH of each topic, §6.10), REGACK
 * rejections stopping that topic only, UNSUBSCRIBE, retained messages to a new subscriber.
 *
 * Usage: test_sn_subscribe [BROKER_BINARY] (default $MQTT_FAST_BIN). Ports 23030 (MQTT) and
 * 23031 (MQTT-SN). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"
#include "sn_peer.h"

#define PORT    23030
#define SN_PORT (PORT + 1)

#define OK(expr) CHECK_EQ((expr), 0)

static const char *g_extra = "listener 23031 127.0.0.1\n"
                             "protocol mqttsn\n"
                             "sn_predefined_topic 7 sn/pre\n"
                             "sn_retry_interval 1\n";

#define HI(id) ((id) >> 8)
#define LO(id) ((id)&0xff)

/* An SN PUBLISH at QoS 0 on normal topic id `id` carrying `data`, as a hex pattern. */
static const char *sn_pub0(int id, const char *data)
{
	return hexf("%02zx 0c 00 %02x %02x 00 00 '%s'", 7 + strlen(data), HI(id), LO(id), data);
}

static void test_subscribe_name(void)
{
	struct sn_peer p, r;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-pub-name"));
	OK(sn_peer_up(&p, SN_PORT, "sub-name"));
	int id = sn_peer_subscribe(&p, "sn/sub/name", 0, 0x0010);
	CHECK(id > 0); /* a name without wildcards: its registry id (§6.9) */
	/* Another client registering the name gets the same id. */
	OK(sn_peer_up(&r, SN_PORT, "sub-name-r"));
	CHECK_EQ(sn_peer_register(&r, "sn/sub/name", 1), id);
	OK(sn_peer_down(&r));

	OK(mq_peer_publish(&m, "sn/sub/name", "hello", 0, false));
	OK(sn_peer_expect(&p, sn_pub0(id, "hello")));
	/* QoS 1 granted and published: PUBLISH QoS 1 with a message id, acknowledged. */
	CHECK_EQ(sn_peer_subscribe(&p, "sn/sub/name", 1, 0x0011), id);
	OK(mq_peer_publish(&m, "sn/sub/name", "q1", 1, false));
	OK(sn_peer_expect(&p, hexf("09 0c 20 %02x %02x .. .. 'q1'", HI(id), LO(id))));
	uint16_t mid = sn_peer_u16(&p, 5);
	CHECK(mid != 0);
	OK(sn_peer_send_hex(
	        &p, hexf("07 0d %02x %02x %02x %02x 00", HI(id), LO(id), HI(mid), LO(mid))));
	/* QoS 2: PUBLISH, PUBREC from the client, PUBREL from the gateway, PUBCOMP. */
	CHECK_EQ(sn_peer_subscribe(&p, "sn/sub/name", 2, 0x0012), id);
	OK(mq_peer_publish(&m, "sn/sub/name", "q2", 2, false));
	OK(sn_peer_expect(&p, hexf("09 0c 40 %02x %02x .. .. 'q2'", HI(id), LO(id))));
	mid = sn_peer_u16(&p, 5);
	OK(sn_peer_send_hex(&p, hexf("04 0f %02x %02x", HI(mid), LO(mid))));
	OK(sn_peer_expect(&p, hexf("04 10 %02x %02x", HI(mid), LO(mid))));
	OK(sn_peer_send_hex(&p, hexf("04 0e %02x %02x", HI(mid), LO(mid))));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

static void test_subscribe_predefined_short(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-pub-pre"));
	OK(sn_peer_up(&p, SN_PORT, "sub-pre"));
	OK(sn_peer_send_hex(&p, "07 12 01 00 20 00 07"));  /* predefined id 7 */
	OK(sn_peer_expect(&p, "08 13 00 00 07 00 20 00")); /* SUBACK topic id 7 */
	OK(sn_peer_send_hex(&p, "07 12 02 00 21 'ab'"));   /* short name "ab" */
	OK(sn_peer_expect(&p, "08 13 00 00 00 00 21 00")); /* SUBACK topic id 0 */
	OK(sn_peer_send_hex(&p, "07 12 01 00 22 00 63"));  /* unknown predefined id */
	OK(sn_peer_expect(&p, "08 13 00 00 00 00 22 02")); /* rejected: invalid topic id */

	OK(mq_peer_publish(&m, "sn/pre", "p", 0, false));
	OK(sn_peer_expect(&p, "08 0c 01 00 07 00 00 'p'"));
	OK(mq_peer_publish(&m, "ab", "s", 0, false));
	OK(sn_peer_expect(&p, "08 0c 02 'ab' 00 00 's'"));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* Publishes `topic` over MQTT and expects REGISTER for it (nothing else first): the REGISTER's
 * topic id, its MsgId in *msg_id. */
static int expect_register(struct sn_peer *p, struct mq_peer *m, const char *topic,
                           const char *data, uint16_t *msg_id)
{
	OK(mq_peer_publish(m, topic, data, 0, false));
	int err = sn_peer_expect(p, hexf("%02zx 0a .. .. .. .. '%s'", 6 + strlen(topic), topic));
	CHECK_EQ(err, 0);
	if (err)
		return err;
	*msg_id = sn_peer_u16(p, 4);
	int id = sn_peer_u16(p, 2);
	CHECK(id > 0);
	/* §6.10: no PUBLISH on a topic before the client accepted its REGISTER. */
	OK(sn_peer_expect_none(p, SN_QUIET_MS));
	return id;
}

static void regack(struct sn_peer *p, int id, uint16_t msg_id, uint8_t rc)
{
	OK(sn_peer_send_hex(p, hexf("07 0b %02x %02x %02x %02x %02x", HI(id), LO(id), HI(msg_id),
	                            LO(msg_id), rc)));
}

static void test_subscribe_wildcards(void)
{
	struct sn_peer p;
	struct mq_peer m;
	uint16_t mid;
	OK(mq_peer_connect(&m, PORT, "mq-pub-wild"));
	OK(sn_peer_up(&p, SN_PORT, "sub-wild"));
	CHECK_EQ(sn_peer_subscribe(&p, "sn/wild/+", 0, 0x0030), 0);
	CHECK_EQ(sn_peer_subscribe(&p, "sn/hash/#", 0, 0x0031), 0);

	int x = expect_register(&p, &m, "sn/wild/x", "x1", &mid);
	regack(&p, x, mid, 0);
	OK(sn_peer_expect(&p, sn_pub0(x, "x1")));
	OK(mq_peer_publish(&m, "sn/wild/x", "x2", 0, false)); /* known now: no REGISTER */
	OK(sn_peer_expect(&p, sn_pub0(x, "x2")));

	int h = expect_register(&p, &m, "sn/hash/a/b", "h1", &mid);
	CHECK(h != x);
	regack(&p, h, mid, 0);
	OK(sn_peer_expect(&p, sn_pub0(h, "h1")));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* §6.10: a REGACK with a rejection code stops deliveries of that topic to that client only. */
static void test_regack_rejected(void)
{
	struct sn_peer p;
	struct mq_peer m;
	uint16_t mid;
	OK(mq_peer_connect(&m, PORT, "mq-pub-rej"));
	OK(sn_peer_up(&p, SN_PORT, "sub-rej"));
	CHECK_EQ(sn_peer_subscribe(&p, "sn/rej/+", 0, 0x0040), 0);

	int ok = expect_register(&p, &m, "sn/rej/ok", "o1", &mid);
	regack(&p, ok, mid, 0);
	OK(sn_peer_expect(&p, sn_pub0(ok, "o1")));

	int y = expect_register(&p, &m, "sn/rej/y", "y1", &mid);
	regack(&p, y, mid, 0x02);
	OK(sn_peer_expect_none(&p, SN_QUIET_MS)); /* y1 is not sent */
	int z = expect_register(&p, &m, "sn/rej/z", "z1", &mid);
	regack(&p, z, mid, 0x03);
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));

	OK(mq_peer_publish(&m, "sn/rej/y", "y2", 0, false));
	OK(mq_peer_publish(&m, "sn/rej/z", "z2", 0, false));
	OK(mq_peer_publish(&m, "sn/rej/ok", "o2", 0, false));
	OK(sn_peer_expect(&p, sn_pub0(ok, "o2"))); /* neither y2 nor z2 before it */
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* A topic whose REGISTER cannot fit a datagram never reaches an MQTT-SN client, and does
 * not block the topics after it (nor cost the client its connection). */
static void test_topic_too_long_for_register(void)
{
	struct sn_peer p;
	struct mq_peer m;
	uint16_t mid;
	char topic[2200];
	OK(mq_peer_connect(&m, PORT, "mq-pub-long"));
	OK(sn_peer_up(&p, SN_PORT, "sub-long"));
	CHECK_EQ(sn_peer_subscribe(&p, "sn/long/#", 0, 0x0050), 0);
	memcpy(topic, "sn/long/", 8);
	memset(topic + 8, 'x', sizeof(topic) - 9);
	topic[sizeof(topic) - 1] = '\0';
	OK(mq_peer_publish(&m, topic, "big", 0, false));
	int id = expect_register(&p, &m, "sn/long/short", "s1", &mid);
	regack(&p, id, mid, 0);
	OK(sn_peer_expect(&p, sn_pub0(id, "s1")));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

static void test_unsubscribe(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-pub-unsub"));
	OK(sn_peer_up(&p, SN_PORT, "sub-unsub"));
	int id = sn_peer_subscribe(&p, "sn/unsub", 0, 0x0050);
	CHECK(id > 0);
	OK(mq_peer_publish(&m, "sn/unsub", "u1", 0, false));
	OK(sn_peer_expect(&p, sn_pub0(id, "u1")));
	OK(sn_peer_send_hex(&p, "0d 14 00 00 51 'sn/unsub'"));
	OK(sn_peer_expect(&p, "04 15 00 51"));
	OK(mq_peer_publish(&m, "sn/unsub", "u2", 0, false));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	/* By predefined id too. */
	OK(sn_peer_send_hex(&p, "07 12 01 00 52 00 07"));
	OK(sn_peer_expect(&p, "08 13 00 00 07 00 52 00"));
	OK(sn_peer_send_hex(&p, "07 14 01 00 53 00 07"));
	OK(sn_peer_expect(&p, "04 15 00 53"));
	OK(mq_peer_publish(&m, "sn/pre", "u3", 0, false));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* A retained MQTT message reaches a later SN subscriber with the RETAIN flag. */
static void test_retained(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-pub-ret"));
	OK(mq_peer_publish(&m, "sn/ret/a", "kept", 1, true));
	OK(sn_peer_up(&p, SN_PORT, "sub-ret"));
	int id = sn_peer_subscribe(&p, "sn/ret/a", 0, 0x0060);
	CHECK(id > 0);
	OK(sn_peer_expect(&p, hexf("0b 0c 10 %02x %02x 00 00 'kept'", HI(id), LO(id))));
	OK(sn_peer_down(&p));
	/* Another client, through a wildcard: REGISTER first, then the retained PUBLISH. */
	OK(sn_peer_up(&p, SN_PORT, "sub-ret2"));
	OK(sn_peer_send_hex(&p, "0d 12 00 00 61 'sn/ret/#'"));
	OK(sn_peer_expect(&p, "08 13 00 00 00 00 61 00"));
	OK(sn_peer_expect(&p, hexf("0e 0a %02x %02x .. .. 'sn/ret/a'", HI(id), LO(id))));
	regack(&p, id, sn_peer_u16(&p, 4), 0);
	OK(sn_peer_expect(&p, hexf("0b 0c 10 %02x %02x 00 00 'kept'", HI(id), LO(id))));
	/* Clearing it: current subscribers get the empty message without RETAIN. */
	OK(mq_peer_publish(&m, "sn/ret/a", "", 1, true));
	OK(sn_peer_expect(&p, hexf("07 0c 00 %02x %02x 00 00", HI(id), LO(id))));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	struct broker_fixture f;
	if (!bin)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&f, bin, PORT, g_extra) < 0)
		return 1;

	test_subscribe_name();
	test_subscribe_predefined_short();
	test_subscribe_wildcards();
	test_regack_rejected();
	test_topic_too_long_for_register();
	test_unsubscribe();
	test_retained();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
