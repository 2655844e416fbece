/* test_connect.c - CONNECT and CONNACK for MQTT 3.1, 3.1.1 and 5.0: exact-byte vectors decoded
 * and encoded both ways, every truncation, malformed and protocol-error cases with their exact
 * errno, and encoder refusals. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "codec.h"

/* A view initializer for a string literal (embedded NULs allowed). */
/* clang-format off */
#define S(lit) {(const uint8_t *)(lit), sizeof(lit) - 1}
/* clang-format on */
#define BIT(id) MQTT_PROP_BIT(MQTT_PROP_##id)

#define WIRE_MAX 512

/* ---- Field comparison ------------------------------------------------------------------ */

static void check_view(struct mqtt_str got, struct mqtt_str want)
{
	CHECK_MEM(got.p, got.len, want.p, want.len);
}

static void check_users(const struct mqtt_props *got, const struct mqtt_props *want)
{
	struct mqtt_user_prop g, w;
	uint32_t cg = 0, cw = 0;
	int more;

	CHECK_EQ(got->user_count, want->user_count);
	do {
		more = mqtt_props_next_user(want, &cw, &w);
		CHECK_EQ(mqtt_props_next_user(got, &cg, &g), more);
		if (more) {
			check_view(g.key, w.key);
			check_view(g.value, w.value);
		}
	} while (more);
}

/* Every property field: absent ones must be zero in a decoded block, as in `want`. */
static void check_props(const struct mqtt_props *got, const struct mqtt_props *want)
{
	CHECK_EQ(got->present, want->present);
	CHECK_EQ(got->payload_format, want->payload_format);
	CHECK_EQ(got->request_problem_info, want->request_problem_info);
	CHECK_EQ(got->request_response_info, want->request_response_info);
	CHECK_EQ(got->maximum_qos, want->maximum_qos);
	CHECK_EQ(got->retain_available, want->retain_available);
	CHECK_EQ(got->wildcard_sub_available, want->wildcard_sub_available);
	CHECK_EQ(got->sub_id_available, want->sub_id_available);
	CHECK_EQ(got->shared_sub_available, want->shared_sub_available);
	CHECK_EQ(got->server_keep_alive, want->server_keep_alive);
	CHECK_EQ(got->receive_maximum, want->receive_maximum);
	CHECK_EQ(got->topic_alias_maximum, want->topic_alias_maximum);
	CHECK_EQ(got->topic_alias, want->topic_alias);
	CHECK_EQ(got->message_expiry, want->message_expiry);
	CHECK_EQ(got->session_expiry, want->session_expiry);
	CHECK_EQ(got->will_delay, want->will_delay);
	CHECK_EQ(got->maximum_packet_size, want->maximum_packet_size);
	check_view(got->content_type, want->content_type);
	check_view(got->response_topic, want->response_topic);
	check_view(got->correlation_data, want->correlation_data);
	check_view(got->assigned_client_id, want->assigned_client_id);
	check_view(got->auth_method, want->auth_method);
	check_view(got->auth_data, want->auth_data);
	check_view(got->response_info, want->response_info);
	check_view(got->server_reference, want->server_reference);
	check_view(got->reason_string, want->reason_string);
	CHECK_EQ(got->sub_id_count, want->sub_id_count);
	check_users(got, want);
}

static void check_connect(const struct mqtt_connect *got, const struct mqtt_connect *want)
{
	CHECK_EQ(got->version, want->version);
	CHECK_EQ(got->clean_start, want->clean_start);
	CHECK_EQ(got->keep_alive, want->keep_alive);
	check_view(got->client_id, want->client_id);
	CHECK_EQ(got->has_will, want->has_will);
	check_view(got->will.topic, want->will.topic);
	check_view(got->will.payload, want->will.payload);
	CHECK_EQ(got->will.qos, want->will.qos);
	CHECK_EQ(got->will.retain, want->will.retain);
	check_props(&got->will.props, &want->will.props);
	CHECK_EQ(got->has_username, want->has_username);
	check_view(got->username, want->username);
	CHECK_EQ(got->has_password, want->has_password);
	check_view(got->password, want->password);
	check_props(&got->props, &want->props);
}

static void check_connack(const struct mqtt_connack *got, const struct mqtt_connack *want)
{
	CHECK_EQ(got->session_present, want->session_present);
	CHECK_EQ(got->reason, want->reason);
	check_props(&got->props, &want->props);
}

/* ---- Helpers --------------------------------------------------------------------------- */

/* Offset of the body: after the type byte and the Remaining Length. */
static size_t body_offset(const uint8_t *wire)
{
	size_t off = 1;
	while (wire[off++] & 0x80)
		;
	return off;
}

/* A packet with the given first byte and body, its Remaining Length recomputed. */
static size_t frame(uint8_t first, const uint8_t *body, size_t len, uint8_t *out, size_t cap)
{
	struct mqtt_writer w;

	mqtt_writer_init(&w, out, cap);
	mqtt_write_u8(&w, first);
	mqtt_write_varint(&w, (uint32_t)len);
	mqtt_write_bytes(&w, body, len);
	return w.len;
}

/* Encodes `pkt` and compares with wire[0..n) exactly; a buffer one byte short is -ENOBUFS. */
static void check_encode(const struct mqtt_packet *pkt, uint8_t version, const uint8_t *wire,
                         size_t n)
{
	uint8_t out[WIRE_MAX];

	CHECK_EQ(mqtt_encoded_size(pkt, version), n);
	CHECK_EQ(mqtt_encode(pkt, version, out, sizeof(out)), n);
	CHECK_MEM(out, n, wire, n);
	CHECK_EQ(mqtt_encode(pkt, version, out, n - 1), -ENOBUFS);
	CHECK_EQ(mqtt_encode(pkt, version, out, 0), -ENOBUFS);
}

/* A 3.1 CONNECT cut exactly before its flagged user name or password is accepted without it
 * (MQTT 3.1 §3.1: the Remaining Length takes precedence over the flags). */
static bool v31_cut_credentials(const struct mqtt_packet *cut, const struct mqtt_packet *full)
{
	return full->type == MQTT_CONNECT && full->connect.version == MQTT_V31 &&
	       (cut->connect.has_username != full->connect.has_username ||
	        cut->connect.has_password != full->connect.has_password);
}

/* Every strict prefix of the body, framed as a whole packet, is malformed. */
static void check_truncations(const uint8_t *wire, size_t n, uint8_t version,
                              const struct mqtt_packet *full)
{
	size_t off = body_offset(wire);
	uint8_t pkt[WIRE_MAX];
	struct mqtt_packet out;

	for (size_t k = 0; k < n - off; k++) {
		size_t len = frame(wire[0], wire + off, k, pkt, sizeof(pkt));
		uint8_t reason = 0;
		int err = mqtt_decode(pkt, len, version, &out, &reason);
		if (err == 0) {
			CHECK(v31_cut_credentials(&out, full));
			continue;
		}
		CHECK_EQ(err, -EBADMSG);
		CHECK_EQ(reason, MQTT_RC_MALFORMED_PACKET);
		if (err != -EBADMSG)
			fprintf(stderr, "    (body truncated to %zu of %zu bytes)\n", k, n - off);
	}
}

/* Remaining Length as written in the vector. */
static size_t declared_length(const uint8_t *wire)
{
	size_t len = 0;
	for (size_t i = 1, shift = 0; i < 5; i++, shift += 7) {
		len |= (size_t)(wire[i] & 0x7f) << shift;
		if (!(wire[i] & 0x80))
			break;
	}
	return len;
}

/* Decodes a whole-packet vector into *out (garbage-filled first). Vectors must carry their
 * true Remaining Length, so that each error case fails for the reason it is written for. */
static int decode_hex(const char *hexstr, uint8_t version, struct mqtt_packet *out, uint8_t *reason)
{
	static uint8_t wire[WIRE_MAX]; /* decoded views point here until the next call */
	size_t n = hex(hexstr, wire, sizeof(wire));

	if (n < 2 || declared_length(wire) != n - body_offset(wire)) {
		fprintf(stderr, "bad test vector (Remaining Length): %s\n", hexstr);
		fflush(stderr);
		__builtin_trap();
	}
	memset(out, 0xAA, sizeof(*out));
	return mqtt_decode(wire, n, version, out, reason);
}

static void expect_err(const char *hexstr, uint8_t version, int want, uint8_t want_reason)
{
	struct mqtt_packet out;
	uint8_t reason = 0;
	int err = decode_hex(hexstr, version, &out, &reason);

	CHECK_EQ(err, want);
	CHECK_EQ(reason, want_reason);
	if (err != want)
		fprintf(stderr, "    (vector: %s)\n", hexstr);
}

/* ---- CONNECT vectors ------------------------------------------------------------------- */

struct connect_vec {
	const char *wire;
	struct mqtt_connect want;
};

static const struct mqtt_user_prop v5_connect_users[] = {{S("k"), S("v")}, {S("k"), S("v2")}};
static const struct mqtt_user_prop v5_will_users[] = {{S("a"), S("b")}};

static const struct connect_vec connect_vecs[] = {
        /* ---- MQTT 3.1 ---- */
        {"10 10 00 06 'MQIsdp' 03 02 00 3c 00 02 'c1'",
         {.version = MQTT_V31, .clean_start = true, .keep_alive = 60, .client_id = S("c1")}},
        /* Will (QoS 0, retained), user name and password. */
        {"10 27 00 06 'MQIsdp' 03 e6 00 0a 00 06 'mosq-1' 00 03 'a/b' 00 03 'bye' 00 03 'usr'"
         " 00 02 'pw'",
         {.version = MQTT_V31,
          .clean_start = true,
          .keep_alive = 10,
          .client_id = S("mosq-1"),
          .has_will = true,
          .will = {.topic = S("a/b"), .payload = S("bye"), .qos = 0, .retain = true},
          .has_username = true,
          .username = S("usr"),
          .has_password = true,
          .password = S("pw")}},
        /* 3.1 has no rule against a password without a user name. */
        {"10 13 00 06 'MQIsdp' 03 42 00 3c 00 01 'c' 00 02 'pw'",
         {.version = MQTT_V31,
          .clean_start = true,
          .keep_alive = 60,
          .client_id = S("c"),
          .has_password = true,
          .password = S("pw")}},
        /* ---- MQTT 3.1.1 ---- */
        {"10 0e 00 04 'MQTT' 04 02 00 3c 00 02 'c1'",
         {.version = MQTT_V311, .clean_start = true, .keep_alive = 60, .client_id = S("c1")}},
        /* Empty client id, persistent session, keep alive 0: the codec leaves the policy to the
         * broker [MQTT-3.1.3-7]. */
        {"10 0c 00 04 'MQTT' 04 00 00 00 00 00", {.version = MQTT_V311}},
        /* Will QoS 1 retained, binary will payload with a zero byte. */
        {"10 18 00 04 'MQTT' 04 2e 01 2c 00 02 'cl' 00 03 'w/t' 00 03 00 ff 01",
         {.version = MQTT_V311,
          .clean_start = true,
          .keep_alive = 300,
          .client_id = S("cl"),
          .has_will = true,
          .will = {.topic = S("w/t"), .payload = S("\x00\xff\x01"), .qos = 1, .retain = true}}},
        /* User name and a binary password; maximum keep alive. */
        {"10 16 00 04 'MQTT' 04 c2 ff ff 00 02 'id' 00 01 'u' 00 03 'p' 00 'w'",
         {.version = MQTT_V311,
          .clean_start = true,
          .keep_alive = 65535,
          .client_id = S("id"),
          .has_username = true,
          .username = S("u"),
          .has_password = true,
          .password = S("p\0w")}},
        /* User name only. */
        {"10 13 00 04 'MQTT' 04 82 00 3c 00 01 'x' 00 04 'user'",
         {.version = MQTT_V311,
          .clean_start = true,
          .keep_alive = 60,
          .client_id = S("x"),
          .has_username = true,
          .username = S("user")}},
        /* Will QoS 2, empty will payload, empty user name and password, no clean session. */
        {"10 18 00 04 'MQTT' 04 d4 00 0a 00 03 'abc' 00 01 't' 00 00 00 00 00 00",
         {.version = MQTT_V311,
          .keep_alive = 10,
          .client_id = S("abc"),
          .has_will = true,
          .will = {.topic = S("t"), .qos = 2},
          .has_username = true,
          .has_password = true}},
        /* ---- MQTT 5.0 ---- */
        {"10 0d 00 04 'MQTT' 05 02 00 3c 00 00 00",
         {.version = MQTT_V5, .clean_start = true, .keep_alive = 60}},
        /* 5.0 allows a password without a user name (§3.1.2.9). */
        {"10 12 00 04 'MQTT' 05 42 00 3c 00 00 01 'c' 00 02 'pw'",
         {.version = MQTT_V5,
          .clean_start = true,
          .keep_alive = 60,
          .client_id = S("c"),
          .has_password = true,
          .password = S("pw")}},
        /* Will QoS 2 with an empty Will Properties block. */
        {"10 15 00 04 'MQTT' 05 14 00 00 00 00 01 'z' 00 00 01 't' 00 01 'x'",
         {.version = MQTT_V5,
          .client_id = S("z"),
          .has_will = true,
          .will = {.topic = S("t"), .payload = S("x"), .qos = 2}}},
        /* Every CONNECT property, every Will property, credentials; a 2-byte Remaining Length.
         * Properties in ascending identifier order, as the encoder writes them. */
        {"10 97 01 00 04 'MQTT' 05 ee 00 1e"
         " 30 11 00 00 0e 10  15 00 05 'SCRAM'  16 00 02 01 02  17 00  19 01  21 00 14"
         "    22 00 0a  26 00 01 'k' 00 01 'v'  26 00 01 'k' 00 02 'v2'  27 00 01 00 00"
         " 00 06 'dev-42'"
         " 2c 01 01  02 00 00 00 3c  03 00 0a 'text/plain'  08 00 03 'r/t'  09 00 03 00 01 02"
         "    18 00 00 00 05  26 00 01 'a' 00 01 'b'"
         " 00 0d 'dev/42/status' 00 07 'offline' 00 05 'alice' 00 06 'secret'",
         {.version = MQTT_V5,
          .clean_start = true,
          .keep_alive = 30,
          .props = {.present = BIT(SESSION_EXPIRY) | BIT(AUTH_METHOD) | BIT(AUTH_DATA) |
                               BIT(REQUEST_PROBLEM_INFO) | BIT(REQUEST_RESPONSE_INFO) |
                               BIT(RECEIVE_MAXIMUM) | BIT(TOPIC_ALIAS_MAXIMUM) |
                               BIT(USER_PROPERTY) | BIT(MAXIMUM_PACKET_SIZE),
                    .session_expiry = 3600,
                    .auth_method = S("SCRAM"),
                    .auth_data = S("\x01\x02"),
                    .request_problem_info = 0,
                    .request_response_info = 1,
                    .receive_maximum = 20,
                    .topic_alias_maximum = 10,
                    .user = v5_connect_users,
                    .user_count = 2,
                    .maximum_packet_size = 65536},
          .client_id = S("dev-42"),
          .has_will = true,
          .will = {.topic = S("dev/42/status"),
                   .payload = S("offline"),
                   .qos = 1,
                   .retain = true,
                   .props = {.present = BIT(PAYLOAD_FORMAT) | BIT(MESSAGE_EXPIRY) |
                                        BIT(CONTENT_TYPE) | BIT(RESPONSE_TOPIC) |
                                        BIT(CORRELATION_DATA) | BIT(WILL_DELAY) |
                                        BIT(USER_PROPERTY),
                             .payload_format = 1,
                             .message_expiry = 60,
                             .content_type = S("text/plain"),
                             .response_topic = S("r/t"),
                             .correlation_data = S("\x00\x01\x02"),
                             .will_delay = 5,
                             .user = v5_will_users,
                             .user_count = 1}},
          .has_username = true,
          .username = S("alice"),
          .has_password = true,
          .password = S("secret")}},
};

static void test_connect_vectors(void)
{
	for (size_t i = 0; i < sizeof(connect_vecs) / sizeof(connect_vecs[0]); i++) {
		const struct connect_vec *v = &connect_vecs[i];
		uint8_t wire[WIRE_MAX];
		size_t n = hex(v->wire, wire, sizeof(wire));
		struct mqtt_packet got, want = {.type = MQTT_CONNECT, .connect = v->want};
		uint8_t reason = 0xff;

		/* Bytes -> struct: every field, garbage in *out beforehand must not leak. */
		memset(&got, 0xAA, sizeof(got));
		int err = mqtt_decode(wire, n, 0, &got, &reason);
		CHECK_EQ(err, 0);
		if (err != 0) {
			fprintf(stderr, "    (connect vector %zu)\n", i);
			continue;
		}
		CHECK_EQ(reason, 0xff); /* untouched on success */
		CHECK_EQ(got.type, MQTT_CONNECT);
		check_connect(&got.connect, &v->want);
		/* Struct -> bytes, from the hand-built struct and from the decoded one. The version
		 * argument is ignored for CONNECT: the struct carries its own. */
		check_encode(&want, 0, wire, n);
		check_encode(&got, MQTT_V311, wire, n);
		check_truncations(wire, n, 0, &got);
	}
}

/* MQTT 3.1 §3.1: the Remaining Length takes precedence over the User Name and Password flags,
 * so flagged-but-missing credentials at the end of the body are accepted as absent. */
static void test_connect_v31_missing_credentials(void)
{
	struct mqtt_packet p;
	uint8_t out[WIRE_MAX];
	uint8_t want[WIRE_MAX];
	size_t n;

	/* Both flags, neither string. Re-encoded without the flags. */
	CHECK_EQ(decode_hex("10 0f 00 06 'MQIsdp' 03 c2 00 3c 00 01 'c'", 0, &p, NULL), 0);
	CHECK_EQ(p.connect.version, MQTT_V31);
	CHECK_STR(p.connect.client_id, "c");
	CHECK_EQ(p.connect.has_username, false);
	CHECK_EQ(p.connect.has_password, false);
	n = hex("10 0f 00 06 'MQIsdp' 03 02 00 3c 00 01 'c'", want, sizeof(want));
	CHECK_EQ(mqtt_encode(&p, 0, out, sizeof(out)), n);
	CHECK_MEM(out, n, want, n);

	/* User name present, password missing. */
	CHECK_EQ(decode_hex("10 12 00 06 'MQIsdp' 03 c2 00 3c 00 01 'c' 00 01 'u'", 0, &p, NULL),
	         0);
	CHECK_EQ(p.connect.has_username, true);
	CHECK_STR(p.connect.username, "u");
	CHECK_EQ(p.connect.has_password, false);

	/* Only when nothing is left: a partial user name is still malformed. */
	expect_err("10 10 00 06 'MQIsdp' 03 c2 00 3c 00 01 'c' 00", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
	/* 3.1.1 and 5.0 have no such allowance [MQTT-3.1.2-19, MQTT-3.1.2-21]. */
	expect_err("10 0d 00 04 'MQTT' 04 c2 00 3c 00 01 'c'", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
	expect_err("10 0e 00 04 'MQTT' 05 82 00 3c 00 00 01 'c'", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
}

/* Protocol Name and Level [MQTT-3.1.2-1, MQTT-3.1.2-2]. */
static void test_connect_protocol(void)
{
	const uint8_t unsupported = MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
	struct mqtt_packet p;

	expect_err("10 0e 00 04 'MQTX' 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0e 00 04 'mqtt' 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0d 00 03 'MQT' 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0a 00 00 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	/* A name that is not UTF-8 is still just a wrong name. */
	expect_err("10 0e 00 04 ff fe 00 00 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT,
	           unsupported);
	/* Levels the names do not go with. */
	expect_err("10 0e 00 04 'MQTT' 03 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 10 00 06 'MQIsdp' 04 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 10 00 06 'MQIsdp' 05 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	/* Unknown levels, also with mosquitto's bridge bit (level | 0x80) set. */
	expect_err("10 0e 00 04 'MQTT' 00 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0e 00 04 'MQTT' 02 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0e 00 04 'MQTT' 86 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	expect_err("10 0e 00 04 'MQTT' ff 02 00 3c 00 02 'c1'", 0, -EPROTONOSUPPORT, unsupported);
	/* 0x84 / 0x83: a mosquitto bridge ("try_private") speaking 3.1.1 / 3.1; round trips. */
	static const char *const bridges[] = {"10 0e 00 04 'MQTT' 84 02 00 3c 00 02 'c1'",
	                                      "10 10 00 06 'MQIsdp' 83 02 00 3c 00 02 'c1'"};
	for (int i = 0; i < 2; i++) {
		uint8_t in[64], out[64];
		size_t n = hex(bridges[i], in, sizeof(in));
		CHECK_EQ(mqtt_decode(in, n, 0, &p, NULL), 0);
		CHECK(p.connect.bridge);
		CHECK_EQ(p.connect.version, i == 0 ? MQTT_V311 : MQTT_V31);
		CHECK_EQ(mqtt_encode(&p, 0, out, sizeof(out)), (long)n);
		CHECK_MEM(out, n, in, n);
	}
	/* The broker learns the level even when refusing it, to pick the CONNACK format. */
	CHECK_EQ(decode_hex("10 0e 00 04 'MQTT' 06 02 00 3c 00 02 'c1'", 0, &p, NULL),
	         -EPROTONOSUPPORT);
	CHECK_EQ(p.connect.version, 6);
	/* Level 6 is refused before its body is looked at: it could be laid out differently. */
	CHECK_EQ(decode_hex("10 08 00 04 'MQTT' 06 ff", 0, &p, NULL), -EPROTONOSUPPORT);
	/* ... and is known on later errors too. */
	CHECK_EQ(decode_hex("10 0d 00 04 'MQTT' 05 03 00 3c 00 00 00", 0, &p, NULL), -EBADMSG);
	CHECK_EQ(p.connect.version, MQTT_V5);
	/* Truncated before the level: malformed, version unknown. */
	CHECK_EQ(decode_hex("10 06 00 04 'MQTT'", 0, &p, NULL), -EBADMSG);
	CHECK_EQ(p.connect.version, 0);
}

/* Connect Flags [MQTT-3.1.2-3, -11..-15, -22] in each version. */
static void test_connect_flags(void)
{
	const uint8_t malformed = MQTT_RC_MALFORMED_PACKET;

	/* Reserved bit 0 [MQTT-3.1.2-3]. */
	expect_err("10 10 00 06 'MQIsdp' 03 03 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 03 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 01 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0f 00 04 'MQTT' 05 03 00 3c 00 00 02 'c1'", 0, -EBADMSG, malformed);
	/* Will QoS 3: 3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12]. */
	expect_err("10 14 00 04 'MQTT' 04 1e 00 3c 00 02 'c1' 00 01 't' 00 01 'x'", 0, -EBADMSG,
	           malformed);
	expect_err("10 16 00 04 'MQTT' 05 1e 00 3c 00 00 02 'c1' 00 00 01 't' 00 01 'x'", 0,
	           -EBADMSG, malformed);
	expect_err("10 16 00 06 'MQIsdp' 03 1e 00 3c 00 02 'c1' 00 01 't' 00 01 'x'", 0, -EBADMSG,
	           malformed);
	/* Will Retain or Will QoS without the Will Flag: 3.1.1 [MQTT-3.1.2-13, -15],
	 * 5.0 [MQTT-3.1.2-11, -13]. */
	expect_err("10 0e 00 04 'MQTT' 04 22 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 0a 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 12 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0f 00 04 'MQTT' 05 22 00 3c 00 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 0f 00 04 'MQTT' 05 1a 00 3c 00 00 02 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 10 00 06 'MQIsdp' 03 22 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
	/* Password without user name: 3.1.1 [MQTT-3.1.2-22]; accepted in 3.1 and 5.0 (vectors). */
	expect_err("10 11 00 04 'MQTT' 04 42 00 3c 00 01 'c' 00 02 'pw'", 0, -EBADMSG, malformed);
	/* Fixed header flags of CONNECT are reserved 0 [MQTT-2.2.2-1]. */
	expect_err("11 0e 00 04 'MQTT' 04 02 00 3c 00 02 'c1'", 0, -EBADMSG, malformed);
}

/* Payload contents: UTF-8 rules, lengths, trailing bytes. */
static void test_connect_payload(void)
{
	const uint8_t malformed = MQTT_RC_MALFORMED_PACKET;

	/* Trailing bytes after the last announced field. */
	expect_err("10 0f 00 04 'MQTT' 04 02 00 3c 00 02 'c1' ff", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 05 02 00 3c 00 00 00 00", 0, -EBADMSG, malformed);
	expect_err("10 11 00 06 'MQIsdp' 03 02 00 3c 00 02 'c1' 00", 0, -EBADMSG, malformed);
	/* Password present without the flag: trailing bytes [MQTT-3.1.2-20]. */
	expect_err("10 12 00 04 'MQTT' 04 82 00 3c 00 01 'c' 00 01 'u' 00 00", 0, -EBADMSG,
	           malformed);
	/* Client id: ill-formed UTF-8, a surrogate, an overlong form, U+0000 [MQTT-1.5.4-1, -2]. */
	expect_err("10 0e 00 04 'MQTT' 04 02 00 3c 00 02 c3 28", 0, -EBADMSG, malformed);
	expect_err("10 0f 00 04 'MQTT' 04 02 00 3c 00 03 ed a0 80", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 02 00 3c 00 02 c0 80", 0, -EBADMSG, malformed);
	expect_err("10 0e 00 04 'MQTT' 04 02 00 3c 00 02 'a' 00", 0, -EBADMSG, malformed);
	expect_err("10 0f 00 04 'MQTT' 05 02 00 3c 00 00 02 c3 28", 0, -EBADMSG, malformed);
	expect_err("10 10 00 06 'MQIsdp' 03 02 00 3c 00 02 ff 'a'", 0, -EBADMSG, malformed);
	/* U+0000 in the user name [MQTT-1.5.4-2]; the password is binary and may hold it. */
	expect_err("10 12 00 04 'MQTT' 04 82 00 3c 00 02 'c1' 00 02 'u' 00", 0, -EBADMSG,
	           malformed);
	expect_err("10 13 00 04 'MQTT' 05 82 00 3c 00 00 02 'c1' 00 02 'u' 00", 0, -EBADMSG,
	           malformed);
	/* Will topic not UTF-8; the will payload is binary. */
	expect_err("10 14 00 04 'MQTT' 04 06 00 3c 00 02 'c1' 00 01 80 00 01 'x'", 0, -EBADMSG,
	           malformed);
	/* A string length running past the end. */
	expect_err("10 0e 00 04 'MQTT' 04 02 00 3c 00 03 'c1'", 0, -EBADMSG, malformed);
	expect_err("10 12 00 04 'MQTT' 04 c2 00 3c 00 00 00 01 'u' 00 05 'p'", 0, -EBADMSG,
	           malformed);
	expect_err("10 0b 00 04 'MQTT' 04 02 00 3c 00 ", 0, -EBADMSG, malformed);
}

/* MQTT 5 CONNECT and Will property blocks: errors come from properties.c unchanged. */
static void test_connect_v5_props(void)
{
	/* Assigned Client Identifier is a CONNACK property: Malformed [§2.2.2.2]. */
	expect_err("10 12 00 04 'MQTT' 05 02 00 3c 05 12 00 02 'id' 00 00", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
	/* Will Delay Interval belongs in the Will Properties, not in CONNECT's. */
	expect_err("10 12 00 04 'MQTT' 05 02 00 3c 05 18 00 00 00 01 00 00", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
	/* Session Expiry Interval belongs in CONNECT's, not in the Will Properties. */
	expect_err("10 18 00 04 'MQTT' 05 06 00 3c 00 00 00 05 11 00 00 00 01 00 01 't' 00 00", 0,
	           -EBADMSG, MQTT_RC_MALFORMED_PACKET);
	/* Receive Maximum 0 [§3.1.2.11.3] and a repeated Session Expiry: Protocol Errors. */
	expect_err("10 10 00 04 'MQTT' 05 02 00 3c 03 21 00 00 00 00", 0, -EPROTO,
	           MQTT_RC_PROTOCOL_ERROR);
	expect_err("10 17 00 04 'MQTT' 05 02 00 3c 0a 11 00 00 00 01 11 00 00 00 02 00 00", 0,
	           -EPROTO, MQTT_RC_PROTOCOL_ERROR);
	/* Property Length past the end of the packet. */
	expect_err("10 0d 00 04 'MQTT' 05 02 00 3c 05 00 00", 0, -EBADMSG,
	           MQTT_RC_MALFORMED_PACKET);
	/* Will Properties with a Payload Format Indicator of 2 [§3.1.3.2.3]. */
	expect_err("10 15 00 04 'MQTT' 05 06 00 3c 00 00 00 02 01 02 00 01 't' 00 00", 0, -EPROTO,
	           MQTT_RC_PROTOCOL_ERROR);
}

/* Body decoder called directly: consumes exactly, fills version on refusal. */
static void test_connect_body_direct(void)
{
	uint8_t body[WIRE_MAX];
	size_t n = hex("00 04 'MQTT' 04 02 00 3c 00 02 'c1'", body, sizeof(body));
	struct mqtt_reader r;
	struct mqtt_connect c;

	mqtt_reader_init(&r, body, n);
	CHECK_EQ(mqtt_connect_decode(&r, &c), 0);
	CHECK_EQ(r.off, n);
	CHECK_STR(c.client_id, "c1");
	CHECK_EQ(mqtt_connect_body_size(&c), n);

	/* A reader over a larger buffer: the extra bytes are trailing garbage. */
	mqtt_reader_init(&r, body, n + 1);
	body[n] = 0;
	CHECK_EQ(mqtt_connect_decode(&r, &c), -EBADMSG);
}

/* ---- CONNECT encoder refusals ---------------------------------------------------------- */

static void check_connect_einval(const struct mqtt_connect *c)
{
	struct mqtt_packet p = {.type = MQTT_CONNECT, .connect = *c};
	uint8_t out[WIRE_MAX];

	CHECK_EQ(mqtt_connect_body_size(c), -EINVAL);
	CHECK_EQ(mqtt_encoded_size(&p, MQTT_V311), -EINVAL);
	CHECK_EQ(mqtt_encode(&p, MQTT_V311, out, sizeof(out)), -EINVAL);
}

static void test_connect_encode_errors(void)
{
	const struct mqtt_connect base = {.version = MQTT_V311, .client_id = S("c")};
	struct mqtt_connect c;

	for (unsigned v = 0; v < 256; v++) {
		if (v == MQTT_V31 || v == MQTT_V311 || v == MQTT_V5)
			continue;
		c = base;
		c.version = (uint8_t)v;
		CHECK_EQ(mqtt_connect_body_size(&c), -EINVAL);
	}
	c = base;
	c.has_will = true;
	c.will.topic = (struct mqtt_str)S("t");
	c.will.qos = 3;
	check_connect_einval(&c);
	c.version = MQTT_V5;
	check_connect_einval(&c);

	/* Password without user name: refused in 3.1.1 only [MQTT-3.1.2-22]. */
	c = base;
	c.has_password = true;
	c.password = (struct mqtt_str)S("pw");
	check_connect_einval(&c);
	c.version = MQTT_V5;
	CHECK_EQ(mqtt_connect_body_size(&c), 10 + 1 + 3 + 4);
	c.version = MQTT_V31;
	CHECK_EQ(mqtt_connect_body_size(&c), 12 + 3 + 4);

	/* Strings the decoder would refuse, and a NULL view with a length. */
	c = base;
	c.client_id = (struct mqtt_str)S("\xc3\x28");
	check_connect_einval(&c);
	c = base;
	c.has_username = true;
	c.username = (struct mqtt_str)S("u\0");
	check_connect_einval(&c);
	c = base;
	c.has_will = true;
	c.will.topic = (struct mqtt_str)S("\xed\xa0\x80");
	check_connect_einval(&c);
	c = base;
	c.has_password = c.has_username = true;
	c.password = (struct mqtt_str){NULL, 3};
	check_connect_einval(&c);
	c = base;
	c.client_id = (struct mqtt_str){NULL, 1};
	check_connect_einval(&c);
}

static void test_connect_encode_errors_props(void)
{
	const struct mqtt_connect base = {.version = MQTT_V311, .client_id = S("c")};
	struct mqtt_connect c;
	struct mqtt_packet p;
	uint8_t out[WIRE_MAX], want[WIRE_MAX];
	size_t n;

	/* Properties before 5.0, and properties not allowed in their block. */
	c = base;
	c.props.present = BIT(SESSION_EXPIRY);
	c.props.session_expiry = 1;
	check_connect_einval(&c);
	c = base;
	c.has_will = true;
	c.will.topic = (struct mqtt_str)S("t");
	c.will.props.present = BIT(WILL_DELAY);
	check_connect_einval(&c);
	c.version = MQTT_V5;
	CHECK(mqtt_connect_body_size(&c) > 0);
	c.will.props.present = BIT(SESSION_EXPIRY);
	check_connect_einval(&c);
	c = base;
	c.version = MQTT_V5;
	c.props.present = BIT(ASSIGNED_CLIENT_ID);
	c.props.assigned_client_id = (struct mqtt_str)S("x");
	check_connect_einval(&c);
	c.props.present = BIT(RECEIVE_MAXIMUM); /* receive_maximum 0 */
	check_connect_einval(&c);

	/* Will fields are ignored without has_will: nothing of them reaches the flags. */
	c = base;
	c.will.qos = 3;
	c.will.retain = true;
	c.will.topic = (struct mqtt_str)S("ignored");
	p = (struct mqtt_packet){.type = MQTT_CONNECT, .connect = c};
	n = hex("10 0d 00 04 'MQTT' 04 00 00 00 00 01 'c'", want, sizeof(want));
	CHECK_EQ(mqtt_encode(&p, 0, out, sizeof(out)), n);
	CHECK_MEM(out, n, want, n);
}

/* ---- CONNACK --------------------------------------------------------------------------- */

struct connack_vec {
	uint8_t version;
	const char *wire;
	struct mqtt_connack want;
};

static const struct mqtt_user_prop v5_connack_users[] = {{S("x"), S("y")}};

static const struct connack_vec connack_vecs[] = {
        {MQTT_V31, "20 02 00 00", {.reason = MQTT_CONNACK_V3_ACCEPTED}},
        {MQTT_V31, "20 02 00 02", {.reason = MQTT_CONNACK_V3_ID_REJECTED}},
        {MQTT_V31, "20 02 00 05", {.reason = MQTT_CONNACK_V3_NOT_AUTHORIZED}},
        {MQTT_V311, "20 02 00 00", {.reason = MQTT_CONNACK_V3_ACCEPTED}},
        {MQTT_V311, "20 02 01 00", {.session_present = true}},
        {MQTT_V311, "20 02 00 01", {.reason = MQTT_CONNACK_V3_BAD_VERSION}},
        {MQTT_V311, "20 02 00 04", {.reason = MQTT_CONNACK_V3_BAD_CREDENTIALS}},
        {MQTT_V5, "20 03 00 00 00", {.reason = MQTT_RC_SUCCESS}},
        {MQTT_V5, "20 03 00 84 00", {.reason = MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION}},
        {MQTT_V5, "20 03 00 9f 00", {.reason = MQTT_RC_CONNECTION_RATE_EXCEEDED}},
        /* Every CONNACK property but Server Reference and the authentication pair. */
        {MQTT_V5,
         "20 38 01 00 35 11 00 00 00 3c  12 00 04 'auto'  13 00 3c  1a 00 02 'ri'"
         "  1f 00 02 'ok'  21 00 0a  22 00 05  24 01  25 00  26 00 01 'x' 00 01 'y'"
         "  27 00 00 10 00  28 01  29 00  2a 01",
         {.session_present = true,
          .reason = MQTT_RC_SUCCESS,
          .props = {.present = BIT(SESSION_EXPIRY) | BIT(ASSIGNED_CLIENT_ID) |
                               BIT(SERVER_KEEP_ALIVE) | BIT(RESPONSE_INFO) | BIT(REASON_STRING) |
                               BIT(RECEIVE_MAXIMUM) | BIT(TOPIC_ALIAS_MAXIMUM) | BIT(MAXIMUM_QOS) |
                               BIT(RETAIN_AVAILABLE) | BIT(USER_PROPERTY) |
                               BIT(MAXIMUM_PACKET_SIZE) | BIT(WILDCARD_SUB_AVAILABLE) |
                               BIT(SUB_ID_AVAILABLE) | BIT(SHARED_SUB_AVAILABLE),
                    .session_expiry = 60,
                    .assigned_client_id = S("auto"),
                    .server_keep_alive = 60,
                    .response_info = S("ri"),
                    .reason_string = S("ok"),
                    .receive_maximum = 10,
                    .topic_alias_maximum = 5,
                    .maximum_qos = 1,
                    .retain_available = 0,
                    .user = v5_connack_users,
                    .user_count = 1,
                    .maximum_packet_size = 4096,
                    .wildcard_sub_available = 1,
                    .sub_id_available = 0,
                    .shared_sub_available = 1}}},
        /* A refusal redirecting the client, with authentication data. */
        {MQTT_V5,
         "20 1c 00 9c 19 15 00 03 'tok'  16 00 02 ab cd  1c 00 05 'other'  1f 00 03 'bye'",
         {.reason = MQTT_RC_USE_ANOTHER_SERVER,
          .props = {.present = BIT(AUTH_METHOD) | BIT(AUTH_DATA) | BIT(SERVER_REFERENCE) |
                               BIT(REASON_STRING),
                    .auth_method = S("tok"),
                    .auth_data = S("\xab\xcd"),
                    .server_reference = S("other"),
                    .reason_string = S("bye")}}},
};

static void test_connack_vectors(void)
{
	for (size_t i = 0; i < sizeof(connack_vecs) / sizeof(connack_vecs[0]); i++) {
		const struct connack_vec *v = &connack_vecs[i];
		uint8_t wire[WIRE_MAX];
		size_t n = hex(v->wire, wire, sizeof(wire));
		struct mqtt_packet got, want = {.type = MQTT_CONNACK, .connack = v->want};

		memset(&got, 0xAA, sizeof(got));
		int err = mqtt_decode(wire, n, v->version, &got, NULL);
		CHECK_EQ(err, 0);
		if (err != 0) {
			fprintf(stderr, "    (connack vector %zu)\n", i);
			continue;
		}
		CHECK_EQ(got.type, MQTT_CONNACK);
		check_connack(&got.connack, &v->want);
		check_encode(&want, v->version, wire, n);
		check_encode(&got, v->version, wire, n);
		check_truncations(wire, n, v->version, &got);
	}
}

static void test_connack_errors(void)
{
	const uint8_t malformed = MQTT_RC_MALFORMED_PACKET, proto = MQTT_RC_PROTOCOL_ERROR;

	/* 3.1: the first byte is reserved entirely, Session Present did not exist. */
	expect_err("20 02 01 00", MQTT_V31, -EBADMSG, malformed);
	expect_err("20 02 80 00", MQTT_V31, -EBADMSG, malformed);
	/* Bits 7-1 reserved [MQTT-3.2.2-1]. */
	expect_err("20 02 02 00", MQTT_V311, -EBADMSG, malformed);
	expect_err("20 02 81 00", MQTT_V311, -EBADMSG, malformed);
	expect_err("20 03 fe 00 00", MQTT_V5, -EBADMSG, malformed);
	/* Session Present with a refusal: 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]. */
	expect_err("20 02 01 01", MQTT_V311, -EPROTO, proto);
	expect_err("20 02 01 05", MQTT_V311, -EPROTO, proto);
	expect_err("20 03 01 80 00", MQTT_V5, -EPROTO, proto);
	/* Codes CONNACK cannot carry: 6-255 reserved in 3.x; 5.0 §3.2.2.2's list. */
	expect_err("20 02 00 06", MQTT_V311, -EPROTO, proto);
	expect_err("20 02 00 80", MQTT_V31, -EPROTO, proto);
	expect_err("20 03 00 01 00", MQTT_V5, -EPROTO, proto);
	expect_err("20 03 00 8b 00", MQTT_V5, -EPROTO, proto);
	expect_err("20 03 00 8e 00", MQTT_V5, -EPROTO, proto);
	expect_err("20 03 00 a2 00", MQTT_V5, -EPROTO, proto);
	/* Lengths: short, trailing, and a 5.0 CONNACK without its Property Length. */
	expect_err("20 01 00", MQTT_V311, -EBADMSG, malformed);
	expect_err("20 00", MQTT_V31, -EBADMSG, malformed);
	expect_err("20 03 00 00 00", MQTT_V311, -EBADMSG, malformed);
	expect_err("20 03 00 00 00", MQTT_V31, -EBADMSG, malformed);
	expect_err("20 02 00 00", MQTT_V5, -EBADMSG, malformed);
	expect_err("20 04 00 00 00 00", MQTT_V5, -EBADMSG, malformed);
	/* Fixed header flags reserved [MQTT-2.2.2-1]. */
	expect_err("21 02 00 00", MQTT_V311, -EBADMSG, malformed);
	/* Properties: not allowed in CONNACK (Will Delay), out of range (Maximum QoS 2). */
	expect_err("20 08 00 00 05 18 00 00 00 01", MQTT_V5, -EBADMSG, malformed);
	expect_err("20 05 00 00 02 24 02", MQTT_V5, -EPROTO, proto);
}

static void test_connack_direct(void)
{
	const uint8_t body[] = {0, 0};
	struct mqtt_connack c = {0};
	struct mqtt_reader r;

	/* Unknown versions are a caller bug. */
	mqtt_reader_init(&r, body, sizeof(body));
	CHECK_EQ(mqtt_connack_decode(&r, 6, &c), -EINVAL);
	CHECK_EQ(mqtt_connack_body_size(&c, 0), -EINVAL);
	CHECK_EQ(mqtt_connack_body_size(&c, 6), -EINVAL);
	CHECK_EQ(mqtt_connack_body_size(&c, MQTT_V311), 2);
	CHECK_EQ(mqtt_connack_body_size(&c, MQTT_V5), 3);

	/* The body decoder itself refuses bytes left over (packet.c checks again). */
	const uint8_t longer[] = {0, 0, 0};
	mqtt_reader_init(&r, longer, sizeof(longer));
	CHECK_EQ(mqtt_connack_decode(&r, MQTT_V311, &c), -EBADMSG);
	const uint8_t v5[] = {1, 0, 0, 0xff};
	mqtt_reader_init(&r, v5, sizeof(v5));
	CHECK_EQ(mqtt_connack_decode(&r, MQTT_V5, &c), -EBADMSG);
	mqtt_reader_init(&r, v5, 3);
	CHECK_EQ(mqtt_connack_decode(&r, MQTT_V5, &c), 0);
	CHECK_EQ(c.session_present, true);
	CHECK_EQ(r.off, 3);
}

static void check_connack_einval(const struct mqtt_connack *c, uint8_t version)
{
	struct mqtt_packet p = {.type = MQTT_CONNACK, .connack = *c};
	uint8_t out[WIRE_MAX];

	CHECK_EQ(mqtt_connack_body_size(c, version), -EINVAL);
	CHECK_EQ(mqtt_encode(&p, version, out, sizeof(out)), -EINVAL);
}

static void test_connack_encode_errors(void)
{
	struct mqtt_connack c = {.session_present = true};

	check_connack_einval(&c, MQTT_V31); /* 3.1 has no Session Present */
	c.reason = MQTT_CONNACK_V3_ID_REJECTED;
	check_connack_einval(&c, MQTT_V311); /* [MQTT-3.2.2-4] */
	c.reason = MQTT_RC_NOT_AUTHORIZED;
	check_connack_einval(&c, MQTT_V5); /* [MQTT-3.2.2-6] */
	c = (struct mqtt_connack){.reason = 6};
	check_connack_einval(&c, MQTT_V311);
	check_connack_einval(&c, MQTT_V31);
	c.reason = MQTT_RC_SERVER_SHUTTING_DOWN; /* DISCONNECT only */
	check_connack_einval(&c, MQTT_V5);
	c.reason = MQTT_CONNACK_V3_UNAVAILABLE; /* a 3.1.1 code, not a 5.0 one */
	check_connack_einval(&c, MQTT_V5);
	c = (struct mqtt_connack){.props = {.present = BIT(REASON_STRING)}};
	check_connack_einval(&c, MQTT_V311);
	c.props.present = BIT(WILL_DELAY);
	check_connack_einval(&c, MQTT_V5);
	c.props = (struct mqtt_props){.present = BIT(MAXIMUM_QOS), .maximum_qos = 2};
	check_connack_einval(&c, MQTT_V5);
}

int main(void)
{
	test_connect_vectors();
	test_connect_v31_missing_credentials();
	test_connect_protocol();
	test_connect_flags();
	test_connect_payload();
	test_connect_v5_props();
	test_connect_body_direct();
	test_connect_encode_errors();
	test_connect_encode_errors_props();
	test_connack_vectors();
	test_connack_errors();
	test_connack_direct();
	test_connack_encode_errors();
	return check_report();
}
