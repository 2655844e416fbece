/* test_publish.c - PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP: exact-byte vectors for MQTT 3.1,
 * 3.1.1 and 5.0, round trips through mqtt_decode / mqtt_encode, malformed inputs. */
#include "check.h"
#include "codec.h"

#include <errno.h>

#define BUF_MAX 512

/* After a helper's checks: names the test line that called it when one of them failed. */
static void check_caller_(unsigned failed_before, int line)
{
	if (check_state_.failed != failed_before)
		fprintf(stderr, "    ^ called from line %d\n", line);
}

#define check_decode_err(hx, version, err)  check_decode_err_at(hx, version, err, __LINE__)
#define check_encode(pkt, version, hx)      check_encode_at(pkt, version, hx, __LINE__)
#define check_encode_err(pkt, version, err) check_encode_err_at(pkt, version, err, __LINE__)
#define check_roundtrip(hx, version)        check_roundtrip_at(hx, version, __LINE__)

/* Decodes the packet written as `hx` into `buf` (which the views in *pkt then borrow). */
static int dec(const char *hx, uint8_t version, uint8_t *buf, struct mqtt_packet *pkt)
{
	size_t n = hex(hx, buf, BUF_MAX);
	memset(pkt, 0xa5, sizeof(*pkt)); /* the decoder must zero what it does not set */
	return mqtt_decode(buf, n, version, pkt, NULL);
}

/* Expects `hx` to fail decoding with `err` (and the matching reason code). */
static void check_decode_err_at(const char *hx, uint8_t version, int err, int line)
{
	unsigned failed = check_state_.failed;
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;
	uint8_t reason = 0xff;
	size_t n = hex(hx, buf, sizeof(buf));

	CHECK_EQ(mqtt_decode(buf, n, version, &pkt, &reason), err);
	CHECK_EQ(reason, mqtt_reason_for_errno(err));
	check_caller_(failed, line);
}

/* Expects pkt to encode to exactly `hx` for `version`. */
static void check_encode_at(const struct mqtt_packet *pkt, uint8_t version, const char *hx,
                            int line)
{
	unsigned failed = check_state_.failed;
	uint8_t want[BUF_MAX], got[BUF_MAX];
	size_t n = hex(hx, want, sizeof(want));

	CHECK_EQ(mqtt_encoded_size(pkt, version), (long)n);
	long len = mqtt_encode(pkt, version, got, sizeof(got));
	CHECK_EQ(len, (long)n);
	if (len >= 0)
		CHECK_MEM(got, (size_t)len, want, n);
	check_caller_(failed, line);
}

/* Expects pkt to be rejected by the encoder with `err`. */
static void check_encode_err_at(const struct mqtt_packet *pkt, uint8_t version, int err, int line)
{
	unsigned failed = check_state_.failed;
	uint8_t out[BUF_MAX];

	CHECK_EQ(mqtt_encoded_size(pkt, version), err);
	CHECK_EQ(mqtt_encode(pkt, version, out, sizeof(out)), err);
	check_caller_(failed, line);
}

/* Decodes `hx`, re-encodes the result and expects the same bytes. */
static void check_roundtrip_at(const char *hx, uint8_t version, int line)
{
	unsigned failed = check_state_.failed;
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;

	CHECK_EQ(dec(hx, version, buf, &pkt), 0);
	check_caller_(failed, line);
	check_encode_at(&pkt, version, hx, line);
}

static struct mqtt_str str(const char *s)
{
	return (struct mqtt_str){(const uint8_t *)s, (uint16_t)strlen(s)};
}

static struct mqtt_packet publish(uint8_t qos, uint16_t id, const char *topic, const char *payload)
{
	struct mqtt_packet pkt = {.type = MQTT_PUBLISH};
	pkt.publish.qos = qos;
	pkt.publish.packet_id = id;
	pkt.publish.topic = str(topic);
	pkt.publish.payload = (const uint8_t *)payload;
	pkt.publish.payload_len = (uint32_t)strlen(payload);
	return pkt;
}

static struct mqtt_packet ack(uint8_t type, uint16_t id, uint8_t reason)
{
	struct mqtt_packet pkt = {.type = type};
	pkt.ack.packet_id = id;
	pkt.ack.reason = reason;
	return pkt;
}

/* ---- PUBLISH, 3.1 and 3.1.1 ------------------------------------------------------------------ */

static void test_publish_v311_vectors(void)
{
	static const char *const vectors[] = {
	        "30 07 00 03 'a/b' 'hi'",       /* QoS 0 */
	        "31 07 00 03 'a/b' 'hi'",       /* QoS 0, retain */
	        "32 09 00 03 'a/b' 12 34 'hi'", /* QoS 1 */
	        "3b 09 00 03 'a/b' 12 34 'hi'", /* QoS 1, dup, retain */
	        "34 09 00 03 'a/b' 00 01 'hi'", /* QoS 2 */
	        "3c 09 00 03 'a/b' ff ff 'hi'", /* QoS 2, dup */
	        "30 05 00 03 'a/b'",            /* empty payload */
	        "32 07 00 03 'a/b' 00 0a",      /* QoS 1, empty payload */
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		check_roundtrip(vectors[i], MQTT_V311);
		check_roundtrip(vectors[i], MQTT_V31); /* same wire format */
	}
}

static void test_publish_v311_fields(void)
{
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;

	CHECK_EQ(dec("3b 09 00 03 'a/b' 12 34 'hi'", MQTT_V311, buf, &pkt), 0);
	CHECK_EQ(pkt.type, MQTT_PUBLISH);
	CHECK_EQ(pkt.publish.dup, true);
	CHECK_EQ(pkt.publish.qos, 1);
	CHECK_EQ(pkt.publish.retain, true);
	CHECK_STR(pkt.publish.topic, "a/b");
	CHECK_EQ(pkt.publish.packet_id, 0x1234);
	CHECK_MEM(pkt.publish.payload, pkt.publish.payload_len, "hi", 2);
	CHECK(pkt.publish.payload == buf + 9); /* a view, not a copy */
	CHECK_EQ(pkt.publish.props.present, 0);

	CHECK_EQ(dec("30 05 00 03 'a/b'", MQTT_V311, buf, &pkt), 0);
	CHECK_EQ(pkt.publish.dup, false);
	CHECK_EQ(pkt.publish.qos, 0);
	CHECK_EQ(pkt.publish.retain, false);
	CHECK_EQ(pkt.publish.packet_id, 0);
	CHECK_EQ(pkt.publish.payload_len, 0);

	/* A payload that looks like a property block is just payload before 5.0. */
	CHECK_EQ(dec("34 0a 00 03 'a/b' 00 07 00 'hi'", MQTT_V311, buf, &pkt), 0);
	CHECK_EQ(pkt.publish.qos, 2);
	CHECK_EQ(pkt.publish.packet_id, 7);
	CHECK_MEM(pkt.publish.payload, pkt.publish.payload_len, "\0hi", 3);
}

static void test_publish_v311_encode(void)
{
	struct mqtt_packet pkt = publish(0, 0, "a/b", "hi");
	check_encode(&pkt, MQTT_V311, "30 07 00 03 'a/b' 'hi'");
	pkt.publish.retain = true;
	check_encode(&pkt, MQTT_V311, "31 07 00 03 'a/b' 'hi'");

	pkt = publish(1, 0x1234, "a/b", "hi");
	check_encode(&pkt, MQTT_V311, "32 09 00 03 'a/b' 12 34 'hi'");
	pkt.publish.dup = true;
	check_encode(&pkt, MQTT_V311, "3a 09 00 03 'a/b' 12 34 'hi'");
	check_encode(&pkt, MQTT_V31, "3a 09 00 03 'a/b' 12 34 'hi'");

	pkt = publish(2, 1, "a/b", "");
	pkt.publish.retain = true;
	check_encode(&pkt, MQTT_V311, "35 07 00 03 'a/b' 00 01");

	/* Properties do not exist before 5.0: they are left out, not an error. */
	pkt = publish(0, 0, "a/b", "hi");
	pkt.publish.props.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY);
	pkt.publish.props.message_expiry = 60;
	check_encode(&pkt, MQTT_V311, "30 07 00 03 'a/b' 'hi'");

	struct mqtt_publish p = pkt.publish;
	CHECK_EQ(mqtt_publish_flags(&p), 0x0);
	p.qos = 2;
	p.dup = true;
	p.retain = true;
	CHECK_EQ(mqtt_publish_flags(&p), 0xd);
	p.qos = 1;
	p.retain = false;
	CHECK_EQ(mqtt_publish_flags(&p), 0xa);
}

static void test_publish_encode_invalid(void)
{
	struct mqtt_packet pkt = publish(3, 1, "a/b", "hi");
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* [MQTT-3.3.1-4] */
	pkt = publish(1, 0, "a/b", "hi");
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* [MQTT-2.2.1-3] */
	pkt = publish(0, 0, "a/b", "hi");
	pkt.publish.dup = true;
	check_encode_err(&pkt, MQTT_V5, -EINVAL); /* [MQTT-3.3.1-2] */
	pkt = publish(0, 0, "", "hi");
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* [MQTT-4.7.3-1] */
	check_encode_err(&pkt, MQTT_V5, -EINVAL);   /* no Topic Alias */
	pkt.publish.props.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
	pkt.publish.props.topic_alias = 7;
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* no aliases before 5.0 */
	pkt.publish.props.topic_alias = 0;
	check_encode_err(&pkt, MQTT_V5, -EINVAL); /* [MQTT-3.3.2-8] */
	pkt = publish(0, 0, "a/+", "hi");
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* [MQTT-3.3.2-2] */
	pkt = publish(0, 0, "a/#", "hi");
	check_encode_err(&pkt, MQTT_V5, -EINVAL);
	pkt = publish(0, 0, "a\xff", "hi");
	check_encode_err(&pkt, MQTT_V5, -EINVAL); /* [MQTT-1.5.4-1] */
	pkt = publish(0, 0, "a/b", "hi");
	check_encode_err(&pkt, 6, -EINVAL); /* unknown protocol level */
	CHECK_EQ(mqtt_publish_body_size(&pkt.publish, 6), -EINVAL);
	pkt.publish.payload = NULL;
	check_encode_err(&pkt, MQTT_V311, -EINVAL); /* NULL view with a length */
	pkt = publish(0, 0, "a/b", "hi");
	pkt.publish.topic.p = NULL;
	check_encode_err(&pkt, MQTT_V311, -EINVAL);
	/* A property PUBLISH cannot carry (mqtt_props_size says -EINVAL). */
	pkt = publish(0, 0, "a/b", "hi");
	pkt.publish.props.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY);
	check_encode_err(&pkt, MQTT_V5, -EINVAL);
	check_encode(&pkt, MQTT_V311, "30 07 00 03 'a/b' 'hi'");

	/* The body must fit a Variable Byte Integer (the payload is never read here). */
	pkt = publish(0, 0, "a/b", "hi");
	pkt.publish.payload_len = MQTT_VARINT_MAX - 5;
	CHECK_EQ(mqtt_publish_body_size(&pkt.publish, MQTT_V311), (long)MQTT_VARINT_MAX);
	pkt.publish.qos = 1;
	pkt.publish.packet_id = 1;
	CHECK_EQ(mqtt_publish_body_size(&pkt.publish, MQTT_V311), -EINVAL);
	pkt.publish.payload_len = UINT32_MAX;
	CHECK_EQ(mqtt_publish_body_size(&pkt.publish, MQTT_V311), -EINVAL);

	/* Short output buffer. */
	uint8_t out[8];
	pkt = publish(0, 0, "a/b", "hi");
	CHECK_EQ(mqtt_encode(&pkt, MQTT_V311, out, sizeof(out)), -ENOBUFS);
}

/* ---- PUBLISH, 5.0 ------------------------------------------------------------------------------ */

/* QoS 1, id 1, topic "a/b", payload "hi" and a property of every kind PUBLISH may carry, in
 * identifier order: Payload Format 1, Message Expiry 60, Content Type "text", Response Topic
 * "r/t", Correlation Data ca fe, Subscription Identifiers 5 and 128, Topic Alias 7, User
 * Properties k=v and k2=v2. */
#define PUBLISH_V5_FULL                                                                            \
	"32 3b 00 03 'a/b' 00 01 31"                                                               \
	" 01 01"                                                                                   \
	" 02 00 00 00 3c"                                                                          \
	" 03 00 04 'text'"                                                                         \
	" 08 00 03 'r/t'"                                                                          \
	" 09 00 02 ca fe"                                                                          \
	" 0b 05 0b 80 01"                                                                          \
	" 23 00 07"                                                                                \
	" 26 00 01 'k' 00 01 'v' 26 00 02 'k2' 00 02 'v2'"                                         \
	" 'hi'"

static void check_full_props(const struct mqtt_publish *p)
{
	const struct mqtt_props *pr = &p->props;

	CHECK_EQ(p->qos, 1);
	CHECK_EQ(p->packet_id, 1);
	CHECK_STR(p->topic, "a/b");
	CHECK_MEM(p->payload, p->payload_len, "hi", 2);
	CHECK(mqtt_props_has(pr, MQTT_PROP_PAYLOAD_FORMAT));
	CHECK_EQ(pr->payload_format, 1);
	CHECK(mqtt_props_has(pr, MQTT_PROP_MESSAGE_EXPIRY));
	CHECK_EQ(pr->message_expiry, 60);
	CHECK(mqtt_props_has(pr, MQTT_PROP_CONTENT_TYPE));
	CHECK_STR(pr->content_type, "text");
	CHECK(mqtt_props_has(pr, MQTT_PROP_RESPONSE_TOPIC));
	CHECK_STR(pr->response_topic, "r/t");
	CHECK(mqtt_props_has(pr, MQTT_PROP_CORRELATION_DATA));
	CHECK_MEM(pr->correlation_data.p, pr->correlation_data.len, "\xca\xfe", 2);
	CHECK(mqtt_props_has(pr, MQTT_PROP_TOPIC_ALIAS));
	CHECK_EQ(pr->topic_alias, 7);

	uint32_t cursor = 0, id = 0;
	CHECK_EQ(pr->sub_id_count, 2);
	CHECK_EQ(mqtt_props_next_sub_id(pr, &cursor, &id), 1);
	CHECK_EQ(id, 5);
	CHECK_EQ(mqtt_props_next_sub_id(pr, &cursor, &id), 1);
	CHECK_EQ(id, 128);
	CHECK_EQ(mqtt_props_next_sub_id(pr, &cursor, &id), 0);

	struct mqtt_user_prop up;
	cursor = 0;
	CHECK_EQ(pr->user_count, 2);
	CHECK_EQ(mqtt_props_next_user(pr, &cursor, &up), 1);
	CHECK_STR(up.key, "k");
	CHECK_STR(up.value, "v");
	CHECK_EQ(mqtt_props_next_user(pr, &cursor, &up), 1);
	CHECK_STR(up.key, "k2");
	CHECK_STR(up.value, "v2");
	CHECK_EQ(mqtt_props_next_user(pr, &cursor, &up), 0);
}

static void test_publish_v5_vectors(void)
{
	static const char *const vectors[] = {
	        "30 06 00 03 'a/b' 00",                /* QoS 0, no properties, empty payload */
	        "31 08 00 03 'a/b' 00 'hi'",           /* QoS 0, retain */
	        "32 0a 00 03 'a/b' 00 01 00 'hi'",     /* QoS 1 */
	        "3c 0a 00 03 'a/b' ff fe 00 'hi'",     /* QoS 2, dup */
	        "30 0b 00 03 'a/b' 05 02 00 00 00 3c", /* Message Expiry 60, empty payload */
	        "30 08 00 00 03 23 00 07 'hi'",        /* empty topic with Topic Alias 7 */
	        "30 0b 00 03 'a/b' 03 23 00 07 'hi'",  /* Topic Name and Topic Alias */
	        PUBLISH_V5_FULL,
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		check_roundtrip(vectors[i], MQTT_V5);
}

static void test_publish_v5_fields(void)
{
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;

	CHECK_EQ(dec(PUBLISH_V5_FULL, MQTT_V5, buf, &pkt), 0);
	CHECK_EQ(pkt.type, MQTT_PUBLISH);
	check_full_props(&pkt.publish);

	CHECK_EQ(dec("30 08 00 00 03 23 00 07 'hi'", MQTT_V5, buf, &pkt), 0);
	CHECK_EQ(pkt.publish.topic.len, 0);
	CHECK_EQ(pkt.publish.props.present, MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS));
	CHECK_EQ(pkt.publish.props.topic_alias, 7);
	CHECK_MEM(pkt.publish.payload, pkt.publish.payload_len, "hi", 2);

	CHECK_EQ(dec("30 06 00 03 'a/b' 00", MQTT_V5, buf, &pkt), 0);
	CHECK_EQ(pkt.publish.props.present, 0);
	CHECK_EQ(pkt.publish.payload_len, 0);
}

static void test_publish_v5_encode(void)
{
	struct mqtt_packet pkt = publish(1, 1, "a/b", "hi");
	check_encode(&pkt, MQTT_V5, "32 0a 00 03 'a/b' 00 01 00 'hi'");

	pkt = publish(0, 0, "", "hi");
	pkt.publish.props.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
	pkt.publish.props.topic_alias = 7;
	check_encode(&pkt, MQTT_V5, "30 08 00 00 03 23 00 07 'hi'");

	pkt = publish(0, 0, "a/b", "");
	pkt.publish.props.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY);
	pkt.publish.props.message_expiry = 60;
	check_encode(&pkt, MQTT_V5, "30 0b 00 03 'a/b' 05 02 00 00 00 3c");

	/* Every property from fields and arrays; the property order is properties.c's, so
	 * check by decoding what was written. */
	static const uint32_t sub_ids[] = {5, 128};
	static const struct mqtt_user_prop users[] = {
	        {{(const uint8_t *)"k", 1}, {(const uint8_t *)"v", 1}},
	        {{(const uint8_t *)"k2", 2}, {(const uint8_t *)"v2", 2}},
	};
	pkt = publish(1, 1, "a/b", "hi");
	struct mqtt_props *pr = &pkt.publish.props;
	pr->present =
	        MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT) | MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY) |
	        MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) | MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) |
	        MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA) |
	        MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID) | MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS) |
	        MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
	pr->payload_format = 1;
	pr->message_expiry = 60;
	pr->content_type = str("text");
	pr->response_topic = str("r/t");
	pr->correlation_data = str("\xca\xfe");
	pr->sub_ids = sub_ids;
	pr->sub_id_count = 2;
	pr->topic_alias = 7;
	pr->user = users;
	pr->user_count = 2;

	uint8_t out[BUF_MAX];
	long len = mqtt_encode(&pkt, MQTT_V5, out, sizeof(out));
	CHECK_EQ(len, 61); /* the same size as PUBLISH_V5_FULL */
	CHECK_EQ(mqtt_encoded_size(&pkt, MQTT_V5), 61);
	if (len > 0) {
		struct mqtt_packet back;
		CHECK_EQ(mqtt_decode(out, (size_t)len, MQTT_V5, &back, NULL), 0);
		CHECK_EQ(back.type, MQTT_PUBLISH);
		check_full_props(&back.publish);
	}
}

/* ---- PUBLISH, malformed and protocol errors ------------------------------------------------ */

static void test_publish_decode_errors(void)
{
	for (uint8_t v = MQTT_V31; v <= MQTT_V5; v++) {
		check_decode_err("36 07 00 03 'a/b' 'hi'", v, -EBADMSG); /* QoS 3 [MQTT-3.3.1-4] */
		check_decode_err("37 09 00 03 'a/b' 00 01 'hi'", v, -EBADMSG);
		check_decode_err("38 07 00 03 'a/b' 'hi'", v, -EBADMSG);  /* DUP, QoS 0 */
		check_decode_err("30 00", v, -EBADMSG);                   /* no topic length */
		check_decode_err("30 01 00", v, -EBADMSG);                /* short topic length */
		check_decode_err("30 03 00 03 'a'", v, -EBADMSG);         /* short topic */
		check_decode_err("32 05 00 03 'a/b'", v, -EBADMSG);       /* no packet id */
		check_decode_err("32 06 00 03 'a/b' 00", v, -EBADMSG);    /* short packet id */
		check_decode_err("30 05 00 03 61 ff 62", v, -EBADMSG);    /* bad UTF-8 */
		check_decode_err("30 06 00 04 61 ed a0 80", v, -EBADMSG); /* surrogate */
		check_decode_err("30 05 00 03 61 00 62", v, -EBADMSG); /* U+0000 [MQTT-1.5.4-2] */
	}
	/* Packet id 0 [MQTT-2.2.1-3]; 5.0 has a Property Length after it. */
	check_decode_err("32 07 00 03 'a/b' 00 00", MQTT_V31, -EPROTO);
	check_decode_err("34 07 00 03 'a/b' 00 00", MQTT_V311, -EPROTO);
	check_decode_err("32 08 00 03 'a/b' 00 00 00", MQTT_V5, -EPROTO);
	check_decode_err("34 07 00 03 'a/b' 00 00", MQTT_V5, -EBADMSG);
	/* Wildcards in a Topic Name [MQTT-3.3.2-2]. */
	check_decode_err("30 05 00 03 'a/+'", MQTT_V311, -EPROTO);
	check_decode_err("30 05 00 03 'a/#'", MQTT_V311, -EPROTO);
	check_decode_err("30 04 00 01 '#' 00", MQTT_V5, -EPROTO);
	check_decode_err("30 06 00 03 'a/+' 00", MQTT_V5, -EPROTO);
	/* Malformed wins over a protocol error: wildcard topic, then a short packet id. */
	check_decode_err("32 06 00 03 'a/+' 00", MQTT_V311, -EBADMSG);

	/* Empty Topic Name: never before 5.0 [MQTT-4.7.3-1], in 5.0 only with a Topic Alias. */
	check_decode_err("30 02 00 00", MQTT_V311, -EPROTO);
	check_decode_err("30 04 00 00 'hi'", MQTT_V31, -EPROTO);
	check_decode_err("30 03 00 00 00", MQTT_V5, -EPROTO);
	check_decode_err("30 08 00 00 05 02 00 00 00 3c", MQTT_V5, -EPROTO);
	/* Topic Alias 0 [MQTT-3.3.2-8]. */
	check_decode_err("30 06 00 00 03 23 00 00", MQTT_V5, -ERANGE);
	check_decode_err("30 09 00 03 'a/b' 03 23 00 00", MQTT_V5, -ERANGE);

	/* Property block problems in 5.0. */
	check_decode_err("30 05 00 03 'a/b'", MQTT_V5, -EBADMSG);          /* no Property Length */
	check_decode_err("30 07 00 03 'a/b' 05 02", MQTT_V5, -EBADMSG);    /* short block */
	check_decode_err("30 08 00 03 'a/b' 02 02 00", MQTT_V5, -EBADMSG); /* short value */
	/* Session Expiry (0x11) is not a PUBLISH property. */
	check_decode_err("30 0b 00 03 'a/b' 05 11 00 00 00 01", MQTT_V5, -EBADMSG);
	check_decode_err("30 07 00 03 'a/b' 01 ff", MQTT_V5, -EBADMSG); /* unknown identifier */
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP --------------------------------------------------------- */

static void test_ack_v311(void)
{
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;
	static const char *const vectors[] = {
	        "40 02 12 34", /* PUBACK */
	        "50 02 12 34", /* PUBREC */
	        "62 02 12 34", /* PUBREL, flags 0010 [MQTT-3.6.1-1] */
	        "70 02 12 34", /* PUBCOMP */
	};
	for (size_t i = 0; i < 4; i++) {
		for (uint8_t v = MQTT_V31; v <= MQTT_V311; v++) {
			CHECK_EQ(dec(vectors[i], v, buf, &pkt), 0);
			CHECK_EQ(pkt.type, MQTT_PUBACK + i);
			CHECK_EQ(pkt.ack.packet_id, 0x1234);
			CHECK_EQ(pkt.ack.reason, 0);
			CHECK_EQ(pkt.ack.props.present, 0);
			struct mqtt_packet a = ack((uint8_t)(MQTT_PUBACK + i), 0x1234, 0);
			check_encode(&a, v, vectors[i]);
		}
	}
	for (uint8_t v = MQTT_V31; v <= MQTT_V311; v++) {
		check_decode_err("40 01 12", v, -EBADMSG);          /* 1-byte body */
		check_decode_err("40 00", v, -EBADMSG);             /* empty body */
		check_decode_err("40 03 12 34 00", v, -EBADMSG);    /* 3 bytes before 5.0 */
		check_decode_err("50 04 12 34 00 00", v, -EBADMSG); /* v5 form before 5.0 */
		check_decode_err("70 02 00 00", v, -EPROTO);        /* packet id 0 */
	}

	/* Reason codes do not exist before 5.0; properties are left out. */
	struct mqtt_packet a = ack(MQTT_PUBACK, 1, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	check_encode_err(&a, MQTT_V311, -EINVAL);
	a = ack(MQTT_PUBACK, 1, 0);
	a.ack.props.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
	a.ack.props.reason_string = str("x");
	check_encode(&a, MQTT_V311, "40 02 00 01");
	a = ack(MQTT_PUBCOMP, 0, 0);
	check_encode_err(&a, MQTT_V311, -EINVAL); /* packet id 0 */
	check_encode_err(&a, MQTT_V5, -EINVAL);
	a = ack(MQTT_PUBACK, 1, 0);
	a.ack.props.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS); /* not an ack property */
	check_encode_err(&a, MQTT_V5, -EINVAL);
	CHECK_EQ(mqtt_ack_body_size(&a.ack, 6), -EINVAL);
}

static void test_ack_v5_forms(void)
{
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;

	for (uint8_t t = MQTT_PUBACK; t <= MQTT_PUBCOMP; t++) {
		uint8_t b0 = (uint8_t)(t << 4 | (t == MQTT_PUBREL ? 2 : 0));
		uint8_t err_rc = t <= MQTT_PUBREC ? 0x80 : 0x92;
		char hx[128];

		/* Remaining Length 2: reason 0, no properties. */
		snprintf(hx, sizeof(hx), "%02x 02 12 34", b0);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), 0);
		CHECK_EQ(pkt.type, t);
		CHECK_EQ(pkt.ack.packet_id, 0x1234);
		CHECK_EQ(pkt.ack.reason, 0);
		CHECK_EQ(pkt.ack.props.present, 0);
		struct mqtt_packet a = ack(t, 0x1234, 0);
		check_encode(&a, MQTT_V5, hx);

		/* Remaining Length 3: reason only. */
		snprintf(hx, sizeof(hx), "%02x 03 12 34 %02x", b0, err_rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), 0);
		CHECK_EQ(pkt.ack.packet_id, 0x1234);
		CHECK_EQ(pkt.ack.reason, err_rc);
		CHECK_EQ(pkt.ack.props.present, 0);
		a = ack(t, 0x1234, err_rc);
		check_encode(&a, MQTT_V5, hx);

		/* Reason and properties: Reason String "oops". */
		snprintf(hx, sizeof(hx), "%02x 0b 12 34 %02x 07 1f 00 04 'oops'", b0, err_rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), 0);
		CHECK_EQ(pkt.ack.packet_id, 0x1234);
		CHECK_EQ(pkt.ack.reason, err_rc);
		CHECK(mqtt_props_has(&pkt.ack.props, MQTT_PROP_REASON_STRING));
		CHECK_STR(pkt.ack.props.reason_string, "oops");
		check_roundtrip(hx, MQTT_V5);
		a.ack.props.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
		a.ack.props.reason_string = str("oops");
		check_encode(&a, MQTT_V5, hx);

		/* Success with a property: the reason byte cannot be left out. */
		snprintf(hx, sizeof(hx), "%02x 0b 12 34 00 07 26 00 01 'k' 00 01 'v'", b0);
		check_roundtrip(hx, MQTT_V5);

		/* Reason 0 and an empty block decode; the encoder writes the shortest form. */
		snprintf(hx, sizeof(hx), "%02x 04 12 34 00 00", b0);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), 0);
		CHECK_EQ(pkt.ack.reason, 0);
		snprintf(hx, sizeof(hx), "%02x 02 12 34", b0);
		check_encode(&pkt, MQTT_V5, hx);
		snprintf(hx, sizeof(hx), "%02x 04 12 34 %02x 00", b0, err_rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), 0);
		snprintf(hx, sizeof(hx), "%02x 03 12 34 %02x", b0, err_rc);
		check_encode(&pkt, MQTT_V5, hx);
	}
}

static void test_ack_v5_reasons(void)
{
	static const uint8_t pub_ok[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
	uint8_t buf[BUF_MAX];
	struct mqtt_packet pkt;
	char hx[64];

	for (unsigned rc = 0; rc < 256; rc++) {
		bool pub = memchr(pub_ok, (int)rc, sizeof(pub_ok)) != NULL;
		bool rel = rc == 0x00 || rc == 0x92;
		snprintf(hx, sizeof(hx), "40 03 00 01 %02x", rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), pub ? 0 : -EPROTO);
		snprintf(hx, sizeof(hx), "50 03 00 01 %02x", rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), pub ? 0 : -EPROTO);
		snprintf(hx, sizeof(hx), "62 03 00 01 %02x", rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), rel ? 0 : -EPROTO);
		snprintf(hx, sizeof(hx), "70 04 00 01 %02x 00", rc);
		CHECK_EQ(dec(hx, MQTT_V5, buf, &pkt), rel ? 0 : -EPROTO);
		/* Without the type the encoder can only refuse codes no ack allows. */
		struct mqtt_packet a = ack(MQTT_PUBACK, 1, (uint8_t)rc);
		CHECK_EQ(mqtt_ack_body_size(&a.ack, MQTT_V5), pub || rel ? (rc ? 3 : 2) : -EINVAL);
	}
}

static void test_ack_v5_errors(void)
{
	check_decode_err("40 01 12", MQTT_V5, -EBADMSG);             /* 1-byte body */
	check_decode_err("40 00", MQTT_V5, -EBADMSG);                /* empty body */
	check_decode_err("40 02 00 00", MQTT_V5, -EPROTO);           /* packet id 0 */
	check_decode_err("62 03 00 00 92", MQTT_V5, -EPROTO);        /* packet id 0 */
	check_decode_err("40 03 12 34 92", MQTT_V5, -EPROTO);        /* PUBREL's code in PUBACK */
	check_decode_err("50 03 12 34 81", MQTT_V5, -EPROTO);        /* not an ack reason */
	check_decode_err("62 03 12 34 10", MQTT_V5, -EPROTO);        /* PUBACK's code in PUBREL */
	check_decode_err("70 03 12 34 80", MQTT_V5, -EPROTO);        /* not allowed in PUBCOMP */
	check_decode_err("40 05 12 34 00 05 1f", MQTT_V5, -EBADMSG); /* short block */
	check_decode_err("40 05 12 34 00 00 ff", MQTT_V5, -EBADMSG); /* byte after block */
	check_decode_err("40 06 12 34 00 02 01 01", MQTT_V5, -EBADMSG); /* Payload Format */
	check_decode_err("50 06 12 34 00 02 23 00", MQTT_V5, -EBADMSG); /* Topic Alias, short */
	check_decode_err("62 05 12 34 00 01 ff", MQTT_V5, -EBADMSG);    /* unknown property */
	check_decode_err("70 08 12 34 00 04 1f 00 02 'x'", MQTT_V5, -EBADMSG); /* short string */
	check_decode_err("70 08 12 34 00 04 1f 00 01 ff", MQTT_V5, -EBADMSG);  /* bad UTF-8 */
	/* Malformed wins over a disallowed reason code and packet id 0. */
	check_decode_err("40 05 00 00 81 05 1f", MQTT_V5, -EBADMSG);
	/* Reason String twice is a Protocol Error (MQTT 5.0 §3.4.2.2.2). */
	check_decode_err("40 0c 12 34 00 08 1f 00 01 'a' 1f 00 01 'b'", MQTT_V5, -EPROTO);
	/* PUBREL with wrong fixed-header flags [MQTT-3.6.1-1] (packet.c). */
	check_decode_err("60 02 12 34", MQTT_V5, -EBADMSG);

	/* Body decoder called with a type that is not an ack. */
	struct mqtt_reader r;
	struct mqtt_ack a;
	const uint8_t body[2] = {0x12, 0x34};
	mqtt_reader_init(&r, body, sizeof(body));
	CHECK_EQ(mqtt_ack_decode(&r, MQTT_PUBLISH, MQTT_V5, &a), -EINVAL);
}

int main(void)
{
	test_publish_v311_vectors();
	test_publish_v311_fields();
	test_publish_v311_encode();
	test_publish_encode_invalid();
	test_publish_v5_vectors();
	test_publish_v5_fields();
	test_publish_v5_encode();
	test_publish_decode_errors();
	test_ack_v311();
	test_ack_v5_forms();
	test_ack_v5_reasons();
	test_ack_v5_errors();
	return check_report();
}
