/* sn_peer.c - raw MQTT-SN (UDP) and MQTT 3.1.1 (TCP) peers for the gateway tests. */
#include "sn_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dump(const char *label, const uint8_t *p, const uint8_t *mask, size_t n)
{
	fprintf(stderr, "    %s (%zu):", label, n);
	for (size_t i = 0; i < n; i++) {
		if (mask && !mask[i])
			fprintf(stderr, " ..");
		else
			fprintf(stderr, " %02x", p[i]);
	}
	fprintf(stderr, "\n");
}

size_t sn_hex(const char *s, uint8_t *out, uint8_t *mask, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ' || *s == '\n' || *s == '\t') {
			s++;
			continue;
		}
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++) {
				if (n >= cap)
					goto bad;
				if (mask)
					mask[n] = 1;
				out[n++] = (uint8_t)*s;
			}
			if (!*s)
				goto bad;
			s++;
			continue;
		}
		unsigned v = 0;
		bool any = s[0] == '.' && s[1] == '.';
		if (n >= cap || (!any && sscanf(s, "%2x", &v) != 1) || !s[1] || s[1] == ' ')
			goto bad;
		if (mask)
			mask[n] = !any;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
bad:
	fprintf(stderr, "sn_hex(): bad test vector near \"%.16s\"\n", s);
	abort();
}

/* Compares got with a pattern; prints both when they differ. */
static int match(const uint8_t *got, size_t len, const char *pattern)
{
	uint8_t want[SN_PEER_MAX], mask[SN_PEER_MAX];
	size_t n = sn_hex(pattern, want, mask, sizeof(want));
	bool ok = n == len;
	for (size_t i = 0; ok && i < n; i++)
		ok = !mask[i] || want[i] == got[i];
	if (ok)
		return 0;
	dump("got ", got, NULL, len);
	dump("want", want, mask, n);
	return -EBADMSG;
}

/* ---- MQTT-SN over UDP ----------------------------------------------------------------- */

int sn_peer_open(struct sn_peer *p, uint16_t gw_port, uint16_t local_port)
{
	memset(p, 0, sizeof(*p));
	p->gw.sin_family = AF_INET;
	p->gw.sin_port = htons(gw_port);
	p->gw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(local_port)};
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(me);
	if (bind(p->fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    getsockname(p->fd, (struct sockaddr *)&me, &len) < 0) {
		int err = -errno;
		fprintf(stderr, "sn_peer: bind 127.0.0.1:%u: %s\n", local_port, strerror(errno));
		close(p->fd);
		p->fd = -1;
		return err;
	}
	p->port = ntohs(me.sin_port);
	return 0;
}

void sn_peer_close(struct sn_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int sn_peer_send(struct sn_peer *p, const uint8_t *d, size_t len)
{
	ssize_t n = sendto(p->fd, d, len, 0, (const struct sockaddr *)&p->gw, sizeof(p->gw));
	return n == (ssize_t)len ? 0 : -errno;
}

int sn_peer_send_hex(struct sn_peer *p, const char *hex)
{
	uint8_t d[SN_PEER_MAX];
	size_t n = sn_hex(hex, d, NULL, sizeof(d));
	return sn_peer_send(p, d, n);
}

long sn_peer_recv(struct sn_peer *p, int timeout_ms, struct sockaddr_in *from)
{
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		int left = (int)(end - now_ms());
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int r = poll(&pfd, 1, left > 0 ? left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);
		ssize_t n = recvfrom(p->fd, p->last, sizeof(p->last), 0, (struct sockaddr *)&sa,
		                     &salen);
		if (n < 0)
			return -errno;
		p->last_len = (size_t)n;
		if (from)
			*from = sa;
		return n;
	}
}

int sn_peer_expect(struct sn_peer *p, const char *pattern)
{
	return sn_peer_expect_ms(p, pattern, SN_WAIT_MS);
}

int sn_peer_expect_ms(struct sn_peer *p, const char *pattern, int timeout_ms)
{
	long n = sn_peer_recv(p, timeout_ms, NULL);
	if (n < 0) {
		fprintf(stderr, "    no datagram within %d ms (port %u), wanted: %s\n", timeout_ms,
		        p->port, pattern);
		return (int)n;
	}
	return match(p->last, (size_t)n, pattern);
}

int sn_peer_expect_none(struct sn_peer *p, int quiet_ms)
{
	long n = sn_peer_recv(p, quiet_ms, NULL);
	if (n == -ETIMEDOUT)
		return 0;
	if (n >= 0)
		dump("unexpected datagram", p->last, NULL, (size_t)n);
	return n >= 0 ? -EEXIST : (int)n;
}

void sn_peer_drain(struct sn_peer *p)
{
	while (sn_peer_recv(p, 0, NULL) >= 0)
		;
}

uint16_t sn_peer_u16(const struct sn_peer *p, size_t off)
{
	return off + 1 < p->last_len ? (uint16_t)(p->last[off] << 8 | p->last[off + 1]) : 0;
}

int sn_peer_connect(struct sn_peer *p, const char *client_id, uint16_t duration, bool clean)
{
	uint8_t d[64];
	size_t idlen = strlen(client_id);
	if (idlen > sizeof(d) - 6)
		return -EINVAL;
	d[0] = (uint8_t)(6 + idlen);
	d[1] = 0x04;
	d[2] = clean ? 0x04 : 0x00;
	d[3] = 0x01;
	d[4] = (uint8_t)(duration >> 8);
	d[5] = (uint8_t)duration;
	memcpy(d + 6, client_id, idlen);
	int err = sn_peer_send(p, d, 6 + idlen);
	return err ? err : sn_peer_expect(p, "03 05 00");
}

int sn_peer_up(struct sn_peer *p, uint16_t gw_port, const char *client_id)
{
	int err = sn_peer_open(p, gw_port, 0);
	return err ? err : sn_peer_connect(p, client_id, 60, true);
}

int sn_peer_down(struct sn_peer *p)
{
	int err = sn_peer_send_hex(p, "02 18");
	if (!err)
		err = sn_peer_expect(p, "02 18");
	sn_peer_close(p);
	return err;
}

int sn_peer_register(struct sn_peer *p, const char *name, uint16_t msg_id)
{
	uint8_t d[SN_PEER_MAX];
	size_t len = strlen(name);
	char want[64];
	if (len > 200)
		return -EINVAL;
	d[0] = (uint8_t)(6 + len);
	d[1] = 0x0A;
	d[2] = d[3] = 0;
	d[4] = (uint8_t)(msg_id >> 8);
	d[5] = (uint8_t)msg_id;
	memcpy(d + 6, name, len);
	int err = sn_peer_send(p, d, 6 + len);
	snprintf(want, sizeof(want), "07 0b .. .. %02x %02x 00", msg_id >> 8, msg_id & 0xff);
	if (err || (err = sn_peer_expect(p, want)) < 0)
		return err;
	return sn_peer_u16(p, 2);
}

int sn_peer_subscribe(struct sn_peer *p, const char *filter, int qos, uint16_t msg_id)
{
	uint8_t d[SN_PEER_MAX];
	size_t len = strlen(filter);
	char want[64];
	if (len > 200)
		return -EINVAL;
	d[0] = (uint8_t)(5 + len);
	d[1] = 0x12;
	d[2] = (uint8_t)(qos << 5);
	d[3] = (uint8_t)(msg_id >> 8);
	d[4] = (uint8_t)msg_id;
	memcpy(d + 5, filter, len);
	int err = sn_peer_send(p, d, 5 + len);
	snprintf(want, sizeof(want), "08 13 %02x .. .. %02x %02x 00", qos << 5, msg_id >> 8,
	         msg_id & 0xff);
	if (err || (err = sn_peer_expect(p, want)) < 0)
		return err;
	return sn_peer_u16(p, 3);
}

/* ---- MQTT 3.1.1 over TCP -------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *d, size_t n)
{
	while (n) {
		ssize_t w = write(fd, d, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		d += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes before `end`. */
static int read_exact(int fd, uint8_t *d, size_t n, int64_t end)
{
	while (n) {
		int left = (int)(end - now_ms());
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, left > 0 ? left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		ssize_t got = read(fd, d, n);
		if (got == 0)
			return -ECONNRESET;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		d += got;
		n -= (size_t)got;
	}
	return 0;
}

/* One whole MQTT packet into m->last within timeout_ms: its length or -errno. */
static long mq_recv(struct mq_peer *m, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	size_t n = 1, rl = 0;
	int err = read_exact(m->fd, m->last, 1, end);
	for (unsigned shift = 0; !err; shift += 7) {
		if (n >= 5)
			return -EBADMSG;
		err = read_exact(m->fd, m->last + n, 1, end);
		if (err)
			break;
		rl |= (size_t)(m->last[n] & 0x7f) << shift;
		if (!(m->last[n++] & 0x80))
			break;
	}
	if (!err && n + rl > sizeof(m->last))
		return -EMSGSIZE;
	if (!err)
		err = read_exact(m->fd, m->last + n, rl, end);
	if (err)
		return err;
	m->last_len = n + rl;
	return (long)m->last_len;
}

int mq_peer_expect(struct mq_peer *m, const char *pattern)
{
	return mq_peer_expect_ms(m, pattern, SN_WAIT_MS);
}

int mq_peer_expect_ms(struct mq_peer *m, const char *pattern, int timeout_ms)
{
	long n = mq_recv(m, timeout_ms);
	if (n < 0) {
		fprintf(stderr, "    no MQTT packet within %d ms (%s), wanted: %s\n", timeout_ms,
		        strerror((int)-n), pattern);
		return (int)n;
	}
	return match(m->last, (size_t)n, pattern);
}

int mq_peer_expect_none(struct mq_peer *m, int quiet_ms)
{
	long n = mq_recv(m, quiet_ms);
	if (n == -ETIMEDOUT)
		return 0;
	if (n >= 0)
		dump("unexpected MQTT packet", m->last, NULL, (size_t)n);
	return n >= 0 ? -EEXIST : (int)n;
}

int mq_peer_connect(struct mq_peer *m, uint16_t port, const char *client_id)
{
	uint8_t d[128] = {0x10, 0, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c};
	size_t idlen = strlen(client_id), n = 12;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(m, 0, sizeof(*m));
	if (idlen > 100)
		return -EINVAL;
	d[n++] = 0;
	d[n++] = (uint8_t)idlen;
	memcpy(d + n, client_id, idlen);
	n += idlen;
	d[1] = (uint8_t)(n - 2);
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return -errno;
	if (connect(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(m->fd);
		m->fd = -1;
		return err;
	}
	int err = write_all(m->fd, d, n);
	return err ? err : mq_peer_expect(m, "20 02 00 00");
}

void mq_peer_close(struct mq_peer *m)
{
	static const uint8_t disconnect[] = {0xe0, 0x00};
	if (m->fd < 0)
		return;
	(void)write_all(m->fd, disconnect, sizeof(disconnect));
	close(m->fd);
	m->fd = -1;
}

int mq_peer_sub(struct mq_peer *m, uint16_t port, const char *client_id, const char *filter)
{
	int err = mq_peer_connect(m, port, client_id);
	return err ? err : mq_peer_subscribe(m, filter, 0);
}

int mq_peer_subscribe(struct mq_peer *m, const char *filter, int qos)
{
	uint8_t d[SN_PEER_MAX];
	size_t len = strlen(filter);
	char want[32];
	if (len > 100)
		return -EINVAL;
	d[0] = 0x82;
	d[1] = (uint8_t)(5 + len);
	d[2] = 0;
	d[3] = 1;
	d[4] = 0;
	d[5] = (uint8_t)len;
	memcpy(d + 6, filter, len);
	d[6 + len] = (uint8_t)qos;
	int err = write_all(m->fd, d, 7 + len);
	snprintf(want, sizeof(want), "90 03 00 01 %02x", qos);
	return err ? err : mq_peer_expect(m, want);
}

int mq_peer_publish(struct mq_peer *m, const char *topic, const char *payload, int qos, bool retain)
{
	uint8_t d[SN_PEER_MAX];
	size_t tlen = strlen(topic), plen = strlen(payload), n = 0;
	size_t rl = 2 + tlen + (qos ? 2 : 0) + plen;
	if (rl > 16383 || rl + 8 > sizeof(d))
		return -EINVAL;
	d[n++] = (uint8_t)(0x30 | qos << 1 | (retain ? 1 : 0));
	if (rl >= 128) {
		d[n++] = (uint8_t)(0x80 | (rl & 0x7f));
		d[n++] = (uint8_t)(rl >> 7);
	} else {
		d[n++] = (uint8_t)rl;
	}
	d[n++] = (uint8_t)(tlen >> 8);
	d[n++] = (uint8_t)tlen;
	memcpy(d + n, topic, tlen);
	n += tlen;
	if (qos) {
		d[n++] = 0;
		d[n++] = 1;
	}
	memcpy(d + n, payload, plen);
	n += plen;
	int err = write_all(m->fd, d, n);
	if (err || !qos)
		return err;
	if (qos == 1)
		return mq_peer_expect(m, "40 02 00 01");
	static const uint8_t pubrel[] = {0x62, 0x02, 0x00, 0x01};
	if ((err = mq_peer_expect(m, "50 02 00 01")) < 0 ||
	    (err = write_all(m->fd, pubrel, sizeof(pubrel))) < 0)
		return err;
	return mq_peer_expect(m, "70 02 00 01");
}

const char *mq_publish_hex(char *out, size_t cap, const char *topic, const char *payload,
                           bool retain)
{
	size_t tlen = strlen(topic), plen = strlen(payload);
	snprintf(out, cap, "%02x %02zx 00 %02zx '%s' %s%s%s", retain ? 0x31 : 0x30, 2 + tlen + plen,
	         tlen, topic, plen ? "'" : "", payload, plen ? "'" : "");
	return out;
}

const char *hexf(const char *fmt, ...)
{
	static char bufs[8][512];
	static unsigned next;
	char *out = bufs[next++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return out;
}
