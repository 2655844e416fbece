/* props_vectors.h - helpers shared by test_properties.c and test_properties_errors.c: hex
 * decode / encode of property blocks and the context bit masks of the expectation tables. */
#ifndef MQTT_FAST_PROPS_VECTORS_H
#define MQTT_FAST_PROPS_VECTORS_H

#include <stdbool.h>
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
static inline int dec(const char *h, enum mqtt_prop_ctx ctx, struct mqtt_props *p, uint8_t *buf,
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
static inline int dec_err(const char *h, enum mqtt_prop_ctx ctx)
{
	uint8_t buf[512];
	struct mqtt_props p;

	return dec(h, ctx, &p, buf, sizeof(buf));
}

/* True when p encodes in ctx to exactly the bytes `want` (hex); size and write must agree. */
static inline bool encodes_to(const struct mqtt_props *p, enum mqtt_prop_ctx ctx,
                              const uint8_t *want, size_t n)
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

static inline bool encodes_to_hex(const struct mqtt_props *p, enum mqtt_prop_ctx ctx, const char *h)
{
	uint8_t want[1024];
	size_t n = hex(h, want, sizeof(want));

	return encodes_to(p, ctx, want, n);
}

/* Decode `h`, encode the decoded struct unchanged (pass-through of raw), expect `h` again. */
static inline bool passes_through(const char *h, enum mqtt_prop_ctx ctx)
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

#endif
