/* test_properties_errors.c - MQTT 5 property blocks: where each property may appear, repeats,
 * Protocol Error values, malformed blocks and encoder errors (MQTT 5.0 §2.2.2.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "props_vectors.h"

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
