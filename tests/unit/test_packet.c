/* test_packet.c - packet.c and reason.c: fixed header rules not tied to one family, encoder
 * errors, the errno -> reason code mapping and the names used in log lines. */
#include <errno.h>

#include "check.h"
#include "mqtt.h"

static void test_reason_for_errno(void)
{
	CHECK_EQ(mqtt_reason_for_errno(0), MQTT_RC_SUCCESS);
	CHECK_EQ(mqtt_reason_for_errno(-EBADMSG), MQTT_RC_MALFORMED_PACKET);
	CHECK_EQ(mqtt_reason_for_errno(-EPROTO), MQTT_RC_PROTOCOL_ERROR);
	CHECK_EQ(mqtt_reason_for_errno(-EMSGSIZE), MQTT_RC_PACKET_TOO_LARGE);
	CHECK_EQ(mqtt_reason_for_errno(-EPROTONOSUPPORT), MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
	CHECK_EQ(mqtt_reason_for_errno(-ERANGE), MQTT_RC_TOPIC_ALIAS_INVALID);
	CHECK_EQ(mqtt_reason_for_errno(-ENOMEM), MQTT_RC_UNSPECIFIED_ERROR);
}

static void test_names(void)
{
	CHECK(strcmp(mqtt_type_name(MQTT_CONNECT), "CONNECT") == 0);
	CHECK(strcmp(mqtt_type_name(MQTT_AUTH), "AUTH") == 0);
	CHECK(strcmp(mqtt_type_name(0), "RESERVED") == 0);
	CHECK(strcmp(mqtt_type_name(16), "UNKNOWN") == 0);

	/* Every code the spec defines has its own name; everything else is "Unknown". */
	static const uint8_t defined[] = {0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80,
	                                  0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
	                                  0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92,
	                                  0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B,
	                                  0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
	const char *unknown = mqtt_reason_name(0x03);
	CHECK(strcmp(unknown, "Unknown reason code") == 0);
	unsigned named = 0;
	for (unsigned rc = 0; rc < 256; rc++) {
		const char *name = mqtt_reason_name((uint8_t)rc);
		CHECK(name != NULL);
		if (strcmp(name, unknown) != 0)
			named++;
	}
	CHECK_EQ(named, sizeof(defined));
	for (size_t i = 0; i < sizeof(defined); i++)
		CHECK(strcmp(mqtt_reason_name(defined[i]), unknown) != 0);
	CHECK(strcmp(mqtt_reason_name(MQTT_RC_PACKET_TOO_LARGE), "Packet too large") == 0);
}

static void test_v31_dup_on_qos1_types(void)
{
	/* 3.1 sent SUBSCRIBE/UNSUBSCRIBE/PUBREL as QoS 1 messages that may carry DUP on a retry. */
	uint8_t b[32];
	struct mqtt_packet p;
	size_t n = hex("8a 06 00 01 00 01 'a' 00", b, sizeof(b));
	CHECK_EQ(mqtt_decode(b, n, MQTT_V31, &p, NULL), 0);
	CHECK_EQ(p.type, MQTT_SUBSCRIBE);
	CHECK_EQ(mqtt_decode(b, n, MQTT_V311, &p, NULL), -EBADMSG);
	n = hex("6a 02 00 07", b, sizeof(b));
	CHECK_EQ(mqtt_decode(b, n, MQTT_V31, &p, NULL), 0);
	CHECK_EQ(p.ack.packet_id, 7);
	/* Other flag values stay malformed in 3.1 too. */
	n = hex("66 02 00 07", b, sizeof(b));
	CHECK_EQ(mqtt_decode(b, n, MQTT_V31, &p, NULL), -EBADMSG);
}

static void test_decode_unknown_version(void)
{
	uint8_t b[8];
	struct mqtt_packet p;
	uint8_t reason = 0;
	size_t n = hex("c0 00", b, sizeof(b));
	CHECK_EQ(mqtt_decode(b, n, 6, &p, &reason), -EINVAL);
	CHECK_EQ(reason, MQTT_RC_UNSPECIFIED_ERROR);
	CHECK_EQ(mqtt_decode(b, n, MQTT_V5, &p, NULL), 0);
	CHECK_EQ(p.type, MQTT_PINGREQ);
}

static void test_encode_errors(void)
{
	uint8_t out[16];
	struct mqtt_packet p = {.type = MQTT_PINGREQ};
	CHECK_EQ(mqtt_encoded_size(&p, MQTT_V311), 2);
	CHECK_EQ(mqtt_encode(&p, MQTT_V311, out, sizeof(out)), 2);
	CHECK_MEM(out, 2, "\xc0\x00", 2);
	CHECK_EQ(mqtt_encode(&p, MQTT_V311, out, 1), -ENOBUFS);
	CHECK_EQ(mqtt_encode(&p, 2, out, sizeof(out)), -EINVAL);
	CHECK_EQ(mqtt_encoded_size(&p, 0), -EINVAL);

	struct mqtt_packet auth = {.type = MQTT_AUTH};
	CHECK_EQ(mqtt_encoded_size(&auth, MQTT_V311), -EINVAL);
	CHECK_EQ(mqtt_encode(&auth, MQTT_V5, out, sizeof(out)), 2);
	CHECK_MEM(out, 2, "\xf0\x00", 2);

	struct mqtt_packet bad = {.type = 0};
	CHECK_EQ(mqtt_encoded_size(&bad, MQTT_V5), -EINVAL);
	bad.type = 16;
	CHECK_EQ(mqtt_encoded_size(&bad, MQTT_V5), -EINVAL);
}

static void test_large_remaining_length(void)
{
	/* A PUBLISH whose body needs a 3-byte Remaining Length: encode, then decode it back. */
	static uint8_t payload[20000], out[20100];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	struct mqtt_packet p = {.type = MQTT_PUBLISH};
	p.publish.topic = (struct mqtt_str){(const uint8_t *)"t/big", 5};
	p.publish.payload = payload;
	p.publish.payload_len = sizeof(payload);
	long n = mqtt_encode(&p, MQTT_V311, out, sizeof(out));
	CHECK_EQ(n, 1 + 3 + 2 + 5 + (long)sizeof(payload));
	CHECK_MEM(out, 4, "\x30\xa7\x9c\x01", 4); /* 20007 = 0x4e27 */
	struct mqtt_packet d;
	CHECK_EQ(mqtt_decode(out, (size_t)n, MQTT_V311, &d, NULL), 0);
	CHECK_EQ(d.publish.payload_len, sizeof(payload));
	CHECK(d.publish.payload == out + 11);
}

static void test_publish_header(void)
{
	/* Header + payload sent separately equal the whole packet from mqtt_encode. */
	static const uint8_t payload[] = "hello, world";
	struct mqtt_packet p = {.type = MQTT_PUBLISH};
	p.publish.qos = 1;
	p.publish.packet_id = 10;
	p.publish.topic = (struct mqtt_str){(const uint8_t *)"a/b", 3};
	p.publish.payload = payload;
	p.publish.payload_len = sizeof(payload) - 1;
	uint8_t whole[64], head[64];
	for (uint8_t version = MQTT_V31; version <= MQTT_V5; version++) {
		long n = mqtt_encode(&p, version, whole, sizeof(whole));
		long h = mqtt_encode_publish_header(&p.publish, version, head, sizeof(head));
		CHECK(n > 0 && h > 0);
		CHECK_EQ(h + (long)p.publish.payload_len, n);
		CHECK_MEM(head, (size_t)h, whole, (size_t)h);
		CHECK_MEM(whole + h, (size_t)(n - h), payload, p.publish.payload_len);
		CHECK_EQ(mqtt_encode_publish_header(&p.publish, version, head, (size_t)h - 1),
		         -ENOBUFS);
	}
	CHECK_EQ(mqtt_encode_publish_header(&p.publish, 9, head, sizeof(head)), -EINVAL);
	p.publish.packet_id = 0; /* QoS 1 needs a packet id */
	CHECK_EQ(mqtt_encode_publish_header(&p.publish, MQTT_V311, head, sizeof(head)), -EINVAL);
	p.publish.packet_id = 1;
	p.publish.payload_len = MQTT_VARINT_MAX;
	CHECK_EQ(mqtt_encode_publish_header(&p.publish, MQTT_V311, head, sizeof(head)), -EINVAL);
}

int main(void)
{
	test_publish_header();
	test_reason_for_errno();
	test_names();
	test_v31_dup_on_qos1_types();
	test_decode_unknown_version();
	test_encode_errors();
	test_large_remaining_length();
	return check_report();
}
