/* broker.h - the broker instance and its connections. Every module takes `struct broker *`:
 * there are no globals, so tests and fuzzers build their own instance. */
#ifndef MQTT_FAST_BROKER_H
#define MQTT_FAST_BROKER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"
#include "log.h"
#include "mqtt.h"
#include "msg.h"
#include "retain.h"
#include "session.h"
#include "sn.h"
#include "subtree.h"
#include "topic.h"
#include "topic_ids.h"

/* Bytes read from a socket per read(2); one buffer per broker, since the framer assembles
 * packets split across reads in its own buffer. */
#define BROKER_READ_CHUNK 65536

/* Seconds a new connection has to send its CONNECT before it is closed. */
#define BROKER_CONNECT_TIMEOUT_S 10.0

/* Most Topic Aliases the broker assigns towards one client, whatever larger Topic Alias Maximum
 * the client allows: bounds the per-connection map and its linear lookup (alias.c). */
#define BROKER_ALIAS_OUT_MAX 64

/* One piece of a connection's pending output: bytes in the connection's own buffer
 * (ref == NULL, at offset `off`), or a stored message's payload (ref holds a reference). */
struct out_seg {
	struct msg *ref;
	const uint8_t *p; /* payload, when ref != NULL */
	uint32_t off;     /* offset into outbuf.bytes, when ref == NULL */
	uint32_t len;
};

/* Pending output of one connection, flushed with writev once per loop iteration. */
struct outbuf {
	uint8_t *bytes; /* packet headers and control packets */
	size_t blen, bcap;
	struct out_seg *segs;
	size_t head, nsegs, scap; /* segs[head..nsegs) are pending */
	size_t head_done;         /* bytes of segs[head] already written */
	size_t pending;           /* total bytes not yet written */
};

struct auth_db;    /* auth.h */
struct acl;        /* acl.h */
struct alias_out;  /* alias.c */
struct tls_conn;   /* tls.h */
struct ws_conn;    /* ws.h */
struct store;      /* store.h */
struct ssl_ctx_st; /* OpenSSL's SSL_CTX (tls.h) */

struct listener {
	struct broker *b;
	ev_io io;
	int fd;
	const struct listener_conf *conf;
	uint32_t nconns;
	struct ssl_ctx_st *tls_ctx;      /* owned reference; NULL = plain TCP */
	struct log_ratelimit tls_errors; /* TLS handshake failure lines */
};

struct conn {
	struct broker *b;
	struct conn *prev, *next; /* all connections */
	struct conn *next_dirty;  /* connections with output to flush */
	bool dirty;
	bool closing;          /* closed: freed at the next safe point */
	uint8_t fail_reason;   /* set by a handler before failing: the DISCONNECT reason to send */
	const char *fail_text; /* static text naming the failure: log line and Reason String */
	int fd;
	ev_io rio, wio;
	ev_timer timer; /* CONNECT timeout, then keep alive */
	struct listener *listener;
	struct mqtt_framer framer;
	struct outbuf out;
	char peer[64];        /* "address:port", for log lines */
	struct tls_conn *tls; /* owned; NULL on plain TCP */
	struct ws_conn *ws;   /* owned; NULL unless MQTT over WebSockets (ws.h) */

	/* After CONNECT. */
	bool connected;
	uint8_t version;
	uint16_t keep_alive;
	int64_t last_rx_ms;
	struct session *session;
	bool has_username;
	/* MQTT 5 limits the client asked for. */
	uint32_t max_packet_out;  /* Maximum Packet Size; 0 = protocol maximum */
	uint16_t receive_max_out; /* in-flight window towards the client */
	uint16_t topic_alias_max_in;
	struct msg **aliases_in; /* topic alias -> message carrying its topic; owned refs */
	/* Aliases the broker may assign towards the client: min(its Topic Alias Maximum,
	 * BROKER_ALIAS_OUT_MAX); the map is allocated at the first PUBLISH sent with one. */
	uint16_t topic_alias_max_out;
	struct alias_out *aliases_out;
	/* Request Problem Information (default 1): Reason Strings on packets other than CONNACK
	 * and DISCONNECT only when set [MQTT-3.1.2-29]. */
	bool request_problem_info;
	/* Will: published when the connection ends without a normal DISCONNECT [MQTT-3.1.2-8]. */
	struct msg *will;
	uint32_t will_delay;
};

/* Counters published under $SYS. */
struct broker_stats {
	uint64_t msgs_received, msgs_sent, msgs_dropped;
	uint64_t bytes_received, bytes_sent;
	uint64_t publish_received, publish_sent;
	uint64_t connections_total, protocol_errors;
	uint32_t clients_connected, clients_maximum;
	uint64_t queued_bytes; /* in every session's queue: what memory_limit bounds */
};

/* $SYS/broker/load/...: mosquitto's exponentially decayed per-minute rates, one per counter
 * (sys.c), over 1, 5 and 15 minutes. */
enum { SYS_LOAD_COUNTERS = 9, SYS_LOAD_WINDOWS = 3 };
struct sys_load {
	bool started;
	int64_t last_ms;                  /* time of the previous update */
	uint64_t last[SYS_LOAD_COUNTERS]; /* the counters then */
	double avg[SYS_LOAD_COUNTERS][SYS_LOAD_WINDOWS];
};

/* Sessions by client id. */
struct session_table {
	struct session **slots; /* open addressing; NULL = empty, tombstones marked below */
	size_t cap, count, used;
};

/* A subscriber picked by routing for one message, before its delivery is queued. */
struct route_target {
	struct session *s;
	uint8_t qos;
	bool retain;
	uint8_t nsub_ids;
	uint32_t sub_ids[8];
};

struct broker {
	struct ev_loop *loop;
	struct config cfg;
	const char *config_path;
	struct logger log;
	int64_t start_ms;
	bool stopping; /* shutting down: connections end without publishing wills */

	struct listener *listeners;
	size_t nlisteners;
	struct conn *conns;
	struct conn *dirty;
	struct conn *closing;
	ev_prepare flush_watcher;
	ev_timer tick; /* once a second: session expiry, will delays, $SYS */
	ev_signal sigterm, sigint, sighup;
	ev_signal tls_sighup; /* listener.c: re-reads TLS certificates and keys */
	int64_t next_sys_ms;

	struct session_table sessions;
	struct subtree *subs;
	struct retain_store *retained;
	uint32_t match_gen;
	struct route_target *targets;
	size_t ntargets, targets_cap;
	uint64_t next_auto_id;

	struct broker_stats stats;
	struct sn_gateway sn; /* the MQTT-SN gateway: listeners, clients, topic ids */
	struct log_ratelimit sn_ratelimit;
	size_t last_route_targets; /* subscribers the last routed message went to */
	struct log_ratelimit drop_ratelimit;
	struct pending_will *wills; /* delayed wills [MQTT-3.1.3-9] */
	struct auth_db *passwords;  /* password_file (auth.c); NULL when not set */
	struct acl *acl;            /* acl_file (acl.c); NULL when not set: everything allowed */
	struct fastpath *fp;        /* kernel fast path control (fastpath.h); owned */
	struct control *control;    /* control_socket (control.h); owned; NULL = none */
	uint8_t rbuf[BROKER_READ_CHUNK];

	/* $SYS additions: the load averages (sys.c) and the sessions removed by
	 * persistent_client_expiration (broker.c), $SYS/broker/clients/expired. */
	struct sys_load load;
	uint64_t clients_expired;

	/* persistence true: the LMDB store (store.c); NULL otherwise. */
	struct store *store;
	int exit_status; /* the daemon's exit status once the loop ends (1 after a store failure) */
};

/* ---- broker.c ---------------------------------------------------------------------------- */

/* Initialises `b` on `loop` with a loaded configuration (takes ownership of *cfg's contents):
 * opens the log, creates the trees, starts the timers. No socket is opened, so tests and
 * fuzzers run an instance without listeners; the daemon then calls listeners_open().
 * 0 or a negative errno. */
int broker_init(struct broker *b, struct ev_loop *loop, struct config *cfg);
/* Closes every connection and frees everything the broker owns (not the loop). */
void broker_free(struct broker *b);
/* Monotonic clock in milliseconds. */
int64_t broker_now_ms(const struct broker *b);

/* Session table. find returns a borrowed pointer or NULL; add takes ownership of `s`;
 * remove unlinks (does not free). */
struct session *sessions_find(struct broker *b, const uint8_t *id, uint16_t len);
int sessions_add(struct broker *b, struct session *s);
void sessions_remove(struct broker *b, struct session *s);
/* Ends a session for good: publishes a delayed will it still has, removes its subscriptions
 * from the tree, unlinks and frees it. */
void session_destroy(struct broker *b, struct session *s);

/* A will waiting for its Will Delay Interval [MQTT-3.1.3-9]. */
struct pending_will {
	struct pending_will *next;
	struct session *s;
	struct msg *m; /* owned reference */
	int64_t at;    /* monotonic ms */
};
/* Detaches a session from its live transport (MQTT connection or MQTT-SN client), telling the
 * old client it was taken over; used when the same client id connects again. */
void session_kick(struct broker *b, struct session *s);

/* Schedules `m` (a new reference is taken) to be published after `delay` seconds unless the
 * session reconnects first; a session ending earlier publishes it then. */
void session_set_will(struct broker *b, struct session *s, struct msg *m, uint32_t delay);
/* Cancels the delayed will of a session that reconnected. */
void session_cancel_will(struct broker *b, struct session *s);

/* ---- listener.c -------------------------------------------------------------------------- */

/* "address:port" ("[v6]:port") of a socket address, for log lines. Borrows ss. */
void peer_format(const struct sockaddr_storage *ss, char *out, size_t len);
/* Opens and starts every configured MQTT listener. 0 or a negative errno (logged). */
int listeners_open(struct broker *b);
void listeners_close(struct broker *b);

/* ---- conn.c ------------------------------------------------------------------------------ */

/* Takes ownership of an accepted, non-blocking socket. NULL on allocation failure (fd closed). */
struct conn *conn_new(struct broker *b, struct listener *l, int fd, const char *peer);
/* Appends an encoded packet to the output (copied). 0 or -ENOMEM. */
int conn_send_bytes(struct conn *c, const uint8_t *p, size_t len);
/* Encodes and appends `pkt` for the connection's version; -EMSGSIZE when it exceeds the client's
 * Maximum Packet Size (not sent [MQTT-3.1.2-24]). */
int conn_send_packet(struct conn *c, const struct mqtt_packet *pkt);
/* As conn_send_packet, with `text` (may be NULL) as the MQTT 5 Reason String of a CONNACK,
 * DISCONNECT, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBACK or UNSUBACK where the client may receive one:
 * always on CONNACK and DISCONNECT, on the others only with Request Problem Information 1
 * [MQTT-3.1.2-29]; dropped when it would exceed the client's Maximum Packet Size
 * [MQTT-3.2.2-19, MQTT-3.4.2-2, MQTT-3.9.2-1, MQTT-3.14.2-3]. Borrows both; modifies pkt's
 * property block. */
int conn_send_reason(struct conn *c, struct mqtt_packet *pkt, const char *text);
/* Appends a PUBLISH: the header is encoded into the buffer, the payload referenced from `m`. */
int conn_send_publish(struct conn *c, const struct mqtt_publish *p, struct msg *m);
/* Closes the connection at the next safe point, after a last attempt to flush its output.
 * Safe to call more than once and from inside callbacks. `why` is logged when non-NULL. */
void conn_close(struct conn *c, const char *why);
/* Sends an MQTT 5 DISCONNECT with `reason` and `text` (may be NULL) as its Reason String (v5
 * only, after CONNECT), then closes; `why` is logged when non-NULL. Borrows both strings. */
void conn_disconnect(struct conn *c, uint8_t reason, const char *text, const char *why);
/* True when the client reads so slowly that QoS 0 output to it should be dropped. */
bool conn_output_congested(const struct conn *c);

/* The queue bounds every session gets (max_queued_messages, max_queued_bytes, memory_limit
 * against b->stats.queued_bytes). */
struct session_limits broker_queue_limits(struct broker *b);
/* Restarts the keep-alive timer after a packet was received. */
void conn_touch(struct conn *c);
/* Flushes pending output of every dirty connection and frees closed ones. */
void conns_flush_and_reap(struct broker *b);
/* Frees everything at shutdown. */
void conns_free_all(struct broker *b);

/* ---- dispatch.c and handlers --------------------------------------------------------------- */

/* Handles one whole packet read from `c`. On a protocol failure it answers as the spec says
 * and closes the connection. */
void dispatch_packet(struct conn *c, const uint8_t *pkt, size_t len);
int handle_connect(struct conn *c, const struct mqtt_connect *p);
int handle_disconnect(struct conn *c, const struct mqtt_reason_only *p);
int handle_publish(struct conn *c, const struct mqtt_publish *p);
int handle_puback(struct conn *c, uint8_t type, const struct mqtt_ack *p);
int handle_subscribe(struct conn *c, const struct mqtt_subscribe *p);
int handle_unsubscribe(struct conn *c, const struct mqtt_unsubscribe *p);
/* The connection went away (any reason): will, session detach or end. */
void connection_lost(struct conn *c, bool send_will);

/* ---- route.c ----------------------------------------------------------------------------- */

/* Delivers `m` to every matching subscriber and, when retained, updates the retained store.
 * `from` is the publishing session (for No Local), NULL for broker-made messages.
 * This is the one place that decides who serves each subscriber. Borrows m. */
void route_message(struct broker *b, struct msg *m, const struct session *from);
/* Sends one delivery as a PUBLISH on c (DUP when it was sent before). 0, -EMSGSIZE (over the
 * client's Maximum Packet Size: not sent), -ENOMEM. */
int delivery_send(struct conn *c, struct delivery *d);
/* Sends what the session's window allows to its connection (if online). */
void session_pump(struct broker *b, struct session *s);

/* ---- alias.c: server-to-client Topic Aliases (MQTT 5.0 §3.3.2.3.4) ---------------------- */

/* The alias to send `topic` with on c, 0 for none (the client allows no aliases
 * [MQTT-3.1.2-27], or out of memory). *with_topic says whether the Topic Name must go along:
 * false when the client already maps the alias to this topic, true for a new alias or one
 * taken back from the least recently used topic. Changes nothing: the map is updated by
 * alias_out_sent once the PUBLISH is queued. Borrows topic. */
uint16_t alias_out_pick(struct conn *c, const uint8_t *topic, uint16_t len, bool *with_topic);
/* Records that a PUBLISH with `alias` (and the topic when it carried it) was queued on c.
 * Borrows topic (copied). */
void alias_out_sent(struct conn *c, uint16_t alias, const uint8_t *topic, uint16_t len);
/* Frees a connection's map. NULL is ignored. */
void alias_out_free(struct alias_out *a);

/* ---- sys.c ------------------------------------------------------------------------------- */

/* Publishes the $SYS tree (retained) when its interval elapsed. */
void sys_publish(struct broker *b, bool force);

#endif
