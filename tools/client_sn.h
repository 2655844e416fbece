/* client_sn.h - one MQTT-SN 1.2 client session over UDP for the command-line tools: requests
 * retransmitted every SN_TRETRY_MS up to SN_NRETRY times (MQTT-SN 1.2 §6.13), REGISTER from
 * the gateway answered and remembered (topic id -> name), PUBLISH delivered through a callback
 * with its acks, keep-alive and sleeping-client PINGREQ (§6.14). */
#ifndef MQTT_FAST_TOOLS_CLIENT_SN_H
#define MQTT_FAST_TOOLS_CLIENT_SN_H

#include "args.h"
#include "sn/mqttsn.h"

#define SN_TRETRY_MS 2000 /* Tretry, §6.13 */
#define SN_NRETRY    3    /* Nretry, §6.13 */
#define SN_QOS2_IN   32   /* incoming QoS 2 messages awaiting PUBREL */

/* Called for each PUBLISH received (once per QoS 2 message). `topic` is the name, the short
 * name, or the predefined id in decimal when no name is known; not NUL-terminated. */
typedef void (*sn_deliver_fn)(void *ctx, const char *topic, size_t topic_len, const uint8_t *data,
                              size_t len);

struct sn_topic_name {
	uint16_t id;
	char *name; /* owned */
};

struct sn_client {
	int fd;           /* connected UDP socket */
	const char *prog; /* borrowed */
	const char *id;   /* borrowed */
	bool debug;
	uint16_t last_mid;
	long long last_tx_ms;
	sn_deliver_fn deliver;
	void *deliver_ctx;
	struct sn_topic_name *names; /* owned; topic id -> name */
	size_t nnames;
	uint16_t qos2_in[SN_QOS2_IN];
	unsigned nqos2_in;
	uint8_t rx[65536];
};

/* Resolves a->host and opens a UDP socket connected to a->port. `deliver` (may be NULL) gets
 * the PUBLISH messages received. 0 or a negative errno (message printed). Borrows a and ctx. */
int sn_open(struct sn_client *c, const struct cli_args *a, sn_deliver_fn deliver, void *ctx);

/* Frees the topic map and closes the socket. Idempotent. */
void sn_close(struct sn_client *c);

/* Encodes and sends one datagram. 0 or a negative errno. Borrows m. */
int sn_send(struct sn_client *c, const struct mqttsn_msg *m);

/* CONNECT (§6.3) with the Will exchange when a->will_topic is set; waits for CONNACK.
 * 0, -ECONNREFUSED (ReturnCode printed), -ETIMEDOUT or another negative errno. */
int sn_connect(struct sn_client *c, const struct cli_args *a);

/* REGISTER (§6.5): sets *topic_id to the id the gateway assigned to `topic`. */
int sn_register(struct sn_client *c, const char *topic, uint16_t *topic_id);

/* Sends PUBLISH `p` (msg_id assigned here for QoS 1 and 2) and runs its QoS flow (§6.7):
 * PUBACK, or PUBREC / PUBREL / PUBCOMP. 0, -ECONNREFUSED on a rejecting ReturnCode, or a
 * negative errno. Borrows p. */
int sn_publish(struct sn_client *c, const struct mqttsn_publish *p);

/* SUBSCRIBE (§6.9) to `topic` (a name or filter; a 2-character name without wildcards goes as
 * a short topic) or, when topic is NULL, to the predefined id `predefined`. 0 or an error. */
int sn_subscribe(struct sn_client *c, const char *topic, uint16_t predefined, int qos);

/* PINGREQ (§6.11), with the client id when `wake` (a sleeping client waking up, §6.14); handles
 * what arrives until PINGRESP. 0 or a negative errno. */
int sn_ping(struct sn_client *c, bool wake);

/* DISCONNECT, with a Duration when `duration` > 0 (going to sleep, §6.14); waits for the
 * gateway's DISCONNECT. 0 or a negative errno. */
int sn_disconnect(struct sn_client *c, long duration);

/* Receives and handles what arrives until `deadline`. 1 when a datagram was handled, 0 when
 * the deadline passed, -EINTR on a signal, or a negative errno (gateway DISCONNECT:
 * -ECONNRESET). */
int sn_poll(struct sn_client *c, long long deadline);

#endif
