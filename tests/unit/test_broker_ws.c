/* test_broker_ws.c - the RFC 6455 layer (ws.c): handshake replies byte for byte, bad requests,
 * client frames (masked, split, fragmented, control), limits and close codes, frame headers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static const char good_req[] = "GET /mqtt HTTP/1.1\r\n"
                               "Host: localhost\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: keep-alive, Upgrade\r\n"
                               "Sec-WebSocket-Key: " KEY "\r\n"
                               "Sec-WebSocket-Protocol: mqtt\r\n"
                               "Sec-WebSocket-Version: 13\r\n\r\n";

static const char reply_101[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A masked client frame: first byte b0, payload p[0..n). */
static size_t client_frame(uint8_t *out, uint8_t b0, const uint8_t *p, size_t n)
{
	size_t h = 0;
	out[h++] = b0;
	if (n < 126) {
		out[h++] = (uint8_t)(0x80 | n);
	} else if (n <= 0xffff) {
		out[h++] = 0x80 | 126;
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	} else {
		out[h++] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[h++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(out + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		out[h + i] = p[i] ^ mask[i & 3];
	return h + n;
}

/* Feeds a C string / bytes; returns ws_decode's result, *out the payload bytes. */
static int feed(struct ws_conn *w, const void *p, size_t n, uint8_t *buf, size_t *out)
{
	memcpy(buf, p, n);
	return ws_decode(w, buf, n, out);
}

static void ctl_is(struct ws_conn *w, const void *want, size_t n)
{
	CHECK_MEM(w->ctl + w->ctl_off, w->ctl_len - w->ctl_off, want, n);
	ws_ctl_consumed(w, w->ctl_len - w->ctl_off);
}

static void open_ws(struct ws_conn *w, uint64_t max)
{
	uint8_t buf[1024];
	size_t out = 99;
	ws_init(w, max);
	CHECK_EQ(feed(w, good_req, strlen(good_req), buf, &out), 0);
	CHECK_EQ(out, 0);
	CHECK_EQ(w->state, WS_OPEN);
	ctl_is(w, reply_101, strlen(reply_101));
}

static void test_accept_key(void)
{
	char out[29];
	CHECK_EQ(ws_accept_key(KEY, strlen(KEY), out), 0);
	CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void test_handshake(void)
{
	struct ws_conn w;
	open_ws(&w, 1000);
	ws_free(&w);

	/* One byte at a time, with a frame right behind the request. */
	uint8_t in[600], buf[600], pl[] = {0xc0, 0x00};
	size_t n = strlen(good_req), out, got = 0;
	memcpy(in, good_req, n);
	n += client_frame(in + n, 0x82, pl, 2);
	ws_init(&w, 1000);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(feed(&w, in + i, 1, buf, &out), 0);
		if (out)
			CHECK_EQ(buf[0], pl[got]);
		got += out;
	}
	CHECK_EQ(got, 2);
	ctl_is(&w, reply_101, strlen(reply_101));
	ws_free(&w);

	/* The same in one read: the frame's payload comes out at once. */
	ws_init(&w, 1000);
	CHECK_EQ(feed(&w, in, n, buf, &out), 0);
	CHECK_MEM(buf, out, pl, 2);
	ws_free(&w);

	/* mqttv3.1 alone is echoed. */
	static const char v31[] = "GET / HTTP/1.1\r\nupgrade: WebSocket\r\nconnection: upgrade\r\n"
	                          "sec-websocket-key: " KEY "\r\nsec-websocket-version: 13\r\n"
	                          "Sec-WebSocket-Protocol: foo, mqttv3.1\r\n\r\n";
	ws_init(&w, 1000);
	CHECK_EQ(feed(&w, v31, strlen(v31), buf, &out), 0);
	CHECK(w.ctl_len > 0 && memmem(w.ctl, w.ctl_len, "Protocol: mqttv3.1\r\n", 20) != NULL);
	ws_free(&w);
}

static void expect_400(const char *req, size_t n)
{
	static const char r400[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
	                           "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n";
	struct ws_conn w;
	uint8_t *buf = malloc(n);
	size_t out = 0;
	ws_init(&w, 1000);
	memcpy(buf, req, n);
	CHECK_EQ(ws_decode(&w, buf, n, &out), -EBADMSG);
	CHECK_EQ(out, 0);
	CHECK(w.why != NULL);
	ctl_is(&w, r400, strlen(r400));
	CHECK(!ws_finish(&w)); /* no close frame after an HTTP error */
	ws_free(&w);
	free(buf);
}

static void test_bad_requests(void)
{
	char req[600];
	static const struct {
		const char *from, *to;
	} edits[] = {
	        {"GET /mqtt", "POST /mqtt"},
	        {"HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost"},
	        {"Upgrade: websocket", "Upgrade: h2c"},
	        {"Connection: keep-alive, Upgrade", "Connection: keep-alive"},
	        {"Version: 13", "Version: 8"},
	        {"Key: " KEY, "Key: dGhlIHNhbXBsZQ=="},
	        {"Key: " KEY, "X-Key: " KEY},
	        {"Protocol: mqtt", "Protocol: mqttx, amqp"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(good_req, edits[i].from);
		size_t pre = (size_t)(at - good_req);
		snprintf(req, sizeof(req), "%.*s%s%s", (int)pre, good_req, edits[i].to,
		         at + strlen(edits[i].from));
		expect_400(req, strlen(req));
	}
	/* Plain MQTT on the WebSocket port: refused at the first byte. */
	static const uint8_t connect[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T'};
	expect_400((const char *)connect, sizeof(connect));
	/* Headers beyond 8 KiB. */
	char *big = malloc(WS_HEADERS_MAX + 100);
	memset(big, 'a', WS_HEADERS_MAX + 100);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	expect_400(big, WS_HEADERS_MAX + 100);
	free(big);
}

/* Frames after the handshake: each case's bytes, result, payload and raw reply. */
static void frame_case(const uint8_t *in, size_t n, int want, const void *payload, size_t plen,
                       const void *reply, size_t rlen, uint64_t max)
{
	struct ws_conn w;
	uint8_t buf[70100];
	size_t out = 0;
	open_ws(&w, max);
	CHECK_EQ(feed(&w, in, n, buf, &out), want);
	CHECK_MEM(buf, out, payload, plen);
	ws_finish(&w);
	CHECK_MEM(w.ctl + w.ctl_off, w.ctl_len - w.ctl_off, reply, rlen);
	ws_free(&w);
}

static void test_frames(void)
{
	uint8_t in[70100], p[70000];
	size_t n;
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 7);
	static const uint8_t c1000[] = {0x88, 0x02, 0x03, 0xe8}, c1002[] = {0x88, 0x02, 0x03, 0xea},
	                     c1003[] = {0x88, 0x02, 0x03, 0xeb}, c1009[] = {0x88, 0x02, 0x03, 0xf1};

	/* Masked binary, 7-bit, 16-bit and 64-bit lengths. */
	n = client_frame(in, 0x82, p, 5);
	frame_case(in, n, 0, p, 5, NULL, 0, 100000);
	n = client_frame(in, 0x82, p, 300);
	frame_case(in, n, 0, p, 300, NULL, 0, 100000);
	n = client_frame(in, 0x82, p, 70000);
	frame_case(in, n, 0, p, 70000, NULL, 0, 100000);
	/* Unmasked, reserved bits, unknown opcode, text. */
	static const uint8_t unmasked[] = {0x82, 0x01, 0x30};
	frame_case(unmasked, 3, -EPROTO, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0xc2, p, 1);
	frame_case(in, n, -EPROTO, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x83, p, 1);
	frame_case(in, n, -EPROTO, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x81, p, 1);
	frame_case(in, n, -EPROTO, NULL, 0, c1003, 4, 1000);
	/* Limits: over max_frame, a 64-bit length with its top bit set. */
	n = client_frame(in, 0x82, p, 1001);
	frame_case(in, n, -EMSGSIZE, NULL, 0, c1009, 4, 1000);
	static const uint8_t huge[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
	frame_case(huge, sizeof(huge), -EPROTO, NULL, 0, c1002, 4, 1000);
	static const uint8_t big64[] = {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};
	frame_case(big64, sizeof(big64), -EMSGSIZE, NULL, 0, c1009, 4, 1000);
	/* Control frames: ping -> pong with its payload, fragmented or long ones refused. */
	n = client_frame(in, 0x89, (const uint8_t *)"hey", 3);
	frame_case(in, n, 0, NULL, 0, "\x8a\x03hey", 5, 1000);
	n = client_frame(in, 0x8a, p, 3); /* unsolicited pong: ignored */
	frame_case(in, n, 0, NULL, 0, NULL, 0, 1000);
	n = client_frame(in, 0x09, p, 3);
	frame_case(in, n, -EPROTO, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x89, p, 126);
	frame_case(in, n, -EPROTO, NULL, 0, c1002, 4, 1000);
	/* Close: echoed; a 1-byte or reserved code answered with 1002; data before it kept. */
	n = client_frame(in, 0x82, p, 4);
	n += client_frame(in + n, 0x88, (const uint8_t *)"\x03\xe8", 2);
	n += client_frame(in + n, 0x82, p, 4); /* after close: ignored */
	frame_case(in, n, -ECONNRESET, p, 4, c1000, 4, 1000);
	n = client_frame(in, 0x88, NULL, 0);
	frame_case(in, n, -ECONNRESET, NULL, 0, c1000, 4, 1000);
	n = client_frame(in, 0x88, (const uint8_t *)"\x03", 1);
	frame_case(in, n, -ECONNRESET, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x88, (const uint8_t *)"\x03\xed", 2); /* 1005 */
	frame_case(in, n, -ECONNRESET, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x88, (const uint8_t *)"\x0f\xa0xy", 4); /* 4000 */
	frame_case(in, n, -ECONNRESET, NULL, 0, "\x88\x02\x0f\xa0", 4, 1000);
}

static void test_fragments(void)
{
	uint8_t in[400], p[64];
	size_t n;
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i + 1);
	static const uint8_t c1002[] = {0x88, 0x02, 0x03, 0xea};
	/* binary (not final), ping, continuation, continuation (final). */
	n = client_frame(in, 0x02, p, 10);
	n += client_frame(in + n, 0x89, NULL, 0);
	n += client_frame(in + n, 0x00, p + 10, 20);
	n += client_frame(in + n, 0x80, p + 30, 34);
	frame_case(in, n, 0, p, 64, "\x8a\x00", 2, 1000);
	/* Every split point of the same stream gives the same payload. */
	for (size_t cut = 1; cut < n; cut++) {
		struct ws_conn w;
		uint8_t buf[400];
		size_t a = 0, b = 0;
		open_ws(&w, 1000);
		CHECK_EQ(feed(&w, in, cut, buf, &a), 0);
		uint8_t first[400];
		memcpy(first, buf, a);
		CHECK_EQ(feed(&w, in + cut, n - cut, buf, &b), 0);
		memcpy(first + a, buf, b);
		CHECK_MEM(first, a + b, p, 64);
		ws_free(&w);
	}
	/* A continuation with no message started; a new message inside one. */
	n = client_frame(in, 0x80, p, 3);
	frame_case(in, n, -EPROTO, NULL, 0, c1002, 4, 1000);
	n = client_frame(in, 0x02, p, 3);
	n += client_frame(in + n, 0x82, p, 3);
	frame_case(in, n, -EPROTO, p, 3, c1002, 4, 1000);
}

static void test_headers_and_close(void)
{
	uint8_t h[WS_HEADER_MAX];
	CHECK_EQ(ws_frame_header(h, WS_OP_BINARY, 0), 2);
	CHECK_MEM(h, 2, "\x82\x00", 2);
	CHECK_EQ(ws_frame_header(h, WS_OP_BINARY, 125), 2);
	CHECK_MEM(h, 2, "\x82\x7d", 2);
	CHECK_EQ(ws_frame_header(h, WS_OP_BINARY, 126), 4);
	CHECK_MEM(h, 4, "\x82\x7e\x00\x7e", 4);
	CHECK_EQ(ws_frame_header(h, WS_OP_BINARY, 65535), 4);
	CHECK_MEM(h, 4, "\x82\x7e\xff\xff", 4);
	CHECK_EQ(ws_frame_header(h, WS_OP_BINARY, 65536), 10);
	CHECK_MEM(h, 10, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);

	/* The broker closing: one close frame, once. */
	struct ws_conn w;
	open_ws(&w, 1000);
	ws_close(&w, WS_CLOSE_NORMAL);
	ws_close(&w, WS_CLOSE_PROTOCOL);
	CHECK(ws_finish(&w));
	CHECK(!ws_finish(&w));
	ctl_is(&w, "\x88\x02\x03\xe8", 4);
	ws_free(&w);
	/* Before the handshake: nothing to close with. */
	ws_init(&w, 1000);
	ws_close(&w, WS_CLOSE_NORMAL);
	CHECK(!ws_finish(&w));
	ws_free(&w);
}

static void test_ping_flood(void)
{
	struct ws_conn w;
	uint8_t in[200] = {0}, buf[200];
	size_t n = client_frame(in, 0x89, in + 100, 100), out;
	int r = 0, i;
	open_ws(&w, 1000);
	for (i = 0; i < 10000 && r == 0; i++)
		r = feed(&w, in, n, buf, &out);
	CHECK_EQ(r, -ENOBUFS);
	CHECK(w.ctl_len - w.ctl_off <= WS_CTL_LIMIT);
	ws_free(&w);
}

int main(void)
{
	test_accept_key();
	test_handshake();
	test_bad_requests();
	test_frames();
	test_fragments();
	test_headers_and_close();
	test_ping_flood();
	return check_report();
}
