/* main.c - mqtt-fast-bench's command line: options checked with a message for each bad value,
 * one run of the chosen role, or --merge of result files written by --out. */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "Usage: %s [--mqtt|--sn] [options]\n"
	        "       %s --merge [--json] [--label L] RESULT_FILE...\n"
	        "  --mqtt | --sn          MQTT over TCP (default) or MQTT-SN 1.2 over UDP\n"
	        "  --tls, --cafile PATH, --insecure   MQTT over TLS, verified against PATH "
	        "(default:\n"
	        "                         the system's CAs), or not verified at all\n"
	        "  -h, --host HOST        broker address (default 127.0.0.1)\n"
	        "  -p, --port PORT        broker port (default 1883, 1884 with --sn)\n"
	        "  --bind ADDR            local address of the client sockets\n"
	        "  -V, --protocol-version 311|5   MQTT version (default 311)\n"
	        "  -q, --qos Q            MQTT: 0 or 1; MQTT-SN: -1 or 0 (default 0)\n"
	        "  --pubs N --subs N --topics N   clients and topics (default 1, 1, 1);\n"
	        "                         publisher j and subscriber i use topic (j or i) %% N\n"
	        "  -s, --size BYTES       payload size, >= %u (default 64)\n"
	        "  --rate MSGS            offered msgs/s over all publishers (default 0 = flat "
	        "out)\n"
	        "  --duration S           seconds of publishing (default 5, at most %.0f)\n"
	        "  --drain S              receivers stop after S s without a delivery (default 1)\n"
	        "  --inflight N           QoS 1 window per publisher (default 32)\n"
	        "  --batch N              messages per system call (default 32, at most 1024)\n"
	        "  --topic-prefix P       topic names P/0, P/1, ... (default bench)\n"
	        "  --id-prefix P          client identifiers P-p0, P-s0, ... (default mfb<pid>)\n"
	        "  --role both|pub|sub|idle|relay  which side to run (default both); relay: "
	        "forward\n"
	        "                         datagrams on --bind:-p to -h:--sn-port-base+i, i < "
	        "--subs\n"
	        "  --ready-file PATH      created once every client is connected and subscribed\n"
	        "  --broker-pid PID       report the broker's CPU seconds (and RSS for idle)\n"
	        "  --conns N --hold S     idle role: N MQTT connections held S s (default 100, 2)\n"
	        "  --sn-port-base P       MQTT-SN subscribers only bind ports P, P+1, ... (no "
	        "session)\n"
	        "  --sn-topic-id ID       MQTT-SN publishers use predefined topic ID, no CONNECT\n"
	        "  --out FILE             also write the raw result for --merge\n"
	        "  --label L  --json      report label; JSON instead of text\n",
	        prog, prog, BENCH_HDR_SIZE, BENCH_MAX_SECONDS);
}

enum {
	O_MQTT = 256,
	O_SN,
	O_BIND,
	O_PUBS,
	O_SUBS,
	O_TOPICS,
	O_RATE,
	O_DURATION,
	O_DRAIN,
	O_INFLIGHT,
	O_BATCH,
	O_TPREFIX,
	O_IDPREFIX,
	O_ROLE,
	O_READY,
	O_PID,
	O_CONNS,
	O_HOLD,
	O_PORTBASE,
	O_TOPICID,
	O_OUT,
	O_LABEL,
	O_JSON,
	O_MERGE,
	O_HELP,
	O_TLS,
	O_CAFILE,
	O_INSECURE,
};

static const struct option options[] = {
        {"mqtt", no_argument, NULL, O_MQTT},
        {"sn", no_argument, NULL, O_SN},
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, O_BIND},
        {"protocol-version", required_argument, NULL, 'V'},
        {"qos", required_argument, NULL, 'q'},
        {"pubs", required_argument, NULL, O_PUBS},
        {"subs", required_argument, NULL, O_SUBS},
        {"topics", required_argument, NULL, O_TOPICS},
        {"size", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, O_RATE},
        {"duration", required_argument, NULL, O_DURATION},
        {"drain", required_argument, NULL, O_DRAIN},
        {"inflight", required_argument, NULL, O_INFLIGHT},
        {"batch", required_argument, NULL, O_BATCH},
        {"topic-prefix", required_argument, NULL, O_TPREFIX},
        {"id-prefix", required_argument, NULL, O_IDPREFIX},
        {"role", required_argument, NULL, O_ROLE},
        {"ready-file", required_argument, NULL, O_READY},
        {"broker-pid", required_argument, NULL, O_PID},
        {"conns", required_argument, NULL, O_CONNS},
        {"hold", required_argument, NULL, O_HOLD},
        {"sn-port-base", required_argument, NULL, O_PORTBASE},
        {"sn-topic-id", required_argument, NULL, O_TOPICID},
        {"out", required_argument, NULL, O_OUT},
        {"label", required_argument, NULL, O_LABEL},
        {"json", no_argument, NULL, O_JSON},
        {"merge", no_argument, NULL, O_MERGE},
        {"tls", no_argument, NULL, O_TLS},
        {"cafile", required_argument, NULL, O_CAFILE},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"help", no_argument, NULL, O_HELP},
        {0},
};

/* Parses a number in [lo, hi]; prints why and returns -EINVAL otherwise. */
static int num(const char *prog, const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s '%s': expected a number from %g to %g\n", prog, opt, s, lo,
		        hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_role(const char *prog, const char *s, enum bench_role *role)
{
	static const char *const names[] = {"both", "pub", "sub", "idle", "relay"};

	for (unsigned i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*role = (enum bench_role)i;
			return 0;
		}
	fprintf(stderr, "%s: --role '%s': expected both, pub, sub, idle or relay\n", prog, s);
	return -EINVAL;
}

/* Numeric options: table of (option, bounds, destination). */
static int parse_number(struct bench_cfg *c, int opt, const char *arg)
{
	double v;
	int err;

#define NUM(o, name, lo, hi, dst)                                                                  \
	case o:                                                                                    \
		err = num(c->prog, name, arg, lo, hi, &v);                                         \
		if (!err)                                                                          \
			dst;                                                                       \
		return err;
	switch (opt) {
		NUM('p', "--port", 1, 65535, c->port = (int)v)
		NUM('q', "--qos", -1, 2, c->qos = (int)v)
		NUM(O_PUBS, "--pubs", 0, BENCH_MAX_CLIENTS, c->pubs = (unsigned)v)
		NUM(O_SUBS, "--subs", 0, BENCH_MAX_CLIENTS, c->subs = (unsigned)v)
		NUM(O_TOPICS, "--topics", 1, 100000, c->topics = (unsigned)v)
		NUM('s', "--size", BENCH_HDR_SIZE, 65000, c->size = (unsigned)v)
		NUM(O_RATE, "--rate", 0, 1e8, c->rate = v)
		NUM(O_DURATION, "--duration", 0.1, BENCH_MAX_SECONDS, c->duration = v)
		NUM(O_DRAIN, "--drain", 0.05, 60, c->drain = v)
		NUM(O_INFLIGHT, "--inflight", 1, 65535, c->inflight = (unsigned)v)
		NUM(O_BATCH, "--batch", 1, 1024, c->batch = (unsigned)v)
		NUM(O_PID, "--broker-pid", 1, 1 << 30, c->broker_pid = (int)v)
		NUM(O_CONNS, "--conns", 1, BENCH_MAX_CLIENTS, c->conns = (unsigned)v)
		NUM(O_HOLD, "--hold", 0, BENCH_MAX_SECONDS, c->hold = v)
		NUM(O_PORTBASE, "--sn-port-base", 1, 65535, c->sn_port_base = (int)v)
		NUM(O_TOPICID, "--sn-topic-id", 1, 65535, c->sn_topic_id = (int)v)
	case 'V':
		if (!strcmp(arg, "311") || !strcmp(arg, "mqttv311"))
			c->version = 4;
		else if (!strcmp(arg, "5") || !strcmp(arg, "mqttv5"))
			c->version = 5;
		else {
			fprintf(stderr, "%s: -V '%s': expected 311 or 5\n", c->prog, arg);
			return -EINVAL;
		}
		return 0;
	default:
		return -ENOENT;
	}
#undef NUM
}

/* Cross-option checks, each with its reason. */
static int check(const struct bench_cfg *c)
{
	const char *why = NULL;

	if (c->transport == BENCH_MQTT && (c->qos < 0 || c->qos > 1))
		why = "MQTT runs use --qos 0 or 1";
	else if (c->transport == BENCH_SN && c->qos > 0)
		why = "MQTT-SN runs use --qos -1 or 0 (the fast path's QoS levels)";
	else if (c->transport == BENCH_SN && c->qos < 0 && !c->sn_topic_id)
		why = "MQTT-SN QoS -1 needs --sn-topic-id (MQTT-SN 1.2 §6.8: predefined ids only)";
	else if (c->tls && c->transport != BENCH_MQTT)
		why = "--tls applies to MQTT over TCP only";
	else if (c->role == BENCH_ROLE_IDLE && c->transport != BENCH_MQTT)
		why = "--role idle holds MQTT connections: use --mqtt";
	else if (c->role == BENCH_ROLE_RELAY &&
	         (c->transport != BENCH_SN || !c->subs || !c->sn_port_base))
		why = "--role relay needs --sn, --subs and --sn-port-base (destinations)";
	else if ((c->role == BENCH_ROLE_BOTH || c->role == BENCH_ROLE_PUB) && !c->pubs)
		why = "this role needs --pubs of at least 1";
	else if (c->role == BENCH_ROLE_RELAY &&
	         (c->transport != BENCH_SN || !c->subs || !c->sn_port_base))
		why = "--role relay needs --sn, --subs and --sn-port-base (destinations)";
	else if ((c->role == BENCH_ROLE_BOTH || c->role == BENCH_ROLE_SUB) && !c->subs)
		why = "this role needs --subs of at least 1";
	else if (c->pubs + c->subs > BENCH_MAX_CLIENTS)
		why = "too many clients";
	else if (c->transport == BENCH_SN && c->sn_port_base &&
	         c->sn_port_base + (long)c->subs - 1 > 65535)
		why = "--sn-port-base + --subs goes past port 65535";
	if (why)
		fprintf(stderr, "%s: %s\n", c->prog, why);
	return why ? -EINVAL : 0;
}

static int run_merge(struct bench_cfg *c, int argc, char **argv)
{
	struct bench_result *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	if (optind >= argc) {
		fprintf(stderr, "%s: --merge needs result files\n", c->prog);
		err = -EINVAL;
		goto out;
	}
	for (int i = optind; i < argc && !err; i++)
		err = bench_result_merge(c->prog, argv[i], r);
	if (!err)
		bench_report(c, r);
out:
	free(r);
	return err;
}

/* Applies one option. Returns 0, 1 after --help (printed), or a negative errno after a
 * message. */
static int parse_option(struct bench_cfg *c, int opt, const char *arg, bool *merge)
{
	switch (opt) {
	case O_MQTT:
		c->transport = BENCH_MQTT;
		return 0;
	case O_SN:
		c->transport = BENCH_SN;
		return 0;
	case 'h':
		c->host = arg;
		return 0;
	case O_BIND:
		c->bind_addr = arg;
		return 0;
	case O_TPREFIX:
		c->topic_prefix = arg;
		return 0;
	case O_IDPREFIX:
		c->id_prefix = arg;
		return 0;
	case O_ROLE:
		return parse_role(c->prog, arg, &c->role);
	case O_READY:
		c->ready_file = arg;
		return 0;
	case O_OUT:
		c->out_file = arg;
		return 0;
	case O_LABEL:
		c->label = arg;
		return 0;
	case O_JSON:
		c->json = true;
		return 0;
	case O_CAFILE:
		c->cafile = arg;
		/* fall through */
	case O_TLS:
		c->tls = true;
		return 0;
	case O_INSECURE:
		c->tls = c->tls_insecure = true;
		return 0;
	case O_MERGE:
		*merge = true;
		return 0;
	case O_HELP:
		usage(stdout, c->prog);
		return 1;
	case '?':
		usage(stderr, c->prog);
		return -EINVAL;
	default:
		return parse_number(c, opt, arg);
	}
}

int main(int argc, char **argv)
{
	struct bench_cfg c = {
	        .prog = "mqtt-fast-bench",
	        .transport = BENCH_MQTT,
	        .host = "127.0.0.1",
	        .version = 4,
	        .pubs = 1,
	        .subs = 1,
	        .topics = 1,
	        .size = 64,
	        .duration = 5,
	        .drain = 1,
	        .inflight = 32,
	        .batch = 32,
	        .topic_prefix = "bench",
	        .conns = 100,
	        .hold = 2,
	};
	char id_prefix[32];
	struct bench_result *r = NULL;
	bool merge = false;
	int opt, err = 0;

	snprintf(id_prefix, sizeof(id_prefix), "mfb%d", (int)getpid());
	c.id_prefix = id_prefix;
	while ((opt = getopt_long(argc, argv, "h:p:V:q:s:", options, NULL)) != -1) {
		err = parse_option(&c, opt, optarg, &merge);
		if (err)
			return err > 0 ? 0 : 2; /* --help: 0 */
	}
	if (merge)
		return run_merge(&c, argc, argv) ? 1 : 0;
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", c.prog, argv[optind]);
		return 2;
	}
	if (c.transport == BENCH_SN && !c.port)
		c.port = 1884;
	if (!c.port)
		c.port = 1883;
	if (check(&c))
		return 2;
	if (c.role == BENCH_ROLE_RELAY)
		return bench_run_relay(&c) ? 1 : 0;
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "%s: out of memory\n", c.prog);
		return 1;
	}
	err = c.transport == BENCH_SN ? bench_run_sn(&c, r) : bench_run_mqtt(&c, r);
	if (!err && c.out_file)
		err = bench_result_save(&c, r, c.out_file);
	if (!err)
		bench_report(&c, r);
	free(r);
	return err ? 1 : 0;
}
