/* fuzz_broker.c - raw bytes from a client into a real broker instance: framing, decoding,
 * every handler, routing to a connected QoS 2 wildcard subscriber, output and close paths.
 * Each input is one client connection's whole byte stream over a socketpair. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"

/* A subscriber that receives whatever the fuzzed client manages to publish:
 * CONNECT (v5, client id "s") then SUBSCRIBE "#" at QoS 2 with No Local off. */
static const uint8_t subscriber[] = {
        0x10, 0x0e, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x02, 0x00, 0x3c, 0x00,
        0x00, 0x01, 's',  0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, '#',  0x02,
};

static void drain(int fd)
{
	uint8_t buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void spin(struct ev_loop *loop, int a, int b, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		drain(a);
		drain(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "allow_anonymous true\nlog_type none\nsys_interval 0\n"
	                           "max_packet_size 65536\n";
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct broker *b = malloc(sizeof(*b));
	struct config cfg;
	char err[256];
	int sub[2], pub[2];

	if (!loop || !b || config_load_string("fuzz", conf, &cfg, err, sizeof(err)) < 0)
		abort();
	if (broker_init(b, loop, &cfg) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sub) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pub) < 0)
		abort();
	conn_new(b, NULL, sub[0], "subscriber");
	conn_new(b, NULL, pub[0], "fuzzer");
	if (write(sub[1], subscriber, sizeof(subscriber)) != (ssize_t)sizeof(subscriber))
		abort();
	spin(loop, sub[1], pub[1], 2);

	/* The input in pieces of at most 4 KiB, with the loop running in between, so packets
	 * split across reads are assembled too. */
	for (size_t off = 0; off < size;) {
		size_t n = size - off < 4096 ? size - off : 4096;
		ssize_t w = write(pub[1], data + off, n);
		if (w <= 0)
			break;
		off += (size_t)w;
		spin(loop, sub[1], pub[1], 2);
	}
	spin(loop, sub[1], pub[1], 4);
	close(pub[1]);
	close(sub[1]);
	spin(loop, -1, -1, 2);

	broker_free(b);
	free(b);
	ev_loop_destroy(loop);
	return 0;
}
