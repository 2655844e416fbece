/* common.c - what both transports share: the clock, the payload header, receive accounting
 * (deliveries, duplicates, latency histogram) and the topic layout of a run. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void bench_self_cpu_done(const struct bench_cfg *c, struct bench_result *r, double since)
{
	double used = bench_self_cpu() - since;

	if (c->role == BENCH_ROLE_PUB)
		r->tx_cpu_s = used;
	else
		r->rx_cpu_s = used;
}

/* Host byte order is fine: sender and receiver are the same machine. */
void bench_payload_fill(uint8_t *buf, unsigned size, uint32_t pub, uint64_t seq, uint64_t now)
{
	uint32_t magic = BENCH_MAGIC;

	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &pub, 4);
	memcpy(buf + 8, &seq, 8);
	memcpy(buf + 16, &now, 8);
	if (size > BENCH_HDR_SIZE)
		memset(buf + BENCH_HDR_SIZE, 'x', size - BENCH_HDR_SIZE);
}

int bench_rx_init(struct bench_rx *rx, unsigned npubs)
{
	rx->npubs = npubs;
	rx->pubs = calloc(npubs ? npubs : 1, sizeof(*rx->pubs));
	return rx->pubs ? 0 : -ENOMEM;
}

void bench_rx_free(struct bench_rx *rx)
{
	free(rx->pubs);
	rx->pubs = NULL;
}

static bool bit_test_set(uint64_t *words, uint64_t seq)
{
	unsigned b = (unsigned)(seq % BENCH_RX_WINDOW);
	uint64_t mask = 1ull << (b % 64);
	bool was = (words[b / 64] & mask) != 0;

	words[b / 64] |= mask;
	return was;
}

/* Classifies seq for one publisher: 0 first copy in order, 1 first copy out of order,
 * 2 duplicate, 3 older than the window. */
static int rx_classify(struct bench_rx_pub *p, uint64_t seq)
{
	if (seq > p->top) {
		/* Clear the bits of the numbers the window moves past. */
		uint64_t from = p->top + 1;

		if (seq - p->top >= BENCH_RX_WINDOW)
			memset(p->seen, 0, sizeof(p->seen));
		else
			for (uint64_t s = from; s < seq; s++)
				p->seen[(s % BENCH_RX_WINDOW) / 64] &= ~(1ull << (s % 64));
		p->top = seq;
		bit_test_set(p->seen, seq);
		return 0;
	}
	if (p->top - seq >= BENCH_RX_WINDOW)
		return 3;
	return bit_test_set(p->seen, seq) ? 2 : 1;
}

void bench_rx_record(struct bench_result *r, struct bench_rx *rx, const uint8_t *p, size_t len,
                     uint64_t now)
{
	uint32_t magic, pub;
	uint64_t seq, sent_at;

	if (len < BENCH_HDR_SIZE)
		goto foreign;
	memcpy(&magic, p, 4);
	memcpy(&pub, p + 4, 4);
	memcpy(&seq, p + 8, 8);
	memcpy(&sent_at, p + 16, 8);
	if (magic != BENCH_MAGIC || pub >= rx->npubs || seq == 0)
		goto foreign;
	switch (rx_classify(&rx->pubs[pub], seq)) {
	case 2:
		r->dups++;
		return;
	case 1:
		r->reordered++;
		break;
	case 3:
		r->too_late++;
		break;
	default:
		break;
	}
	r->delivered++;
	if (!r->t_first_rx)
		r->t_first_rx = now;
	r->t_last_rx = now;
	bench_hist_add(&r->lat, now > sent_at ? now - sent_at : 0);
	return;
foreign:
	r->foreign++;
}

/* Subscriber i subscribes to topic i % topics, publisher j publishes on j % topics. */
uint64_t bench_expected(const struct bench_cfg *c, const uint64_t *sent)
{
	uint64_t total = 0;

	for (unsigned j = 0; j < c->pubs; j++) {
		unsigned t = j % c->topics;
		uint64_t nsubs = c->subs / c->topics + (t < c->subs % c->topics ? 1 : 0);

		total += sent[j] * nsubs;
	}
	return total;
}

int bench_topic(const struct bench_cfg *c, unsigned i, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%u", c->topic_prefix, i % c->topics);

	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

int bench_signal_ready(const struct bench_cfg *c)
{
	int fd;

	if (!c->ready_file)
		return 0;
	fd = open(c->ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = -errno;

		fprintf(stderr, "%s: cannot create ready file %s: %s\n", c->prog, c->ready_file,
		        strerror(errno));
		return err;
	}
	close(fd);
	return 0;
}

/* ---- histogram ---- */

unsigned bench_hist_index(uint64_t ns)
{
	unsigned e;

	if (ns < BENCH_HIST_SUB)
		return (unsigned)ns;
	e = 63u - (unsigned)__builtin_clzll(ns); /* >= 5 */
	/* Bucket (e - 4) * 32 + the 5 bits below the leading one. */
	return (e - 4u) * BENCH_HIST_SUB + (unsigned)((ns >> (e - 5u)) & (BENCH_HIST_SUB - 1));
}

/* The middle of a bucket. */
uint64_t bench_hist_value(unsigned index)
{
	unsigned e, sub;
	uint64_t lo;

	if (index < BENCH_HIST_SUB)
		return index;
	e = index / BENCH_HIST_SUB + 4u;
	sub = index % BENCH_HIST_SUB;
	lo = ((uint64_t)(BENCH_HIST_SUB + sub)) << (e - 5u);
	return lo + ((1ull << (e - 5u)) >> 1);
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	unsigned i = bench_hist_index(ns);

	if (i >= BENCH_HIST_BUCKETS)
		i = BENCH_HIST_BUCKETS - 1;
	h->count[i]++;
	h->total++;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->total)
		return 0;
	/* The sample of rank ceil(q * total), 1-based. */
	rank = (uint64_t)(q * (double)h->total);
	if ((double)rank < q * (double)h->total)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank)
			return bench_hist_value(i);
	}
	return bench_hist_value(BENCH_HIST_BUCKETS - 1);
}

/* ---- addresses ---- */

int bench_resolve(const char *prog, const char *host, int port, int socktype,
                  struct sockaddr_storage *out, socklen_t *len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype};
	struct addrinfo *res;
	char service[8];
	int gai;

	snprintf(service, sizeof(service), "%d", port);
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai) {
		fprintf(stderr, "%s: cannot resolve '%s': %s\n", prog, host, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
