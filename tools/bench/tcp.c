/* tcp.c - MQTT over TCP load: non-blocking connections on one epoll loop, packets encoded with
 * mqtt_encode / mqtt_encode_publish_header and decoded with mqtt_decode. Publishers batch
 * `batch` PUBLISHes per send(); QoS 1 publishers keep at most `inflight` unacknowledged
 * (further bounded by the broker's Receive Maximum in MQTT 5, [MQTT-3.3.4-7]). The idle role
 * opens many connections and only holds them. */
#include "bench.h"
#include "mqtt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_PENDING_CONNECTS 256           /* SYN backlog friendliness for the idle role */
#define BUSY_OUT_BYTES       (64u * 1024u) /* queued in userspace per publisher */

enum tstate {
	T_IDLE, /* not started */
	T_CONNECTING,
	T_TLS, /* handshake */
	T_CONNACK,
	T_SUBACK,
	T_READY,
	T_CLOSED,
};

struct tconn {
	int fd;
	unsigned idx; /* publisher or subscriber index */
	bool is_pub;
	bool want_out;
	enum tstate state;
	uint8_t *in, *out; /* owned */
	size_t in_len, in_cap, out_off, out_len, out_cap;
	uint16_t next_pid;
	unsigned inflight, max_inflight;
	uint64_t seq;
	struct bench_rx rx;
	void *ssl; /* owned TLS session, NULL over plain TCP */
	char topic[128];
};

struct tload {
	const struct bench_cfg *c;
	struct bench_result *r;
	int ep;
	struct tconn *conns; /* owned: subscribers first, then publishers */
	unsigned n, started, ready, closed;
	uint64_t *sent; /* owned, per publisher */
	uint8_t *msg;   /* owned payload scratch */
	struct sockaddr_storage addr, local;
	socklen_t alen, llen;
	unsigned rr;      /* round-robin start for rate-limited publishing */
	uint64_t written; /* bytes handed to the sockets: progress while the broker reads */
	void *tls;        /* owned TLS context, NULL over plain TCP */
};

static struct mqtt_str str_of(const char *s)
{
	return (struct mqtt_str){(const uint8_t *)s, (uint16_t)strlen(s)};
}

static void conn_close(struct tload *l, struct tconn *t, const char *why)
{
	if (t->state == T_CLOSED)
		return;
	if (why)
		fprintf(stderr, "%s: %s %u (%s): %s\n", l->c->prog,
		        t->is_pub                       ? "publisher"
		        : l->c->role == BENCH_ROLE_IDLE ? "connection"
		                                        : "subscriber",
		        t->idx, t->topic, why);
	if (t->ssl)
		bench_tls_close(t->ssl);
	t->ssl = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->state == T_READY)
		l->ready--;
	t->state = T_CLOSED;
	l->closed++;
}

static void conn_watch(struct tload *l, struct tconn *t, bool want_out)
{
	struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0u),
	                         .data.u32 = (uint32_t)(t - l->conns)};

	if (t->want_out != want_out) {
		epoll_ctl(l->ep, EPOLL_CTL_MOD, t->fd, &ev);
		t->want_out = want_out;
	}
}

/* Room for n more output bytes, compacting first. */
static bool out_room(struct tconn *t, size_t n)
{
	if (t->out_len + n <= t->out_cap)
		return true;
	if (t->out_off) {
		memmove(t->out, t->out + t->out_off, t->out_len - t->out_off);
		t->out_len -= t->out_off;
		t->out_off = 0;
	}
	return t->out_len + n <= t->out_cap;
}

static int queue_packet(struct tload *l, struct tconn *t, const struct mqtt_packet *p)
{
	long size = mqtt_encoded_size(p, l->c->version);

	if (size < 0)
		return (int)size;
	if (!out_room(t, (size_t)size))
		return -ENOBUFS;
	size = mqtt_encode(p, l->c->version, t->out + t->out_len, t->out_cap - t->out_len);
	if (size < 0)
		return (int)size;
	t->out_len += (size_t)size;
	return 0;
}

/* send() or SSL_write(): bytes written, or -EAGAIN (*want_out: wait for writability), or
 * another negative errno. */
static long io_send(struct tconn *t, const void *p, size_t n, bool *want_out)
{
	ssize_t k;

	if (t->ssl)
		return bench_tls_send(t->ssl, p, n, want_out);
	k = send(t->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	*want_out = true;
	if (k < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return k;
}

static long io_recv(struct tconn *t, void *p, size_t n, bool *want_out)
{
	ssize_t k;

	if (t->ssl)
		return bench_tls_recv(t->ssl, p, n, want_out);
	k = recv(t->fd, p, n, MSG_DONTWAIT);
	*want_out = false;
	if (k < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return k == 0 ? -ECONNRESET : k;
}

static int flush(struct tload *l, struct tconn *t)
{
	while (t->out_off < t->out_len) {
		bool want_out;
		long n = io_send(t, t->out + t->out_off, t->out_len - t->out_off, &want_out);

		if (n == -EAGAIN) {
			conn_watch(l, t, true);
			return 0;
		}
		if (n < 0) {
			conn_close(l, t, strerror((int)-n));
			return (int)n;
		}
		t->out_off += (size_t)n;
		l->written += (uint64_t)n;
	}
	t->out_off = t->out_len = 0;
	conn_watch(l, t, false);
	return 0;
}

static int start_connect(struct tload *l, struct tconn *t)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
	                         .data.u32 = (uint32_t)(t - l->conns)};
	int one = 1;

	t->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->llen && bind(t->fd, (struct sockaddr *)&l->local, l->llen) < 0)
		return -errno;
	if (connect(t->fd, (struct sockaddr *)&l->addr, l->alen) < 0 && errno != EINPROGRESS)
		return -errno;
	t->state = T_CONNECTING;
	t->want_out = true;
	l->started++;
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, t->fd, &ev) < 0 ? -errno : 0;
}

static int send_connect(struct tload *l, struct tconn *t)
{
	char id[96];
	const char *kind = t->is_pub ? "p" : l->c->role == BENCH_ROLE_IDLE ? "i" : "s";
	struct mqtt_packet p = {.type = MQTT_CONNECT};

	snprintf(id, sizeof(id), "%s-%s%u", l->c->id_prefix, kind, t->idx);
	p.connect.version = l->c->version;
	p.connect.clean_start = true;
	p.connect.keep_alive = BENCH_KEEPALIVE;
	p.connect.client_id = str_of(id);
	t->state = T_CONNACK;
	return queue_packet(l, t, &p);
}

static int on_connack(struct tload *l, struct tconn *t, const struct mqtt_connack *ca)
{
	if (ca->reason != 0) {
		conn_close(l, t,
		           l->c->version == MQTT_V5 ? mqtt_reason_name(ca->reason)
		                                    : "CONNACK refused");
		return -ECONNREFUSED;
	}
	if (mqtt_props_has(&ca->props, MQTT_PROP_RECEIVE_MAXIMUM) &&
	    ca->props.receive_maximum < t->max_inflight)
		t->max_inflight = ca->props.receive_maximum;
	if (t->is_pub || l->c->role == BENCH_ROLE_IDLE) {
		t->state = T_READY;
		l->ready++;
		return 0;
	}
	struct mqtt_subscription s = {.filter = str_of(t->topic), .qos = (uint8_t)l->c->qos};
	struct mqtt_packet p = {.type = MQTT_SUBSCRIBE};

	p.subscribe.packet_id = 1;
	p.subscribe.subs = &s;
	p.subscribe.count = 1;
	t->state = T_SUBACK;
	return queue_packet(l, t, &p);
}

static int on_packet(struct tload *l, struct tconn *t, const struct mqtt_packet *p)
{
	switch (p->type) {
	case MQTT_CONNACK:
		return t->state == T_CONNACK ? on_connack(l, t, &p->connack) : -EPROTO;
	case MQTT_SUBACK:
		if (p->suback.count != 1 || p->suback.reasons[0] >= 0x80) {
			conn_close(l, t, "subscription refused");
			return -EACCES;
		}
		t->state = T_READY;
		l->ready++;
		return 0;
	case MQTT_PUBLISH:
		bench_rx_record(l->r, &t->rx, p->publish.payload, p->publish.payload_len,
		                bench_now());
		if (p->publish.qos == 1) {
			struct mqtt_packet ack = {.type = MQTT_PUBACK};

			ack.ack.packet_id = p->publish.packet_id;
			return queue_packet(l, t, &ack);
		}
		return 0;
	case MQTT_PUBACK:
		if (t->inflight)
			t->inflight--;
		l->r->acked++;
		return 0;
	case MQTT_DISCONNECT:
		conn_close(l, t, mqtt_reason_name(p->disconnect.reason));
		return -ECONNRESET;
	default:
		return 0; /* PINGRESP and the like */
	}
}

/* Total length of the packet at p[0..len) from its fixed header, 0 if incomplete, or
 * -EBADMSG for a Remaining Length over 4 bytes [MQTT-1.5.5]. */
static long packet_length(const uint8_t *p, size_t len)
{
	uint32_t value = 0;

	for (size_t i = 1; i < len && i <= 4; i++) {
		value |= (uint32_t)(p[i] & 0x7f) << (7 * (i - 1));
		if (!(p[i] & 0x80))
			return (long)(1 + i + value);
	}
	return len > 4 ? -EBADMSG : 0;
}

static int on_readable(struct tload *l, struct tconn *t)
{
	size_t pos = 0;
	long n;
	int err = 0;

	if (t->in_len == t->in_cap) {
		uint8_t *bigger = realloc(t->in, t->in_cap * 2);
		if (!bigger)
			return -ENOMEM;
		t->in = bigger;
		t->in_cap *= 2;
	}
	bool want_out;

	n = io_recv(t, t->in + t->in_len, t->in_cap - t->in_len, &want_out);
	if (n == -EAGAIN) {
		if (want_out) /* TLS renegotiation-like: wait until writable */
			conn_watch(l, t, true);
		return 0;
	}
	if (n < 0) {
		conn_close(l, t, n == -ECONNRESET ? "closed by the broker" : strerror((int)-n));
		return -ECONNRESET;
	}
	t->in_len += (size_t)n;
	while (t->state != T_CLOSED) {
		struct mqtt_packet p;
		uint8_t reason;
		long total = packet_length(t->in + pos, t->in_len - pos);

		if (total < 0 || (total > 0 && (size_t)total > 16u * 1024 * 1024)) {
			conn_close(l, t, "malformed packet from the broker");
			return -EBADMSG;
		}
		if (total == 0 || (size_t)total > t->in_len - pos)
			break;
		err = mqtt_decode(t->in + pos, (size_t)total, l->c->version, &p, &reason);
		if (err) {
			conn_close(l, t, mqtt_reason_name(reason));
			return err;
		}
		err = on_packet(l, t, &p);
		if (err)
			return err;
		pos += (size_t)total;
	}
	if (t->state == T_CLOSED)
		return 0;
	memmove(t->in, t->in + pos, t->in_len - pos);
	t->in_len -= pos;
	/* PUBACKs queued above go out now. A packet larger than the buffer fills it, and the next
	 * read doubles it (bounded by the 16 MiB check above). */
	return flush(l, t);
}

static void on_event(struct tload *l, struct tconn *t, uint32_t events)
{
	if (t->state == T_CLOSED)
		return;
	if (t->state == T_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			conn_close(l, t, strerror(soerr));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		if (l->tls) {
			if (bench_tls_start(l->tls, t->fd, l->c->host, &t->ssl) < 0) {
				conn_close(l, t, "cannot start TLS");
				return;
			}
			t->state = T_TLS;
		}
	}
	if (t->state == T_TLS) {
		bool want_out = false;
		const char *why = NULL;
		int r = bench_tls_handshake(t->ssl, &want_out, &why);

		if (r == -EAGAIN) {
			conn_watch(l, t, want_out);
			return;
		}
		if (r < 0) {
			conn_close(l, t, why ? why : "TLS handshake failed");
			return;
		}
	}
	if (t->state == T_CONNECTING || t->state == T_TLS) {
		if (send_connect(l, t) < 0) {
			conn_close(l, t, "cannot encode CONNECT");
			return;
		}
		flush(l, t);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		if (on_readable(l, t) < 0)
			return;
	/* TLS may hold decrypted bytes that epoll cannot see. */
	while (t->ssl && t->state != T_CLOSED && bench_tls_pending(t->ssl))
		if (on_readable(l, t) < 0)
			return;
	if (t->ssl && t->want_out && t->out_off == t->out_len)
		conn_watch(l, t, false);
	if ((events & EPOLLOUT) && t->state != T_CLOSED)
		flush(l, t);
}

/* Appends one PUBLISH to a publisher's output. Returns false when it may not (window full,
 * buffer busy). */
static bool produce_one(struct tload *l, struct tconn *t, uint64_t now)
{
	const struct bench_cfg *c = l->c;
	struct mqtt_publish p = {.qos = (uint8_t)c->qos, .topic = str_of(t->topic)};
	long hdr;

	if (t->state != T_READY || (c->qos && t->inflight >= t->max_inflight) ||
	    t->out_len - t->out_off >= BUSY_OUT_BYTES || !out_room(t, c->size + 256))
		return false;
	if (c->qos) {
		if (++t->next_pid == 0)
			t->next_pid = 1;
		p.packet_id = t->next_pid;
	}
	p.payload_len = c->size;
	hdr = mqtt_encode_publish_header(&p, c->version, t->out + t->out_len, 256);
	if (hdr < 0)
		return false;
	bench_payload_fill(t->out + t->out_len + hdr, c->size, t->idx, ++t->seq, now);
	t->out_len += (size_t)hdr + c->size;
	if (c->qos)
		t->inflight++;
	l->sent[t->idx]++;
	l->r->sent++;
	return true;
}

/* One publishing step: flat out (each publisher writes up to `batch`), or the messages the
 * offered rate allows by now, round robin. Returns true when some publisher could do more. */
static bool publish_step(struct tload *l, struct tconn *pubs, uint64_t now)
{
	const struct bench_cfg *c = l->c;
	uint64_t budget = UINT64_MAX;
	bool more = false;

	if (c->rate > 0) {
		double due = c->rate * (double)(now - l->r->t_start) / 1e9 + 1;
		budget = (uint64_t)due > l->r->sent ? (uint64_t)due - l->r->sent : 0;
	}
	for (unsigned k = 0; k < c->pubs && budget; k++) {
		struct tconn *t = &pubs[(l->rr + k) % c->pubs];
		unsigned done = 0;

		while (done < c->batch && budget && produce_one(l, t, now)) {
			done++;
			budget--;
		}
		if (done) {
			flush(l, t);
			if (done == c->batch && c->rate <= 0)
				more = true;
		}
	}
	l->rr++;
	return more;
}

static int conns_alloc(struct tload *l)
{
	const struct bench_cfg *c = l->c;
	unsigned nsubs = 0, npubs = 0;

	if (c->role == BENCH_ROLE_IDLE)
		nsubs = c->conns;
	else {
		nsubs = c->role == BENCH_ROLE_PUB ? 0 : c->subs;
		npubs = c->role == BENCH_ROLE_SUB ? 0 : c->pubs;
	}
	l->n = nsubs + npubs;
	l->conns = calloc(l->n ? l->n : 1, sizeof(*l->conns));
	l->sent = calloc(c->pubs ? c->pubs : 1, sizeof(*l->sent));
	if (!l->conns || !l->sent)
		return -ENOMEM;
	for (unsigned i = 0; i < l->n; i++) {
		struct tconn *t = &l->conns[i];
		bool idle = c->role == BENCH_ROLE_IDLE;

		t->fd = -1;
		t->is_pub = i >= nsubs;
		t->idx = t->is_pub ? i - nsubs : i;
		t->max_inflight = c->inflight;
		t->in_cap = idle ? 256 : 65536;
		t->out_cap = idle ? 256 : t->is_pub ? BUSY_OUT_BYTES + 2 * (c->size + 256) : 65536;
		t->in = malloc(t->in_cap);
		t->out = malloc(t->out_cap);
		if (!t->in || !t->out)
			return -ENOMEM;
		if (idle)
			snprintf(t->topic, sizeof(t->topic), "idle");
		else if (bench_topic(c, t->idx, t->topic, sizeof(t->topic)) < 0)
			return -ENAMETOOLONG;
		if (!t->is_pub && !idle && bench_rx_init(&t->rx, c->pubs) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void conns_free(struct tload *l)
{
	for (unsigned i = 0; l->conns && i < l->n; i++) {
		if (l->conns[i].ssl)
			bench_tls_close(l->conns[i].ssl);
		if (l->conns[i].fd >= 0)
			close(l->conns[i].fd);
		free(l->conns[i].in);
		free(l->conns[i].out);
		bench_rx_free(&l->conns[i].rx);
	}
	free(l->conns);
	free(l->sent);
}

static bool all_acked_and_flushed(const struct tload *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct tconn *t = &l->conns[i];

		if (t->state == T_READY && (t->inflight || t->out_len > t->out_off))
			return false;
	}
	return true;
}

static void cpu_mark(const struct bench_cfg *c, struct bench_result *r, double *at)
{
	r->have_cpu = c->broker_pid > 0 && bench_proc_cpu(c->broker_pid, at) == 0;
}

/* Connect (bounded by BENCH_SETUP_S) until every client is ready. */
static int setup(struct tload *l)
{
	uint64_t deadline = bench_now() + (uint64_t)(BENCH_SETUP_S * 1e9);
	struct epoll_event ev[256];

	while (l->ready + l->closed < l->n || l->started < l->n) {
		while (l->started < l->n &&
		       l->started - l->ready - l->closed < MAX_PENDING_CONNECTS) {
			struct tconn *t = &l->conns[l->started];
			int err = start_connect(l, t);

			if (err < 0) {
				fprintf(stderr, "%s: cannot connect to the broker: %s\n",
				        l->c->prog, strerror(-err));
				if (t->fd >= 0)
					close(t->fd);
				t->fd = -1;
				t->state = T_CLOSED;
				l->closed++;
				if (l->c->role != BENCH_ROLE_IDLE)
					return err;
				l->started = l->n; /* out of resources: hold what we have */
			}
		}
		int k = epoll_wait(l->ep, ev, 256, 10);

		for (int i = 0; i < k; i++)
			on_event(l, &l->conns[ev[i].data.u32], ev[i].events);
		if (l->closed && l->c->role != BENCH_ROLE_IDLE) {
			fprintf(stderr, "%s: a client could not connect or subscribe\n",
			        l->c->prog);
			return -ECONNREFUSED;
		}
		if (bench_now() > deadline) {
			fprintf(stderr, "%s: only %u of %u clients ready after %.0f s\n",
			        l->c->prog, l->ready, l->n, BENCH_SETUP_S);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* Publishing and receiving until the role's end condition. */
static void run_loop(struct tload *l)
{
	const struct bench_cfg *c = l->c;
	struct bench_result *r = l->r;
	bool pubs = c->role != BENCH_ROLE_SUB, subs = c->role != BENCH_ROLE_PUB;
	uint64_t pub_end = r->t_start + (uint64_t)(c->duration * 1e9);
	uint64_t drain_ns = (uint64_t)(c->drain * 1e9), last_progress = r->t_start;
	uint64_t hard_end = r->t_start + (uint64_t)((c->duration + c->drain + BENCH_SETUP_S) * 1e9);
	struct tconn *pub0 = &l->conns[c->role == BENCH_ROLE_BOTH ? c->subs : 0];
	struct epoll_event ev[256];

	for (;;) {
		uint64_t now = bench_now(), seen = r->delivered + r->acked + l->written;
		bool more = false;

		if (pubs && !r->t_pub_end) {
			if (now >= pub_end)
				r->t_pub_end = now;
			else
				more = publish_step(l, pub0, now);
		}
		int k = epoll_wait(l->ep, ev, 256, more ? 0 : 1);

		for (int i = 0; i < k; i++)
			on_event(l, &l->conns[ev[i].data.u32], ev[i].events);
		now = bench_now();
		if (r->delivered + r->acked + l->written != seen || (pubs && !r->t_pub_end))
			last_progress = now;
		if (now > hard_end || l->ready == 0)
			break;
		if (pubs && !r->t_pub_end)
			continue;
		bool quiet = now - last_progress > drain_ns;

		if (!subs) { /* publisher: until written and acknowledged */
			if (all_acked_and_flushed(l) || quiet)
				break;
		} else if (pubs) { /* both: until everything arrived */
			r->expected = bench_expected(c, l->sent);
			if ((r->delivered >= r->expected && all_acked_and_flushed(l)) || quiet)
				break;
		} else if (r->t_first_rx && quiet) { /* subscriber: until the stream stopped */
			break;
		}
	}
	if (pubs)
		r->expected = bench_expected(c, l->sent);
	if (pubs && !all_acked_and_flushed(l))
		fprintf(stderr,
		        "%s: the broker stopped reading or acknowledging for %.1f s: PUBLISHes "
		        "counted as sent were never written or acknowledged (they count as lost)\n",
		        c->prog, c->drain);
}

int bench_run_mqtt(const struct bench_cfg *c, struct bench_result *r)
{
	struct tload l = {.c = c, .r = r, .ep = -1};
	double cpu0 = 0, cpu1 = 0, self0;
	int err;

	err = bench_resolve(c->prog, c->host, c->port, SOCK_STREAM, &l.addr, &l.alen);
	if (err)
		goto out;
	if (c->bind_addr) {
		err = bench_resolve(c->prog, c->bind_addr, 0, SOCK_STREAM, &l.local, &l.llen);
		if (err)
			goto out;
	}
	if (c->tls) {
		err = bench_tls_init(c, &l.tls);
		if (err)
			goto out;
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	err = l.ep < 0 ? -errno : conns_alloc(&l);
	if (err)
		goto out;
	if (c->role == BENCH_ROLE_IDLE && c->broker_pid > 0)
		r->have_rss = bench_proc_rss(c->broker_pid, &r->rss_before_kb) == 0;
	err = setup(&l);
	if (err)
		goto out;
	err = bench_signal_ready(c);
	if (err)
		goto out;
	r->t_start = bench_now();
	cpu_mark(c, r, &cpu0);
	self0 = bench_self_cpu();
	if (c->role == BENCH_ROLE_IDLE) {
		/* Hold, answering nothing: the connections stay idle within their keep alive. */
		uint64_t end = r->t_start + (uint64_t)(c->hold * 1e9);
		struct epoll_event ev[256];

		while (bench_now() < end) {
			int k = epoll_wait(l.ep, ev, 256, 50);

			for (int i = 0; i < k; i++)
				on_event(&l, &l.conns[ev[i].data.u32], ev[i].events);
		}
		r->conns_open = l.ready;
		r->t_pub_end = bench_now();
		if (r->have_rss)
			r->have_rss = bench_proc_rss(c->broker_pid, &r->rss_after_kb) == 0;
	} else {
		run_loop(&l);
	}
	bench_self_cpu_done(c, r, self0);
	if (r->have_cpu && bench_proc_cpu(c->broker_pid, &cpu1) == 0)
		r->cpu_s = cpu1 - cpu0;
	else
		r->have_cpu = false;
out:
	if (l.ep >= 0)
		close(l.ep);
	conns_free(&l);
	bench_tls_free(l.tls);
	return err;
}
