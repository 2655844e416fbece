/* test_sn_codec.c - MQTT-SN 1.2 codec: exact-byte vectors for every message type, decoded
 * field by field and encoded back byte for byte; the 3-byte Length form; the Forwarder
 * Encapsulation. Malformed input and encoder errors are in test_sn_errors.c. */
#include "check.h"
#include "sn/mqttsn.h"

#include <errno.h>

/* A view of a string literal, without its NUL. */
#define S(lit)                                                                                     \
	{                                                                                          \
		(const uint8_t *)(lit), sizeof(lit) - 1                                            \
	}

struct vec {
	const char *name;
	const char *hex;
	struct mqttsn_msg want;
};

static const struct vec vectors[] = {
        {"ADVERTISE",
         "05 00 01 03 84",
         {.type = MQTTSN_ADVERTISE, .advertise = {.gw_id = 1, .duration = 900}}},
        {"SEARCHGW", "03 01 02", {.type = MQTTSN_SEARCHGW, .searchgw = {.radius = 2}}},
        {"GWINFO from a gateway", "03 02 05", {.type = MQTTSN_GWINFO, .gwinfo = {.gw_id = 5}}},
        {"GWINFO from a client",
         "07 02 05 c0 a8 01 01",
         {.type = MQTTSN_GWINFO, .gwinfo = {.gw_id = 5, .gw_add = S("\xc0\xa8\x01\x01")}}},
        {"CONNECT clean",
         "0d 04 04 01 00 3c 'client1'",
         {.type = MQTTSN_CONNECT,
          .connect = {.flags = {.clean_session = true},
                      .duration = 60,
                      .client_id = S("client1")}}},
        {"CONNECT will",
         "0a 04 08 01 ff ff 'cli1'",
         {.type = MQTTSN_CONNECT,
          .connect = {.flags = {.will = true}, .duration = 65535, .client_id = S("cli1")}}},
        {"CONNACK", "03 05 00", {.type = MQTTSN_CONNACK, .ret = {.code = MQTTSN_RC_ACCEPTED}}},
        {"CONNACK congestion",
         "03 05 01",
         {.type = MQTTSN_CONNACK, .ret = {.code = MQTTSN_RC_CONGESTION}}},
        {"WILLTOPICREQ", "02 06", {.type = MQTTSN_WILLTOPICREQ}},
        {"WILLTOPIC",
         "09 07 30 'a/will'",
         {.type = MQTTSN_WILLTOPIC,
          .willtopic = {.flags = {.qos = 1, .retain = true}, .topic = S("a/will")}}},
        {"WILLTOPIC empty", "02 07", {.type = MQTTSN_WILLTOPIC, .willtopic = {.empty = true}}},
        {"WILLTOPIC flags only",
         "03 07 40",
         {.type = MQTTSN_WILLTOPIC, .willtopic = {.flags = {.qos = 2}}}},
        {"WILLMSGREQ", "02 08", {.type = MQTTSN_WILLMSGREQ}},
        {"WILLMSG", "06 09 'gone'", {.type = MQTTSN_WILLMSG, .willmsg = {.msg = S("gone")}}},
        {"WILLMSG empty", "02 09", {.type = MQTTSN_WILLMSG}},
        {"REGISTER",
         "0b 0a 00 01 00 02 'a/b/c'",
         {.type = MQTTSN_REGISTER, .reg = {.topic_id = 1, .msg_id = 2, .topic_name = S("a/b/c")}}},
        {"REGACK",
         "07 0b 00 01 00 02 00",
         {.type = MQTTSN_REGACK, .topic_ack = {.topic_id = 1, .msg_id = 2}}},
        {"PUBLISH QoS 0 normal",
         "0c 0c 00 00 01 00 00 'hello'",
         {.type = MQTTSN_PUBLISH, .publish = {.topic_id = 1, .data = S("hello")}}},
        {"PUBLISH QoS 1 dup retain short",
         "09 0c b2 'ab' 00 07 'hi'",
         {.type = MQTTSN_PUBLISH,
          .publish = {.flags = {.dup = true,
                                .qos = 1,
                                .retain = true,
                                .topic_id_type = MQTTSN_TOPIC_SHORT},
                      .topic_id = MQTTSN_SHORT_TOPIC('a', 'b'),
                      .msg_id = 7,
                      .data = S("hi")}}},
        {"PUBLISH QoS -1 predefined empty",
         "07 0c 61 00 05 00 00",
         {.type = MQTTSN_PUBLISH,
          .publish = {.flags = {.qos = MQTTSN_QOS_M1, .topic_id_type = MQTTSN_TOPIC_PREDEFINED},
                      .topic_id = 5}}},
        {"PUBLISH QoS -1 all flags",
         "08 0c fe 12 34 ff fe 00",
         {.type = MQTTSN_PUBLISH,
          .publish = {.flags = {.dup = true,
                                .qos = MQTTSN_QOS_M1,
                                .retain = true,
                                .will = true,
                                .clean_session = true,
                                .topic_id_type = MQTTSN_TOPIC_SHORT},
                      .topic_id = 0x1234,
                      .msg_id = 0xfffe,
                      .data = S("\0")}}},
        {"PUBACK",
         "07 0d 00 01 00 07 02",
         {.type = MQTTSN_PUBACK,
          .topic_ack = {.topic_id = 1, .msg_id = 7, .code = MQTTSN_RC_INVALID_TOPIC_ID}}},
        {"PUBCOMP", "04 0e 00 07", {.type = MQTTSN_PUBCOMP, .msg_id = {.msg_id = 7}}},
        {"PUBREC", "04 0f 00 08", {.type = MQTTSN_PUBREC, .msg_id = {.msg_id = 8}}},
        {"PUBREL", "04 10 01 00", {.type = MQTTSN_PUBREL, .msg_id = {.msg_id = 256}}},
        {"SUBSCRIBE filter",
         "08 12 20 00 03 'a/#'",
         {.type = MQTTSN_SUBSCRIBE,
          .subscribe = {.flags = {.qos = 1}, .msg_id = 3, .topic_name = S("a/#")}}},
        {"SUBSCRIBE predefined",
         "07 12 81 00 04 00 2a",
         {.type = MQTTSN_SUBSCRIBE,
          .subscribe = {.flags = {.dup = true, .topic_id_type = MQTTSN_TOPIC_PREDEFINED},
                        .msg_id = 4,
                        .topic_id = 42}}},
        {"SUBSCRIBE short",
         "07 12 42 00 05 'xy'",
         {.type = MQTTSN_SUBSCRIBE,
          .subscribe = {.flags = {.qos = 2, .topic_id_type = MQTTSN_TOPIC_SHORT},
                        .msg_id = 5,
                        .topic_id = MQTTSN_SHORT_TOPIC('x', 'y')}}},
        {"SUBSCRIBE 2-byte name",
         "07 12 00 00 06 'ab'",
         {.type = MQTTSN_SUBSCRIBE, .subscribe = {.msg_id = 6, .topic_name = S("ab")}}},
        {"SUBACK",
         "08 13 20 00 01 00 03 00",
         {.type = MQTTSN_SUBACK,
          .suback = {.flags = {.qos = 1}, .topic_id = 1, .msg_id = 3, .code = MQTTSN_RC_ACCEPTED}}},
        {"SUBACK rejected",
         "08 13 00 00 00 00 04 03",
         {.type = MQTTSN_SUBACK, .suback = {.msg_id = 4, .code = MQTTSN_RC_NOT_SUPPORTED}}},
        {"UNSUBSCRIBE filter",
         "08 14 00 00 09 'a/+'",
         {.type = MQTTSN_UNSUBSCRIBE, .subscribe = {.msg_id = 9, .topic_name = S("a/+")}}},
        {"UNSUBSCRIBE short",
         "07 14 02 00 0a 'ab'",
         {.type = MQTTSN_UNSUBSCRIBE,
          .subscribe = {.flags = {.topic_id_type = MQTTSN_TOPIC_SHORT},
                        .msg_id = 10,
                        .topic_id = MQTTSN_SHORT_TOPIC('a', 'b')}}},
        {"UNSUBACK", "04 15 00 09", {.type = MQTTSN_UNSUBACK, .msg_id = {.msg_id = 9}}},
        {"PINGREQ", "02 16", {.type = MQTTSN_PINGREQ}},
        {"PINGREQ wake-up",
         "06 16 'cli1'",
         {.type = MQTTSN_PINGREQ, .pingreq = {.client_id = S("cli1")}}},
        {"PINGRESP", "02 17", {.type = MQTTSN_PINGRESP}},
        {"DISCONNECT", "02 18", {.type = MQTTSN_DISCONNECT}},
        {"DISCONNECT sleep",
         "04 18 0e 10",
         {.type = MQTTSN_DISCONNECT, .disconnect = {.has_duration = true, .duration = 3600}}},
        {"WILLTOPICUPD",
         "06 1a 10 'new'",
         {.type = MQTTSN_WILLTOPICUPD,
          .willtopic = {.flags = {.retain = true}, .topic = S("new")}}},
        {"WILLTOPICUPD empty",
         "02 1a",
         {.type = MQTTSN_WILLTOPICUPD, .willtopic = {.empty = true}}},
        {"WILLTOPICRESP", "03 1b 00", {.type = MQTTSN_WILLTOPICRESP}},
        {"WILLMSGUPD", "05 1c 'bye'", {.type = MQTTSN_WILLMSGUPD, .willmsg = {.msg = S("bye")}}},
        {"WILLMSGRESP",
         "03 1d 03",
         {.type = MQTTSN_WILLMSGRESP, .ret = {.code = MQTTSN_RC_NOT_SUPPORTED}}},
        {"ENCAPSULATED PUBLISH",
         "05 fe 01 ab cd  0c 0c 00 00 01 00 00 'hello'",
         {.type = MQTTSN_ENCAPSULATED,
          .encap = {.ctrl = 1,
                    .node_id = S("\xab\xcd"),
                    .inner = S("\x0c\x0c\x00\x00\x01\x00\x00hello")}}},
        {"ENCAPSULATED no node id",
         "03 fe fc 02 17",
         {.type = MQTTSN_ENCAPSULATED, .encap = {.ctrl = 0xfc, .inner = S("\x02\x17")}}},
};

static void check_flags_eq(const struct mqttsn_flags *g, const struct mqttsn_flags *w)
{
	CHECK_EQ(g->dup, w->dup);
	CHECK_EQ(g->qos, w->qos);
	CHECK_EQ(g->retain, w->retain);
	CHECK_EQ(g->will, w->will);
	CHECK_EQ(g->clean_session, w->clean_session);
	CHECK_EQ(g->topic_id_type, w->topic_id_type);
}

/* Every field of the message's type; views compared by content. */
static void check_msg_eq(const struct mqttsn_msg *g, const struct mqttsn_msg *w)
{
	CHECK_EQ(g->type, w->type);
	switch (w->type) {
	case MQTTSN_ADVERTISE:
		CHECK_EQ(g->advertise.gw_id, w->advertise.gw_id);
		CHECK_EQ(g->advertise.duration, w->advertise.duration);
		break;
	case MQTTSN_SEARCHGW:
		CHECK_EQ(g->searchgw.radius, w->searchgw.radius);
		break;
	case MQTTSN_GWINFO:
		CHECK_EQ(g->gwinfo.gw_id, w->gwinfo.gw_id);
		CHECK_MEM(g->gwinfo.gw_add.p, g->gwinfo.gw_add.len, w->gwinfo.gw_add.p,
		          w->gwinfo.gw_add.len);
		break;
	case MQTTSN_CONNECT:
		check_flags_eq(&g->connect.flags, &w->connect.flags);
		CHECK_EQ(g->connect.duration, w->connect.duration);
		CHECK_MEM(g->connect.client_id.p, g->connect.client_id.len, w->connect.client_id.p,
		          w->connect.client_id.len);
		break;
	case MQTTSN_CONNACK:
	case MQTTSN_WILLTOPICRESP:
	case MQTTSN_WILLMSGRESP:
		CHECK_EQ(g->ret.code, w->ret.code);
		break;
	case MQTTSN_WILLTOPIC:
	case MQTTSN_WILLTOPICUPD:
		CHECK_EQ(g->willtopic.empty, w->willtopic.empty);
		check_flags_eq(&g->willtopic.flags, &w->willtopic.flags);
		CHECK_MEM(g->willtopic.topic.p, g->willtopic.topic.len, w->willtopic.topic.p,
		          w->willtopic.topic.len);
		break;
	case MQTTSN_WILLMSG:
	case MQTTSN_WILLMSGUPD:
		CHECK_MEM(g->willmsg.msg.p, g->willmsg.msg.len, w->willmsg.msg.p,
		          w->willmsg.msg.len);
		break;
	case MQTTSN_REGISTER:
		CHECK_EQ(g->reg.topic_id, w->reg.topic_id);
		CHECK_EQ(g->reg.msg_id, w->reg.msg_id);
		CHECK_MEM(g->reg.topic_name.p, g->reg.topic_name.len, w->reg.topic_name.p,
		          w->reg.topic_name.len);
		break;
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		CHECK_EQ(g->topic_ack.topic_id, w->topic_ack.topic_id);
		CHECK_EQ(g->topic_ack.msg_id, w->topic_ack.msg_id);
		CHECK_EQ(g->topic_ack.code, w->topic_ack.code);
		break;
	case MQTTSN_PUBLISH:
		check_flags_eq(&g->publish.flags, &w->publish.flags);
		CHECK_EQ(g->publish.topic_id, w->publish.topic_id);
		CHECK_EQ(g->publish.msg_id, w->publish.msg_id);
		CHECK_MEM(g->publish.data.p, g->publish.data.len, w->publish.data.p,
		          w->publish.data.len);
		break;
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
	case MQTTSN_UNSUBACK:
		CHECK_EQ(g->msg_id.msg_id, w->msg_id.msg_id);
		break;
	case MQTTSN_SUBSCRIBE:
	case MQTTSN_UNSUBSCRIBE:
		check_flags_eq(&g->subscribe.flags, &w->subscribe.flags);
		CHECK_EQ(g->subscribe.msg_id, w->subscribe.msg_id);
		CHECK_EQ(g->subscribe.topic_id, w->subscribe.topic_id);
		CHECK_MEM(g->subscribe.topic_name.p, g->subscribe.topic_name.len,
		          w->subscribe.topic_name.p, w->subscribe.topic_name.len);
		break;
	case MQTTSN_SUBACK:
		check_flags_eq(&g->suback.flags, &w->suback.flags);
		CHECK_EQ(g->suback.topic_id, w->suback.topic_id);
		CHECK_EQ(g->suback.msg_id, w->suback.msg_id);
		CHECK_EQ(g->suback.code, w->suback.code);
		break;
	case MQTTSN_PINGREQ:
		CHECK_MEM(g->pingreq.client_id.p, g->pingreq.client_id.len, w->pingreq.client_id.p,
		          w->pingreq.client_id.len);
		break;
	case MQTTSN_DISCONNECT:
		CHECK_EQ(g->disconnect.has_duration, w->disconnect.has_duration);
		CHECK_EQ(g->disconnect.duration, w->disconnect.duration);
		break;
	case MQTTSN_ENCAPSULATED:
		CHECK_EQ(g->encap.ctrl, w->encap.ctrl);
		CHECK_MEM(g->encap.node_id.p, g->encap.node_id.len, w->encap.node_id.p,
		          w->encap.node_id.len);
		CHECK_MEM(g->encap.inner.p, g->encap.inner.len, w->encap.inner.p,
		          w->encap.inner.len);
		break;
	default: /* WILLTOPICREQ, WILLMSGREQ, PINGRESP: nothing but the type */
		break;
	}
}

/* Decode `wire`, compare with `want`; encode `want` and the decoded message, compare with
 * `wire`. */
static void round_trip(const char *name, const uint8_t *wire, size_t n,
                       const struct mqttsn_msg *want)
{
	unsigned failed = check_state_.failed;
	struct mqttsn_msg got;
	static uint8_t out[70000];

	CHECK_EQ(mqttsn_decode(wire, n, &got), 0);
	check_msg_eq(&got, want);
	CHECK_EQ(mqttsn_encoded_size(want), (long)n);
	CHECK_EQ(mqttsn_encode(want, out, sizeof(out)), (long)n);
	CHECK_MEM(out, n, wire, n);
	CHECK_EQ(mqttsn_encode(&got, out, n), (long)n); /* exact capacity is enough */
	CHECK_MEM(out, n, wire, n);
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ in vector \"%s\"\n", name);
}

static void test_vectors(void)
{
	uint8_t wire[512];
	bool seen[256] = {false};

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = hex(vectors[i].hex, wire, sizeof(wire));
		round_trip(vectors[i].name, wire, n, &vectors[i].want);
		seen[vectors[i].want.type] = true;
	}
	/* Every MsgType of §5.2.2 Table 3 has at least one vector. */
	for (unsigned t = 0; t < 256; t++)
		if (t == MQTTSN_ENCAPSULATED || strcmp(mqttsn_type_name((uint8_t)t), "reserved"))
			CHECK(seen[t]);
}

/* A PUBLISH of `data_len` bytes of payload; returns the datagram length. */
static size_t make_publish(uint8_t *buf, size_t data_len, struct mqttsn_msg *m, bool long_form)
{
	static uint8_t payload[65535];
	size_t hdr = long_form ? 4 : 2, total = hdr + 5 + data_len;

	for (size_t i = 0; i < data_len; i++)
		payload[i] = (uint8_t)(i * 7);
	memset(m, 0, sizeof(*m));
	m->type = MQTTSN_PUBLISH;
	m->publish.flags.qos = 1;
	m->publish.topic_id = 0x0102;
	m->publish.msg_id = 0x0304;
	m->publish.data.p = payload;
	m->publish.data.len = (uint16_t)data_len;
	if (long_form) {
		buf[0] = MQTTSN_LEN3_MARK;
		buf[1] = (uint8_t)(total >> 8);
		buf[2] = (uint8_t)total;
	} else {
		buf[0] = (uint8_t)total;
	}
	memcpy(buf + hdr - 1, "\x0c\x20\x01\x02\x03\x04", 6);
	memcpy(buf + hdr + 5, payload, data_len);
	return total;
}

static void test_long_length(void)
{
	static uint8_t wire[65536];
	struct mqttsn_msg m;
	size_t n;

	/* §5.2.1: 300-byte payload, 309 bytes, 3-byte Length 01 01 35. */
	n = make_publish(wire, 300, &m, true);
	CHECK_EQ(n, 309);
	CHECK_MEM(wire, 4, "\x01\x01\x35\x0c", 4);
	round_trip("PUBLISH 300", wire, n, &m);

	/* The boundary: 255 bytes keep the 1-byte form, 256 would not fit it and take 258. */
	n = make_publish(wire, 248, &m, false);
	CHECK_EQ(n, 255);
	round_trip("PUBLISH 255 total", wire, n, &m);
	n = make_publish(wire, 249, &m, true);
	CHECK_EQ(n, 258);
	round_trip("PUBLISH 258 total", wire, n, &m);

	/* The largest message: Length 65535. */
	n = make_publish(wire, 65526, &m, true);
	CHECK_EQ(n, 65535);
	CHECK_MEM(wire, 3, "\x01\xff\xff", 3);
	round_trip("PUBLISH 65535 total", wire, n, &m);
}

/* §5.2.1 does not forbid a 3-byte Length below 256: accepted, re-encoded in the 1-byte form. */
static void test_long_form_small(void)
{
	uint8_t wire[64], out[64];
	struct mqttsn_msg m;
	size_t n = hex("01 00 0e 0c 00 00 01 00 00 'hello'", wire, sizeof(wire));

	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(m.type, MQTTSN_PUBLISH);
	CHECK_EQ(m.publish.topic_id, 1);
	CHECK_STR(m.publish.data, "hello");
	CHECK_EQ(mqttsn_encode(&m, out, sizeof(out)), 12);
	CHECK_MEM(out, 12, "\x0c\x0c\x00\x00\x01\x00\x00hello", 12);

	n = hex("01 00 04 17", wire, sizeof(wire));
	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(m.type, MQTTSN_PINGRESP);
}

static void test_encapsulated(void)
{
	uint8_t wire[64], inner_wire[32], out[64];
	struct mqttsn_msg m, inner;
	size_t n = hex("06 fe 02 01 02 03  09 0c b2 'ab' 00 07 'hi'", wire, sizeof(wire));

	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(m.type, MQTTSN_ENCAPSULATED);
	CHECK_EQ(m.encap.ctrl & 0x03, 2); /* radius */
	CHECK_MEM(m.encap.node_id.p, m.encap.node_id.len, "\x01\x02\x03", 3);
	CHECK(m.encap.inner.p == wire + 6); /* a view, not a copy */
	CHECK_EQ(mqttsn_decode_inner(&m.encap, &inner), 0);
	CHECK_EQ(inner.type, MQTTSN_PUBLISH);
	CHECK_EQ(inner.publish.flags.dup, true);
	CHECK_EQ(inner.publish.flags.qos, 1);
	CHECK_EQ(inner.publish.flags.retain, true);
	CHECK_EQ(inner.publish.flags.topic_id_type, MQTTSN_TOPIC_SHORT);
	CHECK_EQ(inner.publish.topic_id, MQTTSN_SHORT_TOPIC('a', 'b'));
	CHECK_EQ(inner.publish.msg_id, 7);
	CHECK_STR(inner.publish.data, "hi");

	/* Build the same datagram: encode the inner message, then wrap it. */
	long in = mqttsn_encode(&inner, inner_wire, sizeof(inner_wire));
	CHECK_EQ(in, 9);
	struct mqttsn_msg e = {.type = MQTTSN_ENCAPSULATED,
	                       .encap = {.ctrl = 2,
	                                 .node_id = S("\x01\x02\x03"),
	                                 .inner = {inner_wire, (uint16_t)in}}};
	CHECK_EQ(mqttsn_encoded_size(&e), (long)n);
	CHECK_EQ(mqttsn_encode(&e, out, sizeof(out)), (long)n);
	CHECK_MEM(out, n, wire, n);

	/* An inner message in the 3-byte form; the encapsulation Length stays one octet. */
	n = hex("03 fe 00  01 00 04 17", wire, sizeof(wire));
	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(mqttsn_decode_inner(&m.encap, &inner), 0);
	CHECK_EQ(inner.type, MQTTSN_PINGRESP);

	/* A malformed inner message is reported by the second call, not the first. */
	n = hex("03 fe 00  03 17", wire, sizeof(wire));
	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(mqttsn_decode_inner(&m.encap, &inner), -EBADMSG);

	/* §5.5: no encapsulation inside an encapsulation. */
	n = hex("03 fe 00  05 fe 00 02 17", wire, sizeof(wire));
	CHECK_EQ(mqttsn_decode(wire, n, &m), 0);
	CHECK_EQ(mqttsn_decode_inner(&m.encap, &inner), -EBADMSG);
}

static void test_type_names(void)
{
	CHECK(strcmp(mqttsn_type_name(MQTTSN_ADVERTISE), "ADVERTISE") == 0);
	CHECK(strcmp(mqttsn_type_name(MQTTSN_PUBLISH), "PUBLISH") == 0);
	CHECK(strcmp(mqttsn_type_name(MQTTSN_WILLMSGRESP), "WILLMSGRESP") == 0);
	CHECK(strcmp(mqttsn_type_name(MQTTSN_ENCAPSULATED), "ENCAPSULATED") == 0);
	CHECK(strcmp(mqttsn_type_name(0x03), "reserved") == 0);
	CHECK(strcmp(mqttsn_type_name(0x11), "reserved") == 0);
	CHECK(strcmp(mqttsn_type_name(0x19), "reserved") == 0);
	CHECK(strcmp(mqttsn_type_name(0x1E), "reserved") == 0);
	CHECK(strcmp(mqttsn_type_name(0xFF), "reserved") == 0);
}

int main(void)
{
	test_vectors();
	test_long_length();
	test_long_form_small();
	test_encapsulated();
	test_type_names();
	return check_report();
}
