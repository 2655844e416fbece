/* ws.h - MQTT over WebSockets (RFC 6455), server side, without I/O: the HTTP/1.1 Upgrade
 * handshake, decoding of client frames (unmasked in place, their payload compacted to the
 * front of the input buffer for the MQTT framer), the replies the layer owes the client
 * (101/400, pong, close) in a queue of raw bytes, and the framing of outgoing MQTT bytes as
 * binary frames. conn.c does the reading and writing; tests and fuzzers drive it directly. */
#ifndef MQTT_FAST_WS_H
#define MQTT_FAST_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest handshake request accepted (request line and headers) [RFC 6455 §4.2.1]. */
#define WS_HEADERS_MAX 8192
/* Largest control frame payload [RFC 6455 §5.5]. */
#define WS_CONTROL_MAX 125
/* Largest outgoing frame header: 2 bytes + 8 bytes of extended length (server frames are
 * never masked [RFC 6455 §5.1]). */
#define WS_HEADER_MAX 10
/* Raw replies (pongs) queued beyond this mean a client that pings without reading. */
#define WS_CTL_LIMIT 65536

enum ws_state {
	WS_HANDSHAKE = 0, /* reading the HTTP Upgrade request */
	WS_OPEN,          /* frames both ways */
	WS_CLOSED,        /* a close was received or sent, or the handshake failed */
};

/* Close status codes [RFC 6455 §7.4.1]. */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_TOO_BIG = 1009,
};

/* Frame opcodes [RFC 6455 §5.2]. */
enum {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* The WebSocket state of one connection (conn.ws; NULL on plain MQTT connections). */
struct ws_conn {
	uint8_t state;      /* enum ws_state */
	uint64_t max_frame; /* largest data frame payload accepted */
	const char *why;    /* static text: why the layer ended the connection */

	/* Handshake: the request so far (owned, freed once the handshake is done). */
	char *req;
	size_t req_len;

	/* The frame being received. */
	uint8_t hdr[14];
	uint8_t hdr_len; /* header bytes gathered; 0 between frames */
	bool in_payload; /* the header is complete: payload bytes follow */
	uint8_t opcode;  /* of the current frame */
	bool fin;
	bool in_message; /* a fragmented data message waits for continuations */
	uint64_t left;   /* payload bytes of the current frame still to come */
	uint8_t mask[4];
	uint8_t mask_pos; /* payload bytes unmasked so far, mod 4 */
	uint8_t ctrl[WS_CONTROL_MAX];
	uint8_t ctrl_len;

	/* Raw output owed to the client (handshake reply, pongs, close): ctl[ctl_off..ctl_len).
	 * Written only between outgoing frames. Owned. */
	uint8_t *ctl;
	size_t ctl_off, ctl_len, ctl_cap;
	uint16_t close_code; /* close frame to send once the output drained; 0 = none */
	bool close_sent;

	/* The outgoing frame being written: header tx_hdr[tx_hoff..tx_hlen), then tx_left
	 * payload bytes from the connection's output queue. */
	uint8_t tx_hdr[WS_HEADER_MAX];
	uint8_t tx_hlen, tx_hoff;
	uint64_t tx_left;
};

/* Initialises `w` for a new connection; data frames longer than max_frame bytes are refused
 * with 1009. */
void ws_init(struct ws_conn *w, uint64_t max_frame);
/* Frees what `w` owns (not w itself). */
void ws_free(struct ws_conn *w);

/* Feeds `len` bytes read from the client. The handshake is parsed first; the payload of
 * binary and continuation frames is unmasked in place and compacted to buf[0..*out) (the rest
 * of buf is scratch). Replies are queued in w->ctl. Returns 0 to go on, or a negative errno
 * once the connection must end after its output is flushed (w->why says why; *out payload
 * bytes decoded before still count): -EBADMSG bad handshake (400 queued), -EPROTO protocol
 * error (close 1002 / 1003 pending), -EMSGSIZE frame too large (close 1009 pending),
 * -ECONNRESET the client sent close (close reply pending), -ENOMEM. Borrows buf. */
int ws_decode(struct ws_conn *w, uint8_t *buf, size_t len, size_t *out);

/* True when raw bytes are waiting in w->ctl. */
static inline bool ws_ctl_pending(const struct ws_conn *w)
{
	return w->ctl_off < w->ctl_len;
}
/* Marks n bytes of w->ctl written. */
void ws_ctl_consumed(struct ws_conn *w, size_t n);
/* Queues the pending close frame once the data output drained: true when something was
 * queued in w->ctl. */
bool ws_finish(struct ws_conn *w);
/* Asks for a close frame with `code` after the data still queued (once per connection). */
void ws_close(struct ws_conn *w, uint16_t code);

/* Writes the header of an unmasked, final frame with `opcode` and a payload of len bytes to
 * out; returns its size (2 to WS_HEADER_MAX). */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], uint8_t opcode, uint64_t len);
/* Sec-WebSocket-Accept of a Sec-WebSocket-Key: base64(SHA-1(key + GUID)) [RFC 6455 §4.2.2],
 * 28 characters and a NUL into out. 0 or -EIO. Borrows key. */
int ws_accept_key(const char *key, size_t len, char out[29]);

#endif
