/* tls.c - TLS on MQTT listeners with OpenSSL 3: the SSL context of a listener from its
 * mosquitto settings (see tls.h), and the non-blocking handshake, read and write of one
 * connection, each mapping OpenSSL's outcome to 0 / -EAGAIN / a negative errno plus a reason. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "broker.h"
#include "tls.h"

/* ---- listener contexts ------------------------------------------------------------------- */

/* Logs "file:line: listener PORT: ..." with the OpenSSL reason appended when `ssl_reason`, and
 * returns -EINVAL. */
__attribute__((format(printf, 4, 5))) static int
conf_fail(struct broker *b, const struct listener_conf *conf, bool ssl_reason, const char *fmt, ...)
{
	char msg[512], reason[256] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ssl_reason) {
		unsigned long e = ERR_peek_last_error();
		if (e) {
			reason[0] = ':';
			reason[1] = ' ';
			ERR_error_string_n(e, reason + 2, sizeof(reason) - 2);
		}
	}
	ERR_clear_error();
	log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "%s:%u: listener %u: %s%s",
	         conf->source_file ? conf->source_file : "?", conf->source_line, conf->port, msg,
	         reason);
	return -EINVAL;
}

/* A file the broker must read: a clear reason when it cannot (OpenSSL's is cryptic). */
static int check_readable(struct broker *b, const struct listener_conf *conf, const char *what,
                          const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return conf_fail(b, conf, false, "%s %s: %s", what, path, strerror(errno));
	fclose(f);
	return 0;
}

static bool conf_is_tls(const struct listener_conf *conf)
{
	return conf->certfile || conf->keyfile || conf->cafile || conf->capath || conf->ciphers ||
	       conf->tls_version || conf->require_certificate || conf->use_identity_as_username;
}

/* Checks the settings that do not need OpenSSL. 0 or -EINVAL (logged). */
static int check_settings(struct broker *b, const struct listener_conf *conf, int *min_version)
{
	if (!conf->certfile || !conf->keyfile)
		return conf_fail(b, conf, false,
		                 "TLS settings need both certfile and keyfile (%s is missing)",
		                 conf->certfile ? "keyfile" : "certfile");
	if (conf->require_certificate && !conf->cafile && !conf->capath)
		return conf_fail(b, conf, false,
		                 "require_certificate true needs cafile or capath to verify "
		                 "client certificates");
	/* mosquitto 2.0: tls_version is the lowest version accepted (SSL_OP_NO_* below it). */
	if (!conf->tls_version || !strcmp(conf->tls_version, "tlsv1.2"))
		*min_version = TLS1_2_VERSION;
	else if (!strcmp(conf->tls_version, "tlsv1.3"))
		*min_version = TLS1_3_VERSION;
	else if (!strcmp(conf->tls_version, "tlsv1.1"))
		*min_version = TLS1_1_VERSION;
	else
		return conf_fail(b, conf, false,
		                 "tls_version '%s' is not one of tlsv1.3, tlsv1.2, tlsv1.1",
		                 conf->tls_version);
	if (conf->use_identity_as_username && !conf->require_certificate)
		log_line(
		        &b->log, LOG_LEVEL_WARNING, NULL, NULL,
		        "%s:%u: listener %u: use_identity_as_username without require_certificate: "
		        "no client certificate is asked for, so every CONNECT will be refused",
		        conf->source_file ? conf->source_file : "?", conf->source_line, conf->port);
	int err = check_readable(b, conf, "certfile", conf->certfile);
	if (err == 0)
		err = check_readable(b, conf, "keyfile", conf->keyfile);
	if (err == 0 && conf->cafile)
		err = check_readable(b, conf, "cafile", conf->cafile);
	return err;
}

/* Loads certificate, key and trust anchors into ctx. 0 or -EINVAL (logged). */
static int load_files(struct broker *b, const struct listener_conf *conf, SSL_CTX *ctx)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->certfile) != 1)
		return conf_fail(b, conf, true, "certfile %s cannot be loaded", conf->certfile);
	if (SSL_CTX_use_PrivateKey_file(ctx, conf->keyfile, SSL_FILETYPE_PEM) != 1)
		return conf_fail(b, conf, true,
		                 "keyfile %s cannot be loaded (or does not match %s)",
		                 conf->keyfile, conf->certfile);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return conf_fail(b, conf, true, "keyfile %s does not match certfile %s",
		                 conf->keyfile, conf->certfile);
	if ((conf->cafile || conf->capath) &&
	    SSL_CTX_load_verify_locations(ctx, conf->cafile, conf->capath) != 1)
		return conf_fail(b, conf, true, "cannot load %s %s",
		                 conf->cafile ? "cafile" : "capath",
		                 conf->cafile ? conf->cafile : conf->capath);
	return 0;
}

int tls_ctx_new(struct broker *b, const struct listener_conf *conf, SSL_CTX **out)
{
	int min_version = 0, err;
	*out = NULL;
	if (!conf_is_tls(conf))
		return 0;
	err = check_settings(b, conf, &min_version);
	if (err < 0)
		return err;
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return conf_fail(b, conf, true, "cannot create a TLS context");
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
		err = conf_fail(b, conf, true, "tls_version %s", conf->tls_version);
		goto fail;
	}
	/* No renegotiation (nothing in MQTT needs it; it is a DoS vector); the server picks the
	 * cipher; an end of stream without close_notify reads as a plain close, as on TCP (MQTT
	 * frames its own packets, a truncated one is seen by the framer). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	/* Partial writes: conn.c retries with the same bytes from wherever they are now.
	 * Released buffers: an idle connection does not hold OpenSSL's 34 KiB of I/O buffers. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                              SSL_MODE_RELEASE_BUFFERS);
	static const unsigned char sid_ctx[] = "mqtt-fast";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (conf->ciphers && SSL_CTX_set_cipher_list(ctx, conf->ciphers) != 1) {
		err = conf_fail(b, conf, true, "ciphers '%s' selects no usable cipher",
		                conf->ciphers);
		goto fail;
	}
	err = load_files(b, conf, ctx);
	if (err < 0)
		goto fail;
	/* As mosquitto: without require_certificate no client certificate is requested. */
	SSL_CTX_set_verify(ctx,
	                   conf->require_certificate
	                           ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
	                           : SSL_VERIFY_NONE,
	                   NULL);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return err;
}

void tls_ctx_ref(SSL_CTX *ctx)
{
	SSL_CTX_up_ref(ctx);
}

void tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/* ---- connections ------------------------------------------------------------------------- */

int tls_conn_new(struct conn *c, SSL_CTX *ctx)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ssl = SSL_new(ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, c->fd) != 1) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_accept_state(t->ssl);
	t->hs_want = TLS_WANT_READ;
	c->tls = t;
	return 0;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	if (t->established && !t->failed) {
		/* One non-blocking close_notify; the peer's is not waited for. */
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	SSL_free(t->ssl);
	free(t->wbuf);
	free(t->peer_cn);
	free(t);
}

/* Maps the outcome `ret` of an SSL_* call: -EAGAIN with *want set, 0 for the peer's close, or
 * a negative errno with t->err naming the OpenSSL reason ("what: error:...: reason"). */
static int tls_outcome(struct tls_conn *t, int ret, const char *what, uint8_t *want)
{
	int sys = errno;
	int e = SSL_get_error(t->ssl, ret);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = TLS_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = TLS_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		break;
	}
	t->failed = true;
	unsigned long code = ERR_get_error();
	if (code) {
		char reason[160];
		ERR_error_string_n(code, reason, sizeof(reason));
		long vr = SSL_get_verify_result(t->ssl);
		if (vr != X509_V_OK)
			snprintf(t->err, sizeof(t->err), "%s: %s (%s)", what, reason,
			         X509_verify_cert_error_string(vr));
		else
			snprintf(t->err, sizeof(t->err), "%s: %s", what, reason);
		ERR_clear_error();
		return -EPROTO;
	}
	if (e == SSL_ERROR_SYSCALL && sys != 0 && sys != EAGAIN) {
		snprintf(t->err, sizeof(t->err), "%s: %s", what, strerror(sys));
		return -sys;
	}
	/* End of stream with nothing queued (SSL_OP_IGNORE_UNEXPECTED_EOF). */
	snprintf(t->err, sizeof(t->err), "%s: connection closed by the peer", what);
	return 0;
}

/* The CN of the verified client certificate, UTF-8, owned; NULL without one. */
static char *peer_common_name(SSL *ssl)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	X509_NAME *name = X509_get_subject_name(cert);
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	if (i < 0)
		return NULL;
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	char *cn = NULL;
	/* A CN with an embedded NUL could pose as another name: not an identity. */
	if (n > 0 && n <= UINT16_MAX && memchr(utf8, 0, (size_t)n) == NULL) {
		cn = malloc((size_t)n + 1);
		if (cn) {
			memcpy(cn, utf8, (size_t)n);
			cn[n] = '\0';
		}
	}
	OPENSSL_free(utf8);
	return cn;
}

int tls_handshake(struct tls_conn *t)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->established = true;
		t->hs_want = TLS_WANT_NONE;
		t->peer_cn = peer_common_name(t->ssl);
		return 1;
	}
	int err = tls_outcome(t, r, "TLS handshake failed", &t->hs_want);
	return err == 0 ? -ECONNRESET : err;
}

long tls_read(struct tls_conn *t, uint8_t *buf, size_t len)
{
	ERR_clear_error();
	errno = 0;
	int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return tls_outcome(t, n, "TLS read", &t->read_want);
}

long tls_write(struct tls_conn *t, const uint8_t *p, size_t len)
{
	ERR_clear_error();
	errno = 0;
	int n = SSL_write(t->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	int err = tls_outcome(t, n, "TLS write", &t->write_want);
	return err == 0 ? -EPIPE : err;
}

bool tls_has_pending(const struct tls_conn *t)
{
	return SSL_pending(t->ssl) > 0 || SSL_has_pending(t->ssl);
}

void tls_describe(const struct tls_conn *t, char *out, size_t len)
{
	snprintf(out, len, "%s %s%s%s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
	         t->peer_cn ? ", client certificate CN=" : "", t->peer_cn ? t->peer_cn : "");
}

uint8_t tls_connect_identity(struct conn *c, const struct mqtt_connect **p,
                             struct mqtt_connect *copy, const char **why)
{
	if (!c->listener || !c->listener->conf->use_identity_as_username)
		return 0;
	/* mosquitto: the certificate is the authentication; what the CONNECT says is dropped. */
	if (!c->tls || !c->tls->peer_cn) {
		*why = "use_identity_as_username: no client certificate with a CN";
		return MQTT_RC_BAD_USERNAME_OR_PASSWORD;
	}
	*copy = **p;
	copy->has_username = true;
	copy->username = (struct mqtt_str){(const uint8_t *)c->tls->peer_cn,
	                                   (uint16_t)strlen(c->tls->peer_cn)};
	copy->has_password = false;
	copy->password = (struct mqtt_str){NULL, 0};
	*p = copy;
	log_line(&c->b->log, LOG_LEVEL_INFO, NULL, c->peer,
	         "use_identity_as_username: user %s from the client certificate", c->tls->peer_cn);
	return 0;
}
