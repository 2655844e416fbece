/* test_control.c - DISCONNECT, AUTH, PINGREQ and PINGRESP in MQTT 3.1, 3.1.1 and 5.0: exact-byte
 * vectors both ways, the shortest-form encodings, and the malformed/protocol cases. */
#include <errno.h>

#include "check.h"
#include "codec.h"
#include "mqtt.h"

/* Decoded packets view this buffer: valid until the next dec(). */
static uint8_t in[256];

static int dec(const char *vec, uint8_t version, struct mqtt_packet *pkt, uint8_t *reason)
{
	size_t n = hex(vec, in, sizeof(in));
	return mqtt_decode(in, n, version, pkt, reason);
}

/* Encodes pkt and compares with the hex vector, mqtt_encoded_size() included. */
#define CHECK_ENC(pkt, version, vec)                                                               \
	do {                                                                                       \
		uint8_t want_[256], got_[256];                                                     \
		size_t wn_ = hex((vec), want_, sizeof(want_));                                     \
		CHECK_EQ(mqtt_encoded_size((pkt), (version)), (long)wn_);                          \
		long gn_ = mqtt_encode((pkt), (version), got_, sizeof(got_));                      \
		CHECK_EQ(gn_, (long)wn_);                                                          \
		if (gn_ >= 0)                                                                      \
			CHECK_MEM(got_, (size_t)gn_, want_, wn_);                                  \
	} while (0)

/* The encoder refuses pkt with `err`, from both entry points. */
#define CHECK_ENC_ERR(pkt, version, err)                                                           \
	do {                                                                                       \
		uint8_t got_[256];                                                                 \
		CHECK_EQ(mqtt_encoded_size((pkt), (version)), (err));                              \
		CHECK_EQ(mqtt_encode((pkt), (version), got_, sizeof(got_)), (err));                \
	} while (0)

/* Decoding fails with `err` and the reason code the spec names for it. */
#define CHECK_DEC_ERR(vec, version, err)                                                           \
	do {                                                                                       \
		struct mqtt_packet p_;                                                             \
		uint8_t rc_ = 0xff;                                                                \
		CHECK_EQ(dec((vec), (version), &p_, &rc_), (err));                                 \
		CHECK_EQ(rc_, mqtt_reason_for_errno(err));                                         \
	} while (0)

/* Decodes `vec` and re-encodes it to `again` (the shortest form). */
#define CHECK_REENCODE(vec, version, again)                                                        \
	do {                                                                                       \
		struct mqtt_packet p_;                                                             \
		CHECK_EQ(dec((vec), (version), &p_, NULL), 0);                                     \
		CHECK_ENC(&p_, (version), (again));                                                \
	} while (0)

static struct mqtt_str str(const char *s)
{
	return (struct mqtt_str){(const uint8_t *)s, (uint16_t)strlen(s)};
}

/* ---- PINGREQ, PINGRESP ----------------------------------------------------------------- */

static void test_ping(void)
{
	static const uint8_t versions[] = {MQTT_V31, MQTT_V311, MQTT_V5};
	struct mqtt_packet pkt;

	for (size_t i = 0; i < sizeof(versions); i++) {
		uint8_t v = versions[i];
		CHECK_EQ(dec("c0 00", v, &pkt, NULL), 0);
		CHECK_EQ(pkt.type, MQTT_PINGREQ);
		CHECK_ENC(&pkt, v, "c0 00");
		CHECK_EQ(dec("d0 00", v, &pkt, NULL), 0);
		CHECK_EQ(pkt.type, MQTT_PINGRESP);
		CHECK_ENC(&pkt, v, "d0 00");
		/* No body [MQTT 3.1.1 §3.12, §3.13]; flags 0000 [MQTT-2.2.2-1]. */
		CHECK_DEC_ERR("c0 01 00", v, -EBADMSG);
		CHECK_DEC_ERR("d0 01 00", v, -EBADMSG);
		CHECK_DEC_ERR("c1 00", v, -EBADMSG);
		CHECK_DEC_ERR("d8 00", v, -EBADMSG);
	}
}

/* ---- DISCONNECT ------------------------------------------------------------------------ */

static void test_disconnect_v3(void)
{
	struct mqtt_packet pkt = {.type = MQTT_DISCONNECT};

	CHECK_ENC(&pkt, MQTT_V311, "e0 00");
	CHECK_ENC(&pkt, MQTT_V31, "e0 00");
	CHECK_EQ(dec("e0 00", MQTT_V311, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_DISCONNECT);
	CHECK_EQ(pkt.disconnect.reason, 0);
	CHECK_EQ(dec("e0 00", MQTT_V31, &pkt, NULL), 0);
	/* 3.1.1 §3.14: no variable header, no payload. */
	CHECK_DEC_ERR("e0 01 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("e0 02 00 00", MQTT_V31, -EBADMSG);
	CHECK_DEC_ERR("e2 00", MQTT_V311, -EBADMSG); /* [MQTT-2.2.2-1] */
	/* A reason code or properties cannot be said in 3.1.1. */
	pkt = (struct mqtt_packet){.type = MQTT_DISCONNECT};
	pkt.disconnect.reason = MQTT_RC_DISCONNECT_WITH_WILL;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
	pkt.disconnect.reason = 0;
	pkt.disconnect.props.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY);
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
}

static void test_disconnect_v5(void)
{
	struct mqtt_packet pkt;

	/* Remaining Length 0: Normal disconnection, no properties (MQTT 5.0 §3.14.2.1). */
	CHECK_EQ(dec("e0 00", MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_DISCONNECT);
	CHECK_EQ(pkt.disconnect.reason, MQTT_RC_SUCCESS);
	CHECK_EQ(pkt.disconnect.props.present, 0);
	CHECK_ENC(&pkt, MQTT_V5, "e0 00");
	/* Remaining Length 1: the reason alone (§3.14.2.2.1). */
	CHECK_EQ(dec("e0 01 04", MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.disconnect.reason, MQTT_RC_DISCONNECT_WITH_WILL);
	CHECK_EQ(pkt.disconnect.props.present, 0);
	CHECK_ENC(&pkt, MQTT_V5, "e0 01 04");
	/* Reason and properties: Session Expiry Interval and Reason String. */
	const char *full = "e0 0d 04 0b 11 00 00 0e 10 1f 00 03 'bye'";
	CHECK_EQ(dec(full, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.disconnect.reason, MQTT_RC_DISCONNECT_WITH_WILL);
	CHECK(mqtt_props_has(&pkt.disconnect.props, MQTT_PROP_SESSION_EXPIRY));
	CHECK_EQ(pkt.disconnect.props.session_expiry, 3600);
	CHECK_STR(pkt.disconnect.props.reason_string, "bye");
	CHECK_ENC(&pkt, MQTT_V5, full);
	/* Reason 0 with properties keeps its reason byte. */
	CHECK_REENCODE("e0 07 00 05 11 00 00 00 3c", MQTT_V5, "e0 07 00 05 11 00 00 00 3c");
	/* Server Reference and a User Property. */
	CHECK_REENCODE("e0 10 9c 0e 1c 00 04 'host' 26 00 01 'k' 00 01 'v'", MQTT_V5,
	               "e0 10 9c 0e 1c 00 04 'host' 26 00 01 'k' 00 01 'v'");
	/* Longer forms than needed decode, and re-encode to the shortest. */
	CHECK_REENCODE("e0 02 8e 00", MQTT_V5, "e0 01 8e");
	CHECK_REENCODE("e0 02 00 00", MQTT_V5, "e0 00");
	CHECK_REENCODE("e0 01 00", MQTT_V5, "e0 00");

	/* Encoder side. */
	struct mqtt_packet enc = {.type = MQTT_DISCONNECT};
	enc.disconnect.reason = MQTT_RC_SERVER_SHUTTING_DOWN;
	CHECK_ENC(&enc, MQTT_V5, "e0 01 8b");
	enc.disconnect.props.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
	enc.disconnect.props.reason_string = str("maintenance");
	CHECK_ENC(&enc, MQTT_V5, "e0 10 8b 0e 1f 00 0b 'maintenance'");
	enc.disconnect.reason = 0x01; /* not a Disconnect Reason Code */
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.disconnect.reason = 0;
	enc.disconnect.props.present = MQTT_PROP_BIT(MQTT_PROP_AUTH_METHOD); /* not allowed here */
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
}

static void test_disconnect_v5_errors(void)
{
	/* Codes outside MQTT 5.0 §3.14.2.1. */
	CHECK_DEC_ERR("e0 01 01", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 01 18", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 01 84", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 01 91", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 01 ff", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 02 02 00", MQTT_V5, -EPROTO);
	/* Property block: truncated, not allowed in DISCONNECT, repeated, bad VBI. */
	CHECK_DEC_ERR("e0 03 00 05 11", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("e0 0a 00 08 15 00 05 'SCRAM'", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("e0 0c 00 0a 11 00 00 00 01 11 00 00 00 02", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("e0 06 00 ff ff ff ff 7f", MQTT_V5, -EBADMSG);
	/* Bytes after the property block. */
	CHECK_DEC_ERR("e0 03 00 00 00", MQTT_V5, -EBADMSG);
	/* Invalid UTF-8 in the Reason String. */
	CHECK_DEC_ERR("e0 07 00 05 1f 00 02 c3 28", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("e1 00", MQTT_V5, -EBADMSG);

	/* Every valid code decodes and re-encodes as the 1-byte form (0x00 as the empty one). */
	static const uint8_t valid[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
	                                0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
	                                0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
	unsigned ok = 0;
	for (unsigned rc = 0; rc < 256; rc++) {
		uint8_t buf[3] = {0xe0, 0x01, (uint8_t)rc}, out[8];
		const uint8_t empty[2] = {0xe0, 0x00};
		struct mqtt_packet pkt;
		bool want = memchr(valid, (int)rc, sizeof(valid)) != NULL;
		int err = mqtt_decode(buf, 3, MQTT_V5, &pkt, NULL);
		CHECK_EQ(err, want ? 0 : -EPROTO);
		if (err < 0)
			continue;
		ok++;
		long n = mqtt_encode(&pkt, MQTT_V5, out, sizeof(out));
		CHECK_EQ(n, rc == 0 ? 2 : 3);
		CHECK_MEM(out, (size_t)n, rc == 0 ? empty : buf, rc == 0 ? 2 : 3);
	}
	CHECK_EQ(ok, sizeof(valid));
}

/* ---- AUTH ------------------------------------------------------------------------------ */

static void test_auth(void)
{
	struct mqtt_packet pkt;

	/* Remaining Length 0: Success, no properties (MQTT 5.0 §3.15.2.1). */
	CHECK_EQ(dec("f0 00", MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_AUTH);
	CHECK_EQ(pkt.auth.reason, MQTT_RC_SUCCESS);
	CHECK_ENC(&pkt, MQTT_V5, "f0 00");
	/* Continue authentication with method and data. */
	const char *cont = "f0 10 18 0e 15 00 05 'SCRAM' 16 00 03 01 02 03";
	CHECK_EQ(dec(cont, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.auth.reason, MQTT_RC_CONTINUE_AUTHENTICATION);
	CHECK_STR(pkt.auth.props.auth_method, "SCRAM");
	CHECK_MEM(pkt.auth.props.auth_data.p, pkt.auth.props.auth_data.len, "\x01\x02\x03", 3);
	CHECK_ENC(&pkt, MQTT_V5, cont);
	/* Re-authenticate, and Success with a method and a Reason String. */
	CHECK_REENCODE("f0 0a 19 08 15 00 05 'SCRAM'", MQTT_V5, "f0 0a 19 08 15 00 05 'SCRAM'");
	CHECK_REENCODE("f0 0e 00 0c 15 00 05 'SCRAM' 1f 00 01 'r'", MQTT_V5,
	               "f0 0e 00 0c 15 00 05 'SCRAM' 1f 00 01 'r'");

	/* Encoder side. */
	struct mqtt_packet enc = {.type = MQTT_AUTH};
	static const uint8_t data[] = {0xde, 0xad};
	enc.auth.reason = MQTT_RC_CONTINUE_AUTHENTICATION;
	enc.auth.props.present =
	        MQTT_PROP_BIT(MQTT_PROP_AUTH_METHOD) | MQTT_PROP_BIT(MQTT_PROP_AUTH_DATA);
	enc.auth.props.auth_method = str("K");
	enc.auth.props.auth_data = (struct mqtt_str){data, 2};
	CHECK_ENC(&enc, MQTT_V5, "f0 0b 18 09 15 00 01 'K' 16 00 02 de ad");
	/* AUTH does not exist before MQTT 5. */
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL);
	CHECK_ENC_ERR(&enc, MQTT_V31, -EINVAL);
	/* Not an Authenticate Reason Code. */
	enc.auth.reason = MQTT_RC_NOT_AUTHORIZED;
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	/* A non-empty AUTH must name its method (§3.15.2.2.2). */
	enc.auth.reason = MQTT_RC_REAUTHENTICATE;
	enc.auth.props.present = 0;
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.auth.props.present = MQTT_PROP_BIT(MQTT_PROP_AUTH_DATA);
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.auth.reason = 0;
	enc.auth.props.present = 0;
	CHECK_ENC(&enc, MQTT_V5, "f0 00");
}

static void test_auth_errors(void)
{
	/* Reserved type before MQTT 5 (3.1.1 §2.2.1). */
	CHECK_DEC_ERR("f0 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("f0 00", MQTT_V31, -EBADMSG);
	/* Codes outside §3.15.2.1. */
	CHECK_DEC_ERR("f0 0a 01 08 15 00 05 'SCRAM'", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("f0 0a 04 08 15 00 05 'SCRAM'", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("f0 01 87", MQTT_V5, -EPROTO);
	/* Authentication Method omitted (§3.15.2.2.2). */
	CHECK_DEC_ERR("f0 01 18", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("f0 02 19 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("f0 07 18 05 16 00 02 01 02", MQTT_V5, -EPROTO);
	/* Properties not allowed in AUTH, repeated, truncated; trailing bytes. */
	CHECK_DEC_ERR("f0 0f 18 0d 15 00 05 'SCRAM' 11 00 00 00 01", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("f0 09 18 07 15 00 01 'a' 00 00 00", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("f0 0a 18 08 15 00 01 'a' 15 00 01 'b'", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("f0 04 18 08 15 00", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("f0 0b 18 08 15 00 05 'SCRAM' 00", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("f1 00", MQTT_V5, -EBADMSG);
}

/* The body functions called directly, as a fuzzer or another caller of codec.h would. */
static void test_body_direct(void)
{
	struct mqtt_reason_only d;
	struct mqtt_reader r;
	uint8_t buf[4] = {0x18, 0x00};

	mqtt_reader_init(&r, buf, 0);
	CHECK_EQ(mqtt_reason_only_decode(&r, MQTT_AUTH, MQTT_V311, &d), -EBADMSG);
	mqtt_reader_init(&r, buf, 0);
	CHECK_EQ(mqtt_reason_only_decode(&r, MQTT_PINGREQ, MQTT_V5, &d), -EINVAL);
	mqtt_reader_init(&r, buf, 0);
	CHECK_EQ(mqtt_reason_only_decode(&r, MQTT_DISCONNECT, MQTT_V311, &d), 0);
	mqtt_reader_init(&r, buf, 2);
	CHECK_EQ(mqtt_reason_only_decode(&r, MQTT_DISCONNECT, MQTT_V311, &d), -EBADMSG);
	/* The decoder leaves nothing behind for the caller to check. */
	buf[0] = 0x00;
	buf[2] = 0x00;
	mqtt_reader_init(&r, buf, 3);
	CHECK_EQ(mqtt_reason_only_decode(&r, MQTT_DISCONNECT, MQTT_V5, &d), -EBADMSG);
	d = (struct mqtt_reason_only){0};
	CHECK_EQ(mqtt_reason_only_body_size(&d, MQTT_PINGREQ, MQTT_V5), -EINVAL);
	CHECK_EQ(mqtt_reason_only_body_size(&d, MQTT_AUTH, MQTT_V311), -EINVAL);
	CHECK_EQ(mqtt_reason_only_body_size(&d, MQTT_AUTH, MQTT_V5), 0);
	CHECK_EQ(mqtt_reason_only_body_size(&d, MQTT_DISCONNECT, MQTT_V311), 0);
}

int main(void)
{
	test_ping();
	test_disconnect_v3();
	test_disconnect_v5();
	test_disconnect_v5_errors();
	test_auth();
	test_auth_errors();
	test_body_direct();
	return check_report();
}
