/* relay.c - the bare userspace relay reference (issue 7's "single-thread recvmmsg/sendmmsg
 * relay"): every datagram that arrives on bind_addr:port is sent unchanged to N fixed
 * subscribers host:sn_port_base + i. No MQTT-SN parsing, no matching, no sessions: the least
 * work a userspace fan-out does, which the broker's userspace path is compared with. Runs until
 * SIGTERM/SIGINT or `duration` seconds. */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RELAY_RX   64
#define RELAY_TX   1024 /* UIO_MAXIOV: the most one sendmmsg() takes */
#define RELAY_SLOT 2048

/* Set by SIGTERM/SIGINT: the relay stops and prints its counts. */
static volatile sig_atomic_t relay_stop;

static void on_signal(int sig)
{
	(void)sig;
	relay_stop = 1;
}

struct relay {
	int fd, ep;
	unsigned n;
	struct sockaddr_storage *dst; /* owned, n destinations */
	socklen_t dlen;
	uint8_t *rx; /* owned, RELAY_RX slots */
	struct mmsghdr tx[RELAY_TX];
	struct iovec txiov[RELAY_TX];
	uint64_t in, out, failed;
};

static int relay_open(const struct bench_cfg *c, struct relay *r)
{
	struct sockaddr_storage local, sub;
	socklen_t llen;
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	err = bench_resolve(c->prog, c->bind_addr ? c->bind_addr : "0.0.0.0", c->port, SOCK_DGRAM,
	                    &local, &llen);
	if (!err)
		err = bench_resolve(c->prog, c->host, c->sn_port_base, SOCK_DGRAM, &sub, &r->dlen);
	if (err)
		return err;
	r->n = c->subs;
	r->dst = calloc(r->n, sizeof(*r->dst));
	r->rx = malloc(RELAY_RX * RELAY_SLOT);
	if (!r->dst || !r->rx)
		return -ENOMEM;
	for (unsigned i = 0; i < r->n; i++) {
		uint16_t port = htons((uint16_t)(c->sn_port_base + (int)i));

		r->dst[i] = sub;
		if (sub.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&r->dst[i])->sin6_port = port;
		else
			((struct sockaddr_in *)&r->dst[i])->sin_port = port;
	}
	/* Blocking sends: a full socket buffer makes the relay wait, as a real one would. */
	r->fd = socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&local, llen) < 0) {
		fprintf(stderr, "%s: relay cannot bind port %d: %s\n", c->prog, c->port,
		        strerror(errno));
		return -errno;
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, r->fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Sends tx[0..count), retrying what a full socket buffer refused once it drains. */
static void relay_flush(struct relay *r, unsigned count)
{
	unsigned done = 0;

	while (done < count) {
		int k = sendmmsg(r->fd, r->tx + done, count - done, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r->failed += count - done;
			return;
		}
		done += (unsigned)k;
	}
	r->out += count;
}

/* Fans the datagrams of one recvmmsg() out to every destination. */
static void relay_batch(struct relay *r, struct mmsghdr *in, struct iovec *iov, int count)
{
	unsigned q = 0;

	for (int m = 0; m < count; m++) {
		for (unsigned i = 0; i < r->n; i++) {
			r->txiov[q] = (struct iovec){iov[m].iov_base, in[m].msg_len};
			r->tx[q] = (struct mmsghdr){.msg_hdr = {.msg_name = &r->dst[i],
			                                        .msg_namelen = r->dlen,
			                                        .msg_iov = &r->txiov[q],
			                                        .msg_iovlen = 1}};
			if (++q == RELAY_TX) {
				relay_flush(r, q);
				q = 0;
			}
		}
	}
	relay_flush(r, q);
}

int bench_run_relay(const struct bench_cfg *c)
{
	struct relay *r = calloc(1, sizeof(*r));
	struct mmsghdr in[RELAY_RX];
	struct iovec iov[RELAY_RX];
	uint64_t end = bench_now() + (uint64_t)(c->duration * 1e9);
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = r->ep = -1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	err = relay_open(c, r);
	if (err)
		goto out;
	err = bench_signal_ready(c);
	if (err)
		goto out;
	while (!relay_stop && bench_now() < end) {
		struct epoll_event ev;

		if (epoll_wait(r->ep, &ev, 1, 100) <= 0)
			continue;
		for (unsigned i = 0; i < RELAY_RX; i++) {
			iov[i] = (struct iovec){r->rx + i * RELAY_SLOT, RELAY_SLOT};
			in[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int k = recvmmsg(r->fd, in, RELAY_RX, MSG_DONTWAIT, NULL);

		if (k > 0) {
			r->in += (unsigned)k;
			relay_batch(r, in, iov, k);
		}
	}
	fprintf(stderr, "%s: relay: %llu datagrams in, %llu out, %llu failed\n", c->prog,
	        (unsigned long long)r->in, (unsigned long long)r->out,
	        (unsigned long long)r->failed);
out:
	if (r->fd >= 0)
		close(r->fd);
	if (r->ep >= 0)
		close(r->ep);
	free(r->dst);
	free(r->rx);
	free(r);
	return err;
}
