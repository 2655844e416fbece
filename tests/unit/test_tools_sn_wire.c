/* test_tools_sn_wire.c - mqtt-fast-pub --sn and mqtt-fast-sub --sn on the wire: the test binds
 * a UDP socket on 127.0.0.1, runs the tool against it (fork/exec) and plays the MQTT-SN 1.2
 * gateway itself, checking every datagram the tool sends byte for byte and answering with
 * exact bytes: QoS -1 to a short topic and a predefined id, CONNECT / REGISTER / PUBLISH QoS 0,
 * 1 (with a retransmission carrying DUP) and 2, the Will exchange, refusals, a subscriber mapping
 * REGISTER ids to names, a sleeping subscriber woken by PINGREQ (§6.14), no gateway at all. */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(MQTT_FAST_PUB) || !defined(MQTT_FAST_SUB)
#error "MQTT_FAST_PUB and MQTT_FAST_SUB must name the tool binaries"
#endif

#define WAIT_MS 5000

struct peer {
	int fd;
	int port;
	struct sockaddr_in client; /* where the last datagram came from */
	bool have_client;
};

struct tool {
	pid_t pid;
	int out_fd; /* the tool's stdout */
	char out[4096];
	size_t out_len;
};

static int peer_open(struct peer *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(p->fd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	p->port = ntohs(a.sin_port);
	return 0;
}

/* Starts BIN with "-h 127.0.0.1 -p PORT" followed by args (NULL-terminated). */
static int tool_start(struct tool *t, const char *bin, const struct peer *p,
                      const char *const *args)
{
	char port[8];
	const char *argv[32] = {bin, "--sn", "-h", "127.0.0.1", "-p", port};
	size_t n = 6;
	int pfd[2];

	snprintf(port, sizeof(port), "%d", p->port);
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	memset(t, 0, sizeof(*t));
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	t->pid = fork();
	if (t->pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	t->out_fd = pfd[0];
	return t->pid < 0 ? -errno : 0;
}

/* Waits for the tool to exit (killing it after WAIT_MS) and reads its stdout. Returns its exit
 * status, or -1 when it had to be killed. */
static int tool_finish(struct tool *t)
{
	int status = 0, rc = -1;
	bool exited = false;
	ssize_t n;

	for (int i = 0; i < WAIT_MS / 10 && !exited; i++) {
		exited = waitpid(t->pid, &status, WNOHANG) == t->pid;
		if (exited)
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		else
			usleep(10000);
	}
	if (!exited) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		fprintf(stderr, "    tool did not exit within %d ms\n", WAIT_MS);
	}
	while ((n = read(t->out_fd, t->out + t->out_len, sizeof(t->out) - 1 - t->out_len)) > 0)
		t->out_len += (size_t)n;
	t->out[t->out_len] = 0;
	close(t->out_fd);
	return rc;
}

/* Expects the next datagram from the tool, within timeout_ms, to be exactly `want`. */
static bool expect(struct peer *p, const char *want, int timeout_ms, const char *what)
{
	uint8_t got[2048], w[2048];
	size_t wn = hex(want, w, sizeof(w));
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	socklen_t len = sizeof(p->client);
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1) {
		fprintf(stderr, "    %s: nothing received within %d ms\n", what, timeout_ms);
		CHECK(!"datagram expected");
		return false;
	}
	n = recvfrom(p->fd, got, sizeof(got), 0, (struct sockaddr *)&p->client, &len);
	p->have_client = n >= 0;
	if (n < 0 || (size_t)n != wn || memcmp(got, w, wn) != 0)
		fprintf(stderr, "    %s:\n", what);
	CHECK_MEM(got, n < 0 ? 0 : (size_t)n, w, wn);
	return n >= 0 && (size_t)n == wn && memcmp(got, w, wn) == 0;
}

/* Sends `bytes` to the tool (the sender of the last datagram). */
static void reply(struct peer *p, const char *bytes)
{
	uint8_t b[2048];
	size_t n = hex(bytes, b, sizeof(b));

	CHECK(p->have_client);
	CHECK_EQ(sendto(p->fd, b, n, 0, (struct sockaddr *)&p->client, sizeof(p->client)),
	         (long long)n);
}

/* Nothing more from the tool for `ms`. */
static void expect_silence(struct peer *p, int ms)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};

	CHECK_EQ(poll(&pfd, 1, ms), 0);
}

/* Runs a publisher expected to send exactly one datagram and exit 0. */
static void pub_one_datagram(const char *const *args, const char *want, const char *what)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p, args), 0);
	expect(&p, want, WAIT_MS, what);
	CHECK_EQ(tool_finish(&t), 0);
	expect_silence(&p, 100);
	close(p.fd);
}

static void test_qos_m1(void)
{
	/* §6.8: no CONNECT; Flags QoS 0b11; MsgId 0x0000. */
	pub_one_datagram((const char *[]){"-q", "-1", "-t", "ab", "-m", "hi", NULL},
	                 "09 0c 62 'ab' 00 00 'hi'", "QoS -1 to the short topic 'ab'");
	pub_one_datagram((const char *[]){"-q", "-1", "--sn-topic-id", "5", "-r", "-m", "hi", NULL},
	                 "09 0c 71 00 05 00 00 'hi'", "QoS -1 retained to predefined id 5");
	pub_one_datagram((const char *[]){"-q", "-1", "--sn-topic-id", "258", "-n", NULL},
	                 "07 0c 61 01 02 00 00", "QoS -1 empty message to predefined id 258");
}

/* QoS -1 to a topic that needs REGISTER is refused before any datagram is sent. */
static void test_qos_m1_needs_id(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p,
	                    (const char *[]){"-q", "-1", "-t", "a/b", "-m", "x", NULL}),
	         0);
	CHECK_EQ(tool_finish(&t), 1);
	expect_silence(&p, 100);
	close(p.fd);
}

/* CONNECT, REGISTER, PUBLISH QoS 0, DISCONNECT (§6.3, §6.5, §6.6). */
static void test_qos0_register(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(
	                 &t, MQTT_FAST_PUB, &p,
	                 (const char *[]){"-i", "tpub", "-k", "30", "-t", "a/b", "-m", "hi", NULL}),
	         0);
	if (!expect(&p, "0a 04 04 01 00 1e 'tpub'", WAIT_MS, "CONNECT clean, duration 30"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "09 0a 00 00 00 01 'a/b'", WAIT_MS, "REGISTER a/b, MsgId 1"))
		goto out;
	reply(&p, "07 0b 00 2a 00 01 00");
	if (!expect(&p, "09 0c 00 00 2a 00 00 'hi'", WAIT_MS, "PUBLISH QoS 0 on topic id 42"))
		goto out;
	if (!expect(&p, "02 18", WAIT_MS, "DISCONNECT"))
		goto out;
	reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 0);
	close(p.fd);
}

/* QoS 1: the first PUBLISH is "lost"; the retransmission after Tretry has DUP set (§6.13). */
static void test_qos1_retransmit(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(
	                 &t, MQTT_FAST_PUB, &p,
	                 (const char *[]){"-i", "tpub1", "-q", "1", "-t", "a/b", "-m", "hi", NULL}),
	         0);
	if (!expect(&p, "0b 04 04 01 00 3c 'tpub1'", WAIT_MS, "CONNECT"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "09 0a 00 00 00 01 'a/b'", WAIT_MS, "REGISTER"))
		goto out;
	reply(&p, "07 0b 00 2a 00 01 00");
	if (!expect(&p, "09 0c 20 00 2a 00 02 'hi'", WAIT_MS, "PUBLISH QoS 1, MsgId 2"))
		goto out;
	if (!expect(&p, "09 0c a0 00 2a 00 02 'hi'", 3500, "PUBLISH retransmitted with DUP"))
		goto out;
	reply(&p, "07 0d 00 2a 00 02 00");
	if (!expect(&p, "02 18", WAIT_MS, "DISCONNECT"))
		goto out;
	reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 0);
	close(p.fd);
}

/* QoS 2 to a short topic (no REGISTER), clean session off, with the Will exchange. */
static void test_qos2_will(void)
{
	struct peer p;
	struct tool t;
	const char *args[] = {"-i",  "tpub2",        "-c",  "-q",
	                      "2",   "-t",           "ab",  "-m",
	                      "hi",  "--will-topic", "w/t", "--will-payload",
	                      "bye", "--will-qos",   "1",   "--will-retain",
	                      NULL};

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p, args), 0);
	if (!expect(&p, "0b 04 08 01 00 3c 'tpub2'", WAIT_MS, "CONNECT with Will, not clean"))
		goto out;
	reply(&p, "02 06"); /* WILLTOPICREQ */
	if (!expect(&p, "06 07 30 'w/t'", WAIT_MS, "WILLTOPIC QoS 1 retained"))
		goto out;
	reply(&p, "02 08"); /* WILLMSGREQ */
	if (!expect(&p, "05 09 'bye'", WAIT_MS, "WILLMSG"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "09 0c 42 'ab' 00 01 'hi'", WAIT_MS, "PUBLISH QoS 2 short topic"))
		goto out;
	reply(&p, "04 0f 00 01");
	if (!expect(&p, "04 10 00 01", WAIT_MS, "PUBREL"))
		goto out;
	reply(&p, "04 0e 00 01");
	if (!expect(&p, "02 18", WAIT_MS, "DISCONNECT"))
		goto out;
	reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 0);
	close(p.fd);
}

/* CONNACK "rejected: congestion" -> exit 1; REGACK "invalid topic ID" -> DISCONNECT, exit 1. */
static void test_refusals(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p,
	                    (const char *[]){"-i", "tref", "-t", "a/b", "-m", "hi", NULL}),
	         0);
	if (expect(&p, "0a 04 04 01 00 3c 'tref'", WAIT_MS, "CONNECT"))
		reply(&p, "03 05 01");
	CHECK_EQ(tool_finish(&t), 1);
	expect_silence(&p, 100);

	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p,
	                    (const char *[]){"-i", "tref", "-t", "a/b", "-m", "hi", NULL}),
	         0);
	if (!expect(&p, "0a 04 04 01 00 3c 'tref'", WAIT_MS, "CONNECT"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "09 0a 00 00 00 01 'a/b'", WAIT_MS, "REGISTER"))
		goto out;
	reply(&p, "07 0b 00 00 00 01 02");
	if (expect(&p, "02 18", WAIT_MS, "DISCONNECT after the refused REGISTER"))
		reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 1);
	close(p.fd);
}

/* Subscriber: SUBSCRIBE by name with a wildcard, an unknown topic id refused, the gateway's
 * REGISTER answered and its name printed with -v. */
static void test_sub_register(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_SUB, &p,
	                    (const char *[]){"-i", "tsub", "-q", "1", "-C", "1", "-v", "-t", "s/#",
	                                     NULL}),
	         0);
	if (!expect(&p, "0a 04 04 01 00 3c 'tsub'", WAIT_MS, "CONNECT"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "08 12 20 00 01 's/#'", WAIT_MS, "SUBSCRIBE QoS 1 by name"))
		goto out;
	reply(&p, "08 13 20 00 00 00 01 00");
	reply(&p, "09 0c 20 00 77 00 04 'no'");
	if (!expect(&p, "07 0d 00 77 00 04 02", WAIT_MS, "PUBACK invalid topic ID for id 0x77"))
		goto out;
	reply(&p, "09 0a 00 09 00 05 's/x'");
	if (!expect(&p, "07 0b 00 09 00 05 00", WAIT_MS, "REGACK for the gateway's REGISTER"))
		goto out;
	reply(&p, "0c 0c 20 00 09 00 06 'hello'");
	if (!expect(&p, "07 0d 00 09 00 06 00", WAIT_MS, "PUBACK"))
		goto out;
	if (!expect(&p, "02 18", WAIT_MS, "DISCONNECT after -C 1"))
		goto out;
	reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 0);
	CHECK_MEM(t.out, t.out_len, "s/x hello\n", strlen("s/x hello\n"));
	close(p.fd);
}

/* Sleeping subscriber (§6.14): DISCONNECT with Duration, PINGREQ with the client id to wake,
 * buffered PUBLISH, PINGRESP; then DISCONNECT without Duration after -C 1. */
static void test_sub_sleep(void)
{
	struct peer p;
	struct tool t;

	CHECK_EQ(peer_open(&p), 0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_SUB, &p,
	                    (const char *[]){"-i", "tslp", "-C", "1", "-v", "--sleep", "2", "-t",
	                                     "ab", NULL}),
	         0);
	if (!expect(&p, "0a 04 04 01 00 3c 'tslp'", WAIT_MS, "CONNECT"))
		goto out;
	reply(&p, "03 05 00");
	if (!expect(&p, "07 12 02 00 01 'ab'", WAIT_MS, "SUBSCRIBE QoS 0 short topic"))
		goto out;
	reply(&p, "08 13 00 00 00 00 01 00");
	if (!expect(&p, "04 18 00 02", WAIT_MS, "DISCONNECT with Duration 2"))
		goto out;
	reply(&p, "02 18");
	if (!expect(&p, "06 16 'tslp'", 3000, "PINGREQ with the client id"))
		goto out;
	reply(&p, "09 0c 02 'ab' 00 00 'zz'");
	reply(&p, "02 17");
	if (!expect(&p, "02 18", WAIT_MS, "DISCONNECT"))
		goto out;
	reply(&p, "02 18");
out:
	CHECK_EQ(tool_finish(&t), 0);
	CHECK_MEM(t.out, t.out_len, "ab zz\n", strlen("ab zz\n"));
	close(p.fd);
}

/* Nothing listens on the port: the ICMP port unreachable ends the tool at once with status 1,
 * instead of retrying CONNECT for Tretry x Nretry. */
static void test_no_gateway(void)
{
	struct peer p;
	struct tool t;
	struct timespec t0, t1;

	CHECK_EQ(peer_open(&p), 0);
	close(p.fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(tool_start(&t, MQTT_FAST_PUB, &p, (const char *[]){"-t", "a/b", "-m", "x", NULL}),
	         0);
	CHECK_EQ(tool_finish(&t), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_qos_m1();
	test_qos_m1_needs_id();
	test_qos0_register();
	test_qos1_retransmit();
	test_qos2_will();
	test_refusals();
	test_sub_register();
	test_sub_sleep();
	test_no_gateway();
	return check_report();
}
