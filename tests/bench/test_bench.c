/* test_bench.c - mqtt-fast-bench's accounting, which every benchmark figure rests on: latency
 * quantiles from the histogram, duplicates vs reordering vs loss, the expected delivery count
 * of a topic layout, and the result files that --merge adds up. */
#include "bench.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void test_hist(void)
{
	struct bench_hist *h = calloc(1, sizeof(*h));

	CHECK_EQ(bench_hist_quantile(h, 0.99), 0);
	/* 1..1000 µs: p50 is 500 µs, p99 990 µs, p99.9 999 µs, each within a bucket (~3%). */
	for (uint64_t us = 1; us <= 1000; us++)
		bench_hist_add(h, us * 1000);
	double p50 = (double)bench_hist_quantile(h, 0.5) / 1000;
	double p99 = (double)bench_hist_quantile(h, 0.99) / 1000;
	double p999 = (double)bench_hist_quantile(h, 0.999) / 1000;
	CHECK(p50 > 500 * 0.97 && p50 < 500 * 1.03);
	CHECK(p99 > 990 * 0.97 && p99 < 990 * 1.03);
	CHECK(p999 > 999 * 0.97 && p999 < 999 * 1.03);
	CHECK_EQ(h->total, 1000);
	/* Small values are exact; the bucket of a value contains it. */
	CHECK_EQ(bench_hist_value(bench_hist_index(7)), 7);
	for (uint64_t v = 32; v < 1u << 20; v = v * 3 + 1) {
		uint64_t mid = bench_hist_value(bench_hist_index(v));
		CHECK(mid > v - v / 32 - 1 && mid < v + v / 32 + 1);
	}
	free(h);
}

static void deliver(struct bench_result *r, struct bench_rx *rx, uint32_t pub, uint64_t seq)
{
	uint8_t p[64];
	uint64_t now = bench_now();

	bench_payload_fill(p, sizeof(p), pub, seq, now - 5000);
	bench_rx_record(r, rx, p, sizeof(p), now);
}

static void test_rx(void)
{
	struct bench_result *r = calloc(1, sizeof(*r));
	struct bench_rx rx;

	CHECK_EQ(bench_rx_init(&rx, 2), 0);
	deliver(r, &rx, 0, 1);
	deliver(r, &rx, 0, 2);
	deliver(r, &rx, 0, 3);
	CHECK_EQ(r->delivered, 3);
	deliver(r, &rx, 0, 3); /* second copy */
	deliver(r, &rx, 0, 2); /* second copy, not the latest */
	CHECK_EQ(r->dups, 2);
	deliver(r, &rx, 0, 5);
	deliver(r, &rx, 0, 4); /* first copy, late: reordered, not a duplicate */
	CHECK_EQ(r->reordered, 1);
	CHECK_EQ(r->dups, 2);
	deliver(r, &rx, 0, 4);
	CHECK_EQ(r->dups, 3);
	deliver(r, &rx, 1, 4); /* another publisher's 4 */
	CHECK_EQ(r->dups, 3);
	deliver(r, &rx, 0, 5000);
	deliver(r, &rx, 0, 6); /* beyond the window: counted, cannot be judged */
	CHECK_EQ(r->too_late, 1);
	deliver(r, &rx, 0, 5000 - BENCH_RX_WINDOW + 1); /* just inside: a first copy */
	CHECK_EQ(r->reordered, 2);
	CHECK_EQ(r->delivered, 9);
	/* Bits reused by the moving window were cleared: 5000 + 2 is new, 5000 + 1 too. */
	deliver(r, &rx, 0, 5002);
	deliver(r, &rx, 0, 5001);
	CHECK_EQ(r->dups, 3);
	CHECK_EQ(r->lat.total, r->delivered);
	CHECK(bench_hist_quantile(&r->lat, 0.5) >= 5000);
	/* Not ours: too short, wrong magic, unknown publisher. */
	uint8_t junk[30] = {0};
	bench_rx_record(r, &rx, junk, 10, bench_now());
	bench_rx_record(r, &rx, junk, sizeof(junk), bench_now());
	deliver(r, &rx, 7, 1);
	CHECK_EQ(r->foreign, 3);
	bench_rx_free(&rx);
	free(r);
}

static void test_expected(void)
{
	struct bench_cfg c = {.pubs = 3, .subs = 5, .topics = 2, .topic_prefix = "b"};
	uint64_t sent[3] = {10, 20, 30};
	char t[16];

	/* Topic 0: subscribers 0, 2, 4; topic 1: 1, 3. Publishers 0 and 2 on topic 0. */
	CHECK_EQ(bench_expected(&c, sent), 10 * 3 + 20 * 2 + 30 * 3);
	CHECK_EQ(bench_topic(&c, 3, t, sizeof(t)), 0);
	CHECK(strcmp(t, "b/1") == 0);
	CHECK_EQ(bench_topic(&c, 3, t, 3), -ENAMETOOLONG);
}

static void test_merge(void)
{
	struct bench_cfg c = {.prog = "test_bench"};
	struct bench_result *a = calloc(1, sizeof(*a)), *m = calloc(1, sizeof(*m));
	char path[] = "/tmp/test_bench.XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	a->sent = 100;
	a->expected = 300;
	a->delivered = 290;
	a->dups = 1;
	a->reordered = 2;
	a->t_start = 1000;
	a->t_last_rx = 5000;
	a->have_cpu = true;
	a->cpu_s = 1.5;
	a->rx_cpu_s = 0.25;
	bench_hist_add(&a->lat, 123456);
	CHECK_EQ(bench_result_save(&c, a, path), 0);
	CHECK_EQ(bench_result_merge("test_bench", path, m), 0);
	a->t_start = 500; /* the second file starts earlier and has no CPU figure */
	a->t_last_rx = 9000;
	a->have_cpu = false;
	CHECK_EQ(bench_result_save(&c, a, path), 0);
	CHECK_EQ(bench_result_merge("test_bench", path, m), 0);
	CHECK_EQ(m->sent, 200);
	CHECK_EQ(m->expected, 600);
	CHECK_EQ(m->delivered, 580);
	CHECK_EQ(m->dups, 2);
	CHECK_EQ(m->reordered, 4);
	CHECK_EQ(m->t_start, 500);
	CHECK_EQ(m->t_last_rx, 9000);
	CHECK(m->have_cpu && m->cpu_s > 1.49 && m->cpu_s < 1.51);
	CHECK(m->rx_cpu_s > 0.49 && m->rx_cpu_s < 0.51); /* each side's own CPU adds up */
	CHECK(m->tx_cpu_s == 0);
	CHECK_EQ(m->lat.total, 2);
	CHECK_EQ(m->lat.count[bench_hist_index(123456)], 2);
	/* A file that is not a result is refused with its name, never half-added. */
	FILE *f = fopen(path, "w");
	fputs("sent 5\n", f);
	fclose(f);
	CHECK_EQ(bench_result_merge("test_bench", path, m), -EBADMSG);
	CHECK_EQ(bench_result_merge("test_bench", "/nonexistent/x", m), -ENOENT);
	unlink(path);
	free(a);
	free(m);
}

int main(void)
{
	test_hist();
	test_rx();
	test_expected();
	test_merge();
	return check_report();
}
