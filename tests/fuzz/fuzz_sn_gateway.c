/* fuzz_sn_gateway.c - MQTT-SN datagrams into a real broker instance through the gateway's
 * entry point (sn_handle_datagram): decoding, the client table, CONNECT and the will dialogue,
 * REGISTER, PUBLISH QoS -1..2, subscriptions, sleep, takeover and rebinding across four source
 * addresses, forwarder encapsulation, retransmission and keep-alive supervision on a fake clock,
 * routing to a TCP MQTT subscriber on '#' and to the SN clients themselves.
 *
 * Input: a sequence of records
 *     [len] [ctl] [len bytes]          len 0..254
 *     [0xff] [len hi] [len lo] [ctl] [len bytes]
 * ctl bits 0-1: the source address (0, 1: 127.0.0.1 two ports; 2: 127.0.0.2; 3: [::1]);
 *     bits 2-4: before the record, advance the fake clock by step_s[n] seconds and run sn_tick;
 *     bit 5: the bytes go to a connected MQTT 5 client ("p") over TCP instead of to the gateway.
 * A short last record is cut to what is left. Replies go to UDP sink sockets that are never read
 * (the kernel drops what overflows them). FUZZ_SN_VERBOSE=1 prints the gateway's counters.
 * The seed corpus is written by gen_corpus_sn_gateway.py. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"

enum { NSOURCES = 4 };

/* Seconds the fake clock moves per ctl time step: across retry intervals, keep alives, sleep
 * durations and ADVERTISE periods of the configuration below. */
static const int64_t step_s[8] = {0, 1, 3, 10, 30, 100, 1000, 70000};

/* CONNECT (v5, client id "s") then SUBSCRIBE "#" at QoS 2: receives what the SN side routes. */
static const uint8_t subscriber[] = {
        0x10, 0x0e, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x02, 0x00, 0x3c, 0x00,
        0x00, 0x01, 's',  0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, '#',  0x02,
};

/* CONNECT (v5, client id "p"): the MQTT client the ctl bit 5 records speak for. */
static const uint8_t publisher[] = {
        0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'p',
};

/* The sources the datagrams come from; each is a bound, never-read UDP socket so that the
 * gateway's replies are sent successfully and dropped by the kernel. */
static struct sockaddr_storage sources[NSOURCES];
static socklen_t source_len[NSOURCES];
static char conf_text[1024];

static int sink_open(int family, const char *addr, struct sockaddr_storage *out, socklen_t *len)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		*len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)out, *len) < 0 ||
	    getsockname(fd, (struct sockaddr *)out, len) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd; /* kept open for the life of the process */
}

static void setup_once(void)
{
	static const struct {
		int family;
		const char *addr;
	} src[NSOURCES] = {
	        {AF_INET, "127.0.0.1"},
	        {AF_INET, "127.0.0.1"},
	        {AF_INET, "127.0.0.2"},
	        {AF_INET6, "::1"},
	};
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < NSOURCES; i++) {
		if (sink_open(src[i].family, src[i].addr, &sources[i], &source_len[i]) < 0) {
			/* No 127.0.0.2 or no IPv6 here: fall back to the first source's host. */
			if (sink_open(AF_INET, "127.0.0.1", &sources[i], &source_len[i]) < 0)
				abort();
		}
	}
	/* ADVERTISE goes to the first sink. */
	unsigned adv_port = ntohs(((struct sockaddr_in *)&sources[0])->sin_port);
	snprintf(conf_text, sizeof(conf_text),
	         "listener 1884 127.0.0.1\nprotocol mqttsn\n"
	         "allow_anonymous true\nlog_type none\nsys_interval 10\n"
	         "max_inflight_messages 4\nmax_queued_messages 32\n"
	         "persistent_client_expiration 1h\n"
	         "sn_gateway_id 7\nsn_retry_interval 2\nsn_retry_count 2\n"
	         "sn_advertise_interval 5\nsn_advertise_address 127.0.0.1\n"
	         "sn_advertise_port %u\n"
	         "sn_predefined_topic 1 a/b\nsn_predefined_topic 2 sensors/temp\n"
	         "sn_predefined_topic 65534 x\n",
	         adv_port);
}

static size_t drain(int fd)
{
	uint8_t buf[4096];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

struct harness {
	struct ev_loop *loop;
	struct broker *b;
	struct sn_listener *l;
	int sub[2], pub[2];
	size_t sub_bytes;
};

static void spin(struct harness *h, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		ev_run(h->loop, EVRUN_NOWAIT);
		h->sub_bytes += drain(h->sub[1]);
		(void)drain(h->pub[1]);
	}
}

static void noop_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* The gateway's listener, as sn_bind makes it but not started: nothing reads its socket. The
 * broker owns it from here on (sn_listeners_close frees it and closes the fd). */
static struct sn_listener *listener_attach(struct broker *b)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int zero = 0;
	if (fd >= 0) /* dual stack: replies go to the IPv4 and the IPv6 sources */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	else
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sn_listener *l = calloc(1, sizeof(*l));
	if (fd < 0 || !l)
		abort();
	const struct listener_conf *conf = NULL;
	for (size_t i = 0; i < b->cfg.listener_count; i++)
		if (b->cfg.listeners[i].protocol == LISTENER_MQTTSN)
			conf = &b->cfg.listeners[i];
	if (!conf)
		abort();
	l->b = b;
	l->fd = fd;
	l->conf = conf;
	ev_io_init(&l->io, noop_cb, fd, EV_READ);
	l->io.data = l;
	l->next = b->sn.listeners;
	b->sn.listeners = l;
	return l;
}

static void verbose_report(const struct harness *h)
{
	const struct sn_stats *st = &h->b->sn.stats;
	fprintf(stderr,
	        "fuzz_sn_gateway: rx %llu tx %llu txerr %llu malformed %llu unknown_type %llu "
	        "unknown_client %llu qos-1 %llu/%llu dropped, publish in %llu out %llu, "
	        "register sent %llu rejected %llu, retrans %llu, lost %llu; clients %zu, topics "
	        "%zu; MQTT subscriber got %zu bytes\n",
	        (unsigned long long)st->datagrams_received, (unsigned long long)st->datagrams_sent,
	        (unsigned long long)st->send_errors, (unsigned long long)st->malformed,
	        (unsigned long long)st->unknown_type, (unsigned long long)st->unknown_client,
	        (unsigned long long)st->qos_m1_received, (unsigned long long)st->qos_m1_dropped,
	        (unsigned long long)st->publish_received, (unsigned long long)st->publish_sent,
	        (unsigned long long)st->registers_sent, (unsigned long long)st->register_rejected,
	        (unsigned long long)st->retransmissions, (unsigned long long)st->clients_lost,
	        h->b->sn.nclients, topic_ids_count(h->b->sn.ids), h->sub_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup_once();
		ready = true;
	}
	struct harness h = {0};
	struct config cfg;
	char err[256];
	int64_t fake_offset_ms = 0;

	h.loop = ev_loop_new(EVFLAG_AUTO);
	h.b = malloc(sizeof(*h.b));
	if (!h.loop || !h.b || config_load_string("fuzz", conf_text, &cfg, err, sizeof(err)) < 0)
		abort();
	if (broker_init(h.b, h.loop, &cfg) < 0)
		abort();
	h.l = listener_attach(h.b);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, h.sub) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, h.pub) < 0)
		abort();
	conn_new(h.b, NULL, h.sub[0], "subscriber");
	conn_new(h.b, NULL, h.pub[0], "publisher");
	if (write(h.sub[1], subscriber, sizeof(subscriber)) != (ssize_t)sizeof(subscriber) ||
	    write(h.pub[1], publisher, sizeof(publisher)) != (ssize_t)sizeof(publisher))
		abort();
	spin(&h, 2);

	for (size_t off = 0; off < size;) {
		size_t len = data[off++];
		if (len == 0xff) {
			if (size - off < 2)
				break;
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
		}
		if (off >= size)
			break;
		uint8_t ctl = data[off++];
		if (len > size - off)
			len = size - off;
		unsigned step = (ctl >> 2) & 7;
		if (step) {
			fake_offset_ms += step_s[step] * 1000;
			sn_tick(h.b, broker_now_ms(h.b) + fake_offset_ms);
		}
		if (ctl & 0x20) {
			if (len)
				(void)send(h.pub[1], data + off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			/* A copy of exactly the datagram's size, so reads past it are caught. */
			uint8_t *dgram = malloc(len ? len : 1);
			if (!dgram)
				abort();
			memcpy(dgram, data + off, len);
			const struct sockaddr_storage *from = &sources[ctl & (NSOURCES - 1)];
			h.b->sn.stats.datagrams_received++; /* as sn_readable counts them */
			sn_handle_datagram(h.l, (const struct sockaddr *)from,
			                   source_len[ctl & (NSOURCES - 1)], dgram, len);
			free(dgram);
		}
		off += len;
		spin(&h, 1);
	}
	/* Retransmissions and timeouts of what is still in flight, then the $SYS tree. */
	sn_tick(h.b, broker_now_ms(h.b) + fake_offset_ms + 5000);
	sys_publish(h.b, true);
	spin(&h, 2);
	if (getenv("FUZZ_SN_VERBOSE"))
		verbose_report(&h);

	broker_free(h.b);
	close(h.sub[1]);
	close(h.pub[1]);
	free(h.b);
	ev_loop_destroy(h.loop);
	return 0;
}
