/* tls.c - optional TLS for mqtt-fast-bench's MQTT connections (OpenSSL 3, non-blocking): the
 * same epoll loop drives the handshake and the records; the rest of tcp.c only sees "send",
 * "recv" and "would block". */
#include "bench.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

int bench_tls_init(const struct bench_cfg *c, void **ctx_out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int err = 0;

	if (!ctx) {
		err = -ENOMEM;
		goto out;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (c->tls_insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((c->cafile && SSL_CTX_load_verify_locations(ctx, c->cafile, NULL) != 1) ||
		    (!c->cafile && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
			fprintf(stderr, "%s: cannot load CA certificates %s: %s\n", c->prog,
			        c->cafile ? c->cafile : "(system)",
			        ERR_reason_error_string(ERR_get_error()));
			err = -EINVAL;
			goto out;
		}
	}
	*ctx_out = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	return err;
}

void bench_tls_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

int bench_tls_start(void *ctx, int fd, const char *host, void **ssl_out)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return -ENOMEM;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return -EINVAL;
	}
	/* SNI and certificate name check against the host the user named. */
	SSL_set_tlsext_host_name(ssl, host);
	SSL_set1_host(ssl, host);
	*ssl_out = ssl;
	return 0;
}

/* Maps an OpenSSL result to 0 / -EAGAIN (with *want_write) / -EPROTO. */
static int io_result(SSL *ssl, int r, bool *want_write)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*want_write = false;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

int bench_tls_handshake(void *ssl, bool *want_write, const char **why)
{
	int r = SSL_connect(ssl);

	if (r == 1)
		return 0;
	r = io_result(ssl, r, want_write);
	if (r == -EPROTO) {
		long v = SSL_get_verify_result(ssl);

		*why = v != X509_V_OK ? X509_verify_cert_error_string(v)
		                      : ERR_reason_error_string(ERR_get_error());
		if (!*why)
			*why = "TLS handshake failed";
	}
	return r;
}

long bench_tls_send(void *ssl, const void *p, size_t n, bool *want_write)
{
	int r = SSL_write(ssl, p, (int)(n > 1u << 30 ? 1u << 30 : n));

	return r > 0 ? r : io_result(ssl, r, want_write);
}

long bench_tls_recv(void *ssl, void *p, size_t n, bool *want_write)
{
	int r = SSL_read(ssl, p, (int)(n > 1u << 30 ? 1u << 30 : n));

	return r > 0 ? r : io_result(ssl, r, want_write);
}

bool bench_tls_pending(void *ssl)
{
	return SSL_pending(ssl) > 0;
}

void bench_tls_close(void *ssl)
{
	SSL_free(ssl);
}
