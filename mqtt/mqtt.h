/* mqtt.h - I/O-free codec for MQTT 3.1 (level 3), 3.1.1 (level 4) and 5.0 (level 5).
 *
 * Decoders return views into the caller's input buffer: every struct mqtt_str, payload and raw
 * pointer in a decoded packet borrows the input and is valid only while that buffer is.
 * Encoders compute the exact size first (mqtt_encoded_size) and then write once (mqtt_encode).
 * All functions return 0 (or a byte count) on success and a negative errno on failure:
 *   -EBADMSG          malformed packet            (MQTT 5 reason 0x81)
 *   -EPROTO           protocol error              (MQTT 5 reason 0x82)
 *   -EMSGSIZE         packet too large            (MQTT 5 reason 0x95)
 *   -EPROTONOSUPPORT  unsupported protocol level  (MQTT 5 reason 0x84, 3.1.1 CONNACK 0x01)
 *   -ERANGE           Topic Alias 0               (MQTT 5 reason 0x94)
 *   -EINVAL           encoder given a packet that cannot be represented
 *   -ENOBUFS          encoder output buffer too small
 *   -ENOMEM           allocation failed (stream framer only)
 */
#ifndef MQTT_FAST_MQTT_H
#define MQTT_FAST_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol levels as carried in CONNECT [MQTT-3.1.2-2]. */
enum mqtt_version {
	MQTT_V31 = 3, /* MQIsdp */
	MQTT_V311 = 4,
	MQTT_V5 = 5,
};

/* Control packet types, fixed header bits 7..4 (MQTT 5.0 §2.1.2). */
enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
	MQTT_AUTH = 15, /* MQTT 5 only */
};

/* MQTT 5 reason codes (MQTT 5.0 §2.4). 3.1.1 CONNACK return codes 0..5 and SUBACK 0x80 share
 * the same byte field in the structs below. */
enum mqtt_reason {
	MQTT_RC_SUCCESS = 0x00, /* also Normal disconnection, Granted QoS 0 */
	MQTT_RC_GRANTED_QOS1 = 0x01,
	MQTT_RC_GRANTED_QOS2 = 0x02,
	MQTT_RC_DISCONNECT_WITH_WILL = 0x04,
	MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
	MQTT_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
	MQTT_RC_CONTINUE_AUTHENTICATION = 0x18,
	MQTT_RC_REAUTHENTICATE = 0x19,
	MQTT_RC_UNSPECIFIED_ERROR = 0x80,
	MQTT_RC_MALFORMED_PACKET = 0x81,
	MQTT_RC_PROTOCOL_ERROR = 0x82,
	MQTT_RC_IMPLEMENTATION_SPECIFIC = 0x83,
	MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
	MQTT_RC_CLIENT_ID_NOT_VALID = 0x85,
	MQTT_RC_BAD_USERNAME_OR_PASSWORD = 0x86,
	MQTT_RC_NOT_AUTHORIZED = 0x87,
	MQTT_RC_SERVER_UNAVAILABLE = 0x88,
	MQTT_RC_SERVER_BUSY = 0x89,
	MQTT_RC_BANNED = 0x8A,
	MQTT_RC_SERVER_SHUTTING_DOWN = 0x8B,
	MQTT_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
	MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
	MQTT_RC_SESSION_TAKEN_OVER = 0x8E,
	MQTT_RC_TOPIC_FILTER_INVALID = 0x8F,
	MQTT_RC_TOPIC_NAME_INVALID = 0x90,
	MQTT_RC_PACKET_ID_IN_USE = 0x91,
	MQTT_RC_PACKET_ID_NOT_FOUND = 0x92,
	MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
	MQTT_RC_TOPIC_ALIAS_INVALID = 0x94,
	MQTT_RC_PACKET_TOO_LARGE = 0x95,
	MQTT_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
	MQTT_RC_QUOTA_EXCEEDED = 0x97,
	MQTT_RC_ADMINISTRATIVE_ACTION = 0x98,
	MQTT_RC_PAYLOAD_FORMAT_INVALID = 0x99,
	MQTT_RC_RETAIN_NOT_SUPPORTED = 0x9A,
	MQTT_RC_QOS_NOT_SUPPORTED = 0x9B,
	MQTT_RC_USE_ANOTHER_SERVER = 0x9C,
	MQTT_RC_SERVER_MOVED = 0x9D,
	MQTT_RC_SHARED_SUBS_NOT_SUPPORTED = 0x9E,
	MQTT_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
	MQTT_RC_MAXIMUM_CONNECT_TIME = 0xA0,
	MQTT_RC_SUB_IDS_NOT_SUPPORTED = 0xA1,
	MQTT_RC_WILDCARD_SUBS_NOT_SUPPORTED = 0xA2,
};

/* 3.1 / 3.1.1 CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
enum mqtt_connack_v3 {
	MQTT_CONNACK_V3_ACCEPTED = 0,
	MQTT_CONNACK_V3_BAD_VERSION = 1,
	MQTT_CONNACK_V3_ID_REJECTED = 2,
	MQTT_CONNACK_V3_UNAVAILABLE = 3,
	MQTT_CONNACK_V3_BAD_CREDENTIALS = 4,
	MQTT_CONNACK_V3_NOT_AUTHORIZED = 5,
};

/* MQTT 5 property identifiers (MQTT 5.0 §2.2.2.2). */
enum mqtt_prop_id {
	MQTT_PROP_PAYLOAD_FORMAT = 0x01,
	MQTT_PROP_MESSAGE_EXPIRY = 0x02,
	MQTT_PROP_CONTENT_TYPE = 0x03,
	MQTT_PROP_RESPONSE_TOPIC = 0x08,
	MQTT_PROP_CORRELATION_DATA = 0x09,
	MQTT_PROP_SUBSCRIPTION_ID = 0x0B,
	MQTT_PROP_SESSION_EXPIRY = 0x11,
	MQTT_PROP_ASSIGNED_CLIENT_ID = 0x12,
	MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,
	MQTT_PROP_AUTH_METHOD = 0x15,
	MQTT_PROP_AUTH_DATA = 0x16,
	MQTT_PROP_REQUEST_PROBLEM_INFO = 0x17,
	MQTT_PROP_WILL_DELAY = 0x18,
	MQTT_PROP_REQUEST_RESPONSE_INFO = 0x19,
	MQTT_PROP_RESPONSE_INFO = 0x1A,
	MQTT_PROP_SERVER_REFERENCE = 0x1C,
	MQTT_PROP_REASON_STRING = 0x1F,
	MQTT_PROP_RECEIVE_MAXIMUM = 0x21,
	MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
	MQTT_PROP_TOPIC_ALIAS = 0x23,
	MQTT_PROP_MAXIMUM_QOS = 0x24,
	MQTT_PROP_RETAIN_AVAILABLE = 0x25,
	MQTT_PROP_USER_PROPERTY = 0x26,
	MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,
	MQTT_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
	MQTT_PROP_SUB_ID_AVAILABLE = 0x29,
	MQTT_PROP_SHARED_SUB_AVAILABLE = 0x2A,
};

/* Where a property may appear: the property block it is decoded from or encoded into.
 * MQTT_PCTX_WILL is the Will Properties block inside CONNECT. */
enum mqtt_prop_ctx {
	MQTT_PCTX_CONNECT,
	MQTT_PCTX_CONNACK,
	MQTT_PCTX_PUBLISH,
	MQTT_PCTX_WILL,
	MQTT_PCTX_PUBACK, /* PUBACK, PUBREC, PUBREL, PUBCOMP */
	MQTT_PCTX_SUBSCRIBE,
	MQTT_PCTX_SUBACK,
	MQTT_PCTX_UNSUBSCRIBE,
	MQTT_PCTX_UNSUBACK,
	MQTT_PCTX_DISCONNECT,
	MQTT_PCTX_AUTH,
};

/* Largest values of the wire encodings. */
#define MQTT_VARINT_MAX       268435455u /* 4-byte Variable Byte Integer [MQTT-1.5.5] */
#define MQTT_STR_MAX          65535u
#define MQTT_FIXED_HEADER_MAX 5u

/* A length-prefixed string or binary field; a view, never owned. */
struct mqtt_str {
	const uint8_t *p;
	uint16_t len;
};

struct mqtt_user_prop {
	struct mqtt_str key;
	struct mqtt_str value;
};

/* MQTT 5 properties of one property block. A property is present when bit (1ull << id) is set
 * in `present`; single-valued fields are meaningful only then.
 *
 * Multi-valued properties (User Property, and Subscription Identifier in PUBLISH):
 * - after decoding, `user`/`sub_ids` are NULL, the counts are set and `raw`/`raw_len` view the
 *   whole property block (without its length prefix): iterate with mqtt_props_next_user() and
 *   mqtt_props_next_sub_id().
 * - when encoding, they are written only when their `present` bit is set and their count is
 *   above 0: the first `count` values of the array if non-NULL, otherwise copied from `raw`,
 *   so a decoded block can be passed through unchanged (user properties forwarded). */
struct mqtt_props {
	uint64_t present;

	uint8_t payload_format;
	uint8_t request_problem_info;
	uint8_t request_response_info;
	uint8_t maximum_qos;
	uint8_t retain_available;
	uint8_t wildcard_sub_available;
	uint8_t sub_id_available;
	uint8_t shared_sub_available;

	uint16_t server_keep_alive;
	uint16_t receive_maximum;
	uint16_t topic_alias_maximum;
	uint16_t topic_alias;

	uint32_t message_expiry;
	uint32_t session_expiry;
	uint32_t will_delay;
	uint32_t maximum_packet_size;

	struct mqtt_str content_type;
	struct mqtt_str response_topic;
	struct mqtt_str correlation_data;
	struct mqtt_str assigned_client_id;
	struct mqtt_str auth_method;
	struct mqtt_str auth_data;
	struct mqtt_str response_info;
	struct mqtt_str server_reference;
	struct mqtt_str reason_string;

	const uint32_t *sub_ids; /* borrowed; see above */
	uint32_t sub_id_count;
	const struct mqtt_user_prop *user; /* borrowed; see above */
	uint32_t user_count;

	const uint8_t *raw; /* decoded property block, borrowed from the input */
	uint32_t raw_len;
};

#define MQTT_PROP_BIT(id) (1ull << (id))

static inline bool mqtt_props_has(const struct mqtt_props *p, enum mqtt_prop_id id)
{
	return (p->present & MQTT_PROP_BIT(id)) != 0;
}

struct mqtt_will {
	struct mqtt_str topic;
	struct mqtt_str payload; /* binary; 0..65535 bytes */
	uint8_t qos;
	bool retain;
	struct mqtt_props props; /* MQTT 5 Will Properties */
};

struct mqtt_connect {
	uint8_t version;  /* enum mqtt_version, from the protocol level byte */
	bool bridge;      /* level byte had bit 7 set: a mosquitto bridge ("try_private") */
	bool clean_start; /* Clean Session in 3.1/3.1.1 */
	uint16_t keep_alive;
	struct mqtt_str client_id;
	bool has_will;
	struct mqtt_will will;
	bool has_username;
	struct mqtt_str username;
	bool has_password;
	struct mqtt_str password;
	struct mqtt_props props;
};

struct mqtt_connack {
	bool session_present;
	uint8_t reason; /* MQTT 5 reason code, or 3.1/3.1.1 return code (enum mqtt_connack_v3) */
	struct mqtt_props props;
};

struct mqtt_publish {
	bool dup;
	uint8_t qos;
	bool retain;
	struct mqtt_str topic; /* may be empty only in MQTT 5 with a Topic Alias */
	uint16_t packet_id;    /* QoS 1 and 2 only */
	struct mqtt_props props;
	const uint8_t *payload; /* borrowed */
	uint32_t payload_len;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. In MQTT 5 reason and properties are omitted on the wire
 * when reason is 0 and there are no properties [MQTT 5.0 §3.4.2.1]. */
struct mqtt_ack {
	uint16_t packet_id;
	uint8_t reason;
	struct mqtt_props props;
};

/* One entry of a SUBSCRIBE payload; the options byte split into its fields. */
struct mqtt_subscription {
	struct mqtt_str filter;
	uint8_t qos;
	bool no_local;            /* MQTT 5 */
	bool retain_as_published; /* MQTT 5 */
	uint8_t retain_handling;  /* MQTT 5: 0, 1 or 2 */
};

/* SUBSCRIBE. Decoded: `subs` is NULL, `count` and `raw`/`raw_len` (the payload) are set;
 * iterate with mqtt_subscribe_next(). Encoded from `subs[0..count)`.
 * Topic filter validity is not judged by the decoder: in MQTT 5 an invalid filter gets its own
 * SUBACK reason code (0x8F), so the broker checks each filter with mqtt_topic_filter_valid(). */
struct mqtt_subscribe {
	uint16_t packet_id;
	struct mqtt_props props;
	const struct mqtt_subscription *subs;
	uint32_t count;
	const uint8_t *raw;
	uint32_t raw_len;
};

/* UNSUBSCRIBE: as SUBSCRIBE, with mqtt_unsubscribe_next() over the filters. */
struct mqtt_unsubscribe {
	uint16_t packet_id;
	struct mqtt_props props;
	const struct mqtt_str *filters;
	uint32_t count;
	const uint8_t *raw;
	uint32_t raw_len;
};

/* SUBACK and UNSUBACK: one reason code byte per filter, a view in both directions.
 * A 3.1/3.1.1 UNSUBACK carries no reason codes (count 0). */
struct mqtt_suback {
	uint16_t packet_id;
	struct mqtt_props props;
	const uint8_t *reasons;
	uint32_t count;
};

/* DISCONNECT and AUTH: a reason code and properties (MQTT 5); both omitted on the wire when the
 * reason is 0 and there are no properties. A 3.1/3.1.1 DISCONNECT has no body. */
struct mqtt_reason_only {
	uint8_t reason;
	struct mqtt_props props;
};

struct mqtt_packet {
	uint8_t type; /* enum mqtt_type */
	union {
		struct mqtt_connect connect;
		struct mqtt_connack connack;
		struct mqtt_publish publish;
		struct mqtt_ack ack; /* PUBACK, PUBREC, PUBREL, PUBCOMP */
		struct mqtt_subscribe subscribe;
		struct mqtt_suback suback; /* SUBACK, UNSUBACK */
		struct mqtt_unsubscribe unsubscribe;
		struct mqtt_reason_only disconnect; /* DISCONNECT */
		struct mqtt_reason_only auth;       /* AUTH */
	};
};

/* ---- Whole packets (packet.c) ---------------------------------------------------------- */

/* Decodes one complete packet, fixed header included, `len` being exactly its size.
 * `version` is the connection's negotiated protocol level; for CONNECT it is ignored and the
 * level is read from the packet. Borrows `buf` (views into it end up in `out`).
 * On error returns a negative errno and sets *reason (may be NULL) to the MQTT 5 reason code
 * the spec names for it. */
int mqtt_decode(const uint8_t *buf, size_t len, uint8_t version, struct mqtt_packet *out,
                uint8_t *reason);

/* Exact encoded size of `pkt` for `version`, fixed header included, or a negative errno
 * (-EINVAL: a field cannot be represented, e.g. AUTH in 3.1.1 or a string over 65535 bytes).
 * Borrows `pkt`. */
long mqtt_encoded_size(const struct mqtt_packet *pkt, uint8_t version);

/* Encodes `pkt` into out[0..cap). Returns the number of bytes written or a negative errno
 * (-ENOBUFS if cap is short, -EINVAL as above). Borrows both. */
long mqtt_encode(const struct mqtt_packet *pkt, uint8_t version, uint8_t *out, size_t cap);

/* Encodes everything of a PUBLISH except its payload bytes: fixed header (whose Remaining
 * Length counts the payload), topic, packet id and properties. The caller sends p->payload
 * after it without copying it (one stored message, many subscribers). Returns the header size
 * or a negative errno as mqtt_encode. Borrows all. */
long mqtt_encode_publish_header(const struct mqtt_publish *p, uint8_t version, uint8_t *out,
                                size_t cap);

/* True when p[0..len) is well-formed UTF-8 with no surrogates (U+D800..U+DFFF) and no U+0000
 * [MQTT-1.5.4-1, MQTT-1.5.4-2]. Overlong forms and code points above U+10FFFF are ill-formed.
 * A BOM (U+FEFF) is an ordinary character [MQTT-1.5.4-3]. */
/* Borrows p. */
bool mqtt_utf8_valid(const uint8_t *p, size_t len);

/* Reason code for a negative errno returned by the decoders. */
uint8_t mqtt_reason_for_errno(int err);

/* Human-readable names, for logs. Never NULL. */
const char *mqtt_type_name(uint8_t type);
const char *mqtt_reason_name(uint8_t reason);

/* ---- Property blocks (properties.c) ---------------------------------------------------- */

/* Iterators over a decoded block's multi-valued properties. `*cursor` starts at 0.
 * Return 1 with *out set, 0 at the end. Borrow `p`; outputs view p->raw (or p's arrays). */
int mqtt_props_next_user(const struct mqtt_props *p, uint32_t *cursor, struct mqtt_user_prop *out);
int mqtt_props_next_sub_id(const struct mqtt_props *p, uint32_t *cursor, uint32_t *out);

/* True when property `id` may appear in a block of kind `ctx` (MQTT 5.0 §2.2.2.2). */
bool mqtt_prop_allowed(enum mqtt_prop_id id, enum mqtt_prop_ctx ctx);

/* ---- Payload lists (subscribe.c) ------------------------------------------------------- */

/* Iterate a decoded SUBSCRIBE / UNSUBSCRIBE. `*cursor` starts at 0; returns 1 with *out set,
 * 0 at the end. The decoder already validated the payload, so iteration cannot fail. */
int mqtt_subscribe_next(const struct mqtt_subscribe *s, uint32_t *cursor,
                        struct mqtt_subscription *out);
int mqtt_unsubscribe_next(const struct mqtt_unsubscribe *u, uint32_t *cursor, struct mqtt_str *out);

/* ---- Streaming framer (stream.c) ------------------------------------------------------- */

/* Cuts a TCP byte stream into whole packets. The size limit is enforced from the fixed header,
 * before any byte of the body is buffered. A packet that arrives whole inside one pushed chunk is
 * returned as a view into that chunk (no copy); one split across chunks is assembled in a
 * buffer owned by the framer, allocated once at the packet's exact size. */
struct mqtt_framer {
	uint32_t max_packet; /* largest accepted packet, fixed header included */
	uint8_t hdr[MQTT_FIXED_HEADER_MAX];
	uint8_t hdr_len;
	bool hdr_done;
	uint32_t total; /* size of the packet being assembled, fixed header included */
	uint32_t have;  /* bytes of it in buf */
	uint8_t *buf;   /* owned; NULL between split packets */
};

struct mqtt_frame {
	const uint8_t *p; /* whole packet, fixed header included; valid until the next push */
	uint32_t len;
};

/* max_packet 0 means the protocol maximum (MQTT_VARINT_MAX + 5). */
void mqtt_framer_init(struct mqtt_framer *f, uint32_t max_packet);

/* Frees the assembly buffer, if any. */
void mqtt_framer_reset(struct mqtt_framer *f);

/* Feeds data[0..len). Sets *consumed to the bytes taken. Returns 1 with *out set when a packet
 * is complete (call again with the rest of the data), 0 when all data was taken and more is
 * needed, or a negative errno: -EBADMSG (variable byte integer longer than 4 bytes),
 * -EMSGSIZE (over max_packet; no body byte was buffered, nothing allocated), -ENOMEM. After an error the stream is
 * unusable: the connection must be closed. Borrows data. */
int mqtt_framer_push(struct mqtt_framer *f, const uint8_t *data, size_t len, size_t *consumed,
                     struct mqtt_frame *out);

#endif
