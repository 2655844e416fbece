/* store_codec.h - the on-disk records of the persistence store (store.c), with no I/O: a
 * session (subscriptions with their MQTT 5 options, inbound QoS 2 ids, outbound deliveries in
 * flight and queued, a delayed will), a message (retained store and deliveries), the schema
 * record. Integers are little-endian and fixed-width; every record starts with its own format
 * byte so that a record that does not decode is reported as corrupt, never guessed at.
 *
 * Times: the broker keeps monotonic milliseconds, which mean nothing after a restart, so
 * deadlines (session expiry, will delay, message expiry) are stored as wall-clock
 * milliseconds and converted back with the clock pair of the moment. */
#ifndef MQTT_FAST_STORE_CODEC_H
#define MQTT_FAST_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "session.h"

/* The on-disk schema this broker writes and reads (meta record "schema"). A store with a
 * newer version is refused at start; older ones would be migrated here. */
#define STORE_SCHEMA_VERSION 1u

/* The same instant on both clocks, used to move deadlines between them. */
struct store_clock {
	int64_t mono_ms; /* broker_now_ms() */
	int64_t wall_ms; /* CLOCK_REALTIME */
};

/* A growable output buffer; bytes owned, freed with store_buf_free. */
struct store_buf {
	uint8_t *p;
	size_t len, cap;
	int err; /* first allocation failure (-ENOMEM); later writes are ignored */
};

void store_buf_free(struct store_buf *b);

/* A delayed will kept with its session [MQTT-3.1.3-9]: the message and its monotonic due
 * time. m is NULL when the session has none. */
struct store_will {
	struct msg *m;
	int64_t at;
};

/* Appends the record of session `s` (and its delayed will, may have m NULL) to `out`.
 * Borrows everything. 0 or -ENOMEM. */
int store_encode_session(struct store_buf *out, const struct session *s,
                         const struct store_will *will, const struct store_clock *clk);

/* Decodes a session record for client id `id` (len bytes). Returns an owned session with its
 * subscription list, inbound QoS 2 ids, in-flight and queued deliveries (every QoS 1/2
 * delivery in flight is marked sent: a resend carries DUP [MQTT-4.4.0-1]) and *will (owned
 * message reference, or NULL). The session is offline: expires_at is the stored deadline on
 * the monotonic clock (0 = never; an online session at the time of the crash counts as
 * disconnected now). 0, -EBADMSG for a record that does not decode, -ENOMEM. */
int store_decode_session(const uint8_t *id, uint16_t len, const uint8_t *p, size_t n,
                         const struct store_clock *clk, struct session **out,
                         struct store_will *will);

/* A message record (retained messages). 0 or -ENOMEM / -EBADMSG; decode returns an owned
 * message (refs = 1). */
int store_encode_msg(struct store_buf *out, const struct msg *m, const struct store_clock *clk);
int store_decode_msg(const uint8_t *p, size_t n, const struct store_clock *clk, struct msg **out);

/* The schema record: magic and version. Decode returns 0 with *version set, or -EBADMSG when
 * the bytes are not a schema record. */
int store_encode_schema(struct store_buf *out, uint32_t version);
int store_decode_schema(const uint8_t *p, size_t n, uint32_t *version);

#endif
