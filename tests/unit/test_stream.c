/* test_stream.c - the streaming framer: chunking, views vs assembly, limits, errors, reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mqtt.h"

/* Frames collected from a stream, concatenated, with their boundaries. */
struct sink {
	uint8_t bytes[512];
	size_t len;
	size_t ends[16];
	size_t count;
	int err; /* first negative return, 0 if none */
};

/* Pushes one chunk, looping while packets come out, copying each frame into the sink (a frame
 * is valid only until the next push). */
static void push_chunk(struct mqtt_framer *f, const uint8_t *p, size_t n, struct sink *s)
{
	while (s->err == 0) {
		struct mqtt_frame fr;
		size_t used = 99999;
		int rc = mqtt_framer_push(f, p, n, &used, &fr);
		if (used > n) {
			s->err = -1000; /* consumed out of range: a bug */
			return;
		}
		p += used;
		n -= used;
		if (rc < 0) {
			s->err = rc;
			return;
		}
		if (rc == 0) {
			if (n != 0)
				s->err = -1001; /* 0 must mean all data taken */
			return;
		}
		if (s->len + fr.len > sizeof(s->bytes) || s->count == 16) {
			s->err = -1002;
			return;
		}
		memcpy(s->bytes + s->len, fr.p, fr.len);
		s->len += fr.len;
		s->ends[s->count++] = s->len;
		if (n == 0)
			return;
	}
}

/* CONNECT (3.1.1), PUBLISH QoS 1, PINGREQ, SUBSCRIBE, DISCONNECT. */
static const char stream5_hex[] = "10 10 00 04 'MQTT' 04 02 00 3c 00 04 'test'"
                                  "32 0a 00 03 'a/b' 00 01 'hi' 21"
                                  "c0 00"
                                  "82 08 00 02 00 03 'a/#' 01"
                                  "e0 00";
static const size_t stream5_ends[] = {18, 30, 32, 42, 44};

static void check_sink(const struct sink *s, const uint8_t *want, size_t want_len,
                       const size_t *ends, size_t count)
{
	CHECK_EQ(s->err, 0);
	CHECK_MEM(s->bytes, s->len, want, want_len);
	CHECK_EQ(s->count, count);
	for (size_t i = 0; i < count && i < s->count; i++)
		CHECK_EQ(s->ends[i], ends[i]);
}

static void test_byte_at_a_time(void)
{
	uint8_t in[64];
	size_t n = hex(stream5_hex, in, sizeof(in));
	struct mqtt_framer f;
	struct sink s = {0};

	CHECK_EQ(n, 44);
	mqtt_framer_init(&f, 100);
	for (size_t i = 0; i < n; i++)
		push_chunk(&f, in + i, 1, &s);
	check_sink(&s, in, n, stream5_ends, 5);
	mqtt_framer_reset(&f);
	CHECK(f.buf == NULL);

	/* The same stream in one chunk: every frame is a view into it. */
	struct mqtt_frame fr;
	size_t off = 0, used;
	mqtt_framer_init(&f, 100);
	for (size_t k = 0; k < 5; k++) {
		CHECK_EQ(mqtt_framer_push(&f, in + off, n - off, &used, &fr), 1);
		CHECK(fr.p == in + off);
		CHECK_EQ(fr.len, stream5_ends[k] - off);
		CHECK_EQ(used, fr.len);
		CHECK(f.buf == NULL);
		off += used;
	}
	CHECK_EQ(mqtt_framer_push(&f, in + off, 0, &used, &fr), 0);
	CHECK_EQ(used, 0);
	mqtt_framer_reset(&f);
}

/* Every way to cut a 3-packet stream into 3 chunks (empty chunks included). */
static void test_all_split_points(void)
{
	uint8_t in[64];
	size_t n = hex("30 05 00 01 't' 'xy' c0 00 a2 02 00 07", in, sizeof(in));
	static const size_t ends[] = {7, 9, 13};
	unsigned bad = 0;

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct mqtt_framer f;
			struct sink s = {0};
			mqtt_framer_init(&f, 64);
			push_chunk(&f, in, i, &s);
			push_chunk(&f, in + i, j - i, &s);
			push_chunk(&f, in + j, n - j, &s);
			bool ok = s.err == 0 && s.count == 3 && s.len == n &&
			          memcmp(s.bytes, in, n) == 0 && s.ends[0] == ends[0] &&
			          s.ends[1] == ends[1] && s.ends[2] == ends[2];
			if (!ok) {
				fprintf(stderr, "split %zu/%zu: err %d count %zu\n", i, j, s.err,
				        s.count);
				bad++;
			}
			mqtt_framer_reset(&f);
		}
	}
	CHECK_EQ(bad, 0);
}

static void test_zero_length(void)
{
	static const uint8_t ping[] = {0xc0, 0x00};
	struct mqtt_framer f;
	struct mqtt_frame fr;
	size_t used;

	mqtt_framer_init(&f, 2);
	CHECK_EQ(mqtt_framer_push(&f, ping, 2, &used, &fr), 1);
	CHECK(fr.p == ping);
	CHECK_EQ(fr.len, 2);
	CHECK_EQ(used, 2);

	/* Split header, empty body: no allocation needed. */
	CHECK_EQ(mqtt_framer_push(&f, ping, 1, &used, &fr), 0);
	CHECK_EQ(used, 1);
	CHECK_EQ(mqtt_framer_push(&f, ping + 1, 1, &used, &fr), 1);
	CHECK_EQ(used, 1);
	CHECK_MEM(fr.p, fr.len, ping, 2);
	CHECK(f.buf == NULL);
	mqtt_framer_reset(&f);
}

static void test_max_boundary(void)
{
	uint8_t in[32];
	size_t n = hex("30 08 00 01 't' 'abcde'", in, sizeof(in)); /* 10 bytes */
	struct mqtt_framer f;
	struct mqtt_frame fr;
	size_t used;

	/* Exactly max: accepted, whole and split. */
	mqtt_framer_init(&f, 10);
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), 1);
	CHECK_EQ(fr.len, 10);
	CHECK_EQ(mqtt_framer_push(&f, in, 3, &used, &fr), 0);
	CHECK(f.buf != NULL);
	CHECK_EQ(f.total, 10);
	CHECK_EQ(mqtt_framer_push(&f, in + 3, n - 3, &used, &fr), 1);
	CHECK_MEM(fr.p, fr.len, in, n);
	mqtt_framer_reset(&f);

	/* max + 1: rejected from the fixed header, nothing buffered. */
	mqtt_framer_init(&f, 9);
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), -EMSGSIZE);
	CHECK_EQ(used, 2);
	CHECK(f.buf == NULL);
	mqtt_framer_reset(&f);

	mqtt_framer_init(&f, 9);
	CHECK_EQ(mqtt_framer_push(&f, in, 1, &used, &fr), 0);
	CHECK_EQ(mqtt_framer_push(&f, in + 1, n - 1, &used, &fr), -EMSGSIZE);
	CHECK_EQ(used, 1);
	CHECK(f.buf == NULL);
	/* The stream stays failed. */
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), -EMSGSIZE);
	CHECK(f.buf == NULL);
	mqtt_framer_reset(&f);

	/* A huge announced length with a small limit: no allocation either. */
	mqtt_framer_init(&f, 1024);
	n = hex("30 ff ff ff 7f", in, sizeof(in));
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), -EMSGSIZE);
	CHECK(f.buf == NULL);
	mqtt_framer_reset(&f);

	/* max_packet 0 is the protocol maximum. */
	mqtt_framer_init(&f, 0);
	CHECK_EQ(f.max_packet, MQTT_VARINT_MAX + 5);
	mqtt_framer_reset(&f);
}

static void test_varint_4_bytes(void)
{
	/* Remaining Length 2097152 = 80 80 80 01: the smallest 4-byte value. */
	const uint32_t rem = 2097152;
	const size_t total = 5 + rem;
	uint8_t *in = malloc(total);
	struct mqtt_framer f;
	struct mqtt_frame fr;
	size_t used;

	if (!in) {
		CHECK(in != NULL);
		return;
	}
	memcpy(in, "\x30\x80\x80\x80\x01", 5);
	for (size_t i = 5; i < total; i++)
		in[i] = (uint8_t)(i * 7);

	mqtt_framer_init(&f, 0);
	CHECK_EQ(mqtt_framer_push(&f, in, total, &used, &fr), 1);
	CHECK(fr.p == in);
	CHECK_EQ(fr.len, total);

	/* In 3 chunks: header split, body assembled in one exact-size buffer. */
	CHECK_EQ(mqtt_framer_push(&f, in, 3, &used, &fr), 0);
	CHECK(f.buf == NULL);
	CHECK_EQ(mqtt_framer_push(&f, in + 3, 1000, &used, &fr), 0);
	CHECK_EQ(f.total, total);
	const uint8_t *buf = f.buf;
	CHECK(buf != NULL);
	CHECK_EQ(mqtt_framer_push(&f, in + 1003, total - 1003, &used, &fr), 1);
	CHECK_EQ(used, total - 1003);
	CHECK(fr.p == buf);
	CHECK_MEM(fr.p, fr.len, in, total);
	/* One byte short of the limit. */
	mqtt_framer_reset(&f);
	mqtt_framer_init(&f, (uint32_t)total - 1);
	CHECK_EQ(mqtt_framer_push(&f, in, total, &used, &fr), -EMSGSIZE);
	CHECK_EQ(used, 5);
	mqtt_framer_reset(&f);
	free(in);

	/* An overlong 4-byte encoding of 2 is accepted (the spec does not forbid it). */
	uint8_t small[16];
	size_t n = hex("30 82 80 80 00 'ab'", small, sizeof(small));
	mqtt_framer_init(&f, 0);
	CHECK_EQ(mqtt_framer_push(&f, small, n, &used, &fr), 1);
	CHECK_EQ(fr.len, 7);
	mqtt_framer_reset(&f);
}

static void test_varint_5_bytes(void)
{
	uint8_t in[16];
	size_t n = hex("30 ff ff ff ff 7f", in, sizeof(in));
	struct mqtt_framer f;
	struct mqtt_frame fr;
	size_t used;

	/* [MQTT-1.5.5-1] */
	mqtt_framer_init(&f, 0);
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), -EBADMSG);
	CHECK_EQ(used, 5);
	CHECK(f.buf == NULL);
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), -EBADMSG); /* stays failed */
	mqtt_framer_reset(&f);

	n = hex("30 80 80 80 80 01", in, sizeof(in));
	mqtt_framer_init(&f, 0);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = mqtt_framer_push(&f, in + i, 1, &used, &fr);
	CHECK_EQ(rc, -EBADMSG);
	CHECK(f.buf == NULL);
	mqtt_framer_reset(&f);
}

static void test_reset_and_reuse(void)
{
	uint8_t in[64];
	size_t n = hex("30 05 00 01 't' 'xy' c0 00", in, sizeof(in));
	struct mqtt_framer f;
	struct mqtt_frame fr;
	size_t used;

	/* Reset mid-packet (buffer allocated), then a fresh packet. */
	mqtt_framer_init(&f, 64);
	CHECK_EQ(mqtt_framer_push(&f, in, 4, &used, &fr), 0);
	CHECK(f.buf != NULL);
	mqtt_framer_reset(&f);
	CHECK(f.buf == NULL);
	CHECK_EQ(f.hdr_len, 0);
	CHECK_EQ(f.max_packet, 64);
	CHECK_EQ(mqtt_framer_push(&f, in, n, &used, &fr), 1);
	CHECK(fr.p == in);
	CHECK_EQ(fr.len, 7);

	/* Reset mid-header. */
	mqtt_framer_reset(&f);
	CHECK_EQ(mqtt_framer_push(&f, in, 1, &used, &fr), 0);
	mqtt_framer_reset(&f);
	CHECK_EQ(mqtt_framer_push(&f, in + 7, 2, &used, &fr), 1);
	CHECK_MEM(fr.p, fr.len, in + 7, 2);

	/* Reuse after an assembled packet: the next push frees its buffer. */
	CHECK_EQ(mqtt_framer_push(&f, in, 5, &used, &fr), 0);
	CHECK_EQ(mqtt_framer_push(&f, in + 5, n - 5, &used, &fr), 1);
	CHECK_EQ(used, 2);
	CHECK_MEM(fr.p, fr.len, in, 7);
	CHECK(f.buf != NULL); /* still the caller's frame */
	CHECK_EQ(mqtt_framer_push(&f, in + 7, n - 7, &used, &fr), 1);
	CHECK(f.buf == NULL);
	CHECK(fr.p == in + 7);
	CHECK_EQ(fr.len, 2);
	/* A complete frame followed by an empty push. */
	CHECK_EQ(mqtt_framer_push(&f, in, 0, &used, &fr), 0);
	CHECK_EQ(used, 0);
	mqtt_framer_reset(&f);
	mqtt_framer_reset(&f); /* idempotent */
	CHECK(f.buf == NULL);
}

int main(void)
{
	test_byte_at_a_time();
	test_all_split_points();
	test_zero_length();
	test_max_boundary();
	test_varint_4_bytes();
	test_varint_5_bytes();
	test_reset_and_reuse();
	return check_report();
}
