/* test_properties.c - MQTT 5 property blocks: exact-byte vectors per wire type, round trips of
 * full CONNECT / CONNACK / PUBLISH / Will blocks, pass-through and iterators (errors and
 * contexts: test_properties_errors.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "props_vectors.h"

/* ---- One vector per wire type ---------------------------------------------------------- */

static void test_byte(void)
{
	uint8_t buf[64];
	struct mqtt_props p = {0};

	CHECK_EQ(dec("02 01 01", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT));
	CHECK(mqtt_props_has(&p, MQTT_PROP_PAYLOAD_FORMAT));
	CHECK_EQ(p.payload_format, 1);
	CHECK(p.raw == buf + 1);
	CHECK_EQ(p.raw_len, 2);

	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS), .maximum_qos = 1};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_CONNACK, "02 24 01"));
	e.maximum_qos = 0;
	CHECK(encodes_to_hex(&e, MQTT_PCTX_CONNACK, "02 24 00"));
}

static void test_u16(void)
{
	uint8_t buf[64];
	struct mqtt_props p;

	CHECK_EQ(dec("03 23 ab cd", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS));
	CHECK_EQ(p.topic_alias, 0xabcd);

	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE),
	                       .server_keep_alive = 0x1234};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_CONNACK, "03 13 12 34"));
}

static void test_u32(void)
{
	uint8_t buf[64];
	struct mqtt_props p;

	CHECK_EQ(dec("05 02 00 00 0e 10", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY));
	CHECK_EQ(p.message_expiry, 3600);
	CHECK_EQ(dec("05 11 ff ff ff ff", MQTT_PCTX_DISCONNECT, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.session_expiry, 0xffffffffu);

	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_WILL_DELAY),
	                       .will_delay = 0x01020304};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_WILL, "05 18 01 02 03 04"));
}

static void test_varint(void)
{
	uint8_t buf[64];
	struct mqtt_props p;
	uint32_t cur = 0, id = 0;

	/* 16384 needs three bytes; 268435455 is the largest Variable Byte Integer. */
	CHECK_EQ(dec("09 0b 80 80 01 0b ff ff ff 7f", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID));
	CHECK_EQ(p.sub_id_count, 2);
	CHECK(p.sub_ids == NULL);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, 16384);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, MQTT_VARINT_MAX);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 0);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 0);

	static const uint32_t ids[] = {1, 127, 128, 16383, 2097152};
	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID),
	                       .sub_ids = ids,
	                       .sub_id_count = 5};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_PUBLISH,
	                     "0f 0b 01 0b 7f 0b 80 01 0b ff 7f 0b 80 80 80 01"));
	e.sub_id_count = 1;
	CHECK(encodes_to_hex(&e, MQTT_PCTX_SUBSCRIBE, "02 0b 01"));
}

static void test_utf8(void)
{
	uint8_t buf[64];
	struct mqtt_props p;

	CHECK_EQ(dec("0d 03 00 0a 'text/plain'", MQTT_PCTX_WILL, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE));
	CHECK_STR(p.content_type, "text/plain");
	CHECK(p.content_type.p == buf + 4); /* a view into the input */
	/* Empty string, and a multi-byte character (U+00E9) with a BOM [MQTT-1.5.4-3]. */
	CHECK_EQ(dec("03 1f 00 00", MQTT_PCTX_PUBACK, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.reason_string.len, 0);
	CHECK_EQ(dec("08 1f 00 05 c3 a9 ef bb bf", MQTT_PCTX_SUBACK, &p, buf, sizeof(buf)), 0);
	CHECK_STR(p.reason_string, "\xc3\xa9\xef\xbb\xbf");

	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_SERVER_REFERENCE),
	                       .server_reference = S("host:1883")};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_DISCONNECT, "0c 1c 00 09 'host:1883'"));
}

static void test_binary(void)
{
	uint8_t buf[64];
	struct mqtt_props p;

	/* Binary Data may hold anything, NUL and invalid UTF-8 included. */
	CHECK_EQ(dec("07 09 00 04 00 ff c0 80", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA));
	CHECK_MEM(p.correlation_data.p, p.correlation_data.len, "\x00\xff\xc0\x80", 4);

	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_AUTH_DATA),
	                       .auth_data = {(const uint8_t *)"\x00\x01", 2}};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_AUTH, "05 16 00 02 00 01"));
	e.auth_data = (struct mqtt_str){NULL, 0}; /* empty, no pointer */
	CHECK(encodes_to_hex(&e, MQTT_PCTX_AUTH, "03 16 00 00"));
}

static void test_pair(void)
{
	uint8_t buf[64];
	struct mqtt_props p;
	struct mqtt_user_prop up;
	uint32_t cur = 0;

	CHECK_EQ(dec("0b 26 00 03 'key' 00 03 'val'", MQTT_PCTX_UNSUBSCRIBE, &p, buf, sizeof(buf)),
	         0);
	CHECK_EQ(p.present, MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY));
	CHECK_EQ(p.user_count, 1);
	CHECK(p.user == NULL);
	CHECK_EQ(mqtt_props_next_user(&p, &cur, &up), 1);
	CHECK_STR(up.key, "key");
	CHECK_STR(up.value, "val");
	CHECK(up.key.p == buf + 4);
	CHECK_EQ(mqtt_props_next_user(&p, &cur, &up), 0);

	static const struct mqtt_user_prop users[] = {{S("a"), S("")}, {S(""), S("bc")}};
	struct mqtt_props e = {
	        .present = MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY), .user = users, .user_count = 2};
	CHECK(encodes_to_hex(&e, MQTT_PCTX_AUTH, "0d 26 00 01 'a' 00 00 26 00 00 00 02 'bc'"));
}

static void test_empty(void)
{
	uint8_t buf[64];
	struct mqtt_props p;

	/* *out is cleared even for an empty block. */
	memset(&p, 0xa5, sizeof(p));
	CHECK_EQ(dec("00", MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, 0);
	CHECK_EQ(p.raw_len, 0);
	CHECK_EQ(p.user_count, 0);
	CHECK_EQ(p.sub_id_count, 0);
	CHECK(p.user == NULL && p.sub_ids == NULL);
	CHECK_EQ(p.topic_alias, 0);
	CHECK(p.content_type.p == NULL);
	/* An overlong length is malformed: minimum number of bytes [MQTT-1.5.5-1]. */
	CHECK_EQ(dec("80 00", MQTT_PCTX_CONNECT, &p, buf, sizeof(buf)), -EBADMSG);

	struct mqtt_props e = {0};
	for (int c = 0; c < NCTX; c++)
		CHECK(encodes_to_hex(&e, (enum mqtt_prop_ctx)c, "00"));
}

/* The decoder stops at the end of the block, leaving what follows (the payload) unread. */
static void test_reader_position(void)
{
	uint8_t buf[64];
	struct mqtt_reader r;
	struct mqtt_props p;
	size_t n = hex("02 01 00 'payload'", buf, sizeof(buf));

	mqtt_reader_init(&r, buf, n);
	CHECK_EQ(mqtt_props_decode(&r, MQTT_PCTX_PUBLISH, &p), 0);
	CHECK_EQ(r.off, 3);
	CHECK_EQ(mqtt_reader_left(&r), 7);
}

/* A 128-byte body needs a 2-byte Property Length; a 65535-byte string is the largest. */
static void test_length_boundaries(void)
{
	static uint8_t big[65535 + 8];
	struct mqtt_props e = {.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE)};
	struct mqtt_props p;
	struct mqtt_reader r;
	struct mqtt_writer w;

	memset(big, 'x', sizeof(big));
	e.content_type = (struct mqtt_str){big, 125};
	CHECK_EQ(mqtt_props_size(&e, MQTT_PCTX_PUBLISH), 130);
	e.content_type.len = 124;
	CHECK_EQ(mqtt_props_size(&e, MQTT_PCTX_PUBLISH), 128);

	e.content_type.len = 65535;
	long size = mqtt_props_size(&e, MQTT_PCTX_PUBLISH);
	CHECK_EQ(size, 3 + 1 + 2 + 65535);
	uint8_t *out = malloc((size_t)size);
	CHECK(out != NULL);
	if (!out)
		return;
	mqtt_writer_init(&w, out, (size_t)size);
	mqtt_props_write(&w, &e, MQTT_PCTX_PUBLISH);
	CHECK_EQ(w.len, size);
	CHECK_MEM(out, 6, "\x82\x80\x04\x03\xff\xff", 6);
	mqtt_reader_init(&r, out, w.len);
	CHECK_EQ(mqtt_props_decode(&r, MQTT_PCTX_PUBLISH, &p), 0);
	CHECK_EQ(p.content_type.len, 65535);
	CHECK(p.content_type.p == out + 6);
	free(out);
}

/* ---- Whole blocks ---------------------------------------------------------------------- */

static const char connect_block[] = "28"
                                    " 11 00 00 00 78"
                                    " 15 00 05 'SCRAM'"
                                    " 16 00 02 01 02"
                                    " 17 00"
                                    " 19 01"
                                    " 21 00 10"
                                    " 22 00 0a"
                                    " 26 00 01 'a' 00 01 'b'"
                                    " 27 00 00 10 00";

static void test_connect_block(void)
{
	static const struct mqtt_user_prop users[] = {{S("a"), S("b")}};
	struct mqtt_props e = {
	        .present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY) |
	                   MQTT_PROP_BIT(MQTT_PROP_AUTH_METHOD) |
	                   MQTT_PROP_BIT(MQTT_PROP_AUTH_DATA) |
	                   MQTT_PROP_BIT(MQTT_PROP_REQUEST_PROBLEM_INFO) |
	                   MQTT_PROP_BIT(MQTT_PROP_REQUEST_RESPONSE_INFO) |
	                   MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM) |
	                   MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM) |
	                   MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY) |
	                   MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE),
	        .session_expiry = 120,
	        .auth_method = S("SCRAM"),
	        .auth_data = S("\x01\x02"),
	        .request_problem_info = 0,
	        .request_response_info = 1,
	        .receive_maximum = 16,
	        .topic_alias_maximum = 10,
	        .user = users,
	        .user_count = 1,
	        .maximum_packet_size = 4096,
	};
	uint8_t buf[256];
	struct mqtt_props p;
	struct mqtt_user_prop up;
	uint32_t cur = 0;

	CHECK(encodes_to_hex(&e, MQTT_PCTX_CONNECT, connect_block));
	CHECK_EQ(dec(connect_block, MQTT_PCTX_CONNECT, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, e.present);
	CHECK_EQ(p.session_expiry, 120);
	CHECK_STR(p.auth_method, "SCRAM");
	CHECK_MEM(p.auth_data.p, p.auth_data.len, "\x01\x02", 2);
	CHECK_EQ(p.request_problem_info, 0);
	CHECK_EQ(p.request_response_info, 1);
	CHECK_EQ(p.receive_maximum, 16);
	CHECK_EQ(p.topic_alias_maximum, 10);
	CHECK_EQ(p.maximum_packet_size, 4096);
	CHECK_EQ(p.user_count, 1);
	CHECK_EQ(mqtt_props_next_user(&p, &cur, &up), 1);
	CHECK_STR(up.key, "a");
	CHECK_STR(up.value, "b");
	CHECK(passes_through(connect_block, MQTT_PCTX_CONNECT));
}

static const char connack_block[] = "41"
                                    " 11 00 00 00 3c"
                                    " 12 00 03 'cid'"
                                    " 13 00 1e"
                                    " 15 00 01 'M'"
                                    " 16 00 01 ff"
                                    " 1a 00 02 'ri'"
                                    " 1c 00 02 'sr'"
                                    " 1f 00 02 'ok'"
                                    " 21 00 14"
                                    " 22 00 05"
                                    " 24 01"
                                    " 25 00"
                                    " 26 00 01 'k' 00 01 'v'"
                                    " 27 00 01 00 00"
                                    " 28 01"
                                    " 29 00"
                                    " 2a 01";

static void test_connack_block(void)
{
	static const struct mqtt_user_prop users[] = {{S("k"), S("v")}};
	struct mqtt_props e = {
	        .session_expiry = 60,
	        .assigned_client_id = S("cid"),
	        .server_keep_alive = 30,
	        .auth_method = S("M"),
	        .auth_data = S("\xff"),
	        .response_info = S("ri"),
	        .server_reference = S("sr"),
	        .reason_string = S("ok"),
	        .receive_maximum = 20,
	        .topic_alias_maximum = 5,
	        .maximum_qos = 1,
	        .retain_available = 0,
	        .user = users,
	        .user_count = 1,
	        .maximum_packet_size = 65536,
	        .wildcard_sub_available = 1,
	        .sub_id_available = 0,
	        .shared_sub_available = 1,
	};
	static const uint8_t ids[] = {0x11, 0x12, 0x13, 0x15, 0x16, 0x1a, 0x1c, 0x1f, 0x21,
	                              0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a};
	uint8_t buf[256];
	struct mqtt_props p;

	for (size_t i = 0; i < sizeof(ids); i++)
		e.present |= MQTT_PROP_BIT(ids[i]);
	CHECK(encodes_to_hex(&e, MQTT_PCTX_CONNACK, connack_block));
	CHECK_EQ(dec(connack_block, MQTT_PCTX_CONNACK, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, e.present);
	CHECK_EQ(p.session_expiry, 60);
	CHECK_STR(p.assigned_client_id, "cid");
	CHECK_EQ(p.server_keep_alive, 30);
	CHECK_STR(p.auth_method, "M");
	CHECK_MEM(p.auth_data.p, p.auth_data.len, "\xff", 1);
	CHECK_STR(p.response_info, "ri");
	CHECK_STR(p.server_reference, "sr");
	CHECK_STR(p.reason_string, "ok");
	CHECK_EQ(p.receive_maximum, 20);
	CHECK_EQ(p.topic_alias_maximum, 5);
	CHECK_EQ(p.maximum_qos, 1);
	CHECK_EQ(p.retain_available, 0);
	CHECK_EQ(p.user_count, 1);
	CHECK_EQ(p.maximum_packet_size, 65536);
	CHECK_EQ(p.wildcard_sub_available, 1);
	CHECK_EQ(p.sub_id_available, 0);
	CHECK_EQ(p.shared_sub_available, 1);
	CHECK(passes_through(connack_block, MQTT_PCTX_CONNACK));
}

static const char publish_block[] = "36"
                                    " 01 01"
                                    " 02 00 00 00 0a"
                                    " 03 00 04 'json'"
                                    " 08 00 03 'r/t'"
                                    " 09 00 02 ab cd"
                                    " 0b 01"
                                    " 0b 80 01"
                                    " 23 00 07"
                                    " 26 00 01 'a' 00 01 '1'"
                                    " 26 00 01 'b' 00 01 '2'"
                                    " 26 00 01 'a' 00 01 '3'";

static void test_publish_block(void)
{
	static const struct mqtt_user_prop users[] = {
	        {S("a"), S("1")}, {S("b"), S("2")}, {S("a"), S("3")}};
	static const uint32_t ids[] = {1, 128};
	struct mqtt_props e = {
	        .present = MQTT_PROP_BIT(0x01) | MQTT_PROP_BIT(0x02) | MQTT_PROP_BIT(0x03) |
	                   MQTT_PROP_BIT(0x08) | MQTT_PROP_BIT(0x09) | MQTT_PROP_BIT(0x0b) |
	                   MQTT_PROP_BIT(0x23) | MQTT_PROP_BIT(0x26),
	        .payload_format = 1,
	        .message_expiry = 10,
	        .content_type = S("json"),
	        .response_topic = S("r/t"),
	        .correlation_data = S("\xab\xcd"),
	        .sub_ids = ids,
	        .sub_id_count = 2,
	        .topic_alias = 7,
	        .user = users,
	        .user_count = 3,
	};
	static const char *const want[][2] = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
	uint8_t buf[256];
	struct mqtt_props p;
	struct mqtt_user_prop up;
	uint32_t cur = 0, id;
	int n = 0;

	CHECK(encodes_to_hex(&e, MQTT_PCTX_PUBLISH, publish_block));
	CHECK_EQ(dec(publish_block, MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, e.present);
	CHECK_EQ(p.payload_format, 1);
	CHECK_EQ(p.message_expiry, 10);
	CHECK_STR(p.content_type, "json");
	CHECK_STR(p.response_topic, "r/t");
	CHECK_MEM(p.correlation_data.p, p.correlation_data.len, "\xab\xcd", 2);
	CHECK_EQ(p.topic_alias, 7);
	CHECK_EQ(p.sub_id_count, 2);
	CHECK_EQ(p.user_count, 3);
	for (; mqtt_props_next_user(&p, &cur, &up) && n < 3; n++) {
		CHECK_STR(up.key, want[n][0]);
		CHECK_STR(up.value, want[n][1]);
	}
	CHECK_EQ(n, 3);
	cur = 0;
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, 1);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, 128);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 0);
	CHECK(passes_through(publish_block, MQTT_PCTX_PUBLISH));
}

static const char will_block[] = "1e"
                                 " 01 00"
                                 " 02 00 00 00 3c"
                                 " 03 00 01 't'"
                                 " 08 00 01 'r'"
                                 " 09 00 01 00"
                                 " 18 00 00 00 05"
                                 " 26 00 01 'x' 00 00";

static void test_will_block(void)
{
	static const struct mqtt_user_prop users[] = {{S("x"), S("")}};
	struct mqtt_props e = {
	        .present = MQTT_PROP_BIT(0x01) | MQTT_PROP_BIT(0x02) | MQTT_PROP_BIT(0x03) |
	                   MQTT_PROP_BIT(0x08) | MQTT_PROP_BIT(0x09) | MQTT_PROP_BIT(0x18) |
	                   MQTT_PROP_BIT(0x26),
	        .payload_format = 0,
	        .message_expiry = 60,
	        .content_type = S("t"),
	        .response_topic = S("r"),
	        .correlation_data = {(const uint8_t *)"", 1},
	        .will_delay = 5,
	        .user = users,
	        .user_count = 1,
	};
	uint8_t buf[128];
	struct mqtt_props p;

	CHECK(encodes_to_hex(&e, MQTT_PCTX_WILL, will_block));
	CHECK_EQ(dec(will_block, MQTT_PCTX_WILL, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.present, e.present);
	CHECK_EQ(p.payload_format, 0);
	CHECK_EQ(p.message_expiry, 60);
	CHECK_STR(p.content_type, "t");
	CHECK_STR(p.response_topic, "r");
	CHECK_MEM(p.correlation_data.p, p.correlation_data.len, "\x00", 1);
	CHECK_EQ(p.will_delay, 5);
	CHECK_EQ(p.user_count, 1);
	CHECK(passes_through(will_block, MQTT_PCTX_WILL));
	/* Will Delay Interval is a Will property only: a Will block is not a PUBLISH block. */
	CHECK_EQ(dec_err(will_block, MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
}

/* ---- Pass-through ---------------------------------------------------------------------- */

static void test_pass_through(void)
{
	uint8_t buf[128];
	struct mqtt_props p;
	static const uint32_t mine[] = {42};

	CHECK(passes_through("0d 1f 00 03 'bad' 26 00 01 'k' 00 01 'v'", MQTT_PCTX_PUBACK));
	CHECK(passes_through("00", MQTT_PCTX_DISCONNECT));
	CHECK(passes_through("05 0b ff ff ff 7f", MQTT_PCTX_SUBSCRIBE));

	/* Input out of identifier order comes out in ascending order, the user properties and
	 * subscription identifiers keeping their own order. */
	const char *in = "15 26 00 01 'b' 00 00 0b 05 23 00 01 26 00 01 'a' 00 00 0b 03 01 01";
	CHECK_EQ(dec(in, MQTT_PCTX_PUBLISH, &p, buf, sizeof(buf)), 0);
	CHECK(encodes_to_hex(
	        &p, MQTT_PCTX_PUBLISH,
	        "15 01 01 0b 05 0b 03 23 00 01 26 00 01 'b' 00 00 26 00 01 'a' 00 00"));

	/* The broker forwards a PUBLISH: new subscription identifiers from an array, no topic
	 * alias, the user properties still copied from raw. */
	p.sub_ids = mine;
	p.sub_id_count = 1;
	p.present &= ~MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
	CHECK(encodes_to_hex(&p, MQTT_PCTX_PUBLISH,
	                     "10 01 01 0b 2a 26 00 01 'b' 00 00 26 00 01 'a' 00 00"));
	/* Dropping the user properties: clear the bit (or the count). */
	p.present &= ~MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
	CHECK(encodes_to_hex(&p, MQTT_PCTX_PUBLISH, "04 01 01 0b 2a"));
	p.present |= MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
	p.user_count = 0;
	CHECK(encodes_to_hex(&p, MQTT_PCTX_PUBLISH, "04 01 01 0b 2a"));
	/* Fewer from raw: the first user_count are forwarded. */
	p.user_count = 1;
	CHECK(encodes_to_hex(&p, MQTT_PCTX_PUBLISH, "0a 01 01 0b 2a 26 00 01 'b' 00 00"));
	/* More than raw holds cannot be represented. */
	p.user_count = 3;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
}

/* ---- Iterators ------------------------------------------------------------------------- */

static void test_iterators(void)
{
	static const struct mqtt_user_prop users[] = {{S("a"), S("b")}};
	static const uint32_t ids[] = {9, 10};
	struct mqtt_props p = {.user = users, .user_count = 1, .sub_ids = ids, .sub_id_count = 2};
	struct mqtt_user_prop up;
	uint32_t cur = 0, id;

	CHECK_EQ(mqtt_props_next_user(&p, &cur, &up), 1);
	CHECK_STR(up.key, "a");
	CHECK_EQ(mqtt_props_next_user(&p, &cur, &up), 0);
	cur = 0;
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, 9);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 1);
	CHECK_EQ(id, 10);
	CHECK_EQ(mqtt_props_next_sub_id(&p, &cur, &id), 0);

	/* Nothing to iterate. */
	struct mqtt_props none = {0};
	cur = 0;
	CHECK_EQ(mqtt_props_next_user(&none, &cur, &up), 0);
	CHECK_EQ(mqtt_props_next_sub_id(&none, &cur, &id), 0);
}

/* Iterating a raw block the decoder never saw stays inside raw_len. */
static void test_iterators_bounds(void)
{
	struct mqtt_user_prop up;
	uint32_t cur = 0, id;
	uint8_t junk[16];

	size_t n = hex("26 00 01 'k' 00 01 'v' 26 00 09", junk, sizeof(junk));
	struct mqtt_props bad = {.raw = junk, .raw_len = (uint32_t)n};
	cur = 0;
	CHECK_EQ(mqtt_props_next_user(&bad, &cur, &up), 1);
	CHECK_STR(up.value, "v");
	CHECK_EQ(mqtt_props_next_user(&bad, &cur, &up), 0);
	CHECK_EQ(cur, n);
	CHECK_EQ(mqtt_props_next_user(&bad, &cur, &up), 0);
	cur = 1000;
	CHECK_EQ(mqtt_props_next_user(&bad, &cur, &up), 0);
	CHECK_EQ(mqtt_props_next_sub_id(&bad, &cur, &id), 0);
	uint8_t unknown[] = {0x7f, 0x26, 0, 0, 0, 0};
	struct mqtt_props unk = {.raw = unknown, .raw_len = sizeof(unknown)};
	cur = 0;
	CHECK_EQ(mqtt_props_next_user(&unk, &cur, &up), 0);
}

int main(void)
{
	test_byte();
	test_u16();
	test_u32();
	test_varint();
	test_utf8();
	test_binary();
	test_pair();
	test_empty();
	test_reader_position();
	test_length_boundaries();
	test_connect_block();
	test_connack_block();
	test_publish_block();
	test_will_block();
	test_pass_through();
	test_iterators();
	test_iterators_bounds();
	return check_report();
}
