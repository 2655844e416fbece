/* conn.c - one client connection: reading into the framer, the output queue flushed with
 * writev once per loop iteration (SSL_write of coalesced segments on TLS connections), timers,
 * and closing at a safe point. TLS connections take their own branch behind `if (c->tls)`, and
 * MQTT over WebSockets (ws.c, above TLS when the listener has it) behind `if (c->ws)`, so the
 * plain TCP path is unchanged. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "store.h"
#include "tls.h"
#include "ws.h"

/* Output beyond this many pending bytes means the client does not read: QoS 0 publishes to it
 * are dropped (counted) instead of growing memory without bound. */
#define CONN_OUTPUT_SOFT_LIMIT (8u << 20)

static void conn_mark_dirty(struct conn *c)
{
	if (c->dirty || c->closing)
		return;
	c->dirty = true;
	c->next_dirty = c->b->dirty;
	c->b->dirty = c;
}

static int outbuf_reserve_seg(struct outbuf *o)
{
	if (o->nsegs < o->scap)
		return 0;
	size_t cap = o->scap ? o->scap * 2 : 8;
	struct out_seg *segs = realloc(o->segs, cap * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	o->segs = segs;
	o->scap = cap;
	return 0;
}

/* Room for `n` more bytes in the byte buffer; returns where they go, or NULL. */
static uint8_t *outbuf_reserve_bytes(struct outbuf *o, size_t n)
{
	if (o->bcap - o->blen < n) {
		size_t cap = o->bcap ? o->bcap : 256;
		while (cap - o->blen < n)
			cap *= 2;
		uint8_t *bytes = realloc(o->bytes, cap);
		if (!bytes)
			return NULL;
		o->bytes = bytes;
		o->bcap = cap;
	}
	return o->bytes + o->blen;
}

/* Records bytes just written at bytes[blen..blen+n) as a segment, merging with the previous
 * byte segment when contiguous so that writev sees few iovecs. */
static int outbuf_commit_bytes(struct outbuf *o, size_t n)
{
	struct out_seg *last = o->nsegs > o->head ? &o->segs[o->nsegs - 1] : NULL;
	if (last && !last->ref && last->off + last->len == o->blen) {
		last->len += (uint32_t)n;
	} else {
		if (outbuf_reserve_seg(o) < 0)
			return -ENOMEM;
		o->segs[o->nsegs++] =
		        (struct out_seg){.off = (uint32_t)o->blen, .len = (uint32_t)n};
	}
	o->blen += n;
	o->pending += n;
	return 0;
}

int conn_send_bytes(struct conn *c, const uint8_t *p, size_t len)
{
	uint8_t *dst = outbuf_reserve_bytes(&c->out, len);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, p, len);
	int err = outbuf_commit_bytes(&c->out, len);
	if (err == 0)
		conn_mark_dirty(c);
	return err;
}

int conn_send_packet(struct conn *c, const struct mqtt_packet *pkt)
{
	long n = mqtt_encoded_size(pkt, c->version);
	if (n < 0)
		return (int)n;
	if (c->max_packet_out && (unsigned long)n > c->max_packet_out)
		return -EMSGSIZE;
	uint8_t *dst = outbuf_reserve_bytes(&c->out, (size_t)n);
	if (!dst)
		return -ENOMEM;
	long w = mqtt_encode(pkt, c->version, dst, (size_t)n);
	if (w < 0)
		return (int)w;
	int err = outbuf_commit_bytes(&c->out, (size_t)w);
	if (err == 0) {
		c->b->stats.bytes_sent += (uint64_t)w;
		conn_mark_dirty(c);
	}
	return err;
}

/* The property block of a packet that may carry a Reason String, or NULL. */
static struct mqtt_props *reason_props(struct mqtt_packet *pkt)
{
	switch (pkt->type) {
	case MQTT_CONNACK:
		return &pkt->connack.props;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return &pkt->ack.props;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return &pkt->suback.props;
	case MQTT_DISCONNECT:
		return &pkt->disconnect.props;
	default:
		return NULL;
	}
}

int conn_send_reason(struct conn *c, struct mqtt_packet *pkt, const char *text)
{
	struct mqtt_props *pr = reason_props(pkt);
	size_t len = text ? strlen(text) : 0;
	/* With Request Problem Information 0, only CONNACK and DISCONNECT may carry a Reason
	 * String [MQTT-3.1.2-29]; this broker sends it on both whatever the client asked, since
	 * they end or refuse the connection and the client cannot ask again. */
	bool allowed = pkt->type == MQTT_CONNACK || pkt->type == MQTT_DISCONNECT ||
	               c->request_problem_info;
	if (c->version != MQTT_V5 || !pr || !allowed || len == 0 || len > MQTT_STR_MAX)
		return conn_send_packet(c, pkt);
	pr->present |= MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
	pr->reason_string = (struct mqtt_str){(const uint8_t *)text, (uint16_t)len};
	int err = conn_send_packet(c, pkt);
	if (err == -EMSGSIZE) {
		/* Not when it would exceed the client's Maximum Packet Size [MQTT-3.2.2-19],
		 * [MQTT-3.4.2-2], [MQTT-3.9.2-1], [MQTT-3.14.2-3]: sent without it. */
		pr->present &= ~MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
		err = conn_send_packet(c, pkt);
	}
	return err;
}

int conn_send_publish(struct conn *c, const struct mqtt_publish *p, struct msg *m)
{
	struct outbuf *o = &c->out;
	/* A publish header is small; size it exactly, then write once. */
	uint8_t head[512];
	long h = mqtt_encode_publish_header(p, c->version, head, sizeof(head));
	uint8_t *big = NULL;
	if (h == -ENOBUFS) {
		struct mqtt_packet pkt = {.type = MQTT_PUBLISH, .publish = *p};
		long total = mqtt_encoded_size(&pkt, c->version);
		if (total < 0)
			return (int)total;
		big = malloc((size_t)total);
		if (!big)
			return -ENOMEM;
		h = mqtt_encode_publish_header(p, c->version, big, (size_t)total);
	}
	int err = 0;
	if (h < 0) {
		err = (int)h;
		goto out;
	}
	if (c->max_packet_out && (uint64_t)h + p->payload_len > c->max_packet_out) {
		err = -EMSGSIZE;
		goto out;
	}
	uint8_t *dst = outbuf_reserve_bytes(o, (size_t)h);
	if (!dst || outbuf_reserve_seg(o) < 0) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(dst, big ? big : head, (size_t)h);
	err = outbuf_commit_bytes(o, (size_t)h);
	if (err < 0 || p->payload_len == 0)
		goto done;
	err = outbuf_reserve_seg(o);
	if (err < 0)
		goto done;
	o->segs[o->nsegs++] =
	        (struct out_seg){.ref = msg_ref(m), .p = p->payload, .len = p->payload_len};
	o->pending += p->payload_len;
done:
	if (err == 0) {
		c->b->stats.bytes_sent += (uint64_t)h + p->payload_len;
		c->b->stats.publish_sent++;
		conn_mark_dirty(c);
	}
out:
	free(big);
	return err;
}

static void outbuf_release(struct outbuf *o, size_t upto)
{
	for (size_t i = o->head; i < upto; i++)
		msg_unref(o->segs[i].ref);
}

static void outbuf_free(struct outbuf *o)
{
	outbuf_release(o, o->nsegs);
	free(o->segs);
	free(o->bytes);
	memset(o, 0, sizeof(*o));
}

/* Drops what the head of the queue lost to a write of `n` bytes. */
static void outbuf_advance(struct outbuf *o, size_t n)
{
	while (n && o->head < o->nsegs) {
		size_t rest = o->segs[o->head].len - o->head_done;
		if (n < rest) {
			o->head_done += n;
			break;
		}
		n -= rest;
		msg_unref(o->segs[o->head].ref);
		o->head++;
		o->head_done = 0;
	}
}

/* Writes as much pending output as the socket takes. 0 when everything was written, 1 when the
 * socket is full (more later), negative errno on a write error. */
static int outbuf_flush(struct outbuf *o, int fd)
{
	while (o->head < o->nsegs) {
		struct iovec iov[64];
		int n = 0;
		for (size_t i = o->head; i < o->nsegs && n < 64; i++, n++) {
			const struct out_seg *s = &o->segs[i];
			const uint8_t *p = s->ref ? s->p : o->bytes + s->off;
			size_t skip = i == o->head ? o->head_done : 0;
			iov[n] = (struct iovec){.iov_base = (void *)(p + skip),
			                        .iov_len = s->len - skip};
		}
		ssize_t w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		o->pending -= (size_t)w;
		outbuf_advance(o, (size_t)w);
	}
	/* Everything written: reuse the buffers from the start. */
	o->head = o->nsegs = 0;
	o->head_done = 0;
	o->blen = 0;
	return 0;
}

/* Copies up to `cap` pending bytes from the queue's head into dst, releasing what was copied
 * whole (o->pending still counts them: they are not written yet). Returns the bytes copied. */
static size_t outbuf_take(struct outbuf *o, uint8_t *dst, size_t cap)
{
	size_t n = 0;
	while (n < cap && o->head < o->nsegs) {
		const struct out_seg *s = &o->segs[o->head];
		const uint8_t *p = (s->ref ? s->p : o->bytes + s->off) + o->head_done;
		size_t k = s->len - o->head_done;
		if (k > cap - n)
			k = cap - n;
		memcpy(dst + n, p, k);
		n += k;
		outbuf_advance(o, k);
	}
	if (o->head == o->nsegs) { /* all copied: the buffers are free again */
		o->head = o->nsegs = 0;
		o->head_done = 0;
		o->blen = 0;
	}
	return n;
}

/* outbuf_flush for a TLS connection: small segments are coalesced into records of up to
 * TLS_COALESCE bytes (no tiny records), a segment at least that large is written from where it
 * is. A write OpenSSL could not finish is retried with the same bytes. Same results as
 * outbuf_flush; tls->write_want says what a blocked write waits for. */
static int outbuf_flush_tls(struct outbuf *o, struct tls_conn *t)
{
	t->write_want = TLS_WANT_NONE;
	for (;;) {
		const uint8_t *p;
		size_t len;
		bool direct = false;
		if (t->woff < t->wlen) {
			p = t->wbuf + t->woff;
			len = t->wlen - t->woff;
		} else if (o->head == o->nsegs) {
			break;
		} else if (o->segs[o->head].len - o->head_done >= TLS_COALESCE) {
			const struct out_seg *s = &o->segs[o->head];
			p = (s->ref ? s->p : o->bytes + s->off) + o->head_done;
			len = s->len - o->head_done;
			direct = true;
		} else {
			if (!t->wbuf && !(t->wbuf = malloc(TLS_COALESCE)))
				return -ENOMEM;
			t->woff = 0;
			t->wlen = outbuf_take(o, t->wbuf, TLS_COALESCE);
			continue;
		}
		long w = tls_write(t, p, len);
		if (w == -EAGAIN)
			return 1;
		if (w < 0)
			return (int)w;
		o->pending -= (size_t)w;
		if (direct)
			outbuf_advance(o, (size_t)w);
		else
			t->woff += (size_t)w;
	}
	/* Everything written: reuse the buffers from the start; an idle connection keeps no
	 * coalescing buffer. */
	o->head = o->nsegs = 0;
	o->head_done = 0;
	o->blen = 0;
	free(t->wbuf);
	t->wbuf = NULL;
	t->woff = t->wlen = 0;
	return 0;
}

/* ---- MQTT over WebSockets: output ------------------------------------------------------ */

/* Starts the next outgoing binary frame over the pending segments one writev can take (63:
 * the header is the 64th iovec). */
static void ws_frame_next(struct outbuf *o, struct ws_conn *w)
{
	uint64_t len = 0;
	for (size_t i = o->head; i < o->nsegs && i - o->head < 63; i++)
		len += o->segs[i].len - (i == o->head ? o->head_done : 0);
	w->tx_left = len;
	w->tx_hlen = (uint8_t)ws_frame_header(w->tx_hdr, WS_OP_BINARY, len);
	w->tx_hoff = 0;
}

/* Writes the WebSocket layer's raw replies. Same results as outbuf_flush. */
static int ws_write_ctl(struct ws_conn *w, int fd)
{
	while (ws_ctl_pending(w)) {
		ssize_t n = write(fd, w->ctl + w->ctl_off, w->ctl_len - w->ctl_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ws_ctl_consumed(w, (size_t)n);
	}
	return 0;
}

/* outbuf_flush for a WebSocket connection: each writev carries one binary frame, its header
 * an extra iovec in front of the queued segments (payloads still referenced, not copied).
 * Raw replies go out between frames, the close frame once everything else is written. Same
 * results as outbuf_flush. */
static int outbuf_flush_ws(struct outbuf *o, struct ws_conn *w, int fd)
{
	for (;;) {
		if (w->tx_hoff == w->tx_hlen && w->tx_left == 0) { /* between frames */
			int r = ws_write_ctl(w, fd);
			if (r != 0)
				return r;
			if (o->head == o->nsegs) {
				if (ws_finish(w))
					continue;
				break;
			}
			ws_frame_next(o, w);
		}
		struct iovec iov[64];
		int n = 0;
		if (w->tx_hoff < w->tx_hlen)
			iov[n++] = (struct iovec){.iov_base = w->tx_hdr + w->tx_hoff,
			                          .iov_len = (size_t)(w->tx_hlen - w->tx_hoff)};
		uint64_t left = w->tx_left;
		for (size_t i = o->head; i < o->nsegs && n < 64 && left; i++, n++) {
			const struct out_seg *s = &o->segs[i];
			const uint8_t *p = s->ref ? s->p : o->bytes + s->off;
			size_t skip = i == o->head ? o->head_done : 0;
			size_t len = s->len - skip < left ? s->len - skip : (size_t)left;
			iov[n] = (struct iovec){.iov_base = (void *)(p + skip), .iov_len = len};
			left -= len;
		}
		ssize_t wr = writev(fd, iov, n);
		if (wr < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		size_t k = (size_t)wr, h = (size_t)(w->tx_hlen - w->tx_hoff);
		h = k < h ? k : h;
		w->tx_hoff = (uint8_t)(w->tx_hoff + h);
		k -= h;
		o->pending -= k;
		w->tx_left -= k;
		outbuf_advance(o, k);
	}
	o->head = o->nsegs = 0;
	o->head_done = 0;
	o->blen = 0;
	return 0;
}

/* Fills dst (cap bytes) with what goes out next on a WebSocket over TLS: raw replies, then
 * one binary frame of queued output, or the close frame once everything drained. The bytes
 * framed count as written (o->pending). Returns the bytes filled; 0 when nothing is left. */
static size_t ws_fill(struct outbuf *o, struct ws_conn *w, uint8_t *dst, size_t cap)
{
	size_t n = 0;
	for (;;) {
		if (ws_ctl_pending(w)) {
			size_t k = w->ctl_len - w->ctl_off;
			k = k < cap - n ? k : cap - n;
			memcpy(dst + n, w->ctl + w->ctl_off, k);
			ws_ctl_consumed(w, k);
			n += k;
			if (ws_ctl_pending(w))
				return n;
		}
		if (o->head == o->nsegs) {
			if (ws_finish(w))
				continue;
			return n;
		}
		if (cap - n <= WS_HEADER_MAX)
			return n;
		size_t avail = cap - n - WS_HEADER_MAX;
		avail = o->pending < avail ? o->pending : avail;
		n += ws_frame_header(dst + n, WS_OP_BINARY, avail);
		n += outbuf_take(o, dst + n, avail);
		o->pending -= avail;
		return n;
	}
}

/* outbuf_flush_tls for a WebSocket connection: everything, frame headers included, goes
 * through the coalescing buffer. Same results as outbuf_flush_tls. */
static int outbuf_flush_tls_ws(struct outbuf *o, struct tls_conn *t, struct ws_conn *w)
{
	t->write_want = TLS_WANT_NONE;
	for (;;) {
		if (t->woff == t->wlen) {
			if (!t->wbuf && !(t->wbuf = malloc(TLS_COALESCE)))
				return -ENOMEM;
			t->woff = 0;
			t->wlen = ws_fill(o, w, t->wbuf, TLS_COALESCE);
			if (t->wlen == 0)
				break;
		}
		long r = tls_write(t, t->wbuf + t->woff, t->wlen - t->woff);
		if (r == -EAGAIN)
			return 1;
		if (r < 0)
			return (int)r;
		t->woff += (size_t)r;
	}
	free(t->wbuf);
	t->wbuf = NULL;
	t->woff = t->wlen = 0;
	return 0;
}

/* One flush of c's output on its transport. Same results as outbuf_flush. */
static int conn_flush_out(struct conn *c)
{
	if (store_refuses_output(c->b))
		return -EIO; /* a failed commit: these acks would acknowledge unstored messages */
	if (c->tls)
		return c->ws ? outbuf_flush_tls_ws(&c->out, c->tls, c->ws)
		             : outbuf_flush_tls(&c->out, c->tls);
	return c->ws ? outbuf_flush_ws(&c->out, c->ws, c->fd) : outbuf_flush(&c->out, c->fd);
}

/* Starts and stops the watchers of a TLS connection from what its blocked operations wait
 * for: reading stops while a read or the handshake waits for the socket to be writable (it
 * would fire again at once), writing is watched while any of them does. A write waiting for
 * input is resumed by conn_readable_tls. */
static void conn_tls_watchers(struct conn *c)
{
	const struct tls_conn *t = c->tls;
	if (c->closing)
		return;
	bool read_blocked = t->hs_want == TLS_WANT_WRITE || t->read_want == TLS_WANT_WRITE;
	bool want_write = read_blocked || t->write_want == TLS_WANT_WRITE;
	if (read_blocked && ev_is_active(&c->rio))
		ev_io_stop(c->b->loop, &c->rio);
	else if (!read_blocked && !ev_is_active(&c->rio))
		ev_io_start(c->b->loop, &c->rio);
	if (want_write && !ev_is_active(&c->wio))
		ev_io_start(c->b->loop, &c->wio);
	else if (!want_write && ev_is_active(&c->wio))
		ev_io_stop(c->b->loop, &c->wio);
}

/* Flushes one connection; arms the write watcher when the socket is full. */
static void conn_flush(struct conn *c)
{
	if (c->tls) {
		if (!c->tls->established)
			return; /* output waits for the handshake */
		int r = conn_flush_out(c);
		if (r < 0)
			conn_close(c, c->tls->err[0] ? c->tls->err : "write failed");
		else
			conn_tls_watchers(c);
		return;
	}
	int r = conn_flush_out(c);
	if (r < 0) {
		conn_close(c, "write failed");
		return;
	}
	if (r == 1 && !ev_is_active(&c->wio))
		ev_io_start(c->b->loop, &c->wio);
	else if (r == 0 && ev_is_active(&c->wio))
		ev_io_stop(c->b->loop, &c->wio);
}

static void conn_readable_tls(struct conn *c);
static void conn_tls_resume(struct conn *c);

static void conn_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	if (c->tls) {
		conn_tls_resume(c);
		if (c->closing)
			return;
	}
	if (c->b->store) {
		/* Output queued in this iteration may hold acks: it leaves from the ev_prepare
		 * watcher, after the commit that makes them true (store.h). */
		conn_mark_dirty(c);
		if (c->session)
			session_pump(c->b, c->session);
		return;
	}
	conn_flush(c);
	if (!c->closing && c->out.pending == 0 && c->session)
		session_pump(c->b, c->session);
}

bool conn_output_congested(const struct conn *c)
{
	return c->out.pending > CONN_OUTPUT_SOFT_LIMIT;
}

/* Cuts n bytes read into b->rbuf into packets and dispatches them. */
static inline void conn_consume(struct conn *c, size_t n)
{
	struct broker *b = c->b;
	b->stats.bytes_received += (uint64_t)n;
	size_t off = 0;
	while (off < n && !c->closing) {
		size_t used = 0;
		struct mqtt_frame f;
		int r = mqtt_framer_push(&c->framer, b->rbuf + off, n - off, &used, &f);
		off += used;
		if (r < 0) {
			b->stats.protocol_errors++;
			if (r == -EMSGSIZE)
				conn_disconnect(c, MQTT_RC_PACKET_TOO_LARGE,
				                "packet larger than the server's maximum",
				                "packet too large");
			else
				conn_disconnect(c, MQTT_RC_MALFORMED_PACKET,
				                "malformed Remaining Length", "malformed length");
			return;
		}
		if (r == 0)
			break;
		dispatch_packet(c, f.p, f.len);
	}
}

/* Bytes read into b->rbuf: through the WebSocket layer first on a WebSocket connection (its
 * replies are queued, the MQTT bytes it unwraps go to the framer). */
static void conn_input(struct conn *c, size_t n)
{
	if (!c->ws) {
		conn_consume(c, n);
		return;
	}
	size_t payload = 0;
	int r = ws_decode(c->ws, c->b->rbuf, n, &payload);
	if (ws_ctl_pending(c->ws))
		conn_mark_dirty(c);
	if (payload)
		conn_consume(c, payload);
	if (r < 0 && !c->closing)
		conn_close(c, c->ws->why ? c->ws->why : "WebSocket error");
}

static void conn_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	if (c->tls) {
		conn_readable_tls(c);
		return;
	}
	ssize_t n = read(c->fd, c->b->rbuf, sizeof(c->b->rbuf));
	if (n == 0) {
		conn_close(c,
		           c->connected ? "connection closed by client" : "closed before CONNECT");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(c, "read failed");
		return;
	}
	conn_input(c, (size_t)n);
}

/* Advances the TLS handshake. True once established: reading may go on. A failure is logged
 * with the peer and OpenSSL's reason (rate limited per listener) and closes the connection. */
static bool conn_tls_handshake(struct conn *c)
{
	struct broker *b = c->b;
	struct tls_conn *t = c->tls;
	int r = tls_handshake(t);
	if (r == -EAGAIN) {
		conn_tls_watchers(c);
		return false;
	}
	if (r == -ECONNRESET) {
		conn_close(c, "closed during the TLS handshake");
		return false;
	}
	if (r < 0) {
		log_line_limited(&b->log, &c->listener->tls_errors, broker_now_ms(b),
		                 LOG_LEVEL_NOTICE, NULL, c->peer, "%s", t->err);
		conn_close(c, NULL);
		return false;
	}
	if (log_enabled(&b->log, LOG_LEVEL_INFO)) {
		char desc[256];
		tls_describe(t, desc, sizeof(desc));
		log_line(&b->log, LOG_LEVEL_INFO, NULL, c->peer, "TLS established: %s", desc);
	}
	conn_tls_watchers(c);
	return true;
}

/* Reads what the TLS session has: up to a whole b->rbuf of records per event, like a plain
 * read(2), then the framer. Data OpenSSL still holds is announced with a fed read event, since
 * the socket will not announce it. */
static void conn_readable_tls(struct conn *c)
{
	struct broker *b = c->b;
	struct tls_conn *t = c->tls;
	if (!t->established && !conn_tls_handshake(c))
		return;
	if (t->write_want == TLS_WANT_READ) {
		t->write_want = TLS_WANT_NONE; /* the blocked write may go on */
		conn_mark_dirty(c);
	}
	size_t n = 0;
	long r = 0;
	while (n < sizeof(b->rbuf)) {
		r = tls_read(t, b->rbuf + n, sizeof(b->rbuf) - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n > 0)
		conn_input(c, n);
	if (c->closing)
		return;
	if (r == 0) {
		conn_close(c,
		           c->connected ? "connection closed by client" : "closed before CONNECT");
	} else if (r == -EAGAIN) {
		conn_tls_watchers(c);
	} else if (r < 0) {
		conn_close(c, t->err);
	} else if (tls_has_pending(t)) {
		ev_feed_event(b->loop, &c->rio, EV_READ);
	}
}

/* The socket became writable: resume a handshake or a read that waited for it. */
static void conn_tls_resume(struct conn *c)
{
	struct tls_conn *t = c->tls;
	if (!t->established) {
		/* The CONNECT may already be buffered inside OpenSSL: read on at once. */
		if (conn_tls_handshake(c))
			conn_readable_tls(c);
		return;
	}
	if (t->read_want == TLS_WANT_WRITE) {
		t->read_want = TLS_WANT_NONE;
		conn_readable_tls(c);
	}
}

/* CONNECT timeout, then keep alive: 1.5 times the Keep Alive without a packet ends the
 * connection [MQTT-3.1.2-24 (5.0: -22)]. */
static void conn_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	if (!c->connected) {
		conn_close(c, c->tls && !c->tls->established ? "TLS handshake not completed in time"
		                                             : "no CONNECT in time");
		return;
	}
	int64_t limit = (int64_t)c->keep_alive * 1500;
	int64_t idle = broker_now_ms(c->b) - c->last_rx_ms;
	if (idle >= limit) {
		conn_disconnect(c, MQTT_RC_KEEP_ALIVE_TIMEOUT, "keep alive timeout",
		                "keep alive timeout");
		return;
	}
	ev_timer_set(w, (double)(limit - idle) / 1000.0, 0.);
	ev_timer_start(c->b->loop, w);
}

void conn_touch(struct conn *c)
{
	c->last_rx_ms = broker_now_ms(c->b);
}

struct conn *conn_new(struct broker *b, struct listener *l, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->b = b;
	c->fd = fd;
	c->listener = l;
	if (l && l->conf->protocol == LISTENER_WEBSOCKETS) {
		if (!(c->ws = malloc(sizeof(*c->ws))))
			goto fail;
		/* A frame larger than the largest packet is refused (1009). */
		ws_init(c->ws, b->cfg.max_packet_size ? b->cfg.max_packet_size : 268435460u);
	}
	if (l && l->tls_ctx && tls_conn_new(c, l->tls_ctx) < 0)
		goto fail;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	mqtt_framer_init(&c->framer, b->cfg.max_packet_size);
	ev_io_init(&c->rio, conn_readable, fd, EV_READ);
	ev_io_init(&c->wio, conn_writable, fd, EV_WRITE);
	ev_timer_init(&c->timer, conn_timeout, BROKER_CONNECT_TIMEOUT_S, 0.);
	c->rio.data = c->wio.data = c->timer.data = c;
	ev_io_start(b->loop, &c->rio);
	ev_timer_start(b->loop, &c->timer);
	c->next = b->conns;
	if (b->conns)
		b->conns->prev = c;
	b->conns = c;
	if (l)
		l->nconns++;
	b->stats.connections_total++;
	return c;
fail:
	close(fd);
	free(c->ws);
	free(c);
	return NULL;
}

void conn_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	if (why && c->b->cfg.connection_messages)
		log_line(&c->b->log, LOG_LEVEL_NOTICE,
		         c->session ? (const char *)c->session->client_id : NULL, c->peer,
		         "disconnected: %s", why);
	connection_lost(c, true);
	if (c->ws)
		ws_close(c->ws, WS_CLOSE_NORMAL); /* a close frame after the last output */
	c->closing = true;
	ev_io_stop(c->b->loop, &c->rio);
	ev_timer_stop(c->b->loop, &c->timer);
	/* Unlink from the live list onto the closing list; freed in conns_flush_and_reap. */
	if (c->prev)
		c->prev->next = c->next;
	else
		c->b->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = c->b->closing;
	c->b->closing = c;
}

void conn_disconnect(struct conn *c, uint8_t reason, const char *text, const char *why)
{
	if (c->closing)
		return;
	if (c->connected && c->version == MQTT_V5) {
		struct mqtt_packet pkt = {.type = MQTT_DISCONNECT};
		pkt.disconnect.reason = reason;
		(void)conn_send_reason(c, &pkt, text);
	}
	conn_close(c, why);
}

static void conn_free(struct conn *c)
{
	struct broker *b = c->b;
	ev_io_stop(b->loop, &c->rio);
	ev_io_stop(b->loop, &c->wio);
	ev_timer_stop(b->loop, &c->timer);
	if (c->listener)
		c->listener->nconns--;
	if (c->ws) {
		ws_free(c->ws);
		free(c->ws);
	}
	tls_conn_free(c->tls); /* before close: it may send close_notify */
	close(c->fd);
	outbuf_free(&c->out);
	mqtt_framer_reset(&c->framer);
	if (c->aliases_in) {
		for (unsigned i = 0; i <= c->topic_alias_max_in; i++)
			msg_unref(c->aliases_in[i]);
		free(c->aliases_in);
	}
	alias_out_free(c->aliases_out);
	msg_unref(c->will);
	free(c);
}

void conns_flush_and_reap(struct broker *b)
{
	while (b->dirty) {
		struct conn *c = b->dirty;
		b->dirty = c->next_dirty;
		c->dirty = false;
		if (!c->closing)
			conn_flush(c);
	}
	while (b->closing) {
		struct conn *c = b->closing;
		b->closing = c->next;
		/* A last, non-blocking attempt to send what was queued (CONNACK or DISCONNECT
		 * with the reason of the close). */
		if (!c->tls || (c->tls->established && !c->tls->failed))
			(void)conn_flush_out(c);
		conn_free(c);
	}
}

void conns_free_all(struct broker *b)
{
	while (b->conns)
		conn_close(b->conns, NULL);
	b->dirty = NULL;
	conns_flush_and_reap(b);
}
