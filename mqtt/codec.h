/* codec.h - per-family body codecs, called by packet.c (internal to mqtt/).
 *
 * Decoders get a reader over the packet body (the bytes after the fixed header) and must consume
 * it exactly: bytes left over are -EBADMSG. They return 0 or a negative errno as documented in
 * mqtt.h; packet.c maps the errno to the reason code in one place.
 *
 * Encoders come in pairs: *_body_size() returns the exact body length (or -EINVAL when the packet
 * cannot be represented in `version`), and *_body_write() writes exactly that many bytes into a
 * writer that packet.c sized with it. */
#ifndef MQTT_FAST_CODEC_H
#define MQTT_FAST_CODEC_H

#include "buf.h"
#include "mqtt.h"

/* properties.c. Reads the Property Length and the block. -EBADMSG for a truncated block, an
 * unknown identifier or one not allowed in `ctx`, a bad value type; -EPROTO for a duplicate
 * where the spec forbids it or a value the spec calls a Protocol Error (e.g. Receive Maximum 0).
 * Views in *out borrow the reader's input. */
int mqtt_props_decode(struct mqtt_reader *r, enum mqtt_prop_ctx ctx, struct mqtt_props *out);
/* Encoded size of the block including its Property Length, or -EINVAL (a property not allowed
 * in ctx, a value out of range). */
long mqtt_props_size(const struct mqtt_props *p, enum mqtt_prop_ctx ctx);
void mqtt_props_write(struct mqtt_writer *w, const struct mqtt_props *p, enum mqtt_prop_ctx ctx);

/* connect.c: CONNECT, CONNACK. CONNECT reads its own protocol level. */
int mqtt_connect_decode(struct mqtt_reader *r, struct mqtt_connect *out);
long mqtt_connect_body_size(const struct mqtt_connect *c);
void mqtt_connect_body_write(struct mqtt_writer *w, const struct mqtt_connect *c);
int mqtt_connack_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_connack *out);
long mqtt_connack_body_size(const struct mqtt_connack *c, uint8_t version);
void mqtt_connack_body_write(struct mqtt_writer *w, const struct mqtt_connack *c, uint8_t version);

/* publish.c: PUBLISH (flags = fixed header low nibble) and PUBACK/PUBREC/PUBREL/PUBCOMP. */
int mqtt_publish_decode(struct mqtt_reader *r, uint8_t flags, uint8_t version,
                        struct mqtt_publish *out);
long mqtt_publish_body_size(const struct mqtt_publish *p, uint8_t version);
void mqtt_publish_body_write(struct mqtt_writer *w, const struct mqtt_publish *p, uint8_t version);
/* Fixed header low nibble for a PUBLISH: DUP, QoS, RETAIN [MQTT-2.2.2]. */
uint8_t mqtt_publish_flags(const struct mqtt_publish *p);
int mqtt_ack_decode(struct mqtt_reader *r, uint8_t type, uint8_t version, struct mqtt_ack *out);
long mqtt_ack_body_size(const struct mqtt_ack *a, uint8_t version);
void mqtt_ack_body_write(struct mqtt_writer *w, const struct mqtt_ack *a, uint8_t version);

/* subscribe.c: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (type picks SUBACK or UNSUBACK). */
int mqtt_subscribe_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_subscribe *out);
long mqtt_subscribe_body_size(const struct mqtt_subscribe *s, uint8_t version);
void mqtt_subscribe_body_write(struct mqtt_writer *w, const struct mqtt_subscribe *s,
                               uint8_t version);
int mqtt_unsubscribe_decode(struct mqtt_reader *r, uint8_t version, struct mqtt_unsubscribe *out);
long mqtt_unsubscribe_body_size(const struct mqtt_unsubscribe *u, uint8_t version);
void mqtt_unsubscribe_body_write(struct mqtt_writer *w, const struct mqtt_unsubscribe *u,
                                 uint8_t version);
int mqtt_suback_decode(struct mqtt_reader *r, uint8_t type, uint8_t version,
                       struct mqtt_suback *out);
long mqtt_suback_body_size(const struct mqtt_suback *s, uint8_t type, uint8_t version);
void mqtt_suback_body_write(struct mqtt_writer *w, const struct mqtt_suback *s, uint8_t type,
                            uint8_t version);

/* control.c: DISCONNECT and AUTH (type picks which). PINGREQ/PINGRESP have no body. */
int mqtt_reason_only_decode(struct mqtt_reader *r, uint8_t type, uint8_t version,
                            struct mqtt_reason_only *out);
long mqtt_reason_only_body_size(const struct mqtt_reason_only *d, uint8_t type, uint8_t version);
void mqtt_reason_only_body_write(struct mqtt_writer *w, const struct mqtt_reason_only *d,
                                 uint8_t type, uint8_t version);

#endif
