/* bench.h - mqtt-fast-bench: a load generator and receiver for MQTT over TCP (3.1.1 and 5) and
 * MQTT-SN 1.2 over UDP, built on the project's codecs (mqtt/, mqtt/sn/). It runs against any
 * broker. Every message carries a header (magic, publisher index, sequence number, send time)
 * so that receivers count deliveries, duplicates and one-way latency on the same host
 * (CLOCK_MONOTONIC is shared by all network namespaces of a machine).
 *
 * Roles: `both` (publishers and subscribers in one process), `pub` and `sub` (one side each,
 * e.g. in different network namespaces; their result files are combined with --merge), and
 * `idle` (many idle MQTT connections, broker RSS per connection); `relay` is the bare
 * recvmmsg/sendmmsg relay the benchmarks compare the broker's MQTT-SN path with. */
#ifndef MQTT_FAST_BENCH_H
#define MQTT_FAST_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define BENCH_MAGIC       0x4d464231u /* "MFB1", first 4 payload bytes */
#define BENCH_HDR_SIZE    24u         /* magic, publisher index, sequence, send time (ns) */
#define BENCH_MAX_CLIENTS 20000u
#define BENCH_MAX_SECONDS 300.0 /* every run is bounded */
#define BENCH_KEEPALIVE   600u  /* longer than any run: no PINGREQ traffic needed */
#define BENCH_SETUP_S     30.0  /* bound on connecting and subscribing */

enum bench_transport {
	BENCH_MQTT,
	BENCH_SN,
};

enum bench_role {
	BENCH_ROLE_BOTH,
	BENCH_ROLE_PUB,
	BENCH_ROLE_SUB,
	BENCH_ROLE_IDLE,
	BENCH_ROLE_RELAY,
};

struct bench_cfg {
	const char *prog;
	enum bench_transport transport;
	enum bench_role role;
	const char *host; /* broker (or, for the limit reference, the TC hook's) address */
	int port;
	const char *bind_addr; /* local address of client sockets; NULL: any */
	uint8_t version;       /* MQTT protocol level: 4 (3.1.1) or 5 */
	int qos;               /* MQTT: 0, 1; MQTT-SN: -1, 0 */
	unsigned pubs, subs, topics;
	unsigned size;     /* payload bytes, >= BENCH_HDR_SIZE */
	double rate;       /* offered msgs/s over all publishers; 0 = flat out */
	double duration;   /* seconds of publishing */
	double drain;      /* seconds without a delivery after which receivers stop */
	unsigned inflight; /* MQTT QoS 1: unacknowledged PUBLISHes per publisher */
	unsigned batch;    /* messages a publisher writes per system call */
	const char *topic_prefix;
	const char *id_prefix;
	int broker_pid;         /* 0: no CPU / RSS figures */
	const char *ready_file; /* sub/idle role: created once every client is ready */
	const char *out_file;   /* raw result file for --merge */
	const char *label;
	bool json;
	unsigned conns; /* idle role */
	double hold;    /* idle role: seconds to hold the connections before measuring */
	/* MQTT-SN: subscribers only bind (no session) to bind_addr:sn_port_base + i and take what
	 * arrives (the limit reference); publishers use a predefined topic id without CONNECT. */
	int sn_port_base;
	int sn_topic_id;
	/* MQTT over TLS: cafile (NULL: the system's CAs) or no verification at all. */
	bool tls, tls_insecure;
	const char *cafile;
};

/* Latency histogram: log-linear buckets over nanoseconds (32 per power of two, ~3%). */
#define BENCH_HIST_SUB     32u
#define BENCH_HIST_BUCKETS (64u * BENCH_HIST_SUB)
struct bench_hist {
	uint64_t count[BENCH_HIST_BUCKETS];
	uint64_t total;
};

struct bench_result {
	uint64_t sent;      /* PUBLISHes written */
	uint64_t expected;  /* deliveries the subscriptions call for (pub and both roles) */
	uint64_t delivered; /* distinct deliveries received */
	uint64_t dups;      /* a sequence number received twice by one subscriber */
	uint64_t reordered; /* first copies that arrived after a higher sequence number */
	uint64_t too_late;  /* older than the duplicate window: counted, not verifiable */
	uint64_t foreign;   /* PUBLISHes without the bench header */
	uint64_t acked;     /* QoS 1 PUBACKs received */
	uint64_t t_start, t_pub_end, t_first_rx, t_last_rx; /* CLOCK_MONOTONIC ns, 0 = none */
	bool have_cpu;
	double cpu_s; /* broker utime + stime over the run */
	/* This tool's own CPU over the run: the publishers' process and the subscribers' (the
	 * both role counts all of it as subscribers'), to tell when the harness is the limit. */
	double tx_cpu_s, rx_cpu_s;
	bool have_rss;
	long rss_before_kb, rss_after_kb;
	unsigned conns_open;
	struct bench_hist lat;
};

/* Per-subscriber receive state, shared by both transports: per publisher, the highest
 * sequence number seen and a bitmap of the BENCH_RX_WINDOW numbers below it, so that a second
 * copy (a duplicate) is told apart from a first copy that arrived out of order. */
#define BENCH_RX_WINDOW 1024u
#define BENCH_RX_WORDS  (BENCH_RX_WINDOW / 64u)
struct bench_rx_pub {
	uint64_t top;                  /* highest sequence seen, 0 = none */
	uint64_t seen[BENCH_RX_WORDS]; /* bit (seq % WINDOW) for seq in (top - WINDOW, top] */
};
struct bench_rx {
	struct bench_rx_pub *pubs; /* owned; one per publisher */
	unsigned npubs;
};

/* ---- clock, payload, accounting (common.c) ---- */
uint64_t bench_now(void);
/* utime + stime of this process, seconds. */
double bench_self_cpu(void);
/* Books this process's CPU since `since` (bench_self_cpu) to the role's side of r. */
void bench_self_cpu_done(const struct bench_cfg *c, struct bench_result *r, double since);
/* Writes the header and filler into buf[0..size). Borrows buf. */
void bench_payload_fill(uint8_t *buf, unsigned size, uint32_t pub, uint64_t seq, uint64_t now);
/* Accounts one received payload for a subscriber. Borrows all. */
void bench_rx_record(struct bench_result *r, struct bench_rx *rx, const uint8_t *p, size_t len,
                     uint64_t now);
int bench_rx_init(struct bench_rx *rx, unsigned npubs);
void bench_rx_free(struct bench_rx *rx);
/* Deliveries the configuration calls for when publisher j sent sent[j] messages. Borrows. */
uint64_t bench_expected(const struct bench_cfg *c, const uint64_t *sent);
/* Topic of publisher / subscriber i: prefix/(i % topics). Writes at most cap bytes. */
int bench_topic(const struct bench_cfg *c, unsigned i, char *out, size_t cap);
/* Resolves host:port (first address) for socktype. 0 or -EHOSTUNREACH with a message. */
int bench_resolve(const char *prog, const char *host, int port, int socktype,
                  struct sockaddr_storage *out, socklen_t *len);
/* Creates cfg->ready_file (if set). Returns 0 or a negative errno. */
int bench_signal_ready(const struct bench_cfg *c);

/* ---- broker process figures (report.c) ---- */
/* utime + stime of pid in seconds. Returns 0 or a negative errno. */
int bench_proc_cpu(int pid, double *seconds);
/* VmRSS of pid in KiB. Returns 0 or a negative errno. */
int bench_proc_rss(int pid, long *kb);

/* ---- histogram (common.c) ---- */
void bench_hist_add(struct bench_hist *h, uint64_t ns);
/* The value (ns) below which a fraction q of the samples lie; 0 when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
unsigned bench_hist_index(uint64_t ns);
uint64_t bench_hist_value(unsigned index);

/* ---- load (tcp.c, sn.c): run the configured role (tcp.c also the idle role), fill *r.
 * Return 0 or a negative errno with the cause printed. Borrow c; r is the caller's. ---- */
int bench_run_mqtt(const struct bench_cfg *c, struct bench_result *r);
int bench_run_sn(const struct bench_cfg *c, struct bench_result *r);
/* The bare relay reference (relay.c): forwards until a signal or c->duration. */
int bench_run_relay(const struct bench_cfg *c);

/* ---- TLS (tls.c), OpenSSL objects behind void pointers; results 0 / -EAGAIN (would block;
 * *want_write says in which direction) / another negative errno. ---- */
int bench_tls_init(const struct bench_cfg *c, void **ctx_out);
void bench_tls_free(void *ctx);
/* Returns an owned session on fd checking the certificate against host (borrowed). */
int bench_tls_start(void *ctx, int fd, const char *host, void **ssl_out);
/* *why is set to a static reason on failure. */
int bench_tls_handshake(void *ssl, bool *want_write, const char **why);
long bench_tls_send(void *ssl, const void *p, size_t n, bool *want_write);
long bench_tls_recv(void *ssl, void *p, size_t n, bool *want_write);
bool bench_tls_pending(void *ssl);
void bench_tls_close(void *ssl);

/* ---- results (report.c) ---- */
/* Prints the report (text or JSON) to stdout. Borrows. */
void bench_report(const struct bench_cfg *c, const struct bench_result *r);
/* Writes / adds a raw result file (for --merge). Return 0 or a negative errno with a message
 * printed. Borrow. */
int bench_result_save(const struct bench_cfg *c, const struct bench_result *r, const char *path);
int bench_result_merge(const char *prog, const char *path, struct bench_result *r);

#endif
