/* tls.h - TLS on MQTT listeners (OpenSSL 3): one SSL context per TLS listener, built from its
 * mosquitto settings, and the non-blocking per-connection operations that conn.c drives from
 * its read and write watchers. OpenSSL types stay out of this header: conn.c and listener.c
 * never include OpenSSL.
 *
 * Settings (mosquitto 2.0 semantics, per listener):
 *   certfile + keyfile        make the listener TLS; both are required once any TLS setting
 *                             is present, and the key must match the certificate
 *   cafile / capath           trust anchors for client certificates
 *   require_certificate true  the client must present a certificate that verifies against
 *                             cafile/capath (one of them required), else the handshake fails;
 *                             false: no client certificate is asked for
 *   tls_version               the *minimum* version: tlsv1.3 (1.3 only), tlsv1.2 (default: 1.2
 *                             and 1.3), tlsv1.1 (as mosquitto 2.0's SSL_OP_NO_* choices)
 *   ciphers                   OpenSSL cipher list for TLS 1.2 and below
 *   use_identity_as_username  the client certificate's CN is the username; the CONNECT's user
 *                             name and password are ignored; no certificate or no CN refuses
 *                             the CONNECT (Bad User Name or Password) */
#ifndef MQTT_FAST_TLS_H
#define MQTT_FAST_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct conn;
struct listener_conf;
struct mqtt_connect;
struct ssl_ctx_st; /* SSL_CTX */
struct ssl_st;     /* SSL */

/* Bytes of small output segments coalesced into one SSL_write (one full TLS record). */
#define TLS_COALESCE 16384

/* What a TLS operation that returned -EAGAIN waits for. */
enum tls_want {
	TLS_WANT_NONE = 0,
	TLS_WANT_READ,  /* the socket must become readable */
	TLS_WANT_WRITE, /* the socket must become writable */
};

/* The TLS state of one connection (conn.tls; NULL on plain TCP connections). */
struct tls_conn {
	struct ssl_st *ssl;
	bool established; /* handshake completed */
	bool failed;      /* fatal error: no close_notify at the end */
	/* What the last blocked operation of each kind waits for (enum tls_want). */
	uint8_t hs_want, read_want, write_want;
	/* Coalesced output handed to SSL_write and not yet accepted: wbuf[woff..wlen). Kept
	 * unchanged until written, as OpenSSL requires when a write is retried. Allocated when
	 * needed, freed once drained. */
	uint8_t *wbuf;
	size_t woff, wlen;
	char *peer_cn; /* owned; the verified client certificate's CN, NULL without one */
	char err[200]; /* the reason of the last failure, for the log line */
};

/* Builds the SSL context of a listener from `conf`. *out is NULL for a plain listener (no TLS
 * setting), else an owned context (tls_ctx_free). Errors ("file:line: listener PORT: reason")
 * are logged; returns 0 or -EINVAL / -ENOMEM. Borrows conf. */
int tls_ctx_new(struct broker *b, const struct listener_conf *conf, struct ssl_ctx_st **out);
/* Takes another reference on ctx (one per listening socket). */
void tls_ctx_ref(struct ssl_ctx_st *ctx);
/* Drops one reference; NULL is ignored. Connections keep their own reference. */
void tls_ctx_free(struct ssl_ctx_st *ctx);

/* Gives c an owned tls_conn on its socket, in the server role. 0 or -ENOMEM. Borrows ctx. */
int tls_conn_new(struct conn *c, struct ssl_ctx_st *ctx);
/* Sends close_notify once (non-blocking, best effort) when the session was established, then
 * frees everything. NULL is ignored. */
void tls_conn_free(struct tls_conn *t);

/* Advances the handshake. 1 when established (peer_cn set), -EAGAIN while in progress (hs_want
 * says on what), -ECONNRESET when the peer closed before finishing, another negative errno on
 * failure (t->err holds the OpenSSL reason). */
int tls_handshake(struct tls_conn *t);
/* SSL_read into buf. >0 bytes, 0 when the peer closed (close_notify or end of stream), -EAGAIN
 * (read_want says on what), or a negative errno (t->err says why). */
long tls_read(struct tls_conn *t, uint8_t *buf, size_t len);
/* SSL_write of p; a retry after -EAGAIN must pass the same bytes. >0 bytes written (may be
 * fewer than len), -EAGAIN (write_want says on what), or a negative errno (t->err says why). */
long tls_write(struct tls_conn *t, const uint8_t *p, size_t len);
/* True when OpenSSL holds decrypted or buffered input that no socket event will announce. */
bool tls_has_pending(const struct tls_conn *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" and the client certificate's CN, for the log. */
void tls_describe(const struct tls_conn *t, char *out, size_t len);

/* use_identity_as_username, called by handle_connect before any check: when c's listener sets
 * it, fills *copy from *p with the client certificate's CN as the user name and no password,
 * and points *p at it (the CN stays valid for the connection's life). Returns 0 (nothing to
 * do, or done) or the reason code to refuse the CONNECT with, *why saying why. */
uint8_t tls_connect_identity(struct conn *c, const struct mqtt_connect **p,
                             struct mqtt_connect *copy, const char **why);

#endif
