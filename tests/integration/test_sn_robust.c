/* test_sn_robust.c - the MQTT-SN gateway's edges, exact bytes: SEARCHGW / GWINFO and ADVERTISE
 * (§6.1), the forwarder encapsulation (§5.5), datagrams from unknown addresses, a table of
 * malformed datagrams (dropped silently, the broker unharmed) and a flood of them (rate-limited
 * log lines).
 *
 * Usage: test_sn_robust [BROKER_BINARY] (default $MQTT_FAST_BIN). Ports 23020 (MQTT), 23021
 * (MQTT-SN), 23028 (the test's own socket receiving ADVERTISE). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_fixture.h"
#include "check.h"
#include "sn_peer.h"

#define PORT     23020
#define SN_PORT  (PORT + 1)
#define ADV_PORT (PORT + 8)
#define GW_ID    0x2a

#define OK(expr) CHECK_EQ((expr), 0)
#define HI(id)   ((id) >> 8)
#define LO(id)   ((id)&0xff)

static const char *g_extra = "listener 23021 127.0.0.1\n"
                             "protocol mqttsn\n"
                             "sn_gateway_id 42\n"
                             "sn_predefined_topic 7 sn/pre\n"
                             "sn_advertise_interval 1\n"
                             "sn_advertise_address 127.0.0.1\n"
                             "sn_advertise_port 23028\n";

static struct broker_fixture g_f;
static char pubhex[512];

/* ---- 8. gateway discovery -------------------------------------------------------------- */

static void test_searchgw(void)
{
	struct sn_peer p;
	OK(sn_peer_open(&p, SN_PORT, 0));
	OK(sn_peer_send_hex(&p, "03 01 00"));
	OK(sn_peer_expect(&p, "03 02 2a")); /* GWINFO without GwAdd from the gateway */
	OK(sn_peer_send_hex(&p, "03 01 03"));
	OK(sn_peer_expect(&p, "03 02 2a"));
	sn_peer_close(&p);
}

static void test_advertise(void)
{
	struct sn_peer a;
	struct sockaddr_in from;
	OK(sn_peer_open(&a, SN_PORT, ADV_PORT));
	for (int i = 0; i < 2; i++) {
		long n = sn_peer_recv(&a, SN_WAIT_MS, &from);
		CHECK_EQ(n, 5);
		uint8_t want[] = {0x05, 0x00, GW_ID, 0x00, 0x01}; /* Duration = the interval */
		CHECK_MEM(a.last, n > 0 ? (size_t)n : 0, want, sizeof(want));
		CHECK_EQ(ntohs(from.sin_port), SN_PORT); /* sent from the gateway's socket */
	}
	sn_peer_close(&a);
}

/* ---- 9. forwarder encapsulation --------------------------------------------------------- */

static void test_forwarder(void)
{
	struct sn_peer fw;
	struct mq_peer m, pub;
	OK(mq_peer_sub(&m, PORT, "mq-fw", "sn/fw/#"));
	OK(mq_peer_connect(&pub, PORT, "mq-fw-pub"));
	OK(sn_peer_open(&fw, SN_PORT, 0));
	/* Node 01 02: CONNECT inside an encapsulation; CONNACK comes back wrapped for it. */
	OK(sn_peer_send_hex(&fw, "05 fe 00 01 02  08 04 04 01 00 3c 'f1'"));
	OK(sn_peer_expect(&fw, "05 fe 00 01 02  03 05 00"));
	/* Node 03 behind the same forwarder is another client. */
	OK(sn_peer_send_hex(&fw, "04 fe 01 03  08 04 04 01 00 3c 'f2'"));
	OK(sn_peer_expect(&fw, "04 fe 00 03  03 05 00"));

	OK(sn_peer_send_hex(&fw, "05 fe 00 01 02  10 0a 00 00 00 01 'sn/fw/data'"));
	OK(sn_peer_expect(&fw, "05 fe 00 01 02  07 0b .. .. 00 01 00"));
	int id = sn_peer_u16(&fw, 7);
	CHECK(id > 0);
	OK(sn_peer_send_hex(&fw,
	                    hexf("05 fe 00 01 02  09 0c 20 %02x %02x 00 02 'd1'", HI(id), LO(id))));
	OK(sn_peer_expect(&fw, hexf("05 fe 00 01 02  07 0d %02x %02x 00 02 00", HI(id), LO(id))));
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), "sn/fw/data", "d1", 0)));

	/* Deliveries to node 03 are encapsulated for it: SUBSCRIBE, then an MQTT publish. */
	OK(sn_peer_send_hex(&fw, "04 fe 00 03  0f 12 00 00 05 'sn/fw/data'"));
	OK(sn_peer_expect(&fw, hexf("04 fe 00 03  08 13 00 %02x %02x 00 05 00", HI(id), LO(id))));
	OK(mq_peer_publish(&pub, "sn/fw/data", "d2", 0, false));
	OK(sn_peer_expect(&fw, hexf("04 fe 00 03  09 0c 00 %02x %02x 00 00 'd2'", HI(id), LO(id))));
	/* The forwarder's own address is not a client. */
	OK(sn_peer_send_hex(&fw, "02 16"));
	OK(sn_peer_expect_none(&fw, SN_QUIET_MS));
	OK(sn_peer_send_hex(&fw, "05 fe 00 01 02  02 16"));
	OK(sn_peer_expect(&fw, "05 fe 00 01 02  02 17"));
	OK(sn_peer_send_hex(&fw, "05 fe 00 01 02  02 18"));
	OK(sn_peer_expect(&fw, "05 fe 00 01 02  02 18"));
	OK(sn_peer_send_hex(&fw, "04 fe 00 03  02 18"));
	OK(sn_peer_expect(&fw, "04 fe 00 03  02 18"));
	sn_peer_close(&fw);
	mq_peer_close(&m);
	mq_peer_close(&pub);
}

/* ---- 12. unknown addresses and malformed datagrams ------------------------------------- */

static void test_unknown_address(void)
{
	struct sn_peer p;
	OK(sn_peer_open(&p, SN_PORT, 0));
	static const char *const msgs[] = {
	        "08 0c 00 00 01 00 00 'x'",  /* PUBLISH QoS 0 */
	        "08 0c 20 00 01 00 01 'x'",  /* PUBLISH QoS 1 */
	        "0a 12 00 00 01 'a/b/c'",    /* SUBSCRIBE */
	        "02 16",                     /* PINGREQ without client id */
	        "08 16 'nobody'",            /* PINGREQ naming no sleeping client */
	        "0b 0a 00 00 00 01 'a/b/c'", /* REGISTER */
	        "04 10 00 01",               /* PUBREL */
	        "02 18",                     /* DISCONNECT */
	        "05 09 'bye'",               /* WILLMSG */
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		OK(sn_peer_send_hex(&p, msgs[i]));
	OK(sn_peer_expect_none(&p, SN_QUIET_MS));
	sn_peer_close(&p);
}

/* Datagrams the codec must refuse; each is dropped without a reply. */
static const char *const g_malformed[] = {
        "",                               /* empty datagram */
        "01",                             /* one byte */
        "05 04 04 01",                    /* Length 5, 4 bytes */
        "02 16 00",                       /* Length 2, 3 bytes */
        "00 16",                          /* Length 0 */
        "03 03 00",                       /* reserved type 0x03 */
        "02 11",                          /* reserved type 0x11 */
        "02 19",                          /* reserved type 0x19 */
        "02 ff",                          /* reserved type 0xff */
        "09 0c 03 00 01 00 00 'xx'",      /* PUBLISH TopicIdType 3 */
        "07 12 03 00 01 00 07",           /* SUBSCRIBE TopicIdType 3 */
        "01 00",                          /* 3-byte Length, truncated */
        "01 00 08 04 04",                 /* 3-byte Length 8, 5 bytes */
        "01 00 05 16",                    /* 3-byte Length 5, 4 bytes */
        "08 04 04 02 00 3c 'c1'",         /* CONNECT with ProtocolId 2 */
        "06 0b 00 01 00 01",              /* REGACK without ReturnCode */
        "03 fe 00",                       /* encapsulation without a message */
        "04 fe 00 01  05 04 04",          /* encapsulated message truncated */
        "04 fe 00 01  04 fe 00 02 02 16", /* encapsulation inside an encapsulation */
        "05 0c 00 00 01",                 /* PUBLISH without MsgId */
        "04 18 00",                       /* DISCONNECT with half a Duration */
};

#define NMALFORMED (sizeof(g_malformed) / sizeof(g_malformed[0]))

static int count_log_lines(const char *needle)
{
	FILE *in = fopen(g_f.log, "r");
	char line[1024];
	int n = 0;
	if (!in)
		return -1;
	while (fgets(line, sizeof(line), in))
		n += strstr(line, needle) != NULL;
	fclose(in);
	return n;
}

static void test_malformed_table(void)
{
	struct sn_peer p, stranger;
	struct mq_peer m;
	CHECK(NMALFORMED >= 15);
	OK(mq_peer_sub(&m, PORT, "mq-malformed", "sn/ok"));
	OK(sn_peer_up(&p, SN_PORT, "victim"));
	OK(sn_peer_open(&stranger, SN_PORT, 0));
	for (size_t i = 0; i < NMALFORMED; i++) {
		OK(sn_peer_send_hex(&p, g_malformed[i])); /* from a connected client */
		OK(sn_peer_send_hex(&stranger, g_malformed[i]));
		if (sn_peer_expect_none(&p, 50) != 0 || sn_peer_expect_none(&stranger, 0) != 0) {
			fprintf(stderr, "    reply to malformed datagram #%zu: %s\n", i,
			        g_malformed[i]);
			CHECK(0);
		}
	}
	/* The client still works: PINGREQ, REGISTER, PUBLISH. */
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect(&p, "02 17"));
	int id = sn_peer_register(&p, "sn/ok", 2);
	CHECK(id > 0);
	OK(sn_peer_send_hex(&p, hexf("08 0c 00 %02x %02x 00 00 'k'", HI(id), LO(id))));
	OK(mq_peer_expect(&m, mq_publish_hex(pubhex, sizeof(pubhex), "sn/ok", "k", 0)));
	OK(sn_peer_expect_none(&stranger, 0));
	OK(sn_peer_down(&p));
	sn_peer_close(&stranger);
	mq_peer_close(&m);
}

static void test_flood_log_limited(void)
{
	struct sn_peer p, flood;
	OK(sn_peer_open(&flood, SN_PORT, 0));
	OK(sn_peer_up(&p, SN_PORT, "flood-witness"));
	int before = count_log_lines("MQTT-SN");
	for (int i = 0; i < 1000; i++) {
		OK(sn_peer_send_hex(&flood, g_malformed[(size_t)i % NMALFORMED]));
		if (i % 100 == 99)
			fixture_sleep_ms(5); /* let the gateway keep up: no loss on loopback */
	}
	/* A round trip after the flood: everything before it was handled. */
	OK(sn_peer_send_hex(&p, "02 16"));
	OK(sn_peer_expect(&p, "02 17"));
	fixture_sleep_ms(100);
	int after = count_log_lines("MQTT-SN");
	CHECK(before >= 0 && after >= before);
	if (after - before > 5) {
		fprintf(stderr, "    %d log lines for a flood of 1000 bad datagrams\n",
		        after - before);
		CHECK(0);
	}
	OK(sn_peer_down(&p));
	sn_peer_close(&flood);
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	if (!bin)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&g_f, bin, PORT, g_extra) < 0)
		return 1;

	test_searchgw();
	test_advertise();
	test_forwarder();
	test_unknown_address();
	test_malformed_table();
	test_flood_log_limited();

	CHECK_EQ(broker_fixture_stop(&g_f, check_state_.failed > 0), 0);
	return check_report();
}
