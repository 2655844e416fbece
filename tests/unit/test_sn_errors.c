/* test_sn_errors.c - MQTT-SN 1.2 codec: malformed datagrams, each with the exact errno, and
 * encoder errors (-EINVAL, -ENOBUFS). */
#include "check.h"
#include "sn/mqttsn.h"

#include <errno.h>

struct bad {
	const char *name;
	const char *hex;
	int err;
};

static const struct bad bad_dgrams[] = {
        /* Framing, §5.2.1. */
        {"empty datagram", "", -EBADMSG},
        {"one byte", "02", -EBADMSG},
        {"length byte 0", "00 17", -EBADMSG},
        {"length 1-byte form 0x01 alone", "01 17", -EBADMSG},
        {"length > datagram", "05 0c 00 00", -EBADMSG},
        {"length < datagram", "02 17 00", -EBADMSG},
        {"3-byte form truncated, 2 bytes", "01 00", -EBADMSG},
        {"3-byte form truncated, no type", "01 00 03", -EBADMSG},
        {"3-byte form length < datagram", "01 00 05 17 00 00", -EBADMSG},
        {"3-byte form length > datagram", "01 01 2c 0c 00 00 01 00 00", -EBADMSG},
        {"3-byte form length 3", "01 00 03 17", -EBADMSG},
        /* Each type truncated by one byte, or with one byte too many. */
        {"ADVERTISE truncated", "04 00 01 03", -EBADMSG},
        {"ADVERTISE extra byte", "06 00 01 03 84 00", -EBADMSG},
        {"SEARCHGW truncated", "02 01", -EBADMSG},
        {"SEARCHGW extra byte", "04 01 02 00", -EBADMSG},
        {"GWINFO truncated", "02 02", -EBADMSG},
        {"CONNECT truncated", "05 04 04 01 00", -EBADMSG},
        {"CONNECT without ProtocolId", "03 04 04", -EBADMSG},
        {"CONNECT protocol id 2", "08 04 04 02 00 3c 'ab'", -EPROTONOSUPPORT},
        {"CONNECT protocol id 0", "06 04 04 00 00 3c", -EPROTONOSUPPORT},
        {"CONNECT protocol id 2, truncated", "05 04 04 02 00", -EBADMSG},
        {"CONNACK truncated", "02 05", -EBADMSG},
        {"CONNACK extra byte", "04 05 00 00", -EBADMSG},
        {"WILLTOPICREQ extra byte", "03 06 00", -EBADMSG},
        {"WILLMSGREQ extra byte", "03 08 00", -EBADMSG},
        {"REGISTER truncated", "05 0a 00 01 00", -EBADMSG},
        {"REGACK truncated", "06 0b 00 01 00 02", -EBADMSG},
        {"REGACK extra byte", "08 0b 00 01 00 02 00 00", -EBADMSG},
        {"PUBLISH truncated", "06 0c 00 00 01 00", -EBADMSG},
        {"PUBLISH flags only", "03 0c 00", -EBADMSG},
        {"PUBLISH topic id type 3", "07 0c 03 00 01 00 00", -EBADMSG},
        {"PUBLISH topic id type 3 with data", "09 0c 63 00 01 00 00 'xy'", -EBADMSG},
        {"PUBACK truncated", "06 0d 00 01 00 07", -EBADMSG},
        {"PUBCOMP truncated", "03 0e 00", -EBADMSG},
        {"PUBREC truncated", "03 0f 00", -EBADMSG},
        {"PUBREL truncated", "03 10 00", -EBADMSG},
        {"PUBREC extra byte", "05 0f 00 07 00", -EBADMSG},
        {"SUBSCRIBE truncated", "04 12 00 00", -EBADMSG},
        {"SUBSCRIBE topic id type 3", "07 12 03 00 01 00 01", -EBADMSG},
        {"SUBSCRIBE predefined, 1 byte", "06 12 01 00 01 05", -EBADMSG},
        {"SUBSCRIBE predefined, 3 bytes", "08 12 01 00 01 00 05 00", -EBADMSG},
        {"SUBSCRIBE short, no topic", "05 12 02 00 01", -EBADMSG},
        {"SUBACK truncated", "07 13 00 00 01 00 01", -EBADMSG},
        {"UNSUBSCRIBE truncated", "03 14 00", -EBADMSG},
        {"UNSUBSCRIBE short, 1 byte", "06 14 02 00 01 'a'", -EBADMSG},
        {"UNSUBSCRIBE topic id type 3", "07 14 03 00 01 00 01", -EBADMSG},
        {"UNSUBACK truncated", "03 15 00", -EBADMSG},
        {"PINGRESP extra byte", "03 17 00", -EBADMSG},
        {"DISCONNECT half a duration", "03 18 00", -EBADMSG},
        {"DISCONNECT extra byte", "05 18 00 01 02", -EBADMSG},
        {"WILLTOPICRESP truncated", "02 1b", -EBADMSG},
        {"WILLMSGRESP truncated", "02 1d", -EBADMSG},
        {"WILLMSGRESP extra byte", "04 1d 00 00", -EBADMSG},
        /* Reserved MsgType (§5.2.2 Table 3), correctly framed: -ENOTSUP. */
        {"unknown type 0x1F", "02 1f", -ENOTSUP},
        {"reserved type 0x03", "02 03", -ENOTSUP},
        {"reserved type 0x11", "03 11 00", -ENOTSUP},
        {"reserved type 0x19", "02 19", -ENOTSUP},
        {"reserved type 0x1E", "02 1e", -ENOTSUP},
        {"reserved type 0xFD", "04 fd 00 00", -ENOTSUP},
        {"reserved type 0xFF", "02 ff", -ENOTSUP},
        {"reserved type, 3-byte form", "01 00 04 1f", -ENOTSUP},
        {"reserved type, bad length", "03 1f", -EBADMSG},
        /* Forwarder Encapsulation, §5.5. */
        {"encapsulation length 0", "00 fe 00 02 17", -EBADMSG},
        {"encapsulation length 2", "02 fe 00 02 17", -EBADMSG},
        {"encapsulation length > datagram", "09 fe 00 01 02", -EBADMSG},
        {"encapsulation, no inner message", "03 fe 00", -EBADMSG},
        {"encapsulation, 1-byte inner message", "04 fe 00 aa 02", -EBADMSG},
        {"encapsulation, no Ctrl", "02 fe", -EBADMSG},
        {"encapsulation in the 3-byte form", "01 00 06 fe 00 02 17", -EBADMSG},
};

static void test_malformed(void)
{
	uint8_t wire[64];
	struct mqttsn_msg m;
	size_t count = sizeof(bad_dgrams) / sizeof(bad_dgrams[0]);

	CHECK(count >= 25);
	for (size_t i = 0; i < count; i++) {
		unsigned failed = check_state_.failed;
		size_t n = hex(bad_dgrams[i].hex, wire, sizeof(wire));
		CHECK_EQ(mqttsn_decode(wire, n, &m), bad_dgrams[i].err);
		if (check_state_.failed != failed)
			fprintf(stderr, "  ^ in case \"%s\"\n", bad_dgrams[i].name);
	}
	/* A NULL datagram of length 0 is an empty datagram, not a crash. */
	CHECK_EQ(mqttsn_decode(NULL, 0, &m), -EBADMSG);
}

/* A 3-byte Length can announce at most 65535: anything larger cannot match it. */
static void test_oversized(void)
{
	static uint8_t wire[70000];
	struct mqttsn_msg m;

	memcpy(wire, "\x01\xff\xff\x0c\x00\x00\x01\x00\x00", 9);
	CHECK_EQ(mqttsn_decode(wire, 65536, &m), -EBADMSG);
	CHECK_EQ(mqttsn_decode(wire, 65535, &m), 0);

	/* An encapsulated message larger than any MQTT-SN message. */
	memcpy(wire, "\x03\xfe\x00", 3);
	CHECK_EQ(mqttsn_decode(wire, 3 + 65536, &m), -EBADMSG);
	CHECK_EQ(mqttsn_decode(wire, 3 + 65535, &m), 0);
}

static long enc(const struct mqttsn_msg *m)
{
	static uint8_t out[70000];
	long size = mqttsn_encoded_size(m);
	long n = mqttsn_encode(m, out, sizeof(out));
	CHECK_EQ(size, n); /* both report the same error */
	return n;
}

static void test_encode_einval(void)
{
	static uint8_t big[70000];
	struct mqttsn_msg m = {.type = MQTTSN_PUBLISH};

	CHECK_EQ(enc(&m), 7);
	m.publish.flags.qos = 3; /* QoS -1 is MQTTSN_QOS_M1, not the wire value */
	CHECK_EQ(enc(&m), -EINVAL);
	m.publish.flags.qos = -2;
	CHECK_EQ(enc(&m), -EINVAL);
	m.publish.flags.qos = MQTTSN_QOS_M1;
	m.publish.flags.topic_id_type = 3;
	CHECK_EQ(enc(&m), -EINVAL);
	m.publish.flags.topic_id_type = MQTTSN_TOPIC_SHORT;
	m.publish.data.len = 5; /* NULL view */
	CHECK_EQ(enc(&m), -EINVAL);
	m.publish.data.p = big;
	m.publish.data.len = 65526; /* 4 + 5 + 65526 = 65535 */
	CHECK_EQ(enc(&m), 65535);
	m.publish.data.len = 65527;
	CHECK_EQ(enc(&m), -EINVAL);

	struct mqttsn_msg s = {.type = MQTTSN_SUBSCRIBE};
	s.subscribe.flags.topic_id_type = 3;
	CHECK_EQ(enc(&s), -EINVAL);
	s.type = MQTTSN_UNSUBSCRIBE;
	CHECK_EQ(enc(&s), -EINVAL);
	s.subscribe.flags.topic_id_type = MQTTSN_TOPIC_NORMAL;
	s.subscribe.topic_name.len = 1;
	CHECK_EQ(enc(&s), -EINVAL);

	struct mqttsn_msg c = {.type = MQTTSN_CONNECT};
	c.connect.flags.topic_id_type = 4;
	CHECK_EQ(enc(&c), -EINVAL);
	c.connect.flags.topic_id_type = 3; /* not a topic-carrying message: kept as is */
	CHECK_EQ(enc(&c), 6);
	c.connect.client_id.len = 3;
	CHECK_EQ(enc(&c), -EINVAL);

	struct mqttsn_msg a = {.type = MQTTSN_SUBACK};
	a.suback.flags.qos = 7;
	CHECK_EQ(enc(&a), -EINVAL);
	struct mqttsn_msg w = {.type = MQTTSN_WILLTOPIC};
	w.willtopic.flags.qos = 4;
	CHECK_EQ(enc(&w), -EINVAL);
	w.willtopic.empty = true; /* flags unused then */
	CHECK_EQ(enc(&w), 2);

	struct mqttsn_msg t = {.type = 0x03};
	CHECK_EQ(enc(&t), -EINVAL);
	t.type = 0x1f;
	CHECK_EQ(enc(&t), -EINVAL);
	t.type = 0xff;
	CHECK_EQ(enc(&t), -EINVAL);

	struct mqttsn_msg e = {.type = MQTTSN_ENCAPSULATED};
	e.encap.inner.p = (const uint8_t *)"\x02\x17";
	e.encap.inner.len = 2;
	CHECK_EQ(enc(&e), 5);
	e.encap.node_id.p = big;
	e.encap.node_id.len = 252; /* Length 255 */
	CHECK_EQ(enc(&e), 257);
	e.encap.node_id.len = 253;
	CHECK_EQ(enc(&e), -EINVAL);
	e.encap.node_id.len = 0;
	e.encap.inner.len = 1;
	CHECK_EQ(enc(&e), -EINVAL);
	e.encap.inner.p = NULL;
	e.encap.inner.len = 2;
	CHECK_EQ(enc(&e), -EINVAL);

	struct mqttsn_msg v[] = {
	        {.type = MQTTSN_GWINFO, .gwinfo = {.gw_add = {NULL, 1}}},
	        {.type = MQTTSN_PINGREQ, .pingreq = {.client_id = {NULL, 1}}},
	        {.type = MQTTSN_WILLMSG, .willmsg = {.msg = {NULL, 1}}},
	        {.type = MQTTSN_REGISTER, .reg = {.topic_name = {NULL, 1}}},
	        {.type = MQTTSN_WILLTOPICUPD, .willtopic = {.topic = {NULL, 1}}},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK_EQ(enc(&v[i]), -EINVAL);
}

static void test_encode_enobufs(void)
{
	uint8_t out[16];
	struct mqttsn_msg m = {.type = MQTTSN_PUBLISH,
	                       .publish = {.topic_id = 1, .data = {(const uint8_t *)"hello", 5}}};

	CHECK_EQ(mqttsn_encode(&m, out, 11), -ENOBUFS);
	CHECK_EQ(mqttsn_encode(&m, out, 0), -ENOBUFS);
	CHECK_EQ(mqttsn_encode(&m, NULL, 0), -ENOBUFS);
	CHECK_EQ(mqttsn_encode(&m, out, 12), 12);

	struct mqttsn_msg p = {.type = MQTTSN_PINGRESP};
	CHECK_EQ(mqttsn_encode(&p, out, 1), -ENOBUFS);
	CHECK_EQ(mqttsn_encode(&p, out, 2), 2);

	struct mqttsn_msg e = {.type = MQTTSN_ENCAPSULATED,
	                       .encap = {.inner = {(const uint8_t *)"\x02\x17", 2}}};
	CHECK_EQ(mqttsn_encode(&e, out, 4), -ENOBUFS);
	CHECK_EQ(mqttsn_encode(&e, out, 5), 5);
	CHECK_MEM(out, 5, "\x03\xfe\x00\x02\x17", 5);
}

int main(void)
{
	test_malformed();
	test_oversized();
	test_encode_einval();
	test_encode_enobufs();
	return check_report();
}
