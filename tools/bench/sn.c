/* sn.c - MQTT-SN 1.2 over UDP load: one connected UDP socket per client on one epoll loop,
 * datagrams encoded and decoded with mqtt/sn. Publishers CONNECT and REGISTER their topic
 * (§6.5), or, with a predefined topic id, send QoS -1 PUBLISHes without a session (§6.8);
 * subscribers CONNECT and SUBSCRIBE by name (§6.9), answer the gateway's REGISTER (§6.10), or,
 * passive, only bind a port and count what arrives (the limit reference). Publishers write
 * `batch` datagrams per sendmmsg(); receivers drain up to RX_BATCH per recvmmsg(). */
#include "bench.h"
#include "sn/mqttsn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RX_BATCH    64
#define RETRY_NS    1000000000ull /* Tretry (§6.13): 1 s, enough on one machine */
#define RETRY_COUNT 5
#define SUB_RCVBUF  (4 * 1024 * 1024)

enum ustate {
	U_CONNACK,
	U_TOPIC, /* REGACK (publisher) or SUBACK (subscriber) */
	U_READY,
	U_FAILED,
};

struct uconn {
	int fd;
	unsigned idx;
	bool is_pub;
	enum ustate state;
	uint16_t topic_id;
	uint64_t seq, last_tx;
	unsigned tries;
	struct bench_rx rx;
	char topic[128];
};

struct uload {
	const struct bench_cfg *c;
	struct bench_result *r;
	int ep;
	struct uconn *conns; /* owned: subscribers first, then publishers */
	unsigned n, ready, failed;
	uint64_t *sent;         /* owned, per publisher */
	uint8_t *rxbuf, *txbuf; /* owned: RX_BATCH and `batch` datagram slots */
	size_t slot;            /* bytes per slot */
	uint8_t *payload;       /* owned scratch */
	struct sockaddr_storage addr, local;
	socklen_t alen, llen;
};

static void uconn_fail(struct uload *l, struct uconn *u, const char *why)
{
	if (u->state == U_FAILED)
		return;
	fprintf(stderr, "%s: MQTT-SN %s %u (%s): %s\n", l->c->prog,
	        u->is_pub ? "publisher" : "subscriber", u->idx, u->topic, why);
	if (u->state == U_READY)
		l->ready--;
	u->state = U_FAILED;
	l->failed++;
}

static int send_msg(struct uload *l, struct uconn *u, const struct mqttsn_msg *m)
{
	uint8_t buf[512];
	long n = mqttsn_encode(m, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	if (send(u->fd, buf, (size_t)n, MSG_DONTWAIT) < 0)
		return -errno;
	u->last_tx = bench_now();
	(void)l;
	return 0;
}

/* The next request of the setup dialogue, for the state the client is in. */
static int send_request(struct uload *l, struct uconn *u)
{
	struct mqttsn_msg m = {0};
	char id[32];

	if (u->state == U_CONNACK) {
		snprintf(id, sizeof(id), "%.16s-%c%u", l->c->id_prefix, u->is_pub ? 'p' : 's',
		         u->idx);
		m.type = MQTTSN_CONNECT;
		m.connect.flags.clean_session = true;
		m.connect.duration = BENCH_KEEPALIVE;
		/* MQTT-SN 1.2 §5.3.1: ClientId 1..23 characters. */
		m.connect.client_id = (struct mqtt_str){
		        (const uint8_t *)id, (uint16_t)(strlen(id) > 23 ? 23 : strlen(id))};
	} else if (u->is_pub) {
		m.type = MQTTSN_REGISTER;
		m.reg.msg_id = 1;
		m.reg.topic_name =
		        (struct mqtt_str){(const uint8_t *)u->topic, (uint16_t)strlen(u->topic)};
	} else {
		m.type = MQTTSN_SUBSCRIBE;
		m.subscribe.msg_id = 1;
		m.subscribe.flags.qos = 0;
		m.subscribe.flags.topic_id_type = MQTTSN_TOPIC_NORMAL;
		m.subscribe.topic_name =
		        (struct mqtt_str){(const uint8_t *)u->topic, (uint16_t)strlen(u->topic)};
	}
	u->tries++;
	return send_msg(l, u, &m);
}

static void become_ready(struct uload *l, struct uconn *u, uint16_t topic_id)
{
	u->topic_id = topic_id;
	u->state = U_READY;
	l->ready++;
}

static void on_datagram(struct uload *l, struct uconn *u, const uint8_t *d, size_t len,
                        uint64_t now)
{
	struct mqttsn_msg m;

	if (mqttsn_decode(d, len, &m) != 0) {
		l->r->foreign++;
		return;
	}
	switch (m.type) {
	case MQTTSN_PUBLISH:
		bench_rx_record(l->r, &u->rx, m.publish.data.p, m.publish.data.len, now);
		break;
	case MQTTSN_CONNACK:
		if (u->state != U_CONNACK)
			break;
		if (m.ret.code != MQTTSN_RC_ACCEPTED) {
			uconn_fail(l, u, "CONNACK refused");
			break;
		}
		u->state = U_TOPIC;
		u->tries = 0;
		if (send_request(l, u) < 0)
			uconn_fail(l, u, "cannot send REGISTER/SUBSCRIBE");
		break;
	case MQTTSN_REGACK:
		if (u->state != U_TOPIC || !u->is_pub)
			break;
		if (m.topic_ack.code != MQTTSN_RC_ACCEPTED)
			uconn_fail(l, u, "REGISTER refused");
		else
			become_ready(l, u, m.topic_ack.topic_id);
		break;
	case MQTTSN_SUBACK:
		if (u->state != U_TOPIC || u->is_pub)
			break;
		if (m.suback.code != MQTTSN_RC_ACCEPTED)
			uconn_fail(l, u, "SUBSCRIBE refused");
		else
			become_ready(l, u, m.suback.topic_id);
		break;
	case MQTTSN_REGISTER: {
		/* MQTT-SN 1.2 §6.10: accept the gateway's topic id before its PUBLISHes. */
		struct mqttsn_msg ack = {.type = MQTTSN_REGACK};

		ack.topic_ack.topic_id = m.reg.topic_id;
		ack.topic_ack.msg_id = m.reg.msg_id;
		ack.topic_ack.code = MQTTSN_RC_ACCEPTED;
		send_msg(l, u, &ack);
		break;
	}
	case MQTTSN_DISCONNECT:
		uconn_fail(l, u, "DISCONNECT from the gateway");
		break;
	default:
		break;
	}
}

static void on_readable(struct uload *l, struct uconn *u)
{
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];

	for (unsigned i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){l->rxbuf + i * l->slot, l->slot};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	for (;;) {
		int n = recvmmsg(u->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		uint64_t now = bench_now();

		if (n <= 0)
			return;
		for (int i = 0; i < n && u->state != U_FAILED; i++)
			on_datagram(l, u, iov[i].iov_base, msgs[i].msg_len, now);
		if (n < RX_BATCH)
			return;
	}
}

/* Up to `quota` PUBLISHes in one sendmmsg(). Returns how many were sent. */
static unsigned publish_batch(struct uload *l, struct uconn *u, unsigned quota, uint64_t now)
{
	const struct bench_cfg *c = l->c;
	struct mmsghdr msgs[quota];
	struct iovec iov[quota];
	struct mqttsn_msg m = {.type = MQTTSN_PUBLISH};
	int sent;

	m.publish.flags.qos = (int8_t)c->qos;
	m.publish.flags.topic_id_type =
	        c->sn_topic_id ? MQTTSN_TOPIC_PREDEFINED : MQTTSN_TOPIC_NORMAL;
	m.publish.topic_id = u->topic_id;
	m.publish.data = (struct mqtt_str){l->payload, (uint16_t)c->size};
	for (unsigned i = 0; i < quota; i++) {
		uint8_t *slot = l->txbuf + i * l->slot;
		long len;

		bench_payload_fill(l->payload, c->size, u->idx, u->seq + 1 + i, now);
		len = mqttsn_encode(&m, slot, l->slot);
		if (len < 0)
			return 0;
		iov[i] = (struct iovec){slot, (size_t)len};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	sent = sendmmsg(u->fd, msgs, quota, MSG_DONTWAIT);
	if (sent <= 0)
		return 0;
	u->seq += (unsigned)sent;
	l->sent[u->idx] += (unsigned)sent;
	l->r->sent += (unsigned)sent;
	return (unsigned)sent;
}

/* One publishing step, as in tcp.c: flat out or the messages the rate allows by now.
 * Returns true when a publisher filled its whole batch (more may be possible at once). */
static bool publish_step(struct uload *l, struct uconn *pubs, uint64_t now)
{
	const struct bench_cfg *c = l->c;
	uint64_t budget = UINT64_MAX;
	bool more = false;

	if (c->rate > 0) {
		double due = c->rate * (double)(now - l->r->t_start) / 1e9 + 1;
		budget = (uint64_t)due > l->r->sent ? (uint64_t)due - l->r->sent : 0;
	}
	for (unsigned k = 0; k < c->pubs && budget; k++) {
		struct uconn *u = &pubs[k];
		unsigned quota = budget < c->batch ? (unsigned)budget : c->batch, done;

		if (u->state != U_READY || !quota)
			continue;
		done = publish_batch(l, u, quota, now);
		budget -= done;
		if (done == c->batch)
			more = true;
	}
	return more && c->rate <= 0;
}

static int uconn_open(struct uload *l, struct uconn *u)
{
	const struct bench_cfg *c = l->c;
	bool passive = !u->is_pub && c->sn_port_base;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(u - l->conns)};
	int size = SUB_RCVBUF;

	u->fd = socket(l->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return -errno;
	/* Root may exceed net.core.rmem_max; a deep queue keeps bursts from being dropped at the
	 * receiver instead of measured at the broker. */
	if (!u->is_pub && setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (l->llen || passive) {
		struct sockaddr_storage a = l->local;
		socklen_t alen = l->llen;

		if (!alen) { /* passive without --bind: any address of the family */
			memset(&a, 0, sizeof(a));
			a.ss_family = l->addr.ss_family;
			alen = a.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
			                               : sizeof(struct sockaddr_in);
		}
		uint16_t port = htons((uint16_t)(passive ? c->sn_port_base + (int)u->idx : 0));
		if (a.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&a)->sin6_port = port;
		else
			((struct sockaddr_in *)&a)->sin_port = port;
		if (bind(u->fd, (struct sockaddr *)&a, alen) < 0)
			return -errno;
	}
	if (!passive && connect(u->fd, (struct sockaddr *)&l->addr, l->alen) < 0)
		return -errno;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, u->fd, &ev) < 0)
		return -errno;
	if (passive || (u->is_pub && c->sn_topic_id)) {
		become_ready(l, u, (uint16_t)c->sn_topic_id);
		return 0;
	}
	u->state = U_CONNACK;
	return send_request(l, u);
}

static int uload_alloc(struct uload *l)
{
	const struct bench_cfg *c = l->c;
	unsigned nsubs = c->role == BENCH_ROLE_PUB ? 0 : c->subs;
	unsigned npubs = c->role == BENCH_ROLE_SUB ? 0 : c->pubs;

	l->n = nsubs + npubs;
	l->slot = c->size + 64 < 512 ? 512 : c->size + 64;
	l->conns = calloc(l->n ? l->n : 1, sizeof(*l->conns));
	l->sent = calloc(c->pubs ? c->pubs : 1, sizeof(*l->sent));
	l->rxbuf = malloc(RX_BATCH * l->slot);
	l->txbuf = malloc(c->batch * l->slot);
	l->payload = malloc(c->size);
	if (!l->conns || !l->sent || !l->rxbuf || !l->txbuf || !l->payload)
		return -ENOMEM;
	for (unsigned i = 0; i < l->n; i++) {
		struct uconn *u = &l->conns[i];

		u->fd = -1;
		u->is_pub = i >= nsubs;
		u->idx = u->is_pub ? i - nsubs : i;
		if (bench_topic(c, u->idx, u->topic, sizeof(u->topic)) < 0)
			return -ENAMETOOLONG;
		if (!u->is_pub && bench_rx_init(&u->rx, c->pubs) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void uload_free(struct uload *l)
{
	for (unsigned i = 0; l->conns && i < l->n; i++) {
		if (l->conns[i].fd >= 0)
			close(l->conns[i].fd);
		bench_rx_free(&l->conns[i].rx);
	}
	free(l->conns);
	free(l->sent);
	free(l->rxbuf);
	free(l->txbuf);
	free(l->payload);
}

static void poll_once(struct uload *l, int timeout_ms)
{
	struct epoll_event ev[256];
	int k = epoll_wait(l->ep, ev, 256, timeout_ms);

	for (int i = 0; i < k; i++) {
		struct uconn *u = &l->conns[ev[i].data.u32];

		if (u->state != U_FAILED)
			on_readable(l, u);
	}
}

/* Opens every client and runs the setup dialogues, retransmitting (bounded). */
static int usetup(struct uload *l)
{
	uint64_t deadline = bench_now() + (uint64_t)(BENCH_SETUP_S * 1e9);
	int err;

	for (unsigned i = 0; i < l->n; i++) {
		err = uconn_open(l, &l->conns[i]);
		if (err < 0) {
			fprintf(stderr, "%s: MQTT-SN client %u: %s\n", l->c->prog, i,
			        strerror(-err));
			return err;
		}
	}
	while (l->ready < l->n) {
		uint64_t now = bench_now();

		poll_once(l, 10);
		for (unsigned i = 0; i < l->n; i++) {
			struct uconn *u = &l->conns[i];

			if (u->state >= U_READY || now - u->last_tx < RETRY_NS)
				continue;
			if (u->tries > RETRY_COUNT)
				uconn_fail(l, u, "no answer from the gateway");
			else
				send_request(l, u);
		}
		if (l->failed)
			return -ECONNREFUSED;
		if (now > deadline) {
			fprintf(stderr, "%s: only %u of %u MQTT-SN clients ready after %.0f s\n",
			        l->c->prog, l->ready, l->n, BENCH_SETUP_S);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static void urun_loop(struct uload *l)
{
	const struct bench_cfg *c = l->c;
	struct bench_result *r = l->r;
	bool pubs = c->role != BENCH_ROLE_SUB, subs = c->role != BENCH_ROLE_PUB;
	uint64_t pub_end = r->t_start + (uint64_t)(c->duration * 1e9);
	uint64_t drain_ns = (uint64_t)(c->drain * 1e9), last_progress = r->t_start;
	uint64_t hard_end = r->t_start + (uint64_t)((c->duration + c->drain + BENCH_SETUP_S) * 1e9);
	struct uconn *pub0 = &l->conns[c->role == BENCH_ROLE_BOTH ? c->subs : 0];

	for (;;) {
		uint64_t now = bench_now(), seen = r->delivered;
		bool more = false;

		if (pubs && !r->t_pub_end) {
			if (now >= pub_end)
				r->t_pub_end = now;
			else
				more = publish_step(l, pub0, now);
		}
		poll_once(l, more ? 0 : 1);
		now = bench_now();
		if (r->delivered != seen || (pubs && !r->t_pub_end))
			last_progress = now;
		if (now > hard_end || l->ready == 0)
			break;
		if (pubs && !r->t_pub_end)
			continue;
		bool quiet = now - last_progress > drain_ns;

		/* QoS 0 and -1 need no acknowledgement: a publisher is done when it stops. */
		if (!subs)
			break;
		if (pubs) {
			r->expected = bench_expected(c, l->sent);
			if (r->delivered >= r->expected || quiet)
				break;
		} else if (r->t_first_rx && quiet) {
			break;
		}
	}
	if (pubs)
		r->expected = bench_expected(c, l->sent);
}

int bench_run_sn(const struct bench_cfg *c, struct bench_result *r)
{
	struct uload l = {.c = c, .r = r, .ep = -1};
	double cpu0 = 0, cpu1 = 0, self0;
	int err;

	err = bench_resolve(c->prog, c->host, c->port, SOCK_DGRAM, &l.addr, &l.alen);
	if (err)
		goto out;
	if (c->bind_addr) {
		err = bench_resolve(c->prog, c->bind_addr, 0, SOCK_DGRAM, &l.local, &l.llen);
		if (err)
			goto out;
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	err = l.ep < 0 ? -errno : uload_alloc(&l);
	if (err)
		goto out;
	err = usetup(&l);
	if (err)
		goto out;
	err = bench_signal_ready(c);
	if (err)
		goto out;
	r->t_start = bench_now();
	r->have_cpu = c->broker_pid > 0 && bench_proc_cpu(c->broker_pid, &cpu0) == 0;
	self0 = bench_self_cpu();
	urun_loop(&l);
	bench_self_cpu_done(c, r, self0);
	if (r->have_cpu && bench_proc_cpu(c->broker_pid, &cpu1) == 0)
		r->cpu_s = cpu1 - cpu0;
	else
		r->have_cpu = false;
out:
	if (l.ep >= 0)
		close(l.ep);
	uload_free(&l);
	return err;
}
