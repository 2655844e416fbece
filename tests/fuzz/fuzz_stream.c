/* fuzz_stream.c - libFuzzer harness: the streaming framer under arbitrary chunking.
 *
 * Input: [mode] [c0 c1 c2] [stream]. Mode bit 0 picks the version frames are decoded with (5 or
 * 3.1.1); mode >> 1 picks a smallish max_packet (16..1032). The stream is pushed in chunks whose
 * sizes cycle through c0, c1, c2 (0 = an empty push). Every frame must be the next bytes of the
 * stream, within max_packet, and is handed to mqtt_decode(). The frame boundaries and the final
 * outcome must equal those of a second framer fed the whole stream at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_stream: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_FRAMES 4096

/* What a run produced: frame end offsets and the final return code (0 or a negative errno). */
struct run {
	uint32_t ends[MAX_FRAMES];
	size_t count;
	int err;
};

static void on_frame(const struct mqtt_frame *fr, const uint8_t *stream, size_t emitted,
                     uint32_t max_packet, uint8_t version)
{
	struct mqtt_packet pkt;
	uint8_t reason;

	REQUIRE(fr->len >= 2 && fr->len <= max_packet);
	REQUIRE(memcmp(fr->p, stream + emitted, fr->len) == 0);
	(void)mqtt_decode(fr->p, fr->len, version, &pkt, &reason);
}

/* Pushes stream[0..len) in chunks of sizes cycling through chunks[0..3), recording into *r. */
static void run_framer(const uint8_t *stream, size_t len, const size_t chunks[3],
                       uint32_t max_packet, uint8_t version, struct run *r)
{
	struct mqtt_framer f;
	size_t pos = 0, emitted = 0;
	unsigned turn = 0;

	mqtt_framer_init(&f, max_packet);
	r->count = 0;
	r->err = 0;
	while (pos < len && r->err == 0) {
		size_t n = chunks[turn++ % 3];
		if (n > len - pos)
			n = len - pos;
		const uint8_t *p = stream + pos;
		pos += n;
		for (;;) {
			struct mqtt_frame fr;
			size_t used;
			int rc = mqtt_framer_push(&f, p, n, &used, &fr);
			REQUIRE(used <= n);
			p += used;
			n -= used;
			if (rc < 0) {
				REQUIRE(rc == -EBADMSG || rc == -EMSGSIZE);
				REQUIRE(f.buf == NULL); /* nothing buffered for a rejected packet */
				r->err = rc;
				break;
			}
			if (rc == 0) {
				REQUIRE(n == 0);
				break;
			}
			on_frame(&fr, stream, emitted, max_packet, version);
			emitted += fr.len;
			REQUIRE(r->count < MAX_FRAMES);
			r->ends[r->count++] = (uint32_t)emitted;
			if (n == 0)
				break;
		}
	}
	mqtt_framer_reset(&f);
	REQUIRE(f.buf == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint8_t version = (data[0] & 1) ? MQTT_V5 : MQTT_V311;
	uint32_t max_packet = 16u + (uint32_t)(data[0] >> 1) * 8u;
	size_t chunks[3] = {data[1], data[2], data[3]};
	if (!chunks[0] && !chunks[1] && !chunks[2])
		chunks[0] = 1; /* make progress */
	const uint8_t *stream = data + 4;
	size_t len = size - 4;

	struct run *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	REQUIRE(a && b);
	run_framer(stream, len, chunks, max_packet, version, a);

	/* The same stream in one push. */
	const size_t whole[3] = {len, len, len};
	run_framer(stream, len, whole, max_packet, version, b);
	REQUIRE(a->count == b->count);
	REQUIRE(a->count == 0 || memcmp(a->ends, b->ends, a->count * sizeof(a->ends[0])) == 0);
	REQUIRE(a->err == b->err);
	free(a);
	free(b);
	return 0;
}
