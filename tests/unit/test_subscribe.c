/* test_subscribe.c - SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK in MQTT 3.1, 3.1.1 and 5.0:
 * exact-byte vectors both ways, the subscription options, and every malformed/protocol case. */
#include <errno.h>

#include "check.h"
#include "codec.h"
#include "mqtt.h"

/* Decoded packets view this buffer: valid until the next dec(). */
static uint8_t in[1024];

static int dec(const char *vec, uint8_t version, struct mqtt_packet *pkt, uint8_t *reason)
{
	size_t n = hex(vec, in, sizeof(in));
	return mqtt_decode(in, n, version, pkt, reason);
}

/* Encodes pkt and compares with the hex vector, mqtt_encoded_size() included. */
#define CHECK_ENC(pkt, version, vec)                                                               \
	do {                                                                                       \
		uint8_t want_[1024], got_[1024];                                                   \
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
		uint8_t got_[1024];                                                                \
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

/* Decodes and re-encodes to the same bytes (the decoded struct's raw views feed the encoder). */
#define CHECK_ROUND_TRIP(vec, version)                                                             \
	do {                                                                                       \
		struct mqtt_packet p_;                                                             \
		CHECK_EQ(dec((vec), (version), &p_, NULL), 0);                                     \
		CHECK_ENC(&p_, (version), (vec));                                                  \
	} while (0)

static void check_sub(const struct mqtt_subscription *s, const char *filter, uint8_t qos,
                      bool no_local, bool rap, uint8_t rh)
{
	CHECK_STR(s->filter, filter);
	CHECK_EQ(s->qos, qos);
	CHECK_EQ(s->no_local, no_local);
	CHECK_EQ(s->retain_as_published, rap);
	CHECK_EQ(s->retain_handling, rh);
}

static struct mqtt_str str(const char *s)
{
	return (struct mqtt_str){(const uint8_t *)s, (uint16_t)strlen(s)};
}

/* ---- SUBSCRIBE ------------------------------------------------------------------------- */

static void test_subscribe_v311(void)
{
	const char *vec = "82 0e 00 0a 00 03 'a/b' 01 00 03 'c/#' 02";
	struct mqtt_packet pkt;
	struct mqtt_subscription s;
	uint32_t cursor = 0;

	CHECK_EQ(dec(vec, MQTT_V311, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_SUBSCRIBE);
	CHECK_EQ(pkt.subscribe.packet_id, 10);
	CHECK_EQ(pkt.subscribe.count, 2);
	CHECK(pkt.subscribe.subs == NULL);
	CHECK(pkt.subscribe.raw == in + 4);
	CHECK_EQ(pkt.subscribe.raw_len, 12);
	CHECK_EQ(pkt.subscribe.props.present, 0);
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 1);
	check_sub(&s, "a/b", 1, false, false, 0);
	CHECK(s.filter.p == in + 6); /* a view, not a copy */
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 1);
	check_sub(&s, "c/#", 2, false, false, 0);
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 0);
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 0);
	CHECK_ENC(&pkt, MQTT_V311, vec);

	/* Encoder side: from an array, which the iterator walks too. */
	const struct mqtt_subscription subs[] = {
	        {.filter = str("x"), .qos = 0},
	        {.filter = str("y/+"), .qos = 1},
	        {.filter = str("$SYS/#"), .qos = 2},
	};
	struct mqtt_packet enc = {.type = MQTT_SUBSCRIBE};
	enc.subscribe.packet_id = 0x1234;
	enc.subscribe.subs = subs;
	enc.subscribe.count = 3;
	CHECK_ENC(&enc, MQTT_V311, "82 15 12 34 00 01 'x' 00 00 03 'y/+' 01 00 06 '$SYS/#' 02");
	cursor = 0;
	CHECK_EQ(mqtt_subscribe_next(&enc.subscribe, &cursor, &s), 1);
	check_sub(&s, "x", 0, false, false, 0);
	CHECK_EQ(mqtt_subscribe_next(&enc.subscribe, &cursor, &s), 1);
	CHECK_EQ(mqtt_subscribe_next(&enc.subscribe, &cursor, &s), 1);
	check_sub(&s, "$SYS/#", 2, false, false, 0);
	CHECK_EQ(mqtt_subscribe_next(&enc.subscribe, &cursor, &s), 0);

	/* Filter syntax is the broker's business: "a/#/b" and "" decode (MQTT 5 answers 0x8F). */
	CHECK_ROUND_TRIP("82 0d 00 01 00 05 'a/#/b' 00 00 00 01", MQTT_V311);
	/* A multi-byte UTF-8 filter, and a BOM, which is an ordinary character [MQTT-1.5.4-3]. */
	CHECK_ROUND_TRIP("82 0f 00 01 00 0a 'x/' c3 a9 ef bb bf e2 82 ac 00", MQTT_V311);
}

static void test_subscribe_v31(void)
{
	const char *vec = "82 08 00 07 00 03 'a/b' 01";
	struct mqtt_packet pkt;
	struct mqtt_subscription s;
	uint32_t cursor = 0;

	CHECK_EQ(dec(vec, MQTT_V31, &pkt, NULL), 0);
	CHECK_EQ(pkt.subscribe.packet_id, 7);
	CHECK_EQ(pkt.subscribe.count, 1);
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 1);
	check_sub(&s, "a/b", 1, false, false, 0);
	CHECK_ENC(&pkt, MQTT_V31, vec);
	/* 3.1 clients may set DUP on a retried SUBSCRIBE (fixed header 0x8A). */
	CHECK_EQ(dec("8a 08 00 07 00 03 'a/b' 01", MQTT_V31, &pkt, NULL), 0);
	CHECK_EQ(pkt.subscribe.count, 1);
	CHECK_DEC_ERR("82 08 00 07 00 03 'a/b' 03", MQTT_V31, -EBADMSG);
}

static void test_subscribe_v5(void)
{
	const char *vec = "82 0f 00 01 02 0b 05 00 03 'a/b' 2d 00 01 '#' 00";
	struct mqtt_packet pkt;
	struct mqtt_subscription s;
	uint32_t cursor = 0, id = 0;

	CHECK_EQ(dec(vec, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_SUBSCRIBE);
	CHECK_EQ(pkt.subscribe.packet_id, 1);
	CHECK_EQ(pkt.subscribe.count, 2);
	CHECK(mqtt_props_has(&pkt.subscribe.props, MQTT_PROP_SUBSCRIPTION_ID));
	CHECK_EQ(pkt.subscribe.props.sub_id_count, 1);
	CHECK_EQ(mqtt_props_next_sub_id(&pkt.subscribe.props, &cursor, &id), 1);
	CHECK_EQ(id, 5);
	cursor = 0;
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 1);
	check_sub(&s, "a/b", 1, true, true, 2); /* 0x2d = RH 2, RAP, NL, QoS 1 */
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 1);
	check_sub(&s, "#", 0, false, false, 0);
	CHECK_EQ(mqtt_subscribe_next(&pkt.subscribe, &cursor, &s), 0);
	CHECK_ENC(&pkt, MQTT_V5, vec);

	/* The largest Subscription Identifier, a 4-byte VBI, and a User Property. */
	CHECK_ROUND_TRIP("82 13 00 02 0c 0b ff ff ff 7f 26 00 01 'k' 00 01 'v' 00 01 'x' 00",
	                 MQTT_V5);
	/* No properties. */
	CHECK_ROUND_TRIP("82 07 00 02 00 00 01 'x' 16", MQTT_V5);

	/* Encoder side with a Subscription Identifier from an array. */
	static const uint32_t ids[] = {300};
	const struct mqtt_subscription subs[] = {
	        {.filter = str("s/+"), .qos = 2, .no_local = true, .retain_handling = 1},
	};
	struct mqtt_packet enc = {.type = MQTT_SUBSCRIBE};
	enc.subscribe.packet_id = 0xfffe;
	enc.subscribe.props.present = MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID);
	enc.subscribe.props.sub_ids = ids;
	enc.subscribe.props.sub_id_count = 1;
	enc.subscribe.subs = subs;
	enc.subscribe.count = 1;
	CHECK_ENC(&enc, MQTT_V5, "82 0c ff fe 03 0b ac 02 00 03 's/+' 16");
}

/* Every combination of the MQTT 5 options: encode, decode, iterate, and check each byte. */
static void test_subscribe_v5_all_options(void)
{
	struct mqtt_subscription subs[36], s;
	uint8_t out[512];
	unsigned n = 0;

	for (uint8_t qos = 0; qos <= 2; qos++)
		for (uint8_t rh = 0; rh <= 2; rh++)
			for (unsigned f = 0; f < 4; f++)
				subs[n++] = (struct mqtt_subscription){
				        .filter = str("t"),
				        .qos = qos,
				        .no_local = f & 1,
				        .retain_as_published = (f >> 1) & 1,
				        .retain_handling = rh,
				};
	struct mqtt_packet enc = {.type = MQTT_SUBSCRIBE}, dec_pkt;
	enc.subscribe.packet_id = 9;
	enc.subscribe.subs = subs;
	enc.subscribe.count = n;
	long len = mqtt_encode(&enc, MQTT_V5, out, sizeof(out));
	CHECK_EQ(len, 3 + 2 + 1 + 36 * 4); /* fixed header 3, id 2, props 1, 36 x (2+1+1) */
	CHECK_EQ(mqtt_decode(out, (size_t)len, MQTT_V5, &dec_pkt, NULL), 0);
	CHECK_EQ(dec_pkt.subscribe.count, 36);
	uint32_t cursor = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct mqtt_subscription *w = &subs[i];
		uint8_t byte = (uint8_t)(w->qos | w->no_local << 2 | w->retain_as_published << 3 |
		                         w->retain_handling << 4);
		CHECK_EQ(out[6 + 4 * i + 3], byte);
		CHECK_EQ(mqtt_subscribe_next(&dec_pkt.subscribe, &cursor, &s), 1);
		check_sub(&s, "t", w->qos, w->no_local, w->retain_as_published, w->retain_handling);
	}
	CHECK_EQ(mqtt_subscribe_next(&dec_pkt.subscribe, &cursor, &s), 0);
	/* The same list cannot be said in 3.1.1, but its QoS-only head can. */
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL);
	enc.subscribe.count = 1;
	CHECK_ENC(&enc, MQTT_V311, "82 06 00 09 00 01 't' 00");
}

static void test_subscribe_errors(void)
{
	/* No Topic Filter at all: [MQTT-3.8.3-3] (3.1.1), [MQTT-3.8.3-2] (5.0). */
	CHECK_DEC_ERR("82 02 00 0a", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("82 03 00 0a 00", MQTT_V5, -EPROTO);
	/* Packet Identifier 0 [MQTT-2.3.1-1]; a short one. */
	CHECK_DEC_ERR("82 06 00 00 00 01 'a' 00", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("82 07 00 00 00 00 01 'a' 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("82 01 00", MQTT_V311, -EBADMSG);
	/* 3.1.1 reserved option bits and QoS 3 are malformed [MQTT-3-8.3-4]. */
	CHECK_DEC_ERR("82 06 00 0a 00 01 'a' 04", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 06 00 0a 00 01 'a' 80", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 06 00 0a 00 01 'a' 03", MQTT_V311, -EBADMSG);
	/* The error is found in the second entry too. */
	CHECK_DEC_ERR("82 0a 00 0a 00 01 'a' 00 00 01 'b' 20", MQTT_V311, -EBADMSG);
	/* 5.0: reserved bits 7-6 malformed [MQTT-3.8.3-5]; QoS 3 and Retain Handling 3 are
	 * Protocol Errors (§3.8.3.1). */
	CHECK_DEC_ERR("82 07 00 0a 00 00 01 'a' 40", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("82 07 00 0a 00 00 01 'a' 80", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("82 07 00 0a 00 00 01 'a' 03", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("82 07 00 0a 00 00 01 'a' 30", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("82 07 00 0a 00 00 01 'a' f3", MQTT_V5, -EBADMSG);
	/* Truncated filter, missing options byte, half a length. */
	CHECK_DEC_ERR("82 07 00 0a 00 05 'ab' 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 05 00 0a 00 01 'a'", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 09 00 0a 00 01 'a' 00 00 01 'b'", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 07 00 0a 00 01 'a' 00 00", MQTT_V311, -EBADMSG);
	/* Ill-formed UTF-8 and U+0000 [MQTT-1.5.4-1, -2]; a surrogate. */
	CHECK_DEC_ERR("82 07 00 0a 00 02 c3 28 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 06 00 0a 00 01 00 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("82 09 00 0a 00 00 03 ed a0 80 00", MQTT_V5, -EBADMSG);
	/* Property errors come from properties.c: not allowed here, Subscription Identifier 0,
	 * twice, truncated block. */
	CHECK_DEC_ERR("82 0b 00 0a 04 1f 00 01 'r' 00 01 'a' 00", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("82 09 00 0a 02 0b 00 00 01 'a' 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("82 0b 00 0a 04 0b 01 0b 02 00 01 'a' 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("82 04 00 0a 05 0b", MQTT_V5, -EBADMSG);
	/* Fixed header flags must be 0010 [MQTT-3.8.1-1]. */
	CHECK_DEC_ERR("80 06 00 0a 00 01 'a' 00", MQTT_V311, -EBADMSG);
}

static void test_subscribe_encode_errors(void)
{
	struct mqtt_subscription sub = {.filter = str("a"), .qos = 1};
	struct mqtt_packet pkt = {.type = MQTT_SUBSCRIBE};
	uint8_t out[16];

	pkt.subscribe.packet_id = 1;
	pkt.subscribe.subs = &sub;
	pkt.subscribe.count = 1;
	CHECK_ENC(&pkt, MQTT_V311, "82 06 00 01 00 01 'a' 01");
	CHECK_EQ(mqtt_encode(&pkt, MQTT_V311, out, 7), -ENOBUFS);
	pkt.subscribe.count = 0;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL); /* no entries */
	pkt.subscribe.subs = NULL;
	CHECK_ENC_ERR(&pkt, MQTT_V5, -EINVAL);
	pkt.subscribe.subs = &sub;
	pkt.subscribe.count = 1;
	pkt.subscribe.packet_id = 0;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
	pkt.subscribe.packet_id = 1;
	sub.qos = 3;
	CHECK_ENC_ERR(&pkt, MQTT_V5, -EINVAL);
	sub.qos = 0;
	sub.retain_handling = 3;
	CHECK_ENC_ERR(&pkt, MQTT_V5, -EINVAL);
	/* MQTT 5 options cannot be represented in 3.1/3.1.1. */
	sub.retain_handling = 1;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
	CHECK_ENC(&pkt, MQTT_V5, "82 07 00 01 00 00 01 'a' 10");
	sub.retain_handling = 0;
	sub.no_local = true;
	CHECK_ENC_ERR(&pkt, MQTT_V31, -EINVAL);
	sub.no_local = false;
	sub.retain_as_published = true;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
	sub.retain_as_published = false;
	/* Properties cannot be represented before MQTT 5. */
	static const uint32_t ids[] = {1};
	pkt.subscribe.props.present = MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_ID);
	pkt.subscribe.props.sub_ids = ids;
	pkt.subscribe.props.sub_id_count = 1;
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);
	pkt.subscribe.props.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING); /* not in SUBSCRIBE */
	CHECK_ENC_ERR(&pkt, MQTT_V5, -EINVAL);
	pkt.subscribe.props = (struct mqtt_props){0};
	/* A filter the peer would reject as ill-formed UTF-8. */
	sub.filter = (struct mqtt_str){(const uint8_t *)"\xc3\x28", 2};
	CHECK_ENC_ERR(&pkt, MQTT_V311, -EINVAL);

	/* A decoded 5.0 SUBSCRIBE re-encoded for 3.1.1: fine with QoS-only options, refused with
	 * No Local. */
	struct mqtt_packet d;
	CHECK_EQ(dec("82 0a 00 05 03 0b 81 01 00 01 'a' 02", MQTT_V5, &d, NULL), 0);
	d.subscribe.props = (struct mqtt_props){0};
	CHECK_ENC(&d, MQTT_V311, "82 06 00 05 00 01 'a' 02");
	CHECK_EQ(dec("82 07 00 05 00 00 01 'a' 04", MQTT_V5, &d, NULL), 0);
	CHECK_ENC_ERR(&d, MQTT_V311, -EINVAL);
}

/* ---- UNSUBSCRIBE ----------------------------------------------------------------------- */

static void test_unsubscribe(void)
{
	const char *v3 = "a2 0a 00 0b 00 03 'a/b' 00 01 '#'";
	const char *v5 = "a2 0f 00 0c 07 26 00 01 'k' 00 01 'v' 00 03 'a/b'";
	struct mqtt_packet pkt;
	struct mqtt_str f;
	struct mqtt_user_prop up;
	uint32_t cursor = 0;

	CHECK_EQ(dec(v3, MQTT_V311, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_UNSUBSCRIBE);
	CHECK_EQ(pkt.unsubscribe.packet_id, 11);
	CHECK_EQ(pkt.unsubscribe.count, 2);
	CHECK(pkt.unsubscribe.filters == NULL);
	CHECK_EQ(mqtt_unsubscribe_next(&pkt.unsubscribe, &cursor, &f), 1);
	CHECK_STR(f, "a/b");
	CHECK_EQ(mqtt_unsubscribe_next(&pkt.unsubscribe, &cursor, &f), 1);
	CHECK_STR(f, "#");
	CHECK_EQ(mqtt_unsubscribe_next(&pkt.unsubscribe, &cursor, &f), 0);
	CHECK_ENC(&pkt, MQTT_V311, v3);
	CHECK_ROUND_TRIP(v3, MQTT_V31);

	CHECK_EQ(dec(v5, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.unsubscribe.packet_id, 12);
	CHECK_EQ(pkt.unsubscribe.count, 1);
	CHECK_EQ(pkt.unsubscribe.props.user_count, 1);
	cursor = 0;
	CHECK_EQ(mqtt_props_next_user(&pkt.unsubscribe.props, &cursor, &up), 1);
	CHECK_STR(up.key, "k");
	CHECK_STR(up.value, "v");
	cursor = 0;
	CHECK_EQ(mqtt_unsubscribe_next(&pkt.unsubscribe, &cursor, &f), 1);
	CHECK_STR(f, "a/b");
	CHECK_EQ(mqtt_unsubscribe_next(&pkt.unsubscribe, &cursor, &f), 0);
	CHECK_ENC(&pkt, MQTT_V5, v5);

	/* Encoder side from an array. */
	const struct mqtt_str filters[] = {str("x/y"), str("+")};
	struct mqtt_packet enc = {.type = MQTT_UNSUBSCRIBE};
	enc.unsubscribe.packet_id = 0x0102;
	enc.unsubscribe.filters = filters;
	enc.unsubscribe.count = 2;
	CHECK_ENC(&enc, MQTT_V311, "a2 0a 01 02 00 03 'x/y' 00 01 '+'");
	CHECK_ENC(&enc, MQTT_V5, "a2 0b 01 02 00 00 03 'x/y' 00 01 '+'");
	cursor = 0;
	CHECK_EQ(mqtt_unsubscribe_next(&enc.unsubscribe, &cursor, &f), 1);
	CHECK_EQ(mqtt_unsubscribe_next(&enc.unsubscribe, &cursor, &f), 1);
	CHECK_STR(f, "+");
	CHECK_EQ(mqtt_unsubscribe_next(&enc.unsubscribe, &cursor, &f), 0);
	enc.unsubscribe.count = 0;
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL);
	enc.unsubscribe.count = 2;
	enc.unsubscribe.packet_id = 0;
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.unsubscribe.packet_id = 1;
	enc.unsubscribe.props.present = MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
	enc.unsubscribe.props.user = &up;
	enc.unsubscribe.props.user_count = 1;
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL);

	/* [MQTT-3.10.3-2]: at least one filter. */
	CHECK_DEC_ERR("a2 02 00 0b", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("a2 03 00 0b 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("a2 05 00 00 00 01 'a'", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("a2 05 00 0b 00 02 'a'", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("a2 06 00 0b 00 01 'a' 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("a2 06 00 0b 00 02 c0 80", MQTT_V311, -EBADMSG);      /* overlong NUL */
	CHECK_DEC_ERR("a2 05 00 0b 00 01 'a'", MQTT_V5, -EBADMSG);          /* no Property Length */
	CHECK_DEC_ERR("a2 08 00 0b 02 0b 01 00 01 'a'", MQTT_V5, -EBADMSG); /* Sub ID not here */
	CHECK_DEC_ERR("a0 05 00 0b 00 01 'a'", MQTT_V311, -EBADMSG);        /* [MQTT-3.10.1-1] */
}

/* ---- SUBACK and UNSUBACK --------------------------------------------------------------- */

static void test_suback(void)
{
	struct mqtt_packet pkt;

	CHECK_EQ(dec("90 06 00 0a 00 01 02 80", MQTT_V311, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_SUBACK);
	CHECK_EQ(pkt.suback.packet_id, 10);
	CHECK_EQ(pkt.suback.count, 4);
	CHECK(pkt.suback.reasons == in + 4);
	CHECK_MEM(pkt.suback.reasons, pkt.suback.count, "\x00\x01\x02\x80", 4);
	CHECK_ENC(&pkt, MQTT_V311, "90 06 00 0a 00 01 02 80");
	CHECK_ROUND_TRIP("90 03 00 01 80", MQTT_V31);

	/* Every 5.0 Subscribe Reason Code. */
	const char *all = "90 0f 00 0a 00 00 01 02 80 83 87 8f 91 97 9e a1 a2";
	CHECK_EQ(dec(all, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.suback.count, 12);
	CHECK_EQ(pkt.suback.reasons[11], MQTT_RC_WILDCARD_SUBS_NOT_SUPPORTED);
	CHECK_ENC(&pkt, MQTT_V5, all);
	/* With a Reason String. */
	CHECK_EQ(dec("90 09 00 0b 05 1f 00 02 'no' 87", MQTT_V5, &pkt, NULL), 0);
	CHECK_STR(pkt.suback.props.reason_string, "no");
	CHECK_EQ(pkt.suback.reasons[0], MQTT_RC_NOT_AUTHORIZED);
	CHECK_ENC(&pkt, MQTT_V5, "90 09 00 0b 05 1f 00 02 'no' 87");

	/* Encoder side. */
	static const uint8_t granted[] = {0x01, 0x80, 0x8f};
	struct mqtt_packet enc = {.type = MQTT_SUBACK};
	enc.suback.packet_id = 0x0203;
	enc.suback.reasons = granted;
	enc.suback.count = 3;
	CHECK_ENC(&enc, MQTT_V5, "90 06 02 03 00 01 80 8f");
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL); /* 0x8F is 5.0 only */
	enc.suback.count = 2;
	CHECK_ENC(&enc, MQTT_V311, "90 04 02 03 01 80");
	enc.suback.count = 0;
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.suback.count = 1;
	enc.suback.packet_id = 0;
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);

	/* [MQTT-3.9.3-2]: reserved codes; one per filter, so at least one; id 0. */
	CHECK_DEC_ERR("90 03 00 0a 03", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("90 03 00 0a 83", MQTT_V311, -EPROTO);     /* 5.0 only */
	CHECK_DEC_ERR("90 05 00 0a 00 00 11", MQTT_V5, -EPROTO); /* an UNSUBACK code */
	CHECK_DEC_ERR("90 05 00 0a 00 01 81", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("90 02 00 0a", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("90 03 00 0a 00", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("90 03 00 00 00", MQTT_V311, -EPROTO);
	CHECK_DEC_ERR("90 01 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("90 04 00 0a 03 1f", MQTT_V5, -EBADMSG);
	CHECK_DEC_ERR("91 03 00 0a 00", MQTT_V311, -EBADMSG); /* flags 0000 [MQTT-2.2.2-1] */
}

static void test_unsuback(void)
{
	struct mqtt_packet pkt;

	/* 3.1.1: the Packet Identifier alone (§3.11). */
	CHECK_EQ(dec("b0 02 00 0b", MQTT_V311, &pkt, NULL), 0);
	CHECK_EQ(pkt.type, MQTT_UNSUBACK);
	CHECK_EQ(pkt.suback.packet_id, 11);
	CHECK_EQ(pkt.suback.count, 0);
	CHECK_ENC(&pkt, MQTT_V311, "b0 02 00 0b");
	CHECK_ROUND_TRIP("b0 02 ff ff", MQTT_V31);
	CHECK_DEC_ERR("b0 03 00 0b 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("b0 01 00", MQTT_V311, -EBADMSG);
	CHECK_DEC_ERR("b0 02 00 00", MQTT_V311, -EPROTO);

	/* 5.0: every Unsubscribe Reason Code. */
	const char *v5 = "b0 0a 00 0c 00 00 11 80 83 87 8f 91";
	CHECK_EQ(dec(v5, MQTT_V5, &pkt, NULL), 0);
	CHECK_EQ(pkt.suback.packet_id, 12);
	CHECK_EQ(pkt.suback.count, 7);
	CHECK_EQ(pkt.suback.reasons[1], MQTT_RC_NO_SUBSCRIPTION_EXISTED);
	CHECK_ENC(&pkt, MQTT_V5, v5);
	CHECK_ROUND_TRIP("b0 0b 00 0c 07 26 00 01 'k' 00 01 'v' 11", MQTT_V5);
	CHECK_DEC_ERR("b0 03 00 0c 00", MQTT_V5, -EPROTO);    /* no reason code */
	CHECK_DEC_ERR("b0 04 00 0c 00 01", MQTT_V5, -EPROTO); /* a SUBACK code */
	CHECK_DEC_ERR("b0 04 00 0c 00 97", MQTT_V5, -EPROTO);
	CHECK_DEC_ERR("b0 03 00 0c 05", MQTT_V5, -EBADMSG); /* truncated properties */
	CHECK_DEC_ERR("b0 02 00 0c", MQTT_V5, -EBADMSG);    /* no Property Length */

	/* Encoder: 3.1.1 has no room for reason codes; 5.0 needs one per filter. */
	static const uint8_t rc[] = {0x00, 0x11};
	struct mqtt_packet enc = {.type = MQTT_UNSUBACK};
	enc.suback.packet_id = 7;
	CHECK_ENC(&enc, MQTT_V311, "b0 02 00 07");
	CHECK_ENC_ERR(&enc, MQTT_V5, -EINVAL);
	enc.suback.reasons = rc;
	enc.suback.count = 2;
	CHECK_ENC(&enc, MQTT_V5, "b0 05 00 07 00 00 11");
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL);
	enc.suback.props.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
	enc.suback.props.reason_string = str("r");
	CHECK_ENC(&enc, MQTT_V5, "b0 09 00 07 04 1f 00 01 'r' 00 11");
	enc.suback.count = 0;
	CHECK_ENC_ERR(&enc, MQTT_V311, -EINVAL); /* properties cannot be said in 3.1.1 */
}

/* The body functions called directly, as a fuzzer or another caller of codec.h would. */
static void test_body_direct(void)
{
	struct mqtt_reader r;
	struct mqtt_suback sa;
	struct mqtt_subscribe s;
	uint8_t buf[8];

	size_t n = hex("00 01 00", buf, sizeof(buf));
	mqtt_reader_init(&r, buf, n);
	CHECK_EQ(mqtt_suback_decode(&r, MQTT_PUBACK, MQTT_V311, &sa), -EINVAL);
	mqtt_reader_init(&r, buf, n);
	CHECK_EQ(mqtt_suback_decode(&r, MQTT_SUBACK, MQTT_V311, &sa), 0);
	CHECK_EQ(mqtt_reader_left(&r), 0);
	CHECK_EQ(mqtt_suback_body_size(&sa, MQTT_CONNACK, MQTT_V5), -EINVAL);
	/* A 3.1.1 UNSUBACK with a byte after its Packet Identifier, seen by the body decoder. */
	mqtt_reader_init(&r, buf, n);
	CHECK_EQ(mqtt_suback_decode(&r, MQTT_UNSUBACK, MQTT_V311, &sa), -EBADMSG);
	n = hex("00 01 00 01 'a' 01", buf, sizeof(buf));
	mqtt_reader_init(&r, buf, n);
	CHECK_EQ(mqtt_subscribe_decode(&r, MQTT_V311, &s), 0);
	CHECK_EQ(mqtt_reader_left(&r), 0);
	CHECK_EQ(mqtt_subscribe_body_size(&s, MQTT_V311), (long)n);
	/* A count that does not match the payload cannot be encoded. */
	s.count = 2;
	CHECK_EQ(mqtt_subscribe_body_size(&s, MQTT_V311), -EINVAL);
}

int main(void)
{
	test_subscribe_v311();
	test_subscribe_v31();
	test_subscribe_v5();
	test_subscribe_v5_all_options();
	test_subscribe_errors();
	test_subscribe_encode_errors();
	test_unsubscribe();
	test_suback();
	test_unsuback();
	test_body_direct();
	return check_report();
}
