/* buf.c - MQTT wire primitives: integers, Variable Byte Integers, strings, UTF-8 checks. */
#include "buf.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

int mqtt_read_u8(struct mqtt_reader *r, uint8_t *v)
{
	if (mqtt_reader_left(r) < 1)
		return -EBADMSG;
	*v = r->p[r->off++];
	return 0;
}

int mqtt_read_u16(struct mqtt_reader *r, uint16_t *v)
{
	if (mqtt_reader_left(r) < 2)
		return -EBADMSG;
	*v = (uint16_t)((r->p[r->off] << 8) | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

int mqtt_read_u32(struct mqtt_reader *r, uint32_t *v)
{
	if (mqtt_reader_left(r) < 4)
		return -EBADMSG;
	const uint8_t *b = r->p + r->off;
	*v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
	r->off += 4;
	return 0;
}

int mqtt_read_varint(struct mqtt_reader *r, uint32_t *v)
{
	uint32_t value = 0;

	/* [MQTT-1.5.5-1]: at most 4 bytes. */
	for (unsigned i = 0; i < 4; i++) {
		uint8_t b;
		if (mqtt_read_u8(r, &b) < 0)
			return -EBADMSG;
		value |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			/* "MUST use the minimum number of bytes" [MQTT-1.5.5-1]: a last byte of 0
			 * after a continuation byte is an overlong encoding. */
			if (i > 0 && b == 0)
				return -EBADMSG;
			*v = value;
			return 0;
		}
	}
	return -EBADMSG;
}

int mqtt_read_bytes(struct mqtt_reader *r, size_t n, const uint8_t **out)
{
	if (mqtt_reader_left(r) < n)
		return -EBADMSG;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int mqtt_read_binary(struct mqtt_reader *r, struct mqtt_str *out)
{
	uint16_t n;
	int err = mqtt_read_u16(r, &n);
	if (err < 0)
		return err;
	err = mqtt_read_bytes(r, n, &out->p);
	if (err < 0)
		return err;
	out->len = n;
	return 0;
}

int mqtt_read_utf8(struct mqtt_reader *r, struct mqtt_str *out)
{
	int err = mqtt_read_binary(r, out);
	if (err < 0)
		return err;
	if (!mqtt_utf8_valid(out->p, out->len))
		return -EBADMSG;
	return 0;
}

bool mqtt_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = p[i];
		uint32_t cp;
		size_t n;

		if (c == 0x00)
			return false; /* [MQTT-1.5.4-2] */
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, 0xc0/0xc1 overlong lead, or > U+10FFFF */
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			uint8_t cc = p[i + k];
			if ((cc & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3f);
		}
		/* Overlong forms, surrogates [MQTT-1.5.4-1], and the Unicode ceiling. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

size_t mqtt_varint_size(uint32_t v)
{
	if (v < 128u)
		return 1;
	if (v < 16384u)
		return 2;
	if (v < 2097152u)
		return 3;
	if (v <= MQTT_VARINT_MAX)
		return 4;
	return 0;
}

void mqtt_write_u8(struct mqtt_writer *w, uint8_t v)
{
	assert(w->cap - w->len >= 1);
	w->p[w->len++] = v;
}

void mqtt_write_u16(struct mqtt_writer *w, uint16_t v)
{
	assert(w->cap - w->len >= 2);
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
}

void mqtt_write_u32(struct mqtt_writer *w, uint32_t v)
{
	assert(w->cap - w->len >= 4);
	for (int shift = 24; shift >= 0; shift -= 8)
		w->p[w->len++] = (uint8_t)(v >> shift);
}

void mqtt_write_varint(struct mqtt_writer *w, uint32_t v)
{
	assert(v <= MQTT_VARINT_MAX);
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		if (v)
			b |= 0x80;
		mqtt_write_u8(w, b);
	} while (v);
}

void mqtt_write_bytes(struct mqtt_writer *w, const uint8_t *p, size_t n)
{
	assert(w->cap - w->len >= n);
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void mqtt_write_str(struct mqtt_writer *w, struct mqtt_str s)
{
	mqtt_write_u16(w, s.len);
	mqtt_write_bytes(w, s.p, s.len);
}
