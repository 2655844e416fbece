/* sn_listener.c - MQTT-SN UDP sockets: receiving datagrams in batches (recvmmsg) and sending
 * the replies queued during a loop iteration in one sendmmsg per socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fastpath.h"
#include "sn_internal.h"

/* SO_RCVMARK (Linux 5.19): the skb->mark of each datagram as an SO_MARK control message. The
 * fast path's TC program marks an original it passes up after serving some subscribers. */
#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif

/* The mark of a received datagram, 0 when it carries none. */
static uint32_t rx_mark(const struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_MARK &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t mark;
			memcpy(&mark, CMSG_DATA(cm), sizeof(mark));
			return mark;
		}
	}
	return 0;
}

/* Datagrams taken per recvmmsg and per wake-up: bounded so UDP cannot starve TCP clients. */
#define SN_RX_BATCH  32
#define SN_RX_ROUNDS 8

static void sn_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct sn_listener *l = w->data;
	struct broker *b = l->b;
	/* The broker's read buffer, cut into slots for one batch. */
	enum { SLOT = BROKER_READ_CHUNK / SN_RX_BATCH };
	struct mmsghdr msgs[SN_RX_BATCH];
	struct iovec iov[SN_RX_BATCH];
	struct sockaddr_storage from[SN_RX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[SN_RX_BATCH];
	/* Datagrams longer than a slot are truncated (MSG_TRUNC reports it) and dropped as
	 * oversize: a 2 KiB slot fits every MQTT-SN message a constrained device sends. */

	for (int round = 0; round < SN_RX_ROUNDS; round++) {
		for (int i = 0; i < SN_RX_BATCH; i++) {
			iov[i] = (struct iovec){b->rbuf + i * SLOT, SLOT};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
			                                  .msg_namelen = sizeof(from[i]),
			                                  .msg_iov = &iov[i],
			                                  .msg_iovlen = 1,
			                                  .msg_control = ctl[i].buf,
			                                  .msg_controllen = sizeof(ctl[i].buf)};
			msgs[i].msg_len = 0;
		}
		int n = recvmmsg(l->fd, msgs, SN_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			b->sn.stats.datagrams_received++;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				b->sn.stats.malformed++;
				continue;
			}
			fastpath_rx_begin(b, rx_mark(&msgs[i].msg_hdr), from[i].ss_family,
			                  b->rbuf + i * SLOT, msgs[i].msg_len);
			sn_handle_datagram(l, (struct sockaddr *)&from[i],
			                   msgs[i].msg_hdr.msg_namelen, b->rbuf + i * SLOT,
			                   msgs[i].msg_len);
			fastpath_rx_end(b);
		}
		if (n < SN_RX_BATCH)
			return;
	}
}

static int sn_bind(struct broker *b, const struct listener_conf *conf)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char port[8];
	int bound = 0, err = 0;

	hints.ai_family = conf->socket_domain == SOCKET_DOMAIN_IPV4   ? AF_INET
	                  : conf->socket_domain == SOCKET_DOMAIN_IPV6 ? AF_INET6
	                                                              : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", conf->port);
	int gai = getaddrinfo(conf->bind_address, port, &hints, &res);
	if (gai != 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "%s:%u: MQTT-SN listener port %u: %s",
		         conf->source_file ? conf->source_file : "?", conf->source_line, conf->port,
		         gai_strerror(gai));
		return -EINVAL;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
		/* Without it (kernel < 5.19) no datagram shows a mark: the fast path then never
		 * gets a topic passed up with a serve set, see fastpath.c. */
		setsockopt(fd, SOL_SOCKET, SO_RCVMARK, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = -errno;
			log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
			         "cannot bind MQTT-SN port %u (%s): %s", conf->port,
			         ai->ai_family == AF_INET6 ? "IPv6" : "IPv4", strerror(-err));
			close(fd);
			continue;
		}
		struct sn_listener *l = calloc(1, sizeof(*l));
		if (!l) {
			close(fd);
			err = -ENOMEM;
			break;
		}
		l->b = b;
		l->fd = fd;
		l->conf = conf;
		ev_io_init(&l->io, sn_readable, fd, EV_READ);
		l->io.data = l;
		ev_io_start(b->loop, &l->io);
		l->next = b->sn.listeners;
		b->sn.listeners = l;
		bound++;
	}
	freeaddrinfo(res);
	return bound > 0 ? 0 : (err < 0 ? err : -EADDRNOTAVAIL);
}

int sn_listeners_open(struct broker *b)
{
	for (size_t i = 0; i < b->cfg.listener_count; i++) {
		const struct listener_conf *conf = &b->cfg.listeners[i];
		if (conf->protocol != LISTENER_MQTTSN)
			continue;
		int err = sn_bind(b, conf);
		if (err < 0)
			return err;
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
		         "listening for MQTT-SN on %s port %u (UDP)",
		         conf->bind_address ? conf->bind_address : "*", conf->port);
	}
	return 0;
}

void sn_listeners_close(struct broker *b)
{
	while (b->sn.listeners) {
		struct sn_listener *l = b->sn.listeners;
		b->sn.listeners = l->next;
		ev_io_stop(b->loop, &l->io);
		for (size_t i = 0; i < l->nout; i++)
			free(l->out[i].data);
		free(l->out);
		close(l->fd);
		free(l);
	}
}

/* Queues one datagram to `to` (copied). 0 or -ENOMEM. */
int sn_queue_datagram(struct sn_listener *l, const struct sockaddr_storage *to, socklen_t tolen,
                      const uint8_t *d, size_t len)
{
	if (l->nout == l->outcap) {
		size_t cap = l->outcap ? l->outcap * 2 : 16;
		struct sn_dgram *out = realloc(l->out, cap * sizeof(*out));
		if (!out)
			return -ENOMEM;
		l->out = out;
		l->outcap = cap;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, d, len);
	l->out[l->nout++] =
	        (struct sn_dgram){.to = *to, .tolen = tolen, .len = (uint32_t)len, .data = copy};
	return 0;
}

static void sn_listener_flush(struct broker *b, struct sn_listener *l)
{
	size_t done = 0;
	while (done < l->nout) {
		struct mmsghdr msgs[64];
		struct iovec iov[64];
		unsigned n = 0;
		for (; n < 64 && done + n < l->nout; n++) {
			struct sn_dgram *d = &l->out[done + n];
			iov[n] = (struct iovec){d->data, d->len};
			msgs[n].msg_hdr = (struct msghdr){.msg_name = &d->to,
			                                  .msg_namelen = d->tolen,
			                                  .msg_iov = &iov[n],
			                                  .msg_iovlen = 1};
		}
		int sent = sendmmsg(l->fd, msgs, n, MSG_DONTWAIT);
		if (sent <= 0) {
			/* UDP is lossy by contract: what cannot go now is dropped and counted;
			 * QoS 1/2 and REGISTER are retransmitted by the tick. */
			b->sn.stats.send_errors += l->nout - done;
			break;
		}
		b->sn.stats.datagrams_sent += (uint64_t)sent;
		done += (size_t)sent;
	}
	for (size_t i = 0; i < l->nout; i++)
		free(l->out[i].data);
	l->nout = 0;
}

void sn_flush(struct broker *b)
{
	for (struct sn_listener *l = b->sn.listeners; l; l = l->next)
		if (l->nout)
			sn_listener_flush(b, l);
}
