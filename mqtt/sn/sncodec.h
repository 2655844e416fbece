/* sncodec.h - per-family MQTT-SN body codecs, called by header.c (internal to mqtt/sn/).
 *
 * Decoders get a reader over the message body (the bytes after Length and MsgType) and the
 * MsgType; header.c rejects bytes they leave unread (-EBADMSG), so a decoder whose last field
 * is variable takes the rest with mqttsn_read_rest(). Encoders come in pairs: *_body_size()
 * returns the exact body length or -EINVAL, *_body_write() writes exactly that many bytes into
 * a writer sized with it. The Forwarder Encapsulation (§5.5) frames itself, so it gets the whole
 * datagram instead. */
#ifndef MQTT_FAST_SNCODEC_H
#define MQTT_FAST_SNCODEC_H

#include "buf.h"
#include "mqttsn.h"

/* header.c: the Flags octet (§5.3.4). Decoding cannot fail; TopicIdType 0b11 is judged by the
 * messages that carry a topic. Encoding returns -EINVAL for a QoS outside {-1, 0, 1, 2} or a
 * TopicIdType above 3. */
void mqttsn_flags_decode(uint8_t b, struct mqttsn_flags *f);
int mqttsn_flags_encode(const struct mqttsn_flags *f, uint8_t *b);

/* header.c: the reader's remaining bytes as a view (never fails: a datagram is <= 65535). */
void mqttsn_read_rest(struct mqtt_reader *r, struct mqtt_str *out);

/* header.c: true when a view can be written (non-NULL or empty). */
bool mqttsn_view_ok(struct mqtt_str s);

/* control.c: ADVERTISE, SEARCHGW, GWINFO, PINGREQ, PINGRESP, DISCONNECT. */
int mqttsn_control_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out);
long mqttsn_control_body_size(const struct mqttsn_msg *m);
void mqttsn_control_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m);

/* control.c: Forwarder Encapsulation over the whole datagram d[0..len) (d[1] is 0xFE). */
int mqttsn_encap_decode(const uint8_t *d, size_t len, struct mqttsn_encap *out);
long mqttsn_encap_size(const struct mqttsn_encap *e);
void mqttsn_encap_write(struct mqtt_writer *w, const struct mqttsn_encap *e);

/* connect.c: CONNECT, CONNACK and the Will messages. */
int mqttsn_connect_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out);
long mqttsn_connect_body_size(const struct mqttsn_msg *m);
void mqttsn_connect_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m);

/* publish.c: REGISTER, REGACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP. */
int mqttsn_publish_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out);
long mqttsn_publish_body_size(const struct mqttsn_msg *m);
void mqttsn_publish_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m);

/* subscribe.c: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK. */
int mqttsn_subscribe_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out);
long mqttsn_subscribe_body_size(const struct mqttsn_msg *m);
void mqttsn_subscribe_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m);

#endif
