/* buf.h - bounds-checked reader and writer for the MQTT wire types (internal to mqtt/).
 *
 * The reader never reads past its end: every read checks first and returns -EBADMSG when the
 * input is short. The writer is used only after the exact size was computed, so running out of
 * room is a bug in a size function: it asserts. */
#ifndef MQTT_FAST_BUF_H
#define MQTT_FAST_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt.h"

struct mqtt_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

struct mqtt_writer {
	uint8_t *p;
	size_t cap;
	size_t len;
};

static inline void mqtt_reader_init(struct mqtt_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

static inline size_t mqtt_reader_left(const struct mqtt_reader *r)
{
	return r->len - r->off;
}

static inline void mqtt_writer_init(struct mqtt_writer *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
}

/* Readers: 0 or -EBADMSG when the input ends early. */
int mqtt_read_u8(struct mqtt_reader *r, uint8_t *v);
int mqtt_read_u16(struct mqtt_reader *r, uint16_t *v);
int mqtt_read_u32(struct mqtt_reader *r, uint32_t *v);

/* Variable Byte Integer in the minimum number of bytes, at most 4 [MQTT-1.5.5-1]; -EBADMSG for
 * a 5th continuation byte, an overlong encoding (e.g. 0x80 0x00) or a short input. */
int mqtt_read_varint(struct mqtt_reader *r, uint32_t *v);

/* Two-byte length then bytes; a view into the input. */
int mqtt_read_binary(struct mqtt_reader *r, struct mqtt_str *out);

/* As mqtt_read_binary, then checks UTF-8 [MQTT-1.5.4-1, MQTT-1.5.4-2]: -EBADMSG when invalid. */
int mqtt_read_utf8(struct mqtt_reader *r, struct mqtt_str *out);

/* `n` raw bytes as a view. */
int mqtt_read_bytes(struct mqtt_reader *r, size_t n, const uint8_t **out);

/* Bytes needed by a Variable Byte Integer; 0 if v > MQTT_VARINT_MAX. */
size_t mqtt_varint_size(uint32_t v);

/* Writers: assert that the room was reserved by the size computation. */
void mqtt_write_u8(struct mqtt_writer *w, uint8_t v);
void mqtt_write_u16(struct mqtt_writer *w, uint16_t v);
void mqtt_write_u32(struct mqtt_writer *w, uint32_t v);
void mqtt_write_varint(struct mqtt_writer *w, uint32_t v);
void mqtt_write_bytes(struct mqtt_writer *w, const uint8_t *p, size_t n);
/* Two-byte length then the bytes. */
void mqtt_write_str(struct mqtt_writer *w, struct mqtt_str s);

#endif
