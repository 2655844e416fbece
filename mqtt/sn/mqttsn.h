/* mqttsn.h - I/O-free codec for MQTT-SN v1.2 datagrams (one message per UDP datagram).
 *
 * Decoders return views into the caller's datagram: every struct mqtt_str in a decoded message
 * borrows the input and is valid only while that buffer is. Encoders compute the exact size
 * first (mqttsn_encoded_size) and then write once (mqttsn_encode), choosing the 1-byte Length
 * when the message fits in 255 bytes and the 3-byte form (0x01 + 2 bytes) up to 65535
 * (MQTT-SN 1.2 §5.2.1).
 *
 * Errors are negative errno values:
 *   -EBADMSG          malformed: too short, Length field != datagram size, a field truncated or
 *                     with trailing bytes, TopicIdType 0b11 where a topic is carried
 *   -EPROTONOSUPPORT  CONNECT with ProtocolId != 0x01 (MQTT-SN 1.2 §5.3.8)
 *   -ENOTSUP          a correctly framed datagram whose MsgType is reserved (0x03, 0x11, 0x19,
 *                     0x1E..0xFD, 0xFF; MQTT-SN 1.2 §5.2.2 Table 3): the gateway may count and
 *                     drop it apart from garbage (MQTT-SN 2.0 reuses 0x03 for AUTH)
 *   -EINVAL           encoder given a message that cannot be represented
 *   -ENOBUFS          encoder output buffer too small
 *
 * The decoder checks structure only, as mqtt_decode does for topic filters: it does not judge
 * ClientId length (1..23 in §5.3.1), topic name syntax or UTF-8, QoS -1 rules (§6.8), MsgId 0
 * for QoS 0, or reserved ReturnCode values. The broker checks those with the mqtt/topic.h and
 * buf.h helpers before a name enters the shared topic space. Every flag bit, the encapsulation
 * Ctrl byte and all raw values are kept, so decode + encode reproduces the datagram byte for
 * byte, except that a 3-byte Length encoding a value below 256 is accepted and re-encoded in
 * the 1-byte form. */
#ifndef MQTT_FAST_MQTTSN_H
#define MQTT_FAST_MQTTSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt.h" /* struct mqtt_str */

/* MsgType values (MQTT-SN 1.2 §5.2.2, Table 3). */
enum mqttsn_type {
	MQTTSN_ADVERTISE = 0x00,
	MQTTSN_SEARCHGW = 0x01,
	MQTTSN_GWINFO = 0x02,
	MQTTSN_CONNECT = 0x04,
	MQTTSN_CONNACK = 0x05,
	MQTTSN_WILLTOPICREQ = 0x06,
	MQTTSN_WILLTOPIC = 0x07,
	MQTTSN_WILLMSGREQ = 0x08,
	MQTTSN_WILLMSG = 0x09,
	MQTTSN_REGISTER = 0x0A,
	MQTTSN_REGACK = 0x0B,
	MQTTSN_PUBLISH = 0x0C,
	MQTTSN_PUBACK = 0x0D,
	MQTTSN_PUBCOMP = 0x0E,
	MQTTSN_PUBREC = 0x0F,
	MQTTSN_PUBREL = 0x10,
	MQTTSN_SUBSCRIBE = 0x12,
	MQTTSN_SUBACK = 0x13,
	MQTTSN_UNSUBSCRIBE = 0x14,
	MQTTSN_UNSUBACK = 0x15,
	MQTTSN_PINGREQ = 0x16,
	MQTTSN_PINGRESP = 0x17,
	MQTTSN_DISCONNECT = 0x18,
	MQTTSN_WILLTOPICUPD = 0x1A,
	MQTTSN_WILLTOPICRESP = 0x1B,
	MQTTSN_WILLMSGUPD = 0x1C,
	MQTTSN_WILLMSGRESP = 0x1D,
	MQTTSN_ENCAPSULATED = 0xFE, /* Forwarder Encapsulation, §5.5 */
};

/* ReturnCode values (§5.3.10, Table 5); 0x04..0xFF are reserved. */
enum mqttsn_return_code {
	MQTTSN_RC_ACCEPTED = 0x00,
	MQTTSN_RC_CONGESTION = 0x01,
	MQTTSN_RC_INVALID_TOPIC_ID = 0x02,
	MQTTSN_RC_NOT_SUPPORTED = 0x03,
};

/* TopicIdType, Flags bits 1..0 (§5.3.4); 0b11 is reserved. */
enum mqttsn_topic_type {
	MQTTSN_TOPIC_NORMAL = 0,     /* a topic id registered with REGISTER, or a topic name */
	MQTTSN_TOPIC_PREDEFINED = 1, /* a predefined topic id */
	MQTTSN_TOPIC_SHORT = 2,      /* a two-character short topic name */
};

#define MQTTSN_PROTOCOL_ID 0x01u  /* §5.3.8 */
#define MQTTSN_QOS_M1      (-1)   /* QoS -1, the value 0b11 in the Flags QoS bits (§5.3.4) */
#define MQTTSN_LEN3_MARK   0x01u  /* first octet announcing the 3-byte Length form (§5.2.1) */
#define MQTTSN_MAX_LEN     65535u /* largest Length (§5.2.1) */

/* A short topic name (§3.2, §5.3.11) travels in the 2-byte TopicId field: first character in
 * the high byte. */
#define MQTTSN_SHORT_TOPIC(a, b) ((uint16_t)(((uint8_t)(a) << 8) | (uint8_t)(b)))

/* The Flags octet (§5.3.4), every field kept whatever the message type. */
struct mqttsn_flags {
	bool dup;
	int8_t qos; /* 0, 1, 2, or MQTTSN_QOS_M1 */
	bool retain;
	bool will;
	bool clean_session;
	uint8_t topic_id_type; /* enum mqttsn_topic_type; 3 only where no topic is carried */
};

/* ADVERTISE (§5.4.1). */
struct mqttsn_advertise {
	uint8_t gw_id;
	uint16_t duration; /* seconds until the next ADVERTISE */
};

/* SEARCHGW (§5.4.2). */
struct mqttsn_searchgw {
	uint8_t radius;
};

/* GWINFO (§5.4.3). gw_add is present (non-empty) only when a client answers a SEARCHGW. */
struct mqttsn_gwinfo {
	uint8_t gw_id;
	struct mqtt_str gw_add;
};

/* CONNECT (§5.4.4). ProtocolId is always MQTTSN_PROTOCOL_ID: checked on decode, written on
 * encode. Only flags.will and flags.clean_session are meaningful. */
struct mqttsn_connect {
	struct mqttsn_flags flags;
	uint16_t duration; /* keep alive, seconds */
	struct mqtt_str client_id;
};

/* CONNACK, WILLTOPICRESP, WILLMSGRESP (§5.4.5, §5.4.24, §5.4.25). */
struct mqttsn_return {
	uint8_t code; /* enum mqttsn_return_code */
};

/* WILLTOPIC, WILLTOPICUPD (§5.4.7, §5.4.22). `empty` is the 2-octet form without Flags and
 * WillTopic that deletes the Will; flags and topic are then unused. Only flags.qos and
 * flags.retain are meaningful. */
struct mqttsn_willtopic {
	bool empty;
	struct mqttsn_flags flags;
	struct mqtt_str topic;
};

/* WILLMSG, WILLMSGUPD (§5.4.9, §5.4.23). */
struct mqttsn_willmsg {
	struct mqtt_str msg;
};

/* REGISTER (§5.4.10). topic_id is 0 when sent by a client. */
struct mqttsn_register {
	uint16_t topic_id;
	uint16_t msg_id;
	struct mqtt_str topic_name;
};

/* REGACK, PUBACK (§5.4.11, §5.4.13). */
struct mqttsn_topic_ack {
	uint16_t topic_id;
	uint16_t msg_id;
	uint8_t code; /* enum mqttsn_return_code */
};

/* PUBLISH (§5.4.12). topic_id holds a normal or predefined id, or a short name
 * (MQTTSN_SHORT_TOPIC), as flags.topic_id_type says. */
struct mqttsn_publish {
	struct mqttsn_flags flags;
	uint16_t topic_id;
	uint16_t msg_id; /* coded 0x0000 for QoS 0 and -1; kept as received */
	struct mqtt_str data;
};

/* PUBREC, PUBREL, PUBCOMP, UNSUBACK (§5.4.14, §5.4.18). */
struct mqttsn_msg_id {
	uint16_t msg_id;
};

/* SUBSCRIBE, UNSUBSCRIBE (§5.4.15, §5.4.17). flags.topic_id_type selects the topic field:
 * NORMAL carries topic_name (a name or filter, any length), PREDEFINED carries topic_id, SHORT
 * carries the two characters in topic_id (MQTTSN_SHORT_TOPIC). The unused one is zero. */
struct mqttsn_subscribe {
	struct mqttsn_flags flags;
	uint16_t msg_id;
	uint16_t topic_id;
	struct mqtt_str topic_name;
};

/* SUBACK (§5.4.16). flags.qos is the granted QoS. */
struct mqttsn_suback {
	struct mqttsn_flags flags;
	uint16_t topic_id;
	uint16_t msg_id;
	uint8_t code; /* enum mqttsn_return_code */
};

/* PINGREQ (§5.4.19). client_id is present (non-empty) when a sleeping client wakes up. */
struct mqttsn_pingreq {
	struct mqtt_str client_id;
};

/* DISCONNECT (§5.4.21). The Duration is present when a client goes to sleep. */
struct mqttsn_disconnect {
	bool has_duration;
	uint16_t duration;
};

/* Forwarder Encapsulation (§5.5): Length (1 octet, up to the end of the Wireless Node Id),
 * MsgType 0xFE, Ctrl, Wireless Node Id, then one whole MQTT-SN message. `inner` views that
 * message; decode it with mqttsn_decode_inner(). When encoding, `inner` must already be an
 * encoded message; it is copied unchanged. */
struct mqttsn_encap {
	uint8_t ctrl; /* bits 1..0: broadcast radius; the others reserved, kept as received */
	struct mqtt_str node_id;
	struct mqtt_str inner;
};

struct mqttsn_msg {
	uint8_t type; /* enum mqttsn_type */
	union {
		struct mqttsn_advertise advertise;
		struct mqttsn_searchgw searchgw;
		struct mqttsn_gwinfo gwinfo;
		struct mqttsn_connect connect;
		struct mqttsn_return ret;          /* CONNACK, WILLTOPICRESP, WILLMSGRESP */
		struct mqttsn_willtopic willtopic; /* WILLTOPIC, WILLTOPICUPD */
		struct mqttsn_willmsg willmsg;     /* WILLMSG, WILLMSGUPD */
		struct mqttsn_register reg;
		struct mqttsn_topic_ack topic_ack; /* REGACK, PUBACK */
		struct mqttsn_publish publish;
		struct mqttsn_msg_id msg_id;       /* PUBREC, PUBREL, PUBCOMP, UNSUBACK */
		struct mqttsn_subscribe subscribe; /* SUBSCRIBE, UNSUBSCRIBE */
		struct mqttsn_suback suback;
		struct mqttsn_pingreq pingreq;
		struct mqttsn_disconnect disconnect;
		struct mqttsn_encap encap;
	};
	/* WILLTOPICREQ, WILLMSGREQ and PINGRESP have no body. */
};

/* Decodes the datagram d[0..len), exactly one MQTT-SN message. The Length field must equal
 * len (§5.2.1), except for an encapsulation whose Length covers only its own header (§5.5).
 * Zeroes *out, then fills it with views borrowing d. Returns 0 or -EBADMSG, -EPROTONOSUPPORT,
 * -ENOTSUP as described at the top of this file. */
int mqttsn_decode(const uint8_t *d, size_t len, struct mqttsn_msg *out);

/* Decodes the message carried by a decoded encapsulation. One level only: an encapsulation
 * inside an encapsulation is -EBADMSG (§5.5 puts a single forwarder between client and
 * gateway). Borrows e; views in *out borrow the datagram e was decoded from. */
int mqttsn_decode_inner(const struct mqttsn_encap *e, struct mqttsn_msg *out);

/* Exact encoded size of m, Length field included, or -EINVAL: an unknown type, a QoS outside
 * {-1, 0, 1, 2}, TopicIdType 3 where a topic is carried, a total above 65535, an encapsulation
 * header above 255 bytes or an inner message shorter than 2 bytes (an encapsulated datagram
 * may exceed 65535 by its header), a non-empty view with a NULL pointer. Borrows m. */
long mqttsn_encoded_size(const struct mqttsn_msg *m);

/* Encodes m into out[0..cap). Returns the number of bytes written or -EINVAL (as above),
 * -ENOBUFS (cap too small; nothing useful written). Borrows both. */
long mqttsn_encode(const struct mqttsn_msg *m, uint8_t *out, size_t cap);

/* Name of a MsgType for logs ("PUBLISH", "reserved"). Never NULL. */
const char *mqttsn_type_name(uint8_t type);

#endif
