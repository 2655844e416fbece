/* args.h - command-line options shared by mqtt-fast-pub and mqtt-fast-sub (mosquitto_pub /
 * mosquitto_sub spellings where the meaning is the same), and small helpers both mains use. */
#ifndef MQTT_FAST_TOOLS_ARGS_H
#define MQTT_FAST_TOOLS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum cli_role {
	CLI_PUB,
	CLI_SUB,
};

/* Where the published message comes from (-m, -f, -n, -s). */
enum cli_msg_src {
	CLI_MSG_NONE,
	CLI_MSG_ARG,
	CLI_MSG_FILE,
	CLI_MSG_NULL,
	CLI_MSG_STDIN,
};

/* Exit statuses. 27 is what mosquitto_sub returns when -W expires (MOSQ_ERR_TIMEOUT). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_TIMEOUT = 27,
};

#define CLI_MAX_TOPICS     64
#define CLI_WAIT_MS        10000 /* bound on every wait for a connection or an ack (MQTT) */
#define CLI_SN_CLIENT_ID   23    /* MQTT-SN 1.2 §5.3.1: ClientId is 1..23 characters */
#define CLI_DEFAULT_PORT   1883
#define CLI_DEFAULT_SNPORT 1884

struct cli_args {
	enum cli_role role;
	const char *prog; /* program name for messages */
	const char *host;
	int port;
	const char *topics[CLI_MAX_TOPICS]; /* borrowed from argv */
	unsigned ntopics;
	enum cli_msg_src msg_src;
	const char *msg_arg; /* -m text or -f path */
	uint8_t *msg;        /* owned; the message after cli_args_parse (NULL when empty) */
	size_t msg_len;
	int qos; /* -1 (MQTT-SN only), 0, 1, 2 */
	bool retain;
	const char *id;
	char id_buf[32];
	int keepalive;
	uint8_t version; /* enum mqtt_version */
	long count;      /* -C, 0 = unlimited */
	long timeout_s;  /* -W, 0 = none */
	bool verbose;
	bool debug;
	bool clean;
	bool eol;
	const char *username;
	const char *password;
	const char *will_topic;
	const char *will_payload;
	int will_qos;
	bool will_retain;
	bool sn;
	int sn_topic_id; /* --sn-topic-id, -1 = none */
	long sleep_s;    /* --sleep, 0 = awake client */
};

/* Parses argv into *a (zeroed first) for `role`, and loads the message of -f / -s.
 * Returns 0 to go on, 1 when --help printed the usage (exit 0), or -EINVAL after printing the
 * error and the usage to stderr (exit 1). *a borrows argv; free it with cli_args_free(). */
int cli_args_parse(struct cli_args *a, enum cli_role role, int argc, char **argv);

/* Frees what cli_args_parse allocated (the loaded message). */
void cli_args_free(struct cli_args *a);

/* Prints the usage of `role` to `out`. */
void cli_usage(enum cli_role role, FILE *out);

/* Milliseconds on the monotonic clock. */
static inline long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until `deadline` (0 when past, clamped to int for poll()). */
static inline int cli_ms_left(long long deadline)
{
	long long left = deadline - cli_now_ms();

	if (left < 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

#endif
