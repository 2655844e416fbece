/* fuzz_ws.c - the WebSocket layer (ws.c) on arbitrary client bytes: handshake parsing, frame
 * decoding with in-place unmasking, control replies and close codes. The first input byte picks
 * the read size (1..256 bytes per ws_decode call) and, with its top bit, whether a valid
 * handshake is fed first so that most inputs reach the frame decoder. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

static const char handshake[] = "GET /mqtt HTTP/1.1\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Protocol: mqtt\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n";

/* One read of n bytes; the payload must fit where it came from, replies stay bounded. */
static int feed(struct ws_conn *w, const uint8_t *p, size_t n)
{
	uint8_t *buf = malloc(n ? n : 1);
	size_t out = 0;
	if (!buf)
		abort();
	memcpy(buf, p, n);
	int r = ws_decode(w, buf, n, &out);
	if (out > n || w->ctl_len - w->ctl_off > WS_CTL_LIMIT)
		abort();
	/* Touch every payload byte: a view past the input shows up under ASan. */
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < out; i++)
		sum ^= buf[i];
	(void)sum;
	ws_ctl_consumed(w, w->ctl_len - w->ctl_off);
	free(buf);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_conn w;
	if (size == 0)
		return 0;
	size_t chunk = (size_t)(data[0] & 0x7f) * 2 + 1;
	bool prefix = data[0] & 0x80;
	data++;
	size--;
	ws_init(&w, 4096);
	int r = 0;
	if (prefix)
		r = feed(&w, (const uint8_t *)handshake, sizeof(handshake) - 1);
	for (size_t off = 0; off < size && r == 0;) {
		size_t n = size - off < chunk ? size - off : chunk;
		r = feed(&w, data + off, n);
		off += n;
	}
	ws_close(&w, WS_CLOSE_NORMAL);
	(void)ws_finish(&w);
	ws_free(&w);
	return 0;
}
