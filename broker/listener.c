/* listener.c - TCP listening sockets (IPv4 and IPv6) for MQTT and MQTT over WebSockets, their
 * TLS contexts (tls.c), accepting connections, and re-reading TLS certificates on SIGHUP. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "tls.h"

void peer_format(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%u", host, port);
	} else {
		snprintf(out, len, "unknown");
	}
}

static void listener_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct listener *l = w->data;
	struct broker *b = l->b;

	/* Accept what is waiting, bounded so one busy listener cannot starve the loop. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
				         "accept on port %u: %s", l->conf->port, strerror(errno));
			return;
		}
		char peer[64];
		peer_format(&ss, peer, sizeof(peer));
		if (l->conf->max_connections >= 0 &&
		    l->nconns >= (uint32_t)l->conf->max_connections) {
			log_line(&b->log, LOG_LEVEL_NOTICE, NULL, peer,
			         "refused: max_connections %d reached on port %u",
			         l->conf->max_connections, l->conf->port);
			close(fd);
			continue;
		}
		if (b->cfg.set_tcp_nodelay) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		if (conn_new(b, l, fd, peer))
			log_line(&b->log, LOG_LEVEL_DEBUG, NULL, peer, "new connection on port %u",
			         l->conf->port);
	}
}

/* Binds every address `conf` resolves to; the sockets found are started as listeners, each
 * with its own reference on tls_ctx (NULL: plain TCP). */
static int listener_bind(struct broker *b, const struct listener_conf *conf,
                         struct ssl_ctx_st *tls_ctx)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char port[8];
	int bound = 0, err;

	hints.ai_family = conf->socket_domain == SOCKET_DOMAIN_IPV4   ? AF_INET
	                  : conf->socket_domain == SOCKET_DOMAIN_IPV6 ? AF_INET6
	                                                              : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", conf->port);
	err = getaddrinfo(conf->bind_address, port, &hints, &res);
	if (err != 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "%s:%d: listener %s port %u: %s",
		         conf->source_file ? conf->source_file : "?", conf->source_line,
		         conf->bind_address ? conf->bind_address : "*", conf->port,
		         gai_strerror(err));
		return -EINVAL;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
			err = -errno;
			char where[64];
			peer_format((const struct sockaddr_storage *)ai->ai_addr, where,
			            sizeof(where));
			log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "cannot listen on %s: %s",
			         where, strerror(-err));
			close(fd);
			continue;
		}
		struct listener *l = &b->listeners[b->nlisteners++];
		*l = (struct listener){.b = b, .fd = fd, .conf = conf, .tls_ctx = tls_ctx};
		if (tls_ctx)
			tls_ctx_ref(tls_ctx);
		log_ratelimit_init(&l->tls_errors, 10000, 20);
		ev_io_init(&l->io, listener_accept, fd, EV_READ);
		l->io.data = l;
		ev_io_start(b->loop, &l->io);
		bound++;
	}
	freeaddrinfo(res);
	return bound > 0 ? 0 : (err < 0 ? err : -EADDRNOTAVAIL);
}

/* SIGHUP (next to main.c's configuration reload): every TLS listener re-reads its certfile,
 * keyfile and cafile/capath, as mosquitto 2.0 does, into a new context for new connections;
 * established ones keep theirs. A listener whose files fail to load keeps its old context. */
static void listeners_tls_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct broker *b = w->data;
	const struct listener_conf *conf = NULL;
	struct ssl_ctx_st *ctx = NULL;
	int err = 0;
	for (size_t i = 0; i < b->nlisteners; i++) {
		struct listener *l = &b->listeners[i];
		if (!l->tls_ctx)
			continue;
		if (l->conf != conf) { /* the IPv4 and IPv6 sockets of one listener share it */
			tls_ctx_free(ctx);
			conf = l->conf;
			err = tls_ctx_new(b, conf, &ctx);
			log_line(&b->log, err < 0 ? LOG_LEVEL_ERR : LOG_LEVEL_NOTICE, NULL, NULL,
			         err < 0 ? "reload: TLS listener port %u keeps its previous "
			                   "certificate"
			                 : "reload: TLS listener port %u certificates re-read",
			         conf->port);
		}
		if (err < 0 || !ctx)
			continue;
		tls_ctx_ref(ctx);
		tls_ctx_free(l->tls_ctx);
		l->tls_ctx = ctx;
	}
	tls_ctx_free(ctx);
}

int listeners_open(struct broker *b)
{
	size_t tls = 0;
	/* At most one IPv4 and one IPv6 socket per configured listener. */
	b->listeners = calloc(2 * (b->cfg.listener_count + 1), sizeof(*b->listeners));
	if (!b->listeners)
		return -ENOMEM;
	for (size_t i = 0; i < b->cfg.listener_count; i++) {
		const struct listener_conf *conf = &b->cfg.listeners[i];
		if (conf->protocol == LISTENER_MQTTSN)
			continue; /* UDP: sn_listeners_open() */
		if (conf->protocol != LISTENER_MQTT && conf->protocol != LISTENER_WEBSOCKETS) {
			log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
			         "%s:%d: listener %u: protocol not served yet; skipped",
			         conf->source_file ? conf->source_file : "?", conf->source_line,
			         conf->port);
			continue;
		}
		/* A TLS listener that cannot be set up fails the start, implicit or not. */
		struct ssl_ctx_st *ctx = NULL;
		int err = tls_ctx_new(b, conf, &ctx);
		if (err < 0)
			return err;
		err = listener_bind(b, conf, ctx);
		tls_ctx_free(ctx); /* the listeners hold their own references */
		/* The implicit local listeners (no `listener` line) tolerate a missing address
		 * family, e.g. ::1 on a host without IPv6. */
		if (err < 0 && !conf->implicit)
			return err;
		if (err < 0)
			continue;
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
		         "listening for MQTT%s%s on %s port %u",
		         conf->protocol == LISTENER_WEBSOCKETS ? " over WebSockets" : "",
		         ctx ? " over TLS" : "", conf->bind_address ? conf->bind_address : "*",
		         conf->port);
		tls++;
	}
	if (tls) {
		ev_signal_init(&b->tls_sighup, listeners_tls_reload, SIGHUP);
		b->tls_sighup.data = b;
		ev_signal_start(b->loop, &b->tls_sighup);
	}
	return 0;
}

void listeners_close(struct broker *b)
{
	if (ev_is_active(&b->tls_sighup))
		ev_signal_stop(b->loop, &b->tls_sighup);
	for (size_t i = 0; i < b->nlisteners; i++) {
		ev_io_stop(b->loop, &b->listeners[i].io);
		close(b->listeners[i].fd);
		tls_ctx_free(b->listeners[i].tls_ctx);
	}
	free(b->listeners);
	b->listeners = NULL;
	b->nlisteners = 0;
}
