/* client_mqtt.h - one MQTT 3.1/3.1.1/5 client session over TCP for the command-line tools:
 * connect with a bounded wait, packets framed with mqtt_framer and decoded with mqtt_decode,
 * every receive bounded by a deadline, -d debug lines in mosquitto's "Client X sending ..."
 * form on stderr. */
#ifndef MQTT_FAST_TOOLS_CLIENT_MQTT_H
#define MQTT_FAST_TOOLS_CLIENT_MQTT_H

#include "args.h"
#include "mqtt.h"

struct mqtt_client {
	int fd;
	uint8_t version;
	const char *prog; /* borrowed, for messages */
	const char *id;   /* borrowed, for debug lines */
	bool debug;
	uint16_t last_mid;
	long long last_tx_ms; /* when a packet was last sent (keep alive) */
	struct mqtt_framer framer;
	size_t in_len, in_off; /* unframed bytes in `in` */
	uint8_t in[16384];
};

/* Resolves a->host, connects to a->port (at most CLI_WAIT_MS per address), sends CONNECT built
 * from *a and waits for CONNACK. Returns 0 when accepted; otherwise prints why and returns
 * -ECONNREFUSED (CONNACK refusal, its reason printed), -ETIMEDOUT or another negative errno.
 * Borrows a (it must outlive c). */
int mc_connect(struct mqtt_client *c, const struct cli_args *a);

/* Encodes and sends one packet (blocking, bounded by CLI_WAIT_MS). 0 or a negative errno.
 * Borrows pkt. */
int mc_send(struct mqtt_client *c, const struct mqtt_packet *pkt);

/* Waits until `deadline` (cli_now_ms() clock) for one packet. Returns 1 with *out set (its views
 * borrow c's buffers until the next mc_recv), 0 when the deadline passed, -EINTR on a signal,
 * -ECONNRESET when the server closed the connection, or another negative errno. */
int mc_recv(struct mqtt_client *c, struct mqtt_packet *out, long long deadline);

/* Waits (until CLI_WAIT_MS from now) for the ack of type `type` with `packet_id`, ignoring
 * other packets. Returns 0 with *out set, or a negative errno with a message printed. */
int mc_wait_ack(struct mqtt_client *c, uint8_t type, uint16_t packet_id, struct mqtt_packet *out);

/* Next non-zero packet identifier. */
uint16_t mc_next_mid(struct mqtt_client *c);

/* Sends DISCONNECT and waits briefly for the server to close; then closes. Safe on a client
 * whose connect failed (fd -1). */
void mc_disconnect(struct mqtt_client *c);

/* Closes the socket and frees the framer. Idempotent. */
void mc_close(struct mqtt_client *c);

#endif
