/* test_sn_sleep.c - the MQTT-SN gateway over time, exact bytes: sleeping clients (§6.14),
 * will updates (§6.4), retransmission with DUP and Nretry (§6.13), NAT rebinding (a client id
 * speaking from a new port).
 *
 * Usage: test_sn_sleep [BROKER_BINARY] (default $MQTT_FAST_BIN). Ports 23010 (MQTT) and 23011
 * (MQTT-SN). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"
#include "sn_peer.h"

#define PORT    23010
#define SN_PORT (PORT + 1)

/* Sleep / keep alive expiry: 1.5 x Duration, checked once a second. */
#define EXPIRE_MS 4000

#define OK(expr) CHECK_EQ((expr), 0)
#define HI(id)   ((id) >> 8)
#define LO(id)   ((id)&0xff)

static const char *g_extra = "listener 23011 127.0.0.1\n"
                             "protocol mqttsn\n"
                             "sn_retry_interval 1\n"
                             "sn_retry_count 2\n";

static char pubhex[512];

/* Connects `id` with a will (QoS 0) on `topic`, Duration `duration`, clean session. */
static void connect_with_will(struct sn_peer *p, const char *id, uint16_t duration,
                              const char *topic, const char *msg)
{
	OK(sn_peer_open(p, SN_PORT, 0));
	OK(sn_peer_send_hex(p, hexf("%02zx 04 0c 01 %02x %02x '%s'", 6 + strlen(id), HI(duration),
	                            LO(duration), id)));
	OK(sn_peer_expect(p, "02 06"));
	OK(sn_peer_send_hex(p, hexf("%02zx 07 00 '%s'", 3 + strlen(topic), topic)));
	OK(sn_peer_expect(p, "02 08"));
	OK(sn_peer_send_hex(p, hexf("%02zx 09 '%s'", 2 + strlen(msg), msg)));
	OK(sn_peer_expect(p, "03 05 00"));
}

/* Acknowledges the QoS 1 PUBLISH in p->last. */
static void puback_last(struct sn_peer *p)
{
	uint16_t id = sn_peer_u16(p, 3), mid = sn_peer_u16(p, 5);
	OK(sn_peer_send_hex(
	        p, hexf("07 0d %02x %02x %02x %02x 00", HI(id), LO(id), HI(mid), LO(mid))));
}

/* ---- 6. PINGREQ and sleeping clients ---------------------------------------------------- */

static void test_sleep_buffer_wake(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-sleep"));
	OK(sn_peer_up(&p, SN_PORT, "sleeper"));
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect(&p, "02 17")); /* awake client: PINGRESP */
	int id = sn_peer_subscribe(&p, "sn/sleep/t", 1, 1);
	CHECK(id > 0);
	OK(sn_peer_send_hex(&p, "04 18 00 0a")); /* asleep for 10 s */
	OK(sn_peer_expect(&p, "02 18"));

	OK(mq_peer_publish(&m, "sn/sleep/t", "m1", 1, false));
	OK(mq_peer_publish(&m, "sn/sleep/t", "m2", 0, false));
	OK(mq_peer_publish(&m, "sn/sleep/t", "m3", 1, false));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS)); /* buffered while asleep */

	/* Awake: the buffered messages in order, then PINGRESP last (§6.14). */
	OK(sn_peer_send_hex(&p, "09 16 'sleeper'"));
	OK(sn_peer_expect(&p, hexf("09 0c 20 %02x %02x .. .. 'm1'", HI(id), LO(id))));
	puback_last(&p);
	OK(sn_peer_expect(&p, hexf("09 0c 00 %02x %02x 00 00 'm2'", HI(id), LO(id))));
	OK(sn_peer_expect(&p, hexf("09 0c 20 %02x %02x .. .. 'm3'", HI(id), LO(id))));
	puback_last(&p);
	OK(sn_peer_expect(&p, "02 17"));
	/* Asleep again: nothing buffered, a wake-up is answered by PINGRESP alone. */
	OK(mq_peer_publish(&m, "sn/sleep/t", "m4", 0, false));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_send_hex(&p, "09 16 'sleeper'"));
	OK(sn_peer_expect(&p, hexf("09 0c 00 %02x %02x 00 00 'm4'", HI(id), LO(id))));
	OK(sn_peer_expect(&p, "02 17"));
	OK(sn_peer_send_hex(&p, "09 16 'sleeper'"));
	OK(sn_peer_expect(&p, "02 17"));
	/* A CONNECT ends the sleep (§6.14): then a normal DISCONNECT. */
	OK(sn_peer_connect(&p, "sleeper", 60, true));
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

static void test_sleep_expiry_will(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-sleep-will", "sn/sleep/will"));
	connect_with_will(&p, "sleep-lost", 60, "sn/sleep/will", "zzz");
	OK(sn_peer_send_hex(&p, "04 18 00 01"));
	OK(sn_peer_expect(&p, "02 18"));
	/* Asleep for 1 s and no wake-up within 1.5 s: lost, the will is published. */
	OK(mq_peer_expect_ms(&m,
	                     mq_publish_hex(pubhex, sizeof(pubhex), "sn/sleep/will", "zzz", false),
	                     EXPIRE_MS));
	OK(sn_peer_send_hex(&p, "0c 16 'sleep-lost'"));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	sn_peer_close(&p);
	mq_peer_close(&m);
}

/* ---- 7. will updates ------------------------------------------------------------------- */

static void test_will_update(void)
{
	struct sn_peer p, q;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-will-upd", "sn/upd/#"));
	connect_with_will(&p, "will-upd", 1, "sn/upd/old", "old");
	OK(sn_peer_send_hex(&p, "0d 1a 20 'sn/upd/new'"));
	OK(sn_peer_expect(&p, "03 1b 00")); /* WILLTOPICRESP accepted */
	OK(sn_peer_send_hex(&p, "05 1c 'new'"));
	OK(sn_peer_expect(&p, "03 1d 00")); /* WILLMSGRESP accepted */
	OK(mq_peer_expect_ms(&m, mq_publish_hex(pubhex, sizeof(pubhex), "sn/upd/new", "new", 0),
	                     EXPIRE_MS));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	sn_peer_close(&p);

	/* An empty WILLTOPICUPD deletes the will. */
	connect_with_will(&q, "will-del", 1, "sn/upd/del", "del");
	OK(sn_peer_send_hex(&q, "02 1a"));
	OK(sn_peer_expect(&q, "03 1b 00"));
	OK(mq_peer_expect_none(&m, EXPIRE_MS));
	sn_peer_close(&q);
	mq_peer_close(&m);
}

/* PINGREQs within the Duration keep a client alive: no will. */
static void test_keepalive_pings(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(mq_peer_sub(&m, PORT, "mq-ka-ping", "sn/ka/ping"));
	connect_with_will(&p, "ka-ping", 2, "sn/ka/ping", "dead");
	for (int i = 0; i < 6; i++) {
		fixture_sleep_ms(700);
		OK(sn_peer_send_hex(&p, "02 16"));
		OK(sn_peer_expect(&p, "02 17"));
	}
	OK(mq_peer_expect_none(&m, 0));
	OK(sn_peer_down(&p));
	OK(mq_peer_expect_none(&m, SN_QUIET_MS));
	mq_peer_close(&m);
}

/* ---- 10. retransmission ---------------------------------------------------------------- */

static void test_retransmission(void)
{
	struct sn_peer p;
	struct mq_peer m, w;
	OK(mq_peer_connect(&m, PORT, "mq-retry"));
	OK(mq_peer_sub(&w, PORT, "mq-retry-will", "sn/retry/will"));
	connect_with_will(&p, "retry", 60, "sn/retry/will", "lost");
	int id = sn_peer_subscribe(&p, "sn/retry/t", 1, 1);
	CHECK(id > 0);
	OK(mq_peer_publish(&m, "sn/retry/t", "r", 1, false));
	OK(sn_peer_expect(&p, hexf("08 0c 20 %02x %02x .. .. 'r'", HI(id), LO(id))));
	uint16_t mid = sn_peer_u16(&p, 5);
	/* No PUBACK: the same PUBLISH with DUP after Tretry (1 s), Nretry (2) times (§6.13). */
	for (int i = 0; i < 2; i++)
		OK(sn_peer_expect(&p, hexf("08 0c a0 %02x %02x %02x %02x 'r'", HI(id), LO(id),
		                           HI(mid), LO(mid))));
	/* Then the client is lost: its will goes out. */
	OK(mq_peer_expect(&w, mq_publish_hex(pubhex, sizeof(pubhex), "sn/retry/will", "lost", 0)));
	OK(sn_peer_expect_none(&p, 1500));
	sn_peer_close(&p);
	mq_peer_close(&m);
	mq_peer_close(&w);
}

/* A REGISTER that is never acknowledged goes again after Tretry, then the client is lost. */
static void test_register_retransmission(void)
{
	struct sn_peer p;
	struct mq_peer m, w;
	OK(mq_peer_connect(&m, PORT, "mq-reg-retry"));
	OK(mq_peer_sub(&w, PORT, "mq-reg-retry-will", "sn/regretry/will"));
	connect_with_will(&p, "reg-retry", 60, "sn/regretry/will", "lost");
	CHECK_EQ(sn_peer_subscribe(&p, "sn/regretry/+", 0, 1), 0);
	OK(mq_peer_publish(&m, "sn/regretry/a", "a", 0, false));
	const char *reg = "13 0a .. .. .. .. 'sn/regretry/a'";
	OK(sn_peer_expect(&p, reg));
	uint16_t id = sn_peer_u16(&p, 2), mid = sn_peer_u16(&p, 4);
	for (int i = 0; i < 2; i++)
		OK(sn_peer_expect(&p, hexf("13 0a %02x %02x %02x %02x 'sn/regretry/a'", HI(id),
		                           LO(id), HI(mid), LO(mid))));
	OK(mq_peer_expect(&w,
	                  mq_publish_hex(pubhex, sizeof(pubhex), "sn/regretry/will", "lost", 0)));
	OK(sn_peer_expect_none(&p, 1500));
	sn_peer_close(&p);
	mq_peer_close(&m);
	mq_peer_close(&w);
}

/* One session per client id across MQTT and MQTT-SN: the newest connection wins. */
static void test_takeover_across_protocols(void)
{
	struct sn_peer p;
	struct mq_peer m;
	OK(sn_peer_up(&p, SN_PORT, "both-ways"));
	OK(mq_peer_connect(&m, PORT, "both-ways"));
	OK(sn_peer_expect(&p, "02 18")); /* the SN client is told, without its will */
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	OK(sn_peer_connect(&p, "both-ways", 60, true)); /* and back */
	CHECK_EQ(mq_peer_expect_none(&m, SN_QUIET_MS), -ECONNRESET);
	OK(sn_peer_down(&p));
	mq_peer_close(&m);
}

/* ---- 11. NAT rebinding ----------------------------------------------------------------- */

/* Expects the PUBLISH of `data` on `id` at QoS 0, after a REGISTER of `name` when the gateway
 * sends one (a new address is a new client for topic registrations). */
static void expect_publish_maybe_registered(struct sn_peer *p, int id, const char *name,
                                            const char *data)
{
	long n = sn_peer_recv(p, SN_WAIT_MS, NULL);
	CHECK(n > 0);
	if (n > 1 && p->last[1] == 0x0a) {
		CHECK_EQ(sn_peer_u16(p, 2), id);
		CHECK_MEM(p->last + 6, p->last_len - 6, name, strlen(name));
		uint16_t mid = sn_peer_u16(p, 4);
		OK(sn_peer_send_hex(
		        p, hexf("07 0b %02x %02x %02x %02x 00", HI(id), LO(id), HI(mid), LO(mid))));
		n = sn_peer_recv(p, SN_WAIT_MS, NULL);
	}
	uint8_t want[64];
	size_t wl = sn_hex(
	        hexf("%02zx 0c 00 %02x %02x 00 00 '%s'", 7 + strlen(data), HI(id), LO(id), data),
	        want, NULL, sizeof(want));
	CHECK_MEM(p->last, n > 0 ? (size_t)n : 0, want, wl);
}

static void test_nat_connect_takeover(void)
{
	struct sn_peer a, b;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-nat"));
	OK(sn_peer_open(&a, SN_PORT, 0));
	OK(sn_peer_connect(&a, "nat-1", 60, false));
	int id = sn_peer_subscribe(&a, "sn/nat/t", 0, 1);
	CHECK(id > 0);
	/* The same client id from a new port: CONNACK there, DISCONNECT to the old address. */
	OK(sn_peer_open(&b, SN_PORT, 0));
	OK(sn_peer_connect(&b, "nat-1", 60, false));
	OK(sn_peer_expect(&a, "02 18"));
	/* The subscription was kept (CleanSession false). */
	OK(mq_peer_publish(&m, "sn/nat/t", "n1", 0, false));
	expect_publish_maybe_registered(&b, id, "sn/nat/t", "n1");
	OK(sn_peer_expect_none(&a, SN_QUIET_MS));
	/* The old address is no client any more. */
	OK(sn_peer_send_hex(&a, "02 16"));
	OK(sn_peer_expect_none(&a, SN_QUIET_MS));
	/* Clean up the persistent session: connect clean, then leave. */
	OK(sn_peer_connect(&b, "nat-1", 60, true));
	OK(sn_peer_down(&b));
	sn_peer_close(&a);
	mq_peer_close(&m);
}

static void test_nat_sleeping_wake(void)
{
	struct sn_peer a, b;
	struct mq_peer m;
	OK(mq_peer_connect(&m, PORT, "mq-nat2"));
	OK(sn_peer_up(&a, SN_PORT, "nat-2"));
	int id = sn_peer_subscribe(&a, "sn/nat/s", 0, 1);
	CHECK(id > 0);
	OK(sn_peer_send_hex(&a, "04 18 00 1e")); /* asleep for 30 s */
	OK(sn_peer_expect(&a, "02 18"));
	/* QoS 1 so the PUBACK proves the message is buffered before the wake-up races it (the
	 * subscription is QoS 0: it is delivered at QoS 0). */
	OK(mq_peer_publish(&m, "sn/nat/s", "z1", 1, false));
	OK(sn_peer_open(&b, SN_PORT, 0));
	OK(sn_peer_send_hex(&b, "07 16 'nat-2'")); /* wakes from a new port */
	expect_publish_maybe_registered(&b, id, "sn/nat/s", "z1");
	OK(sn_peer_expect(&b, "02 17"));
	OK(sn_peer_expect_none(&a, SN_QUIET_MS));
	OK(sn_peer_connect(&b, "nat-2", 60, true));
	OK(sn_peer_down(&b));
	sn_peer_close(&a);
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

	test_sleep_buffer_wake();
	test_sleep_expiry_will();
	test_will_update();
	test_keepalive_pings();
	test_retransmission();
	test_register_retransmission();
	test_takeover_across_protocols();
	test_nat_connect_takeover();
	test_nat_sleeping_wake();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
