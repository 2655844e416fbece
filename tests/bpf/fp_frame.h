/* fp_frame.h - builds and checks Ethernet/IPv4|IPv6/UDP frames carrying MQTT-SN bytes, for the
 * fast-path program tests (fixture packets for bpf_prog_test_run, expected output frames for the
 * namespace test). Checksums are computed from scratch here (RFC 1071), independently of the
 * kernel's incremental updates, so a wrong update shows up as a mismatch. Test code only. */
#ifndef MQTT_FAST_TEST_FP_FRAME_H
#define MQTT_FAST_TEST_FP_FRAME_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 2048
#define ETH_LEN   14
#define IP4_LEN   20
#define IP6_LEN   40
#define UDP_LEN   8

/* One end of a datagram: MAC, address (4 or 16 bytes), port (host order). */
struct frame_end {
	uint8_t mac[6];
	uint8_t addr[16];
	uint16_t port;
};

/* A frame to build: family 4 or 6, `sn` the UDP payload. */
struct frame_spec {
	int family;
	struct frame_end src, dst;
	const uint8_t *sn;
	size_t sn_len;
};

/* One's complement sum of `n` bytes in network order, added to `sum` (not folded). */
static inline uint32_t frame_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static inline uint16_t frame_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* UDP checksum of the datagram `udp` (header + payload, `len` bytes, check field as it is)
 * with the pseudo header of `family` and addresses `src`/`dst`: returns the folded sum, which
 * is 0xffff when the checksum field is right, and the value to store when it is 0. */
static inline uint16_t frame_udp_sum(int family, const uint8_t *src, const uint8_t *dst,
                                     const uint8_t *udp, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = frame_sum(src, alen, 0);
	sum = frame_sum(dst, alen, sum);
	sum += 17 + (uint32_t)len;
	return frame_fold(frame_sum(udp, len, sum));
}

/* Builds the frame into `buf` (FRAME_MAX bytes); returns its length. Offsets: IP at 14, UDP
 * at 34 (IPv4) or 54 (IPv6). Every checksum right. */
static inline size_t frame_build(uint8_t *buf, const struct frame_spec *s)
{
	size_t l3 = ETH_LEN, l4 = l3 + (s->family == 4 ? IP4_LEN : IP6_LEN);
	size_t ulen = UDP_LEN + s->sn_len;
	memset(buf, 0, l4 + ulen);
	memcpy(buf, s->dst.mac, 6);
	memcpy(buf + 6, s->src.mac, 6);
	uint8_t *ip = buf + l3, *udp = buf + l4;
	if (s->family == 4) {
		buf[12] = 0x08, buf[13] = 0x00;
		ip[0] = 0x45;
		ip[2] = (uint8_t)((IP4_LEN + ulen) >> 8), ip[3] = (uint8_t)(IP4_LEN + ulen);
		ip[8] = 64, ip[9] = 17;
		memcpy(ip + 12, s->src.addr, 4);
		memcpy(ip + 16, s->dst.addr, 4);
		uint16_t c = (uint16_t)~frame_fold(frame_sum(ip, IP4_LEN, 0));
		ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	} else {
		buf[12] = 0x86, buf[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8), ip[5] = (uint8_t)ulen;
		ip[6] = 17, ip[7] = 64;
		memcpy(ip + 8, s->src.addr, 16);
		memcpy(ip + 24, s->dst.addr, 16);
	}
	udp[0] = (uint8_t)(s->src.port >> 8), udp[1] = (uint8_t)s->src.port;
	udp[2] = (uint8_t)(s->dst.port >> 8), udp[3] = (uint8_t)s->dst.port;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	memcpy(udp + UDP_LEN, s->sn, s->sn_len);
	uint16_t c = (uint16_t)~frame_udp_sum(s->family, s->src.addr, s->dst.addr, udp, ulen);
	if (c == 0)
		c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
	udp[6] = (uint8_t)(c >> 8), udp[7] = (uint8_t)c;
	return l4 + ulen;
}

/* Recomputes the IPv4 header checksum in place (after a test mutated the header). */
static inline void frame_fix_ip4_csum(uint8_t *ip, size_t ihl_bytes)
{
	ip[10] = ip[11] = 0;
	uint16_t c = (uint16_t)~frame_fold(frame_sum(ip, ihl_bytes, 0));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
}

#endif
