/* sn.h - the MQTT-SN v1.2 gateway inside the broker.
 *
 * Aggregating gateway: every MQTT-SN client gets its own broker session, in the same session
 * table and subscription tree as MQTT clients, so one topic space serves both. Topic ids are
 * broker-global (topic_ids.h). A client is identified by its UDP address (and, behind a
 * forwarder, by the forwarder's address plus its wireless node id, §5.5). */
#ifndef MQTT_FAST_SN_H
#define MQTT_FAST_SN_H

#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sn/mqttsn.h"

struct broker;
struct session;
struct listener_conf;
struct topic_ids;

/* Counters of the gateway, published under $SYS/broker/mqttsn/. */
struct sn_stats {
	uint64_t datagrams_received, datagrams_sent, send_errors;
	uint64_t malformed;      /* length/field errors: dropped */
	uint64_t unknown_type;   /* reserved message types: dropped */
	uint64_t unknown_client; /* from an address with no session, other than CONNECT,
				    SEARCHGW and QoS -1 PUBLISH: dropped */
	uint64_t qos_m1_received, qos_m1_dropped;
	uint64_t publish_received, publish_sent;
	uint64_t registers_sent, register_rejected;
	uint64_t retransmissions, clients_lost;
};

/* A datagram waiting for the flush point (sendmmsg). */
struct sn_dgram {
	struct sockaddr_storage to;
	socklen_t tolen;
	uint32_t len;
	uint8_t *data; /* owned */
};

struct sn_listener {
	struct broker *b;
	struct sn_listener *next; /* all SN listeners */
	ev_io io;
	int fd;
	const struct listener_conf *conf;
	struct sn_dgram *out;
	size_t nout, outcap;
};

/* Where a client is in its life (MQTT-SN 1.2 §6.14 client state diagram, gateway side). */
enum sn_state {
	SN_WAIT_WILLTOPIC, /* CONNECT with Will: WILLTOPICREQ sent */
	SN_WAIT_WILLMSG,   /* WILLTOPIC received: WILLMSGREQ sent */
	SN_ACTIVE,
	SN_ASLEEP, /* DISCONNECT with a duration: messages are buffered */
	SN_AWAKE,  /* PINGREQ from a sleeping client: buffered messages are being sent */
};

/* What this client knows about a normal topic id the gateway wants to send on (§6.10). */
enum sn_reg_state {
	SN_REG_OK = 1,   /* registered: PUBLISH may use the id */
	SN_REG_REJECTED, /* REGACK with a rejection: no deliveries of this topic */
};

struct sn_reg {
	uint16_t topic_id;
	uint8_t state; /* enum sn_reg_state */
};

#define SN_NODE_ID_MAX 252 /* Wireless Node Id: the rest of a 1-octet-length header (§5.5) */

struct sn_client {
	struct broker *b;
	struct sn_listener *l;
	struct sn_client *hnext; /* address table chain */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint8_t node_id[SN_NODE_ID_MAX]; /* behind a forwarder (encapsulated) */
	uint8_t node_id_len;
	bool encapsulated;
	char peer[96];

	struct session *session;
	uint8_t state; /* enum sn_state */
	bool clean;
	uint16_t duration; /* keep alive while active, sleep duration while asleep (s) */
	int64_t last_rx_ms;

	/* Will dialogue (§6.3), then the will itself. */
	uint8_t will_qos;
	bool will_retain;
	uint8_t *will_topic; /* owned, until the WILLMSG arrives */
	uint16_t will_topic_len;
	struct msg *will; /* owned */

	/* Topic ids registered with this client, and the one REGISTER in flight. */
	struct sn_reg *regs;
	uint16_t nregs, regcap;
	uint16_t reg_msg_id; /* 0 = no REGISTER in flight */
	uint16_t reg_topic_id;
	uint8_t reg_tries;
	int64_t reg_retry_at;
	uint16_t last_msg_id;

	/* Retransmission of the in-flight QoS 1/2 delivery (one at a time). */
	uint8_t tries;
	int64_t retry_at;

	/* Kernel fast-path slots (broker/fastpath.c), slot + 1; 0 = none. */
	uint16_t fp_sub, fp_pub;
};

/* The gateway's state inside struct broker. */
struct sn_gateway {
	struct sn_listener *listeners;
	struct sn_client **buckets; /* clients by address, chained */
	size_t nbuckets, nclients;
	struct topic_ids *ids;
	struct sn_stats stats;
	int64_t next_advertise_ms;
};

/* Opens every `protocol mqttsn` listener (UDP, IPv4/IPv6). 0 or a negative errno (logged). */
int sn_listeners_open(struct broker *b);
void sn_listeners_close(struct broker *b);

/* Sends the datagrams queued during this loop iteration (one sendmmsg per listener). */
void sn_flush(struct broker *b);

/* The gateway's entry point: one datagram received on `l` from `from`. Anything malformed,
 * unknown or unexpected is dropped and counted, with a rate-limited log line; it never affects
 * another client. Borrows everything. */
void sn_handle_datagram(struct sn_listener *l, const struct sockaddr *from, socklen_t fromlen,
                        const uint8_t *d, size_t len);

/* Sends what an SN session may receive now: REGISTER first for a topic the client does not
 * know yet (§6.10), nothing while it sleeps (§6.14). */
void sn_pump(struct broker *b, struct session *s);

/* The session of `c` is being taken over (CONNECT with the same client id elsewhere): the
 * client is dropped without its will. */
void sn_client_taken_over(struct sn_client *c);

/* Once a second: keep alive and sleep supervision, retransmissions, ADVERTISE. */
void sn_tick(struct broker *b, int64_t now_ms);

/* Frees every client (shutdown). */
void sn_clients_free_all(struct broker *b);

#endif
