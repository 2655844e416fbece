/* test_properties.c - MQTT 5 property blocks: exact-byte vectors per wire type, round trips of
 * full CONNECT / CONNACK / PUBLISH / Will blocks, pass-through, iterators, and every error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"

#define S(lit) ((struct mqtt_str){(const uint8_t *)(lit), (uint16_t)(sizeof(lit) - 1)})

/* All contexts, as bits, for the expectation tables (independent of properties.c's table). */
#define B(c)     (1u << MQTT_PCTX_##c)
#define NCTX     (MQTT_PCTX_AUTH + 1)
#define ALL_CTX  ((1u << NCTX) - 1)
#define PUB_WILL (B(PUBLISH) | B(WILL))
#define CON_ACK  (B(CONNECT) | B(CONNACK))

/* Decodes the block given in hex from buf (which must outlive *p). On success also checks that
 * the decoder consumed exactly the block. */
static int dec(const char *h, enum mqtt_prop_ctx ctx, struct mqtt_props *p, uint8_t *buf,
               size_t cap)
{
	struct mqtt_reader r;
	size_t n = hex(h, buf, cap);
	int err;

	mqtt_reader_init(&r, buf, n);
	err = mqtt_props_decode(&r, ctx, p);
	if (err == 0)
		CHECK_EQ(mqtt_reader_left(&r), 0);
	return err;
}

/* Error of decoding `h` in ctx (0 on success). */
static int dec_err(const char *h, enum mqtt_prop_ctx ctx)
{
	uint8_t buf[512];
	struct mqtt_props p;

	return dec(h, ctx, &p, buf, sizeof(buf));
}

/* True when p encodes in ctx to exactly the bytes `want` (hex); size and write must agree. */
static bool encodes_to(const struct mqtt_props *p, enum mqtt_prop_ctx ctx, const uint8_t *want,
                       size_t n)
{
	uint8_t out[1024];
	struct mqtt_writer w;
	long size = mqtt_props_size(p, ctx);

	if (size != (long)n || size > (long)sizeof(out)) {
		fprintf(stderr, "    size %ld, want %zu\n", size, n);
		return false;
	}
	mqtt_writer_init(&w, out, (size_t)size);
	mqtt_props_write(&w, p, ctx);
	if (w.len != n || memcmp(out, want, n) != 0) {
		check_hexdump_("got ", out, w.len);
		check_hexdump_("want", want, n);
		return false;
	}
	return true;
}

static bool encodes_to_hex(const struct mqtt_props *p, enum mqtt_prop_ctx ctx, const char *h)
{
	uint8_t want[1024];
	size_t n = hex(h, want, sizeof(want));

	return encodes_to(p, ctx, want, n);
}

/* Decode `h`, encode the decoded struct unchanged (pass-through of raw), expect `h` again. */
static bool passes_through(const char *h, enum mqtt_prop_ctx ctx)
{
	uint8_t buf[1024];
	struct mqtt_props p;
	size_t n = hex(h, buf, sizeof(buf));
	struct mqtt_reader r;

	mqtt_reader_init(&r, buf, n);
	if (mqtt_props_decode(&r, ctx, &p) != 0)
		return false;
	return encodes_to(&p, ctx, buf, n);
}

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

/* ---- Where each property may appear, and repeats (MQTT 5.0 §2.2.2.2) ------------------- */

struct prop_case {
	uint8_t id;
	const char *value; /* a valid value, hex */
	unsigned ctx;      /* contexts where allowed, per the spec's table */
	unsigned multi;    /* contexts where it may repeat */
	unsigned alone;    /* contexts where it is a Protocol Error on its own */
};

static const struct prop_case prop_cases[] = {
        {0x01, "01", PUB_WILL, 0, 0},
        {0x02, "00 00 00 0a", PUB_WILL, 0, 0},
        {0x03, "00 01 'a'", PUB_WILL, 0, 0},
        {0x08, "00 01 'a'", PUB_WILL, 0, 0},
        {0x09, "00 01 00", PUB_WILL, 0, 0},
        {0x0b, "05", B(PUBLISH) | B(SUBSCRIBE), B(PUBLISH), 0},
        {0x11, "00 00 00 01", CON_ACK | B(DISCONNECT), 0, 0},
        {0x12, "00 01 'a'", B(CONNACK), 0, 0},
        {0x13, "00 01", B(CONNACK), 0, 0},
        {0x15, "00 01 'a'", CON_ACK | B(AUTH), 0, 0},
        {0x16, "00 01 00", CON_ACK | B(AUTH), 0, B(CONNECT)}, /* needs 0x15 [§3.1.2.11.10] */
        {0x17, "01", B(CONNECT), 0, 0},
        {0x18, "00 00 00 01", B(WILL), 0, 0},
        {0x19, "01", B(CONNECT), 0, 0},
        {0x1a, "00 01 'a'", B(CONNACK), 0, 0},
        {0x1c, "00 01 'a'", B(CONNACK) | B(DISCONNECT), 0, 0},
        {0x1f, "00 01 'a'",
         B(CONNACK) | B(PUBACK) | B(SUBACK) | B(UNSUBACK) | B(DISCONNECT) | B(AUTH), 0, 0},
        {0x21, "00 01", CON_ACK, 0, 0},
        {0x22, "00 01", CON_ACK, 0, 0},
        {0x23, "00 01", B(PUBLISH), 0, 0},
        {0x24, "01", B(CONNACK), 0, 0},
        {0x25, "01", B(CONNACK), 0, 0},
        {0x26, "00 01 'k' 00 01 'v'", ALL_CTX, ALL_CTX, 0},
        {0x27, "00 00 00 01", CON_ACK, 0, 0},
        {0x28, "01", B(CONNACK), 0, 0},
        {0x29, "01", B(CONNACK), 0, 0},
        {0x2a, "01", B(CONNACK), 0, 0},
};

/* block = Property Length, then `times` copies of id + value. */
static size_t make_block(const struct prop_case *c, int times, uint8_t *out)
{
	uint8_t v[32];
	size_t vn = hex(c->value, v, sizeof(v)), n = 1;

	for (int i = 0; i < times; i++) {
		out[n++] = c->id;
		memcpy(out + n, v, vn);
		n += vn;
	}
	out[0] = (uint8_t)(n - 1);
	return n;
}

static int decode_bytes(const uint8_t *b, size_t n, enum mqtt_prop_ctx ctx, struct mqtt_props *p)
{
	struct mqtt_reader r;

	mqtt_reader_init(&r, b, n);
	return mqtt_props_decode(&r, ctx, p);
}

/* One property in every context: decoded alone and twice, sized from a decoded block. */
static void check_prop_case(const struct prop_case *c)
{
	uint8_t once[64], twice[64];
	size_t n1 = make_block(c, 1, once), n2 = make_block(c, 2, twice);
	struct mqtt_props ok;
	int last = NCTX - 1;

	/* Decoded in its last allowed context, to re-encode in every context. */
	while (!(c->ctx & (1u << last)))
		last--;
	CHECK_EQ(decode_bytes(once, n1, (enum mqtt_prop_ctx)last, &ok), 0);
	for (int x = 0; x < NCTX; x++) {
		enum mqtt_prop_ctx ctx = (enum mqtt_prop_ctx)x;
		bool allowed = c->ctx & (1u << x), alone_ok = allowed && !(c->alone & (1u << x));
		int want = !allowed ? -EBADMSG : alone_ok ? 0 : -EPROTO;
		struct mqtt_props p;
		int err = decode_bytes(once, n1, ctx, &p);

		if (err != want)
			fprintf(stderr, "    property 0x%02x in context %d\n", c->id, x);
		CHECK_EQ(err, want);
		CHECK_EQ(mqtt_prop_allowed(c->id, ctx), allowed);
		CHECK_EQ(mqtt_props_size(&ok, ctx), alone_ok ? (long)n1 : -EINVAL);
		if (!alone_ok)
			continue;
		CHECK_EQ(p.present, MQTT_PROP_BIT(c->id));
		CHECK(encodes_to(&p, ctx, once, n1));
		/* Repeats: a Protocol Error except where the spec allows them. */
		want = (c->multi & (1u << x)) ? 0 : -EPROTO;
		err = decode_bytes(twice, n2, ctx, &p);
		if (err != want)
			fprintf(stderr, "    property 0x%02x twice in context %d\n", c->id, x);
		CHECK_EQ(err, want);
		if (err == 0)
			CHECK(encodes_to(&p, ctx, twice, n2));
	}
}

static void test_context_matrix(void)
{
	for (size_t i = 0; i < sizeof(prop_cases) / sizeof(prop_cases[0]); i++)
		check_prop_case(&prop_cases[i]);
}

/* A handful of not-allowed cases spelled out, as a reader of the spec would write them. */
static void test_not_allowed(void)
{
	CHECK_EQ(dec_err("05 18 00 00 00 01", MQTT_PCTX_PUBLISH), -EBADMSG); /* Will Delay */
	CHECK_EQ(dec_err("03 23 00 01", MQTT_PCTX_WILL), -EBADMSG);          /* Topic Alias */
	CHECK_EQ(dec_err("02 0b 01", MQTT_PCTX_CONNECT), -EBADMSG);          /* Sub Id */
	CHECK_EQ(dec_err("02 0b 01", MQTT_PCTX_UNSUBSCRIBE), -EBADMSG);
	CHECK_EQ(dec_err("02 0b 01", MQTT_PCTX_WILL), -EBADMSG);
	CHECK_EQ(dec_err("05 11 00 00 00 01", MQTT_PCTX_PUBLISH), -EBADMSG); /* Session Expiry */
	CHECK_EQ(dec_err("05 11 00 00 00 01", MQTT_PCTX_AUTH), -EBADMSG);
	CHECK_EQ(dec_err("04 1f 00 01 'x'", MQTT_PCTX_CONNECT), -EBADMSG); /* Reason String */
	CHECK_EQ(dec_err("04 1f 00 01 'x'", MQTT_PCTX_SUBSCRIBE), -EBADMSG);
	CHECK_EQ(dec_err("04 1f 00 01 'x'", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 24 00", MQTT_PCTX_CONNECT), -EBADMSG);          /* Maximum QoS */
	CHECK_EQ(dec_err("02 17 01", MQTT_PCTX_CONNACK), -EBADMSG);          /* Request Problem */
	CHECK_EQ(dec_err("04 12 00 01 'c'", MQTT_PCTX_CONNECT), -EBADMSG);   /* Assigned Id */
	CHECK_EQ(dec_err("02 01 01", MQTT_PCTX_CONNECT), -EBADMSG);          /* Payload Format */
	CHECK_EQ(dec_err("03 21 00 01", MQTT_PCTX_PUBLISH), -EBADMSG);       /* Receive Maximum */
	CHECK_EQ(dec_err("04 16 00 01 00", MQTT_PCTX_DISCONNECT), -EBADMSG); /* Auth Data */
	CHECK_EQ(dec_err("04 03 00 01 'x'", MQTT_PCTX_PUBACK), -EBADMSG);    /* Content Type */
	/* A valid property before the offending one does not help. */
	CHECK_EQ(dec_err("07 26 00 00 00 00 24 01", MQTT_PCTX_SUBACK), -EBADMSG);
}

static void test_duplicates(void)
{
	/* Subscription Identifier: once in SUBSCRIBE [§3.8.2.1.2], repeatable in PUBLISH. */
	CHECK_EQ(dec_err("04 0b 01 0b 02", MQTT_PCTX_SUBSCRIBE), -EPROTO);
	CHECK_EQ(dec_err("04 0b 01 0b 02", MQTT_PCTX_PUBLISH), 0);
	/* Duplicates need not be adjacent. */
	CHECK_EQ(dec_err("0b 21 00 01 26 00 00 00 00 21 00 02", MQTT_PCTX_CONNECT), -EPROTO);
	CHECK_EQ(dec_err("06 1f 00 00 1f 00 00", MQTT_PCTX_DISCONNECT), -EPROTO);
	CHECK_EQ(dec_err("04 01 00 01 00", MQTT_PCTX_WILL), -EPROTO);
	CHECK_EQ(dec_err("06 23 00 01 23 00 01", MQTT_PCTX_PUBLISH), -EPROTO);
	/* User Property: any number, identical pairs included. */
	CHECK_EQ(dec_err("0a 26 00 00 00 00 26 00 00 00 00", MQTT_PCTX_SUBSCRIBE), 0);
}

static void test_protocol_error_values(void)
{
	CHECK_EQ(dec_err("02 01 02", MQTT_PCTX_PUBLISH), -EPROTO); /* Payload Format */
	CHECK_EQ(dec_err("02 01 ff", MQTT_PCTX_WILL), -EPROTO);
	CHECK_EQ(dec_err("02 17 02", MQTT_PCTX_CONNECT), -EPROTO);          /* §3.1.2.11.7 */
	CHECK_EQ(dec_err("02 19 02", MQTT_PCTX_CONNECT), -EPROTO);          /* §3.1.2.11.6 */
	CHECK_EQ(dec_err("02 24 02", MQTT_PCTX_CONNACK), -EPROTO);          /* §3.2.2.3.4 */
	CHECK_EQ(dec_err("02 25 02", MQTT_PCTX_CONNACK), -EPROTO);          /* §3.2.2.3.5 */
	CHECK_EQ(dec_err("02 28 02", MQTT_PCTX_CONNACK), -EPROTO);          /* §3.2.2.3.11 */
	CHECK_EQ(dec_err("02 29 80", MQTT_PCTX_CONNACK), -EPROTO);          /* §3.2.2.3.12 */
	CHECK_EQ(dec_err("02 2a 02", MQTT_PCTX_CONNACK), -EPROTO);          /* §3.2.2.3.13 */
	CHECK_EQ(dec_err("03 21 00 00", MQTT_PCTX_CONNECT), -EPROTO);       /* §3.1.2.11.3 */
	CHECK_EQ(dec_err("03 21 00 00", MQTT_PCTX_CONNACK), -EPROTO);       /* §3.2.2.3.3 */
	CHECK_EQ(dec_err("05 27 00 00 00 00", MQTT_PCTX_CONNECT), -EPROTO); /* §3.1.2.11.4 */
	CHECK_EQ(dec_err("05 27 00 00 00 00", MQTT_PCTX_CONNACK), -EPROTO); /* §3.2.2.3.6 */
	CHECK_EQ(dec_err("03 23 00 00", MQTT_PCTX_PUBLISH), -ERANGE);       /* [MQTT-3.3.2-8] */
	CHECK_EQ(dec_err("02 0b 00", MQTT_PCTX_PUBLISH), -EPROTO);          /* §3.3.2.3.8 */
	CHECK_EQ(dec_err("02 0b 00", MQTT_PCTX_SUBSCRIBE), -EPROTO);        /* §3.8.2.1.2 */
	CHECK_EQ(dec_err("03 0b 80 00", MQTT_PCTX_SUBSCRIBE), -EBADMSG);    /* overlong 0 */
	/* Authentication Data without Authentication Method in CONNECT [§3.1.2.11.10]. */
	CHECK_EQ(dec_err("04 16 00 01 00", MQTT_PCTX_CONNECT), -EPROTO);
	CHECK_EQ(dec_err("09 16 00 01 00 15 00 02 'M1'", MQTT_PCTX_CONNECT), 0);
	CHECK_EQ(dec_err("04 16 00 01 00", MQTT_PCTX_AUTH), 0);
	/* The limits themselves are fine. */
	CHECK_EQ(dec_err("03 21 ff ff", MQTT_PCTX_CONNECT), 0);
	CHECK_EQ(dec_err("03 22 00 00", MQTT_PCTX_CONNECT), 0); /* Topic Alias Maximum 0 is ok */
	CHECK_EQ(dec_err("03 13 00 00", MQTT_PCTX_CONNACK), 0); /* Server Keep Alive 0 is ok */
	CHECK_EQ(dec_err("05 27 ff ff ff ff", MQTT_PCTX_CONNACK), 0);
	CHECK_EQ(dec_err("03 23 ff ff", MQTT_PCTX_PUBLISH), 0);
	CHECK_EQ(dec_err("02 24 00", MQTT_PCTX_CONNACK), 0);
}

static void test_malformed(void)
{
	/* Property Length: missing, truncated, 5 bytes [MQTT-1.5.5-1], longer than the input. */
	CHECK_EQ(dec_err("", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("80", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("80 80 80 80 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("ff ff ff ff 7f", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("05 01 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("ff ff ff 7f 01 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	/* Values cut short by the end of the block (even when the input goes on). */
	CHECK_EQ(dec_err("01 01", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 23 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 02 00 00 00 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 0b 80 01", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("05 0b 80 80 80 80", MQTT_PCTX_PUBLISH), -EBADMSG); /* 5-byte VBI */
	CHECK_EQ(dec_err("04 03 00 05 'a'", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 03 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("03 09 00 02 ab cd", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("05 26 00 01 'k'", MQTT_PCTX_PUBLISH), -EBADMSG); /* pair without value */
	CHECK_EQ(dec_err("06 26 00 01 'k' 00 01 'v'", MQTT_PCTX_PUBLISH), -EBADMSG);
	/* Invalid UTF-8 [MQTT-1.5.4-1, MQTT-1.5.4-2], in a string and in either half of a pair. */
	CHECK_EQ(dec_err("05 03 00 02 c0 80", MQTT_PCTX_PUBLISH), -EBADMSG);   /* overlong */
	CHECK_EQ(dec_err("04 08 00 01 00", MQTT_PCTX_PUBLISH), -EBADMSG);      /* U+0000 */
	CHECK_EQ(dec_err("06 1f 00 03 ed a0 80", MQTT_PCTX_PUBACK), -EBADMSG); /* surrogate */
	CHECK_EQ(dec_err("04 12 00 01 ff", MQTT_PCTX_CONNACK), -EBADMSG);
	CHECK_EQ(dec_err("06 15 00 03 e2 82 ac", MQTT_PCTX_AUTH), 0); /* U+20AC is fine */
	CHECK_EQ(dec_err("06 26 00 01 80 00 00", MQTT_PCTX_CONNECT), -EBADMSG);
	CHECK_EQ(dec_err("06 26 00 00 00 01 fe", MQTT_PCTX_CONNECT), -EBADMSG);
	/* Unknown identifiers: 0x00, 0x7F, gaps in the table, two-byte identifiers. */
	CHECK_EQ(dec_err("02 00 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 7f 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 04 00", MQTT_PCTX_PUBLISH), -EBADMSG);
	CHECK_EQ(dec_err("02 2b 00", MQTT_PCTX_CONNACK), -EBADMSG);
	CHECK_EQ(dec_err("03 80 01 00", MQTT_PCTX_CONNECT), -EBADMSG);
	CHECK_EQ(dec_err("03 81 00 01", MQTT_PCTX_PUBLISH), -EBADMSG); /* overlong 0x01 */
	CHECK_EQ(dec_err("01 80", MQTT_PCTX_PUBLISH), -EBADMSG);
}

static void test_allowed_edges(void)
{
	CHECK(!mqtt_prop_allowed((enum mqtt_prop_id)0x00, MQTT_PCTX_PUBLISH));
	CHECK(!mqtt_prop_allowed((enum mqtt_prop_id)0x7f, MQTT_PCTX_PUBLISH));
	CHECK(!mqtt_prop_allowed((enum mqtt_prop_id)0x2b, MQTT_PCTX_CONNACK));
	CHECK(!mqtt_prop_allowed((enum mqtt_prop_id)1000, MQTT_PCTX_CONNACK));
	CHECK(!mqtt_prop_allowed(MQTT_PROP_USER_PROPERTY, (enum mqtt_prop_ctx)NCTX));
	CHECK(!mqtt_prop_allowed(MQTT_PROP_USER_PROPERTY, (enum mqtt_prop_ctx) - 1));
	CHECK(mqtt_prop_allowed(MQTT_PROP_USER_PROPERTY, MQTT_PCTX_AUTH));
}

/* ---- Encoder errors -------------------------------------------------------------------- */

static void test_encode_errors(void)
{
	static const uint32_t zero[] = {0}, big[] = {MQTT_VARINT_MAX + 1}, two[] = {1, 2};
	struct mqtt_props p = {0};

	/* Not allowed in the context. */
	p.present = MQTT_PROP_BIT(MQTT_PROP_WILL_DELAY);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
	p.topic_alias = 1;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_WILL), -EINVAL);
	p.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNECT), -EINVAL);
	CHECK_EQ(mqtt_props_size(&p, (enum mqtt_prop_ctx)NCTX), -EINVAL);
	/* Bits that are no property. */
	p.present = MQTT_PROP_BIT(0);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.present = MQTT_PROP_BIT(0x04);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.present = MQTT_PROP_BIT(63);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);

	/* Subscription Identifiers: 0, above the VBI range, twice in SUBSCRIBE, missing. */
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID),
	                        .sub_id_count = 1};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.sub_ids = zero;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.sub_ids = big;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.sub_ids = two;
	p.sub_id_count = 2;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_SUBSCRIBE), -EINVAL);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), 5);

	/* Values the decoder would call a Protocol Error. */
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM)};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNECT), -EINVAL);
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS), .maximum_qos = 2};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNACK), -EINVAL);
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS)};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);

	/* Authentication Data without Authentication Method in CONNECT [§3.1.2.11.10]. */
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_AUTH_DATA)};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNECT), -EINVAL);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNACK), 4);
	p.present |= MQTT_PROP_BIT(MQTT_PROP_AUTH_METHOD);
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_CONNECT), 7);

	/* A string with a length and no bytes; user properties that are not there. */
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE),
	                        .content_type = {NULL, 3}};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p = (struct mqtt_props){.present = MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY), .user_count = 2};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	static const struct mqtt_user_prop nullkey[] = {{{NULL, 1}, {NULL, 0}}};
	p.user = nullkey;
	p.user_count = 1;
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
}

/* A block whose body would exceed MQTT_VARINT_MAX cannot be encoded. */
static void test_encode_too_big(void)
{
	enum { N = 2050 }; /* N * (1 + 2 + 65535 + 2 + 65535) > 268435455 */
	struct mqtt_user_prop *users = calloc(N, sizeof(*users));
	uint8_t *s = calloc(65535, 1);

	CHECK(users && s);
	if (!users || !s)
		goto out;
	for (int i = 0; i < N; i++)
		users[i] = (struct mqtt_user_prop){{s, 65535}, {s, 65535}};
	struct mqtt_props p = {
	        .present = MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY), .user = users, .user_count = N};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
	p.user_count = 2047; /* 2047 * 131075 = 268310525 fits */
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), 4 + 268310525L);
	/* Each part fits, the sum does not. */
	static uint8_t pad[65535];
	p.present |=
	        MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) | MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
	p.content_type = (struct mqtt_str){pad, 65535};
	p.response_topic = (struct mqtt_str){pad, 65535};
	CHECK_EQ(mqtt_props_size(&p, MQTT_PCTX_PUBLISH), -EINVAL);
out:
	free(users);
	free(s);
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
	test_context_matrix();
	test_not_allowed();
	test_duplicates();
	test_protocol_error_values();
	test_malformed();
	test_allowed_edges();
	test_encode_errors();
	test_encode_too_big();
	return check_report();
}
