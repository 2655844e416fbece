/* sub.c - mqtt-fast-sub: subscribes over MQTT 3.1.1/5 (TCP) or MQTT-SN 1.2 (UDP, --sn, also
 * as a sleeping client with --sleep) and prints the messages received, as mosquitto_sub does;
 * stops after -C messages, on SIGINT/SIGTERM, or with status 27 when -W expires. */
#include "args.h"
#include "client_mqtt.h"
#include "client_sn.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define ERR_W_EXPIRED (-ETIME) /* -W expired: exit 27 */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sub_state {
	const struct cli_args *a;
	long received;
	long long deadline; /* -W, 0 = none */
};

/* Prints one message like mosquitto_sub: "payload" or with -v "topic payload", an empty
 * payload as "topic (null)" with -v. Messages past -C are acked but not printed. */
static void print_message(void *ctx, const char *topic, size_t tlen, const uint8_t *data,
                          size_t len)
{
	struct sub_state *s = ctx;
	const struct cli_args *a = s->a;

	if (a->count && s->received >= a->count)
		return;
	s->received++;
	if (a->verbose && !len) {
		if (a->eol)
			printf("%.*s (null)\n", (int)tlen, topic);
	} else {
		if (a->verbose) {
			fwrite(topic, 1, tlen, stdout);
			fputc(' ', stdout);
		}
		fwrite(data, 1, len, stdout);
		if (a->eol)
			fputc('\n', stdout);
	}
	fflush(stdout);
}

static bool sub_done(const struct sub_state *s)
{
	return stop_requested || (s->a->count && s->received >= s->a->count);
}

/* The earliest non-zero deadline of two (0 when both are 0). */
static long long earliest(long long x, long long y)
{
	if (!x)
		return y;
	return y && y < x ? y : x;
}

/* ---- MQTT over TCP ------------------------------------------------------------------ */

struct sub_mqtt {
	uint16_t sub_mid;
	long long suback_by; /* 0 once SUBACK arrived */
	long long pong_by;   /* 0 when no PINGREQ is outstanding */
	long long done_by;   /* after -C: bound on waiting for open QoS 2 flows */
	unsigned qos2_open;
};

static int send_subscribe(struct mqtt_client *c, const struct cli_args *a, struct sub_mqtt *m)
{
	struct mqtt_subscription subs[CLI_MAX_TOPICS];
	struct mqtt_packet p = {.type = MQTT_SUBSCRIBE};

	memset(subs, 0, sizeof(subs));
	for (unsigned i = 0; i < a->ntopics; i++) {
		subs[i].filter = (struct mqtt_str){(const uint8_t *)a->topics[i],
		                                   (uint16_t)strlen(a->topics[i])};
		subs[i].qos = (uint8_t)a->qos;
	}
	m->sub_mid = mc_next_mid(c);
	m->suback_by = cli_now_ms() + CLI_WAIT_MS;
	p.subscribe.packet_id = m->sub_mid;
	p.subscribe.subs = subs;
	p.subscribe.count = a->ntopics;
	return mc_send(c, &p);
}

/* SUBACK: a warning per refused filter; an error when all were refused. */
static int on_suback(const struct cli_args *a, struct sub_mqtt *m, const struct mqtt_suback *s)
{
	uint32_t refused = 0;

	if (s->packet_id != m->sub_mid)
		return 0;
	m->suback_by = 0;
	for (uint32_t i = 0; i < s->count && i < a->ntopics; i++) {
		if (s->reasons[i] < 0x80)
			continue;
		refused++;
		fprintf(stderr, "%s: subscription to '%s' refused: %s (0x%02x)\n", a->prog,
		        a->topics[i], mqtt_reason_name(s->reasons[i]), s->reasons[i]);
	}
	if (s->count && refused == s->count) {
		fprintf(stderr, "%s: all subscription requests were denied\n", a->prog);
		return -ECONNREFUSED;
	}
	return 0;
}

static int on_packet(struct mqtt_client *c, struct sub_state *s, struct sub_mqtt *m,
                     const struct mqtt_packet *p)
{
	const struct mqtt_publish *pb = &p->publish;
	struct mqtt_packet ack = {.type = MQTT_PUBACK};

	switch (p->type) {
	case MQTT_SUBACK:
		return on_suback(s->a, m, &p->suback);
	case MQTT_PUBLISH:
		print_message(s, (const char *)pb->topic.p, pb->topic.len, pb->payload,
		              pb->payload_len);
		if (pb->qos == 0)
			return 0;
		ack.type = pb->qos == 1 ? MQTT_PUBACK : MQTT_PUBREC;
		ack.ack.packet_id = pb->packet_id;
		m->qos2_open += pb->qos == 2;
		return mc_send(c, &ack);
	case MQTT_PUBREL:
		ack.type = MQTT_PUBCOMP;
		ack.ack.packet_id = p->ack.packet_id;
		m->qos2_open -= m->qos2_open > 0;
		return mc_send(c, &ack);
	case MQTT_PINGRESP:
		m->pong_by = 0;
		return 0;
	case MQTT_DISCONNECT:
		fprintf(stderr, "%s: the server disconnected: %s\n", c->prog,
		        mqtt_reason_name(p->disconnect.reason));
		return -ECONNRESET;
	default:
		return 0;
	}
}

/* Checks the timers; sends PINGREQ when the keep alive is due. Returns the next wake-up time
 * through *wake, or a negative errno. */
static int mqtt_timers(struct mqtt_client *c, struct sub_state *s, struct sub_mqtt *m,
                       long long *wake)
{
	long long now = cli_now_ms(), ping_at = 0;
	struct mqtt_packet ping = {.type = MQTT_PINGREQ};

	if (s->deadline && now >= s->deadline)
		return ERR_W_EXPIRED;
	if ((m->suback_by && now >= m->suback_by) || (m->pong_by && now >= m->pong_by) ||
	    (m->done_by && now >= m->done_by)) {
		fprintf(stderr, "%s: no %s from the server within %d s\n", c->prog,
		        m->suback_by ? "SUBACK"
		        : m->pong_by ? "PINGRESP"
		                     : "PUBREL",
		        CLI_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (s->a->keepalive && !m->pong_by) {
		ping_at = c->last_tx_ms + s->a->keepalive * 1000LL;
		if (now >= ping_at) {
			int err = mc_send(c, &ping);
			if (err)
				return err;
			m->pong_by = now + CLI_WAIT_MS;
			ping_at = 0;
		}
	}
	*wake = earliest(earliest(s->deadline, m->suback_by), earliest(m->pong_by, m->done_by));
	*wake = earliest(*wake, ping_at);
	if (!*wake)
		*wake = now + 3600 * 1000;
	return 0;
}

static int sub_mqtt_loop(struct mqtt_client *c, struct sub_state *s, struct sub_mqtt *m)
{
	struct mqtt_packet p;
	long long wake;
	int r;

	for (;;) {
		if (sub_done(s)) {
			if (stop_requested || m->qos2_open == 0)
				return 0;
			if (!m->done_by)
				m->done_by = cli_now_ms() + CLI_WAIT_MS;
		}
		r = mqtt_timers(c, s, m, &wake);
		if (r)
			return r;
		r = mc_recv(c, &p, wake);
		if (r == -EINTR || r == 0)
			continue;
		if (r < 0) {
			if (r == -ECONNRESET)
				fprintf(stderr, "%s: the server closed the connection\n", c->prog);
			return r;
		}
		r = on_packet(c, s, m, &p);
		if (r)
			return r;
	}
}

static int sub_mqtt(struct sub_state *s)
{
	struct mqtt_client *c = calloc(1, sizeof(*c));
	struct sub_mqtt m = {0};
	int err;

	if (!c)
		return -ENOMEM;
	err = mc_connect(c, s->a);
	if (err)
		goto out;
	err = send_subscribe(c, s->a, &m);
	if (!err)
		err = sub_mqtt_loop(c, s, &m);
	if (!err || err == ERR_W_EXPIRED || err == -ECONNREFUSED)
		mc_disconnect(c);
out:
	mc_close(c);
	free(c);
	return err;
}

/* ---- MQTT-SN over UDP -------------------------------------------------------------- */

/* An awake client: handles what arrives, PINGREQ every keep-alive period (§6.11). */
static int sn_awake_loop(struct sn_client *c, struct sub_state *s)
{
	long long ka = s->a->keepalive * 1000LL;

	for (;;) {
		long long now = cli_now_ms(), ping_at = ka ? c->last_tx_ms + ka : 0;
		int r;

		if (sub_done(s))
			return 0;
		if (s->deadline && now >= s->deadline)
			return ERR_W_EXPIRED;
		if (ping_at && now >= ping_at) {
			r = sn_ping(c, false);
			if (r && r != -EINTR)
				return r;
			continue;
		}
		long long wake = earliest(s->deadline, ping_at);
		r = sn_poll(c, wake ? wake : now + 3600 * 1000);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

/* A sleeping client (§6.14): DISCONNECT with Duration, then every half Duration a PINGREQ with
 * the client id, which makes the gateway send the buffered messages and then PINGRESP. */
static int sn_sleep_loop(struct sn_client *c, struct sub_state *s)
{
	long long period = s->a->sleep_s * 1000 / 2, next_wake;
	int r;

	if (period < 1000)
		period = 1000;
	r = sn_disconnect(c, s->a->sleep_s);
	next_wake = cli_now_ms() + period;
	while (!r) {
		long long now = cli_now_ms();

		if (sub_done(s))
			return 0;
		if (s->deadline && now >= s->deadline)
			return ERR_W_EXPIRED;
		if (now >= next_wake) {
			r = sn_ping(c, true);
			next_wake = cli_now_ms() + period;
		} else {
			r = sn_poll(c, earliest(s->deadline, next_wake)); /* nothing expected */
			r = r > 0 ? 0 : r;
		}
		if (r == -EINTR)
			r = 0;
	}
	return r;
}

static int sub_sn(struct sub_state *s)
{
	const struct cli_args *a = s->a;
	struct sn_client *c = calloc(1, sizeof(*c));
	bool connected = false;
	int err;

	if (!c)
		return -ENOMEM;
	err = sn_open(c, a, print_message, s);
	if (!err) {
		err = sn_connect(c, a);
		connected = !err;
	}
	for (unsigned i = 0; !err && i < a->ntopics; i++)
		err = sn_subscribe(c, a->topics[i], 0, a->qos);
	if (!err && a->sn_topic_id >= 0)
		err = sn_subscribe(c, NULL, (uint16_t)a->sn_topic_id, a->qos);
	if (!err)
		err = a->sleep_s ? sn_sleep_loop(c, s) : sn_awake_loop(c, s);
	if (connected && (!err || err == ERR_W_EXPIRED || err == -ECONNREFUSED)) {
		int derr = sn_disconnect(c, 0);
		err = err ? err : derr;
	}
	sn_close(c);
	free(c);
	return err;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() returns */
	struct cli_args a;
	struct sub_state s = {.a = &a};
	int err = cli_args_parse(&a, CLI_SUB, argc, argv);

	if (err)
		return err > 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (a.timeout_s)
		s.deadline = cli_now_ms() + a.timeout_s * 1000;
	err = a.sn ? sub_sn(&s) : sub_mqtt(&s);
	if (err == -ENOMEM)
		fprintf(stderr, "%s: out of memory\n", a.prog);
	cli_args_free(&a);
	if (err == ERR_W_EXPIRED) {
		fprintf(stderr, "Timed out\n");
		return CLI_EXIT_TIMEOUT;
	}
	return err ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
