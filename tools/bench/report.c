/* report.c - the broker's CPU and RSS from /proc, the text and JSON reports, and the raw result
 * files that --merge adds up (one per role of a split run). */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /proc/PID/stat fields 14 and 15 (utime, stime) in clock ticks, counted after the closing
 * parenthesis of the command name, which may itself contain spaces (proc(5)). */
int bench_proc_cpu(int pid, double *seconds)
{
	char path[64], buf[1024];
	unsigned long long utime, stime;
	FILE *f;
	char *p;
	size_t n;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime(14) stime(15). */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
	                 &stime) != 2) {
		err = -EBADMSG;
		goto out;
	}
	*seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
out:
	fclose(f);
	return err;
}

int bench_proc_rss(int pid, long *kb)
{
	char path[64], line[256];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", kb) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

static double secs(uint64_t from, uint64_t to)
{
	return to > from && from ? (double)(to - from) / 1e9 : 0.0;
}

struct figures {
	double delivered_per_s, sent_per_s, p50, p99, p999, cpu_us_per_msg, rss_per_conn;
	uint64_t lost;
};

static struct figures figures_of(const struct bench_result *r)
{
	struct figures f = {0};
	double rx_window = secs(r->t_start, r->t_last_rx);
	double tx_window = secs(r->t_start, r->t_pub_end);

	f.delivered_per_s = rx_window > 0 ? (double)r->delivered / rx_window : 0;
	f.sent_per_s = tx_window > 0 ? (double)r->sent / tx_window : 0;
	f.lost = r->expected > r->delivered ? r->expected - r->delivered : 0;
	f.p50 = (double)bench_hist_quantile(&r->lat, 0.50) / 1e3;
	f.p99 = (double)bench_hist_quantile(&r->lat, 0.99) / 1e3;
	f.p999 = (double)bench_hist_quantile(&r->lat, 0.999) / 1e3;
	f.cpu_us_per_msg = r->have_cpu && r->delivered ? r->cpu_s * 1e6 / (double)r->delivered : 0;
	if (r->have_rss && r->conns_open)
		f.rss_per_conn =
		        (double)(r->rss_after_kb - r->rss_before_kb) * 1024.0 / r->conns_open;
	return f;
}

static const char *role_name(enum bench_role role)
{
	static const char *const names[] = {"both", "pub", "sub", "idle", "relay"};

	return names[role];
}

static void report_json(const struct bench_cfg *c, const struct bench_result *r,
                        const struct figures *f)
{
	printf("{\"label\": \"%s\", \"transport\": \"%s\", \"role\": \"%s\", \"version\": %u, "
	       "\"qos\": %d, \"pubs\": %u, \"subs\": %u, \"topics\": %u, \"size\": %u, "
	       "\"rate\": %.0f, \"duration\": %.3f,\n",
	       c->label ? c->label : "", c->transport == BENCH_SN ? "mqttsn" : "mqtt",
	       role_name(c->role), c->version, c->qos, c->pubs, c->subs, c->topics, c->size,
	       c->rate, c->duration);
	printf(" \"sent\": %" PRIu64 ", \"expected\": %" PRIu64 ", \"delivered\": %" PRIu64
	       ", \"lost\": %" PRIu64 ", \"duplicates\": %" PRIu64 ", \"reordered\": %" PRIu64
	       ", \"too_late\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"acked\": %" PRIu64 ",\n",
	       r->sent, r->expected, r->delivered, f->lost, r->dups, r->reordered, r->too_late,
	       r->foreign, r->acked);
	printf(" \"sent_per_s\": %.1f, \"delivered_per_s\": %.1f, \"latency_samples\": %" PRIu64
	       ", \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f,\n",
	       f->sent_per_s, f->delivered_per_s, r->lat.total, f->p50, f->p99, f->p999);
	printf(" \"pub_cpu_s\": %.3f, \"sub_cpu_s\": %.3f,\n", r->tx_cpu_s, r->rx_cpu_s);
	if (r->have_cpu)
		printf(" \"broker_cpu_s\": %.3f, \"cpu_us_per_msg\": %.3f,\n", r->cpu_s,
		       f->cpu_us_per_msg);
	else
		printf(" \"broker_cpu_s\": null, \"cpu_us_per_msg\": null,\n");
	if (r->have_rss)
		printf(" \"conns\": %u, \"rss_before_kb\": %ld, \"rss_after_kb\": %ld, "
		       "\"rss_per_conn_bytes\": %.0f,\n",
		       r->conns_open, r->rss_before_kb, r->rss_after_kb, f->rss_per_conn);
	else
		printf(" \"conns\": %u, \"rss_per_conn_bytes\": null,\n", r->conns_open);
	printf(" \"elapsed_s\": %.3f}\n",
	       secs(r->t_start, r->t_last_rx > r->t_pub_end ? r->t_last_rx : r->t_pub_end));
}

void bench_report(const struct bench_cfg *c, const struct bench_result *r)
{
	struct figures f = figures_of(r);

	if (c->json) {
		report_json(c, r, &f);
		return;
	}
	if (c->role == BENCH_ROLE_IDLE) {
		printf("connections %u of %u", r->conns_open, c->conns);
		if (r->have_rss)
			printf(", broker RSS %ld -> %ld KiB, %.0f bytes per connection",
			       r->rss_before_kb, r->rss_after_kb, f.rss_per_conn);
		printf("\n");
		return;
	}
	printf("%s%ssent %" PRIu64 " (%.0f/s)  expected %" PRIu64 "  delivered %" PRIu64
	       " (%.0f/s)  lost %" PRIu64 "  duplicates %" PRIu64 "  reordered %" PRIu64 "\n",
	       c->label ? c->label : "", c->label ? ": " : "", r->sent, f.sent_per_s, r->expected,
	       r->delivered, f.delivered_per_s, f.lost, r->dups, r->reordered + r->too_late);
	if (r->lat.total)
		printf("latency us: p50 %.1f  p99 %.1f  p99.9 %.1f (%" PRIu64 " samples)\n", f.p50,
		       f.p99, f.p999, r->lat.total);
	if (r->have_cpu)
		printf("broker CPU: %.3f s, %.3f us per delivered message\n", r->cpu_s,
		       f.cpu_us_per_msg);
}

int bench_result_save(const struct bench_cfg *c, const struct bench_result *r, const char *path)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "%s: cannot write %s: %s\n", c->prog, path, strerror(errno));
		return err;
	}
	fprintf(f, "mqtt-fast-bench-result 1\n");
	fprintf(f, "reordered %" PRIu64 "\ntoo_late %" PRIu64 "\n", r->reordered, r->too_late);
	fprintf(f,
	        "sent %" PRIu64 "\nexpected %" PRIu64 "\ndelivered %" PRIu64 "\ndups %" PRIu64
	        "\nforeign %" PRIu64 "\nacked %" PRIu64 "\n",
	        r->sent, r->expected, r->delivered, r->dups, r->foreign, r->acked);
	fprintf(f,
	        "t_start %" PRIu64 "\nt_pub_end %" PRIu64 "\nt_first_rx %" PRIu64
	        "\nt_last_rx %" PRIu64 "\nconns_open %u\n",
	        r->t_start, r->t_pub_end, r->t_first_rx, r->t_last_rx, r->conns_open);
	fprintf(f, "tx_cpu_s %.6f\nrx_cpu_s %.6f\n", r->tx_cpu_s, r->rx_cpu_s);
	if (r->have_cpu)
		fprintf(f, "cpu_s %.6f\n", r->cpu_s);
	if (r->have_rss)
		fprintf(f, "rss %ld %ld\n", r->rss_before_kb, r->rss_after_kb);
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		if (r->lat.count[i])
			fprintf(f, "h %u %" PRIu64 "\n", i, r->lat.count[i]);
	if (fclose(f) != 0) {
		err = -errno;
		fprintf(stderr, "%s: cannot write %s: %s\n", c->prog, path, strerror(errno));
	}
	return err;
}

static void min_nonzero(uint64_t *into, uint64_t v)
{
	if (v && (!*into || v < *into))
		*into = v;
}

/* Applies one "key value..." line of a result file to r. Returns 0 or -EBADMSG. */
static int merge_line(const char *line, struct bench_result *r)
{
	char key[32];
	uint64_t v, w;
	double d;
	long a, b;
	unsigned idx;

	if (sscanf(line, "h %u %" SCNu64, &idx, &v) == 2 && idx < BENCH_HIST_BUCKETS) {
		r->lat.count[idx] += v;
		r->lat.total += v;
	} else if (sscanf(line, "tx_cpu_s %lf", &d) == 1) {
		r->tx_cpu_s += d;
	} else if (sscanf(line, "rx_cpu_s %lf", &d) == 1) {
		r->rx_cpu_s += d;
	} else if (sscanf(line, "cpu_s %lf", &d) == 1) {
		/* One role measures the broker; if both did, the longer window is the run's. */
		if (!r->have_cpu || d > r->cpu_s)
			r->cpu_s = d;
		r->have_cpu = true;
	} else if (sscanf(line, "rss %ld %ld", &a, &b) == 2) {
		r->have_rss = true;
		r->rss_before_kb = a;
		r->rss_after_kb = b;
	} else if (sscanf(line, "%31s %" SCNu64, key, &v) == 2) {
		w = v;
		if (!strcmp(key, "sent"))
			r->sent += w;
		else if (!strcmp(key, "expected"))
			r->expected += w;
		else if (!strcmp(key, "delivered"))
			r->delivered += w;
		else if (!strcmp(key, "dups"))
			r->dups += w;
		else if (!strcmp(key, "reordered"))
			r->reordered += w;
		else if (!strcmp(key, "too_late"))
			r->too_late += w;
		else if (!strcmp(key, "foreign"))
			r->foreign += w;
		else if (!strcmp(key, "acked"))
			r->acked += w;
		else if (!strcmp(key, "t_start"))
			min_nonzero(&r->t_start, w);
		else if (!strcmp(key, "t_first_rx"))
			min_nonzero(&r->t_first_rx, w);
		else if (!strcmp(key, "t_pub_end"))
			r->t_pub_end = w > r->t_pub_end ? w : r->t_pub_end;
		else if (!strcmp(key, "t_last_rx"))
			r->t_last_rx = w > r->t_last_rx ? w : r->t_last_rx;
		else if (!strcmp(key, "conns_open"))
			r->conns_open += (unsigned)w;
		else
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	return 0;
}

int bench_result_merge(const char *prog, const char *path, struct bench_result *r)
{
	char line[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "mqtt-fast-bench-result 1\n") != 0) {
				err = -EBADMSG;
				fprintf(stderr, "%s: %s is not a mqtt-fast-bench result file\n",
				        prog, path);
				goto out;
			}
			continue;
		}
		err = merge_line(line, r);
		if (err) {
			fprintf(stderr, "%s: %s:%u: unreadable line\n", prog, path, lineno);
			goto out;
		}
	}
	if (lineno == 0) {
		err = -EBADMSG;
		fprintf(stderr, "%s: %s is empty\n", prog, path);
	}
out:
	fclose(f);
	return err;
}
