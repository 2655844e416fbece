/* client_mqtt.c - the TCP session of mqtt-fast-pub / mqtt-fast-sub: resolve and connect with a
 * bounded wait, CONNECT / CONNACK with the refusal reason printed, packets out through
 * mqtt_encode and in through mqtt_framer + mqtt_decode, every wait bounded by poll(). */
#include "client_mqtt.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct mqtt_str str_of(const char *s)
{
	struct mqtt_str v = {(const uint8_t *)s, s ? (uint16_t)strlen(s) : 0};

	return v;
}

/* The 3.1 / 3.1.1 CONNACK return codes as mosquitto words them (MQTT 3.1.1 §3.2.2.3). */
static const char *connack_v3_name(uint8_t rc)
{
	static const char *const names[] = {
	        "Connection Accepted", "unacceptable protocol version", "identifier rejected",
	        "broker unavailable",  "bad user name or password",     "not authorised",
	};

	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "unknown return code";
}

static void debug_packet(const struct mqtt_client *c, const char *dir, const struct mqtt_packet *p)
{
	const struct mqtt_publish *pb = &p->publish;

	switch (p->type) {
	case MQTT_CONNACK:
		fprintf(stderr, "Client %s %s CONNACK (%u)\n", c->id, dir, p->connack.reason);
		break;
	case MQTT_PUBLISH:
		fprintf(stderr,
		        "Client %s %s PUBLISH (d%d, q%d, r%d, m%u, '%.*s', ... (%u bytes))\n",
		        c->id, dir, pb->dup, pb->qos, pb->retain, pb->packet_id, (int)pb->topic.len,
		        (const char *)pb->topic.p, pb->payload_len);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		fprintf(stderr, "Client %s %s %s (Mid: %u, RC:%u)\n", c->id, dir,
		        mqtt_type_name(p->type), p->ack.packet_id, p->ack.reason);
		break;
	case MQTT_SUBSCRIBE:
		for (uint32_t i = 0; i < p->subscribe.count; i++) {
			const struct mqtt_subscription *s = &p->subscribe.subs[i];

			fprintf(stderr, "Client %s %s SUBSCRIBE (Mid: %u, Topic: %.*s, QoS: %u)\n",
			        c->id, dir, p->subscribe.packet_id, (int)s->filter.len,
			        (const char *)s->filter.p, s->qos);
		}
		break;
	case MQTT_SUBACK:
		fprintf(stderr, "Client %s %s SUBACK (Mid: %u)\n", c->id, dir, p->suback.packet_id);
		break;
	default:
		fprintf(stderr, "Client %s %s %s\n", c->id, dir, mqtt_type_name(p->type));
		break;
	}
}

/* Connects one address, non-blocking, waiting at most CLI_WAIT_MS. Returns the socket or a
 * negative errno. */
static int connect_one(const struct addrinfo *ai)
{
	int fd, err = 0, one = 1;
	socklen_t len = sizeof(err);
	struct pollfd pfd;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto out;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		int n = poll(&pfd, 1, CLI_WAIT_MS);
		if (n == 0)
			err = -ETIMEDOUT;
		else if (n < 0)
			err = -errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = -errno;
		else
			err = -err;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
out:
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int tcp_connect(struct mqtt_client *c, const char *host, int port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	char service[8];
	int fd = -EHOSTUNREACH, gai;

	snprintf(service, sizeof(service), "%d", port);
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai) {
		fprintf(stderr, "%s: cannot resolve '%s': %s\n", c->prog, host, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot connect to %s port %d: %s\n", c->prog, host, port,
		        strerror(-fd));
		return fd;
	}
	c->fd = fd;
	return 0;
}

static int write_all(struct mqtt_client *c, const uint8_t *p, size_t len)
{
	long long deadline = cli_now_ms() + CLI_WAIT_MS;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
		int r = poll(&pfd, 1, cli_ms_left(deadline));
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

int mc_send(struct mqtt_client *c, const struct mqtt_packet *pkt)
{
	long size = mqtt_encoded_size(pkt, c->version);
	uint8_t *buf = NULL;
	int err;

	if (size < 0) {
		err = (int)size;
		goto out;
	}
	buf = malloc((size_t)size);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (c->debug)
		debug_packet(c, "sending", pkt);
	long n = mqtt_encode(pkt, c->version, buf, (size_t)size);
	err = n < 0 ? (int)n : write_all(c, buf, (size_t)n);
	c->last_tx_ms = cli_now_ms();
out:
	if (err)
		fprintf(stderr, "%s: sending %s failed: %s\n", c->prog, mqtt_type_name(pkt->type),
		        strerror(-err));
	free(buf);
	return err;
}

/* Reads what the socket has into c->in, waiting until `deadline`. 1 read, 0 timeout, or a
 * negative errno (-ECONNRESET at EOF). */
static int fill(struct mqtt_client *c, long long deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int r = poll(&pfd, 1, cli_ms_left(deadline));

	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -errno;
	c->in_len = (size_t)n;
	c->in_off = 0;
	return 1;
}

int mc_recv(struct mqtt_client *c, struct mqtt_packet *out, long long deadline)
{
	for (;;) {
		struct mqtt_frame fr;
		size_t used = 0;
		int r;

		if (c->in_off == c->in_len) {
			r = fill(c, deadline);
			if (r <= 0)
				return r;
			continue;
		}
		r = mqtt_framer_push(&c->framer, c->in + c->in_off, c->in_len - c->in_off, &used,
		                     &fr);
		c->in_off += used;
		if (r < 0) {
			fprintf(stderr, "%s: bad packet from the server: %s\n", c->prog,
			        strerror(-r));
			return r;
		}
		if (r == 0)
			continue;
		r = mqtt_decode(fr.p, fr.len, c->version, out, NULL);
		if (r < 0) {
			fprintf(stderr, "%s: malformed packet from the server: %s\n", c->prog,
			        strerror(-r));
			return r;
		}
		if (c->debug)
			debug_packet(c, "received", out);
		return 1;
	}
}

uint16_t mc_next_mid(struct mqtt_client *c)
{
	if (++c->last_mid == 0)
		c->last_mid = 1;
	return c->last_mid;
}

/* Prints why the server refused the connection. */
static void print_refusal(const struct mqtt_client *c, const struct mqtt_connack *ack)
{
	const struct mqtt_str *rs = &ack->props.reason_string;

	if (c->version == MQTT_V5)
		fprintf(stderr, "%s: Connection Refused: %s (reason code 0x%02x)", c->prog,
		        mqtt_reason_name(ack->reason), ack->reason);
	else
		fprintf(stderr, "%s: Connection Refused: %s (return code %u)", c->prog,
		        connack_v3_name(ack->reason), ack->reason);
	if (mqtt_props_has(&ack->props, MQTT_PROP_REASON_STRING))
		fprintf(stderr, ": %.*s", (int)rs->len, (const char *)rs->p);
	fprintf(stderr, "\n");
}

/* Builds the CONNECT of *a. */
static void build_connect(const struct cli_args *a, struct mqtt_packet *p)
{
	struct mqtt_connect *cn = &p->connect;

	memset(p, 0, sizeof(*p));
	p->type = MQTT_CONNECT;
	cn->version = a->version;
	cn->clean_start = a->clean;
	cn->keep_alive = (uint16_t)a->keepalive;
	cn->client_id = str_of(a->id);
	/* mosquitto_sub -c with MQTT 5 keeps the session: Session Expiry "never" (0xFFFFFFFF). */
	if (a->version == MQTT_V5 && !a->clean) {
		cn->props.present |= MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY);
		cn->props.session_expiry = UINT32_MAX;
	}
	if (a->will_topic) {
		cn->has_will = true;
		cn->will.topic = str_of(a->will_topic);
		cn->will.payload = str_of(a->will_payload);
		cn->will.qos = (uint8_t)a->will_qos;
		cn->will.retain = a->will_retain;
	}
	cn->has_username = a->username != NULL;
	cn->username = str_of(a->username);
	cn->has_password = a->password != NULL;
	cn->password = str_of(a->password);
}

int mc_connect(struct mqtt_client *c, const struct cli_args *a)
{
	struct mqtt_packet p;
	int err;

	c->fd = -1;
	c->version = a->version;
	c->prog = a->prog;
	c->id = a->id;
	c->debug = a->debug;
	c->last_mid = 0;
	c->in_len = c->in_off = 0;
	mqtt_framer_init(&c->framer, 0);
	err = tcp_connect(c, a->host, a->port);
	if (err)
		return err;
	build_connect(a, &p);
	err = mc_send(c, &p);
	if (err)
		return err;
	err = mc_recv(c, &p, cli_now_ms() + CLI_WAIT_MS);
	if (err == 0 || err == -EINTR) {
		fprintf(stderr, "%s: no CONNACK within %d s\n", c->prog, CLI_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (err == -ECONNRESET)
		fprintf(stderr, "%s: the server closed the connection before CONNACK\n", c->prog);
	if (err < 0)
		return err;
	if (p.type != MQTT_CONNACK) {
		fprintf(stderr, "%s: expected CONNACK, received %s\n", c->prog,
		        mqtt_type_name(p.type));
		return -EPROTO;
	}
	if (p.connack.reason != 0) {
		print_refusal(c, &p.connack);
		return -ECONNREFUSED;
	}
	return 0;
}

int mc_wait_ack(struct mqtt_client *c, uint8_t type, uint16_t packet_id, struct mqtt_packet *out)
{
	long long deadline = cli_now_ms() + CLI_WAIT_MS;
	int r;

	for (;;) {
		r = mc_recv(c, out, deadline);
		if (r <= 0)
			break;
		if (out->type == type && out->ack.packet_id == packet_id)
			return 0;
		if (out->type == MQTT_DISCONNECT) {
			fprintf(stderr, "%s: the server disconnected: %s\n", c->prog,
			        mqtt_reason_name(out->disconnect.reason));
			return -ECONNRESET;
		}
	}
	if (r == 0)
		fprintf(stderr, "%s: no %s for message %u within %d s\n", c->prog,
		        mqtt_type_name(type), packet_id, CLI_WAIT_MS / 1000);
	else if (r == -ECONNRESET)
		fprintf(stderr, "%s: the server closed the connection\n", c->prog);
	return r == 0 ? -ETIMEDOUT : r;
}

void mc_disconnect(struct mqtt_client *c)
{
	struct mqtt_packet p = {.type = MQTT_DISCONNECT};
	long long deadline;

	if (c->fd < 0)
		return;
	if (mc_send(c, &p) == 0 && shutdown(c->fd, SHUT_WR) == 0) {
		/* Drain until the server closes, so that no unread byte turns our close into a
		 * reset that could discard what we sent. */
		deadline = cli_now_ms() + 2000;
		while (fill(c, deadline) > 0)
			;
	}
	mc_close(c);
}

void mc_close(struct mqtt_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mqtt_framer_reset(&c->framer);
}
