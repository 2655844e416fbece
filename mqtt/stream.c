/* stream.c - streaming framer: cuts a TCP byte stream into whole MQTT control packets.
 *
 * A packet is a fixed header (type byte + 1..4 byte Remaining Length, MQTT 5.0 §2.1.1) then
 * Remaining Length bytes. The framer reads the fixed header byte by byte into f->hdr, checks the
 * size limit, and only then looks at the body: a packet lying whole in the pushed chunk is
 * returned as a view into it; otherwise the body is assembled in f->buf, allocated once at the
 * exact packet size. A buffer handed out in a frame is freed at the next push or reset. */
#include "mqtt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Protocol maximum: a 4-byte Remaining Length plus the fixed header. */
#define FRAMER_MAX_DEFAULT (MQTT_VARINT_MAX + MQTT_FIXED_HEADER_MAX)

void mqtt_framer_init(struct mqtt_framer *f, uint32_t max_packet)
{
	memset(f, 0, sizeof(*f));
	f->max_packet = max_packet ? max_packet : FRAMER_MAX_DEFAULT;
}

/* Back to "between packets", keeping max_packet. */
static void framer_clear(struct mqtt_framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->hdr_len = 0;
	f->hdr_done = false;
	f->total = 0;
	f->have = 0;
}

void mqtt_framer_reset(struct mqtt_framer *f)
{
	framer_clear(f);
}

/* Takes fixed header bytes from data until the Remaining Length ends. Returns 1 when the header
 * is complete (f->total set and within the limit), 0 when data ran out, or a negative errno;
 * on error the state is left so that later pushes fail the same way. */
static int framer_header(struct mqtt_framer *f, const uint8_t *data, size_t len, size_t *off)
{
	/* A stream that already failed keeps failing (and never writes past f->hdr). */
	if (f->hdr_len == MQTT_FIXED_HEADER_MAX)
		return -EBADMSG;
	if (f->total > f->max_packet)
		return -EMSGSIZE;
	while (*off < len) {
		uint8_t b = data[(*off)++];

		f->hdr[f->hdr_len++] = b;
		if (f->hdr_len == 1)
			continue; /* packet type and flags */
		if (b & 0x80) {
			/* [MQTT-1.5.5-1]: the Remaining Length has at most 4 bytes. */
			if (f->hdr_len == MQTT_FIXED_HEADER_MAX)
				return -EBADMSG;
			continue;
		}
		uint32_t rem = 0;
		for (unsigned i = f->hdr_len - 1; i >= 1; i--)
			rem = (rem << 7) | (f->hdr[i] & 0x7f);
		f->total = f->hdr_len + rem; /* at most MQTT_VARINT_MAX + 5: no overflow */
		/* Checked before any body byte is buffered (MQTT 5.0 §3.1.2.11.4). */
		if (f->total > f->max_packet)
			return -EMSGSIZE;
		f->hdr_done = true;
		return 1;
	}
	return 0;
}

/* Copies body bytes into the assembly buffer, allocating it on first use. Returns 1 when the
 * packet is complete, 0 when data ran out, -ENOMEM. */
static int framer_assemble(struct mqtt_framer *f, const uint8_t *data, size_t len, size_t *off)
{
	if (!f->buf) {
		f->buf = malloc(f->total);
		if (!f->buf)
			return -ENOMEM;
		memcpy(f->buf, f->hdr, f->hdr_len);
		f->have = f->hdr_len;
	}
	size_t n = f->total - f->have;
	if (n > len - *off)
		n = len - *off;
	if (n)
		memcpy(f->buf + f->have, data + *off, n);
	f->have += (uint32_t)n;
	*off += n;
	return f->have == f->total;
}

/* Marks the current packet as handed out; f->buf, if used, lives until the next push. */
static void framer_emitted(struct mqtt_framer *f)
{
	f->hdr_len = 0;
	f->hdr_done = false;
	f->total = 0;
	f->have = 0;
}

int mqtt_framer_push(struct mqtt_framer *f, const uint8_t *data, size_t len, size_t *consumed,
                     struct mqtt_frame *out)
{
	size_t off = 0;
	int err = 0;

	/* The previous frame's assembly buffer is no longer the caller's to read. */
	if (f->buf && !f->hdr_done) {
		free(f->buf);
		f->buf = NULL;
	}
	bool fresh = f->hdr_len == 0; /* this packet starts at data[0] */

	if (!f->hdr_done) {
		err = framer_header(f, data, len, &off);
		if (err <= 0)
			goto out;
	}
	uint32_t body = f->total - f->hdr_len;
	if (fresh && len - off >= body) {
		/* Whole packet inside this chunk: a view, no copy. */
		out->p = data;
		out->len = f->total;
		off += body;
		framer_emitted(f);
		err = 1;
		goto out;
	}
	if (body == 0) {
		/* Header split across pushes, no body (PINGREQ...): f->hdr is the packet. */
		out->p = f->hdr;
		out->len = f->total;
		framer_emitted(f);
		err = 1;
		goto out;
	}
	err = framer_assemble(f, data, len, &off);
	if (err == 1) {
		out->p = f->buf;
		out->len = f->total;
		framer_emitted(f);
	}
out:
	*consumed = off;
	return err;
}
