/* ws.c - the RFC 6455 server layer of MQTT over WebSockets, without I/O (ws.h): handshake
 * parsing and reply, frame decoding with in-place unmasking, control frames, outgoing frame
 * headers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "ws.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static const char reply_400[] = "HTTP/1.1 400 Bad Request\r\n"
                                "Connection: close\r\n"
                                "Sec-WebSocket-Version: 13\r\n"
                                "Content-Length: 0\r\n\r\n";

void ws_init(struct ws_conn *w, uint64_t max_frame)
{
	memset(w, 0, sizeof(*w));
	w->max_frame = max_frame;
}

void ws_free(struct ws_conn *w)
{
	free(w->req);
	free(w->ctl);
	w->req = NULL;
	w->ctl = NULL;
	w->req_len = w->ctl_off = w->ctl_len = w->ctl_cap = 0;
}

/* Appends raw output. 0, -ENOMEM, or -ENOBUFS when the client lets too much pile up. */
static int ctl_append(struct ws_conn *w, const void *p, size_t n)
{
	if (w->ctl_off == w->ctl_len)
		w->ctl_off = w->ctl_len = 0;
	if (w->ctl_len - w->ctl_off + n > WS_CTL_LIMIT)
		return -ENOBUFS;
	if (w->ctl_cap - w->ctl_len < n && w->ctl_off > 0) {
		memmove(w->ctl, w->ctl + w->ctl_off, w->ctl_len - w->ctl_off);
		w->ctl_len -= w->ctl_off;
		w->ctl_off = 0;
	}
	if (w->ctl_cap - w->ctl_len < n) {
		size_t cap = w->ctl_cap ? w->ctl_cap : 256;
		while (cap - w->ctl_len < n)
			cap *= 2;
		uint8_t *ctl = realloc(w->ctl, cap);
		if (!ctl)
			return -ENOMEM;
		w->ctl = ctl;
		w->ctl_cap = cap;
	}
	memcpy(w->ctl + w->ctl_len, p, n);
	w->ctl_len += n;
	return 0;
}

void ws_ctl_consumed(struct ws_conn *w, size_t n)
{
	w->ctl_off += n;
	if (w->ctl_off >= w->ctl_len)
		w->ctl_off = w->ctl_len = 0;
}

size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], uint8_t opcode, uint64_t len)
{
	out[0] = (uint8_t)(0x80 | opcode); /* FIN, no RSV bits */
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

void ws_close(struct ws_conn *w, uint16_t code)
{
	if (w->state != WS_OPEN)
		return;
	w->close_code = code;
	w->state = WS_CLOSED;
}

bool ws_finish(struct ws_conn *w)
{
	if (!w->close_code || w->close_sent)
		return false;
	uint8_t f[WS_HEADER_MAX + 2];
	size_t h = ws_frame_header(f, WS_OP_CLOSE, 2);
	f[h] = (uint8_t)(w->close_code >> 8);
	f[h + 1] = (uint8_t)w->close_code;
	w->close_sent = true;
	return ctl_append(w, f, h + 2) == 0;
}

int ws_accept_key(const char *key, size_t len, char out[29])
{
	uint8_t in[64 + sizeof(ws_guid)], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (len > 64)
		return -EIO;
	memcpy(in, key, len);
	memcpy(in + len, ws_guid, sizeof(ws_guid) - 1);
	if (!EVP_Digest(in, len + sizeof(ws_guid) - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EIO;
	return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28 ? 0 : -EIO;
}

/* ---- handshake --------------------------------------------------------------------------- */

/* What the request's headers said. */
struct ws_request {
	bool upgrade, connection, version;
	const char *key;
	size_t key_len;
	int nkeys;
	const char *proto; /* "mqtt" or "mqttv3.1" when offered */
};

/* True when the comma-separated list v[0..n) holds `tok` (case-insensitive). */
static bool list_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;
	while (i < n) {
		size_t s = i, e;
		while (i < n && v[i] != ',')
			i++;
		e = i++;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}

/* One header line [RFC 6455 §4.2.1]. */
static void request_header(struct ws_request *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return;
	size_t nl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
	if (IS("Upgrade")) {
		r->upgrade |= list_has(v, vl, "websocket");
	} else if (IS("Connection")) {
		r->connection |= list_has(v, vl, "upgrade");
	} else if (IS("Sec-WebSocket-Version")) {
		r->version = vl == 2 && memcmp(v, "13", 2) == 0;
	} else if (IS("Sec-WebSocket-Key")) {
		r->key = v;
		r->key_len = vl;
		r->nkeys++;
	} else if (IS("Sec-WebSocket-Protocol")) {
		if (list_has(v, vl, "mqtt"))
			r->proto = "mqtt";
		else if (!r->proto && list_has(v, vl, "mqttv3.1"))
			r->proto = "mqttv3.1";
	}
#undef IS
}

/* The key must be base64 of 16 bytes [RFC 6455 §4.1]. */
static bool key_valid(const char *k, size_t n)
{
	uint8_t raw[24];
	if (n != 24 || k[22] != '=' || k[23] != '=')
		return false;
	return EVP_DecodeBlock(raw, (const unsigned char *)k, 24) == 18;
}

/* Parses the whole request req[0..n) (ending with the empty line) and queues the reply. */
static int handshake_reply(struct ws_conn *w, const char *req, size_t n)
{
	struct ws_request r = {0};
	const char *end = req + n, *line = req;
	const char *eol = memmem(line, n, "\r\n", 2);
	size_t first = (size_t)(eol - line);
	/* Request line: GET <target> HTTP/1.1 [RFC 6455 §4.1, item 2]. */
	if (first < 14 || memcmp(line, "GET ", 4) != 0 || memcmp(eol - 9, " HTTP/1.1", 9) != 0) {
		w->why = "WebSocket handshake: not a GET HTTP/1.1 request";
		goto bad;
	}
	for (line = eol + 2; line < end;) {
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (!eol || eol == line)
			break;
		request_header(&r, line, (size_t)(eol - line));
		line = eol + 2;
	}
	if (!r.upgrade || !r.connection) {
		w->why = "WebSocket handshake: no Upgrade: websocket / Connection: Upgrade";
	} else if (!r.version) {
		w->why = "WebSocket handshake: Sec-WebSocket-Version is not 13";
	} else if (r.nkeys != 1 || !key_valid(r.key, r.key_len)) {
		w->why = "WebSocket handshake: bad Sec-WebSocket-Key";
	} else if (!r.proto) {
		w->why = "WebSocket handshake: subprotocol mqtt not offered";
	} else {
		char accept[29], out[256];
		if (ws_accept_key(r.key, r.key_len, accept) < 0)
			return -ENOMEM;
		int len = snprintf(out, sizeof(out),
		                   "HTTP/1.1 101 Switching Protocols\r\n"
		                   "Upgrade: websocket\r\n"
		                   "Connection: Upgrade\r\n"
		                   "Sec-WebSocket-Accept: %s\r\n"
		                   "Sec-WebSocket-Protocol: %s\r\n\r\n",
		                   accept, r.proto);
		return ctl_append(w, out, (size_t)len);
	}
bad:
	(void)ctl_append(w, reply_400, sizeof(reply_400) - 1);
	return -EBADMSG;
}

/* Gathers the request from buf; *used says how many bytes of buf belonged to it. 1 when the
 * handshake is done (101 queued), 0 for more, or a negative errno (400 queued). */
static int handshake_feed(struct ws_conn *w, const uint8_t *buf, size_t len, size_t *used)
{
	static const char get[] = "GET ";
	size_t take = len;
	*used = 0;
	if (!w->req && !(w->req = malloc(WS_HEADERS_MAX)))
		return -ENOMEM;
	if (take > WS_HEADERS_MAX - w->req_len)
		take = WS_HEADERS_MAX - w->req_len;
	size_t old = w->req_len;
	memcpy(w->req + old, buf, take);
	w->req_len += take;
	/* Not even the start of a GET (e.g. MQTT spoken to the WebSocket port): answer now. */
	size_t cmp = w->req_len < 4 ? w->req_len : 4;
	if (memcmp(w->req, get, cmp) != 0) {
		w->why = "WebSocket handshake: not an HTTP GET request";
		(void)ctl_append(w, reply_400, sizeof(reply_400) - 1);
		return -EBADMSG;
	}
	/* The end may straddle the previous read: search from 3 bytes before it. */
	size_t from = old > 3 ? old - 3 : 0;
	const char *end = memmem(w->req + from, w->req_len - from, "\r\n\r\n", 4);
	if (!end) {
		if (w->req_len < WS_HEADERS_MAX)
			return 0;
		w->why = "WebSocket handshake: request headers larger than 8 KiB";
		(void)ctl_append(w, reply_400, sizeof(reply_400) - 1);
		return -EBADMSG;
	}
	size_t n = (size_t)(end - w->req) + 4;
	*used = n - old;
	int r = handshake_reply(w, w->req, n);
	free(w->req);
	w->req = NULL;
	w->req_len = 0;
	return r < 0 ? r : 1;
}

/* ---- frames ------------------------------------------------------------------------------ */

/* Ends the connection with a close frame carrying `code` after the output. */
static int fail(struct ws_conn *w, uint16_t code, int err, const char *why)
{
	w->why = why;
	ws_close(w, code);
	return err;
}

/* Validates a complete frame header [RFC 6455 §5.2]; sets up the payload. 0 or negative. */
static int frame_start(struct ws_conn *w)
{
	const uint8_t *h = w->hdr;
	uint8_t op = h[0] & 0x0f;
	uint64_t len = h[1] & 0x7f;
	if (h[0] & 0x70) /* RSV1-3 without a negotiated extension [§5.2] */
		return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "WebSocket frame with reserved bits");
	if (!(h[1] & 0x80)) /* client frames are masked [§5.1] */
		return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "unmasked WebSocket frame");
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
		if (len >> 63) /* the most significant bit must be 0 [§5.2] */
			return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "WebSocket frame length");
	}
	memcpy(w->mask, h + w->hdr_len - 4, 4);
	w->opcode = op;
	w->fin = h[0] & 0x80;
	w->left = len;
	w->mask_pos = 0;
	w->ctrl_len = 0;
	if (op >= WS_OP_CLOSE) {
		if (op > WS_OP_PONG)
			return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "unknown WebSocket opcode");
		if (!w->fin || len > WS_CONTROL_MAX) /* [§5.5] */
			return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "bad WebSocket control frame");
		return 0;
	}
	if (op == WS_OP_TEXT) /* MQTT is carried in binary frames only */
		return fail(w, WS_CLOSE_UNSUPPORTED, -EPROTO, "WebSocket text frame");
	if (op != WS_OP_CONT && op != WS_OP_BINARY)
		return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "unknown WebSocket opcode");
	if ((op == WS_OP_CONT) != w->in_message) /* [§5.4] */
		return fail(w, WS_CLOSE_PROTOCOL, -EPROTO, "bad WebSocket fragmentation");
	if (len > w->max_frame)
		return fail(w, WS_CLOSE_TOO_BIG, -EMSGSIZE, "WebSocket frame too large");
	w->in_message = !w->fin;
	return 0;
}

/* Gathers header bytes; 1 when the header is complete, 0 when buf ran out. */
static int header_feed(struct ws_conn *w, const uint8_t *buf, size_t len, size_t *pos)
{
	while (*pos < len) {
		w->hdr[w->hdr_len++] = buf[(*pos)++];
		if (w->hdr_len < 2)
			continue;
		uint8_t l7 = w->hdr[1] & 0x7f;
		/* An unmasked frame is complete at 2 bytes: frame_start refuses it. */
		size_t need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (w->hdr[1] & 0x80 ? 4 : 0);
		if (w->hdr_len == need)
			return 1;
	}
	return 0;
}

/* A control frame was received whole. 0, or negative when the connection ends. */
static int control_done(struct ws_conn *w)
{
	uint8_t f[WS_HEADER_MAX + WS_CONTROL_MAX];
	if (w->opcode == WS_OP_PING) { /* a pong with the same payload [§5.5.2] */
		size_t h = ws_frame_header(f, WS_OP_PONG, w->ctrl_len);
		memcpy(f + h, w->ctrl, w->ctrl_len);
		if (ctl_append(w, f, h + w->ctrl_len) < 0)
			return fail(w, WS_CLOSE_PROTOCOL, -ENOBUFS, "WebSocket pings not read");
		return 0;
	}
	if (w->opcode == WS_OP_PONG)
		return 0;
	/* Close [§5.5.1]: echo its status code, 1002 for a malformed one. */
	uint16_t code = WS_CLOSE_NORMAL;
	if (w->ctrl_len == 1)
		code = WS_CLOSE_PROTOCOL;
	else if (w->ctrl_len >= 2)
		code = (uint16_t)(w->ctrl[0] << 8 | w->ctrl[1]);
	if (code < 1000 || code == 1004 || code == 1005 || code == 1006 || code >= 5000 ||
	    (code > 1011 && code < 3000))
		code = WS_CLOSE_PROTOCOL;
	return fail(w, code, -ECONNRESET, "WebSocket close received");
}

/* Unmasks payload bytes buf[*pos..) of the current frame: data to buf[*wpos..) (never
 * ahead of *pos), control frames to w->ctrl. */
static void payload_feed(struct ws_conn *w, uint8_t *buf, size_t len, size_t *pos, size_t *wpos)
{
	size_t n = len - *pos;
	if (n > w->left)
		n = (size_t)w->left;
	bool control = w->opcode >= WS_OP_CLOSE;
	const uint8_t *src = buf + *pos;
	uint8_t *dst = control ? w->ctrl + w->ctrl_len : buf + *wpos;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] ^ w->mask[(w->mask_pos + i) & 3];
	w->mask_pos = (uint8_t)((w->mask_pos + n) & 3);
	w->left -= n;
	*pos += n;
	if (control)
		w->ctrl_len = (uint8_t)(w->ctrl_len + n);
	else
		*wpos += n;
}

int ws_decode(struct ws_conn *w, uint8_t *buf, size_t len, size_t *out)
{
	size_t pos = 0, wpos = 0;
	int r = 0;
	*out = 0;
	if (w->state == WS_HANDSHAKE) {
		r = handshake_feed(w, buf, len, &pos);
		if (r < 0)
			w->state = WS_CLOSED;
		if (r <= 0)
			return r;
		r = 0;
		w->state = WS_OPEN;
	}
	while (w->state == WS_OPEN && (pos < len || (w->in_payload && w->left == 0))) {
		if (!w->in_payload) {
			if (!header_feed(w, buf, len, &pos))
				break;
			r = frame_start(w);
			if (r < 0)
				break;
			w->in_payload = true;
		}
		payload_feed(w, buf, len, &pos, &wpos);
		if (w->left > 0)
			break;
		w->in_payload = false;
		w->hdr_len = 0;
		if (w->opcode >= WS_OP_CLOSE && (r = control_done(w)) < 0)
			break;
	}
	*out = wpos;
	return r;
}
