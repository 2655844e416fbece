/* args.c - option parsing for mqtt-fast-pub and mqtt-fast-sub: mosquitto_pub / mosquitto_sub
 * flags where the meaning is the same, checked for range and consistency before any socket is
 * opened, and the message of -f FILE / -s (stdin) loaded into memory. */
#include "args.h"

#include "topic.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest message -f / -s accept: a PUBLISH must stay under the 256 MiB Remaining Length. */
#define CLI_MSG_MAX (MQTT_VARINT_MAX - 65536u)

/* Long-only options. */
enum {
	OPT_HELP = 0x100,
	OPT_SN,
	OPT_SN_TOPIC_ID,
	OPT_SLEEP,
	OPT_WILL_TOPIC,
	OPT_WILL_PAYLOAD,
	OPT_WILL_QOS,
	OPT_WILL_RETAIN,
};

static const struct option long_options[] = {
        {"help", no_argument, NULL, OPT_HELP},
        {"sn", no_argument, NULL, OPT_SN},
        {"sn-topic-id", required_argument, NULL, OPT_SN_TOPIC_ID},
        {"sleep", required_argument, NULL, OPT_SLEEP},
        {"will-topic", required_argument, NULL, OPT_WILL_TOPIC},
        {"will-payload", required_argument, NULL, OPT_WILL_PAYLOAD},
        {"will-qos", required_argument, NULL, OPT_WILL_QOS},
        {"will-retain", no_argument, NULL, OPT_WILL_RETAIN},
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"qos", required_argument, NULL, 'q'},
        {"id", required_argument, NULL, 'i'},
        {"keepalive", required_argument, NULL, 'k'},
        {"protocol-version", required_argument, NULL, 'V'},
        {"debug", no_argument, NULL, 'd'},
        {"disable-clean-session", no_argument, NULL, 'c'},
        {"username", required_argument, NULL, 'u'},
        {"pw", required_argument, NULL, 'P'},
        {"message", required_argument, NULL, 'm'},
        {"file", required_argument, NULL, 'f'},
        {"null-message", no_argument, NULL, 'n'},
        {"stdin-file", no_argument, NULL, 's'},
        {"retain", no_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
};

static const char usage_common[] =
        " -h HOST          broker host (default localhost)\n"
        " -p PORT          port (default 1883, 1884 with --sn)\n"
        " -q QOS           quality of service 0, 1 or 2 (publisher with --sn: also -1)\n"
        " -i ID            client id (default mqtt-fast-pub-PID / mqtt-fast-sub-PID)\n"
        " -k SECONDS       keep alive (MQTT-SN: Duration), default 60\n"
        " -V VERSION       mqttv311 | 311 | mqttv5 | 5 | mqttv31 | 31 (default mqttv311)\n"
        " -c               clean session off (needs -i)\n"
        " -u USER, -P PASS user name and password (MQTT only)\n"
        " -d               print the packets sent and received to stderr\n"
        " --will-topic T, --will-payload P, --will-qos Q, --will-retain\n"
        "                  the Will message\n"
        " --sn             MQTT-SN 1.2 over UDP instead of MQTT over TCP\n"
        " --sn-topic-id N  MQTT-SN: use the predefined topic id N\n"
        "                  (a 2-character -t is sent as a short topic name)\n"
        " --help           this help\n"
        "Exit status: 0 ok, 1 error (bad arguments, connection refused, timeout)";

void cli_usage(enum cli_role role, FILE *out)
{
	if (role == CLI_PUB) {
		fprintf(out, "Usage: mqtt-fast-pub [-h HOST] [-p PORT] -t TOPIC "
		             "{-m MSG | -f FILE | -n | -s} [options]\n"
		             "Publishes one message and exits.\n"
		             " -t TOPIC         topic to publish to\n"
		             " -m MSG, -f FILE, -n, -s\n"
		             "                  message: text, file content, empty, stdin\n"
		             " -r               retain the message\n");
	} else {
		fprintf(out,
		        "Usage: mqtt-fast-sub [-h HOST] [-p PORT] -t FILTER [-t FILTER...] "
		        "[options]\n"
		        "Subscribes and prints the messages received.\n"
		        " -t FILTER        topic filter (repeatable)\n"
		        " -C COUNT         exit after COUNT messages\n"
		        " -W SECONDS       exit with status 27 after SECONDS\n"
		        " -v               print \"topic payload\"\n"
		        " -N               no newline after each payload\n"
		        " --sleep SECONDS  MQTT-SN: sleep between wake-ups (MQTT-SN 1.2 §6.14)\n");
	}
	fprintf(out, "%s%s\n", usage_common, role == CLI_SUB ? ", 27 -W expired" : "");
}

static int arg_error(const struct cli_args *a, const char *fmt, const char *what)
{
	fprintf(stderr, "%s: error: ", a->prog);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	return -EINVAL;
}

/* Parses a decimal integer in [min, max]. */
static int parse_long(const struct cli_args *a, const char *opt, const char *s, long min, long max,
                      long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: error: %s needs an integer in %ld..%ld, not '%s'\n", a->prog,
		        opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_int(const struct cli_args *a, const char *opt, const char *s, long min, long max,
                     int *out)
{
	long v;
	int err = parse_long(a, opt, s, min, max, &v);

	if (!err)
		*out = (int)v;
	return err;
}

static int parse_version(struct cli_args *a, const char *s)
{
	if (!strcmp(s, "mqttv311") || !strcmp(s, "311"))
		a->version = 4;
	else if (!strcmp(s, "mqttv5") || !strcmp(s, "5"))
		a->version = 5;
	else if (!strcmp(s, "mqttv31") || !strcmp(s, "31"))
		a->version = 3;
	else
		return arg_error(a, "unknown protocol version '%s'", s);
	return 0;
}

static int set_msg(struct cli_args *a, enum cli_msg_src src, const char *arg)
{
	if (a->msg_src != CLI_MSG_NONE)
		return arg_error(a, "%s", "only one of -m, -f, -n, -s may be given");
	a->msg_src = src;
	a->msg_arg = arg;
	return 0;
}

/* Options of both tools. Returns 0 when handled, 1 when `opt` is not one of them. */
static int parse_common(struct cli_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 'h':
		a->host = arg;
		return 0;
	case 'p':
		return parse_int(a, "-p", arg, 1, 65535, &a->port);
	case 't':
		if (a->ntopics == CLI_MAX_TOPICS)
			return arg_error(a, "%s", "too many -t options");
		a->topics[a->ntopics++] = arg;
		return 0;
	case 'q':
		return parse_int(a, "-q", arg, -1, 2, &a->qos);
	case 'i':
		a->id = arg;
		return 0;
	case 'k':
		return parse_int(a, "-k", arg, 0, 65535, &a->keepalive);
	case 'V':
		return parse_version(a, arg);
	case 'd':
		a->debug = true;
		return 0;
	case 'c':
		a->clean = false;
		return 0;
	case 'u':
		a->username = arg;
		return 0;
	case 'P':
		a->password = arg;
		return 0;
	case OPT_WILL_TOPIC:
		a->will_topic = arg;
		return 0;
	case OPT_WILL_PAYLOAD:
		a->will_payload = arg;
		return 0;
	case OPT_WILL_QOS:
		return parse_int(a, "--will-qos", arg, 0, 2, &a->will_qos);
	case OPT_WILL_RETAIN:
		a->will_retain = true;
		return 0;
	case OPT_SN:
		a->sn = true;
		return 0;
	case OPT_SN_TOPIC_ID:
		return parse_int(a, "--sn-topic-id", arg, 1, 65535, &a->sn_topic_id);
	default:
		return 1;
	}
}

/* Options of one tool only. Returns 0 when handled, 1 when unknown. */
static int parse_role(struct cli_args *a, int opt, const char *arg)
{
	if (a->role == CLI_PUB) {
		switch (opt) {
		case 'm':
			return set_msg(a, CLI_MSG_ARG, arg);
		case 'f':
			return set_msg(a, CLI_MSG_FILE, arg);
		case 'n':
			return set_msg(a, CLI_MSG_NULL, NULL);
		case 's':
			return set_msg(a, CLI_MSG_STDIN, NULL);
		case 'r':
			a->retain = true;
			return 0;
		default:
			return 1;
		}
	}
	switch (opt) {
	case 'C':
		return parse_long(a, "-C", arg, 1, LONG_MAX, &a->count);
	case 'W':
		return parse_long(a, "-W", arg, 1, 86400L * 365, &a->timeout_s);
	case 'v':
		a->verbose = true;
		return 0;
	case 'N':
		a->eol = false;
		return 0;
	case OPT_SLEEP:
		return parse_long(a, "--sleep", arg, 1, 65535, &a->sleep_s);
	default:
		return 1;
	}
}

/* Checks one -t: a topic name for the publisher, a filter for the subscriber. */
static int check_topic(const struct cli_args *a, const char *t)
{
	size_t n = strlen(t);
	int bad = a->role == CLI_PUB ? mqtt_topic_name_valid((const uint8_t *)t, n)
	                             : mqtt_topic_filter_valid((const uint8_t *)t, n);

	if (bad)
		return arg_error(a,
		                 a->role == CLI_PUB ? "invalid topic name '%s'"
		                                    : "invalid topic filter '%s'",
		                 t);
	return 0;
}

/* MQTT-SN specific rules. */
static int check_sn(const struct cli_args *a)
{
	bool short_topic = a->ntopics == 1 && strlen(a->topics[0]) == 2;

	if (a->username || a->password)
		return arg_error(a, "%s", "-u / -P do not exist in MQTT-SN");
	if (a->version != 4)
		return arg_error(a, "%s", "-V does not apply to --sn (MQTT-SN 1.2)");
	if (strlen(a->id) > CLI_SN_CLIENT_ID)
		return arg_error(a, "MQTT-SN client ids have 1..23 characters: '%s'", a->id);
	if (a->role == CLI_PUB && a->qos == -1 && a->sn_topic_id < 0 && !short_topic)
		return arg_error(a, "%s", "-q -1 needs --sn-topic-id or a 2-character topic");
	if (a->role == CLI_PUB && a->sn_topic_id >= 0 && a->ntopics)
		return arg_error(a, "%s", "give either -t or --sn-topic-id, not both");
	if (a->role == CLI_PUB && a->msg_len > 65526)
		return arg_error(a, "%s", "message too large for an MQTT-SN datagram");
	return 0;
}

static int check_args(struct cli_args *a)
{
	int err = 0;

	if (a->role == CLI_PUB && a->ntopics > 1)
		return arg_error(a, "%s", "only one -t may be given");
	if (!a->ntopics && (!a->sn || a->sn_topic_id < 0))
		return arg_error(a, "%s", "no topic given (-t)");
	if (a->role == CLI_PUB && a->msg_src == CLI_MSG_NONE)
		return arg_error(a, "%s", "no message given (-m, -f, -n or -s)");
	for (unsigned i = 0; i < a->ntopics && !err; i++)
		err = check_topic(a, a->topics[i]);
	if (err)
		return err;
	if (a->qos == -1 && (!a->sn || a->role == CLI_SUB))
		return arg_error(a, "%s", "QoS -1 exists only for mqtt-fast-pub --sn");
	if (!a->clean && a->id == a->id_buf)
		return arg_error(a, "%s", "-c needs a client id (-i)");
	if (!*a->id)
		return arg_error(a, "%s", "the client id must not be empty");
	if ((a->will_payload || a->will_qos || a->will_retain) && !a->will_topic)
		return arg_error(a, "%s",
		                 "--will-payload/--will-qos/--will-retain need --will-topic");
	if (a->will_topic &&
	    mqtt_topic_name_valid((const uint8_t *)a->will_topic, strlen(a->will_topic)))
		return arg_error(a, "invalid will topic '%s'", a->will_topic);
	if (a->password && !a->username && a->version != 5)
		return arg_error(a, "%s", "-P needs -u before MQTT 5 [MQTT-3.1.2-22]");
	if (a->sleep_s && !a->sn)
		return arg_error(a, "%s", "--sleep needs --sn");
	if (a->sn_topic_id >= 0 && !a->sn)
		return arg_error(a, "%s", "--sn-topic-id needs --sn");
	return a->sn ? check_sn(a) : 0;
}

/* Reads all of `fd` into a->msg. */
static int read_all(struct cli_args *a, int fd, const char *what)
{
	size_t cap = 0;
	int err = 0;

	for (;;) {
		if (a->msg_len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *p = ncap > CLI_MSG_MAX ? NULL : realloc(a->msg, ncap);

			if (!p) {
				err = arg_error(a, "message from %s too large", what);
				break;
			}
			a->msg = p;
			cap = ncap;
		}
		ssize_t n = read(fd, a->msg + a->msg_len, cap - a->msg_len);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: error: reading %s: %s\n", a->prog, what,
			        strerror(errno));
			err = -EINVAL;
			break;
		}
		a->msg_len += (size_t)n;
	}
	return err;
}

static int load_message(struct cli_args *a)
{
	FILE *f;
	int err;

	switch (a->msg_src) {
	case CLI_MSG_ARG:
		a->msg_len = strlen(a->msg_arg);
		a->msg = a->msg_len ? (uint8_t *)strdup(a->msg_arg) : NULL;
		return a->msg_len && !a->msg ? -ENOMEM : 0;
	case CLI_MSG_STDIN:
		return read_all(a, STDIN_FILENO, "stdin");
	case CLI_MSG_FILE:
		f = fopen(a->msg_arg, "rb");
		if (!f)
			return arg_error(a, "cannot open the message file '%s'", a->msg_arg);
		err = read_all(a, fileno(f), a->msg_arg);
		fclose(f);
		return err;
	default:
		return 0;
	}
}

static void set_defaults(struct cli_args *a, enum cli_role role, const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	memset(a, 0, sizeof(*a));
	a->role = role;
	a->prog = slash ? slash + 1 : argv0;
	a->host = "localhost";
	a->port = -1;
	a->keepalive = 60;
	a->version = 4;
	a->clean = true;
	a->eol = true;
	a->sn_topic_id = -1;
	snprintf(a->id_buf, sizeof(a->id_buf), "mqtt-fast-%s-%ld", role == CLI_PUB ? "pub" : "sub",
	         (long)getpid());
	a->id = a->id_buf;
}

int cli_args_parse(struct cli_args *a, enum cli_role role, int argc, char **argv)
{
	const char *optstr =
	        role == CLI_PUB ? "h:p:t:q:i:k:V:dcu:P:m:f:nsr" : "h:p:t:q:i:k:V:dcu:P:C:W:vN";
	int opt, err = 0;

	set_defaults(a, role, argc > 0 ? argv[0] : "mqtt-fast");
	opterr = 0;
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, optstr, long_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			cli_usage(role, stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			err = arg_error(a, "unknown option or missing argument: '%s'",
			                argv[optind - 1]);
			break;
		}
		err = parse_common(a, opt, optarg);
		if (err == 1)
			err = parse_role(a, opt, optarg);
		if (err == 1)
			err = arg_error(a, "unknown option or missing argument: '%s'",
			                argv[optind - 1]);
	}
	if (!err && optind < argc)
		err = arg_error(a, "unexpected argument '%s'", argv[optind]);
	if (!err && a->port < 0)
		a->port = a->sn ? CLI_DEFAULT_SNPORT : CLI_DEFAULT_PORT;
	if (!err)
		err = load_message(a);
	if (!err)
		err = check_args(a);
	if (err) {
		cli_args_free(a);
		cli_usage(role, stderr);
		return -EINVAL;
	}
	return 0;
}

void cli_args_free(struct cli_args *a)
{
	free(a->msg);
	a->msg = NULL;
}
