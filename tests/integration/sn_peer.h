/* sn_peer.h - raw peers for the MQTT-SN gateway tests: a UDP socket on 127.0.0.1 that sends
 * datagrams written in hex and expects exact reply bytes within a timeout (MQTT-SN side), and
 * a minimal MQTT 3.1.1 client over TCP that publishes and expects exact PUBLISH bytes (MQTT
 * side). Every wait is bounded.
 *
 * Hex patterns: pairs of hex digits, spaces ignored, 'quoted text' as ASCII, and `..` for one
 * byte whose value is not checked (a broker-chosen topic id or message id; read it from the
 * bytes returned). The functions print what differed to stderr and return 0 / a negative
 * errno, so the test file counts them with its own CHECK (check.h keeps a count per file). */
#ifndef MQTT_FAST_SN_PEER_H
#define MQTT_FAST_SN_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds of the waits: a reply expected to arrive, and a window in which none may. */
#define SN_WAIT_MS  3000
#define SN_QUIET_MS 400

/* Largest datagram / packet the peers handle. */
#define SN_PEER_MAX 4096

/* One UDP endpoint talking to the gateway at 127.0.0.1:gw_port. */
struct sn_peer {
	int fd;
	uint16_t port; /* our own port */
	struct sockaddr_in gw;
	uint8_t last[SN_PEER_MAX]; /* the last datagram received */
	size_t last_len;
};

/* Binds 127.0.0.1:local_port (0: any free port). 0 or -errno. */
int sn_peer_open(struct sn_peer *p, uint16_t gw_port, uint16_t local_port);
void sn_peer_close(struct sn_peer *p);

/* Sends raw bytes / a hex pattern (no `..`) as one datagram to the gateway. 0 or -errno. */
int sn_peer_send(struct sn_peer *p, const uint8_t *d, size_t len);
int sn_peer_send_hex(struct sn_peer *p, const char *hex);

/* Receives one datagram into p->last within timeout_ms: its length, -ETIMEDOUT or -errno.
 * *from gets the sender when non-NULL. */
long sn_peer_recv(struct sn_peer *p, int timeout_ms, struct sockaddr_in *from);

/* Expects the next datagram to match `pattern` within SN_WAIT_MS. 0, -ETIMEDOUT, -EBADMSG
 * (differs: both printed). The datagram stays in p->last. */
int sn_peer_expect(struct sn_peer *p, const char *pattern);
/* The same within timeout_ms (keep-alive and sleep expiry take longer). */
int sn_peer_expect_ms(struct sn_peer *p, const char *pattern, int timeout_ms);

/* Expects no datagram for quiet_ms. 0, or -EEXIST (what arrived is printed). */
int sn_peer_expect_none(struct sn_peer *p, int quiet_ms);

/* Drops whatever is queued on the socket. */
void sn_peer_drain(struct sn_peer *p);

/* Big-endian 16-bit value at p->last[off]. */
uint16_t sn_peer_u16(const struct sn_peer *p, size_t off);

/* CONNECT (clean session, Duration `duration`) and expects CONNACK accepted. 0 or -errno. */
int sn_peer_connect(struct sn_peer *p, const char *client_id, uint16_t duration, bool clean);

/* Opens a peer on any port and connects `client_id` (clean, Duration 60). */
int sn_peer_up(struct sn_peer *p, uint16_t gw_port, const char *client_id);

/* DISCONNECT, expects the DISCONNECT back, closes the socket. */
int sn_peer_down(struct sn_peer *p);

/* REGISTER `name` with MsgId `msg_id`, expects REGACK accepted; returns the topic id (> 0) or
 * a negative errno. */
int sn_peer_register(struct sn_peer *p, const char *name, uint16_t msg_id);

/* SUBSCRIBE to a topic name / filter at QoS `qos` with MsgId `msg_id`; expects a SUBACK
 * accepted and returns its topic id (>= 0) or a negative errno. */
int sn_peer_subscribe(struct sn_peer *p, const char *filter, int qos, uint16_t msg_id);

/* Parses a hex pattern into out[0..cap) and mask (1 = byte checked). Returns the byte count;
 * aborts on a bad pattern (a bug in the test). mask may be NULL. */
size_t sn_hex(const char *pattern, uint8_t *out, uint8_t *mask, size_t cap);

/* ---- MQTT 3.1.1 over TCP ---------------------------------------------------------------- */

struct mq_peer {
	int fd;
	uint8_t last[SN_PEER_MAX]; /* the last packet received */
	size_t last_len;
};

/* Connects to 127.0.0.1:port with a clean session and expects CONNACK accepted. */
int mq_peer_connect(struct mq_peer *m, uint16_t port, const char *client_id);
void mq_peer_close(struct mq_peer *m);

/* mq_peer_connect + mq_peer_subscribe(filter, QoS 0). */
int mq_peer_sub(struct mq_peer *m, uint16_t port, const char *client_id, const char *filter);

/* SUBSCRIBE `filter` at `qos` (packet id 1), waits for the SUBACK granting it. */
int mq_peer_subscribe(struct mq_peer *m, const char *filter, int qos);

/* PUBLISH at QoS 0, or QoS 1/2 with packet id 1 (completes the flow: PUBACK, or PUBREC,
 * PUBREL, PUBCOMP). */
int mq_peer_publish(struct mq_peer *m, const char *topic, const char *payload, int qos,
                    bool retain);

/* Expects the next packet to match `pattern` within SN_WAIT_MS (as sn_peer_expect). */
int mq_peer_expect(struct mq_peer *m, const char *pattern);
int mq_peer_expect_ms(struct mq_peer *m, const char *pattern, int timeout_ms);

/* Expects no packet for quiet_ms. */
int mq_peer_expect_none(struct mq_peer *m, int quiet_ms);

/* The MQTT PUBLISH at QoS 0 that a subscriber receives for topic/payload, as a hex pattern
 * written into out (cap bytes). */
const char *mq_publish_hex(char *out, size_t cap, const char *topic, const char *payload,
                           bool retain);

/* printf into one of a few rotating static buffers: hex patterns with ids in them. */
const char *hexf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
