/* sn_internal.h - what the MQTT-SN gateway's files share (sn_gateway.c: datagrams and the
 * client table; sn_session.c: sessions, publishing, subscriptions, sleep; sn_deliver.c:
 * deliveries, REGISTER, retransmission; sn_listener.c: sockets). */
#ifndef MQTT_FAST_SN_INTERNAL_H
#define MQTT_FAST_SN_INTERNAL_H

#include "broker.h"

/* Largest datagram the gateway sends: a delivery that does not fit is dropped (counted). */
#define SN_MAX_OUT 2048

/* Who sent a datagram beyond its address: the wireless node behind a forwarder, if any. */
struct sn_origin {
	bool encapsulated;
	const uint8_t *node;
	uint8_t node_len;
};

/* sn_listener.c: queues one datagram (copied) for the flush point. 0 or -ENOMEM. */
int sn_queue_datagram(struct sn_listener *l, const struct sockaddr_storage *to, socklen_t tolen,
                      const uint8_t *d, size_t len);

/* sn_gateway.c */
struct sn_client *sn_client_find(struct broker *b, const struct sockaddr_storage *a,
                                 const uint8_t *node, uint8_t nlen);
/* Unlinks and frees the client (its session must already be detached). */
void sn_client_free(struct sn_client *c);
/* Encodes `m` and queues it to the client (encapsulated for a forwarder). 0 or -errno. */
int sn_send(struct sn_client *c, const struct mqttsn_msg *m);

/* Moves a client to a new address (a sleeping device behind a NAT that rebound). */
void sn_client_move(struct sn_client *c, struct sn_listener *l, const struct sockaddr_storage *a,
                    const struct sn_origin *o);

/* sn_session.c */
/* c->peer from its address (and node id). */
void sn_format_peer(struct sn_client *c);
/* A notice through the gateway's flood limiter (floods from one address stay one line). */
void sn_log_limited(struct broker *b, const char *peer, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
bool mqtt_utf8_valid_view(struct mqtt_str s);
/* Finds or creates the broker session for client id `id` (taking it over from wherever it is
 * attached) and attaches it to `c`. 0 or -ENOMEM. */
int sn_session_attach(struct sn_client *c, struct mqtt_str id);
/* CONNECT complete: CONNACK accepted, state active, queued messages start flowing. */
void sn_connected(struct sn_client *c);
/* Refuses during the will dialogue: CONNACK with `code`, then the client is dropped. */
void sn_connack_refuse(struct sn_client *c, uint8_t code, const char *why);
/* Ends the client: publishes its will when `lost` (keep alive / retries exhausted), detaches
 * or ends its session, frees it. `why` is logged when non-NULL. */
void sn_client_end(struct sn_client *c, bool lost, const char *why);
/* A known sleeping client id speaking from a new address: moves it there. NULL if unknown. */
struct sn_client *sn_client_rebind(struct sn_listener *l, const struct sockaddr_storage *a,
                                   const struct sn_origin *o, struct mqtt_str client_id);
/* PUBLISH from a client; `c` is NULL for QoS -1 from an unconnected address (then a/o say
 * who sent it). */
void sn_handle_publish(struct sn_listener *l, struct sn_client *c, const struct sockaddr_storage *a,
                       const struct sn_origin *o, const struct mqttsn_publish *m);
void sn_handle_ack(struct sn_client *c, const struct mqttsn_msg *m);
void sn_handle_subscribe(struct sn_client *c, const struct mqttsn_subscribe *m, bool subscribe);
void sn_handle_pingreq(struct sn_client *c, const struct mqttsn_pingreq *m);
void sn_handle_disconnect(struct sn_client *c, const struct mqttsn_disconnect *m);

/* sn_deliver.c */
/* Records what the client knows about normal topic id `id`. */
void sn_reg_set(struct sn_client *c, uint16_t id, uint8_t state);
uint8_t sn_reg_get(const struct sn_client *c, uint16_t id);

#endif
