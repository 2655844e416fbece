/* parse.h - bounds-checked, cursor-based packet parsing for the fast-path programs (BPF side
 * only; userspace never includes it). Every helper checks the bytes it reads against the end of
 * the packet before reading them and advances the cursor only on success, so a caller that gets
 * a non-negative result may use the returned header without further checks (the xdp-tools
 * parsing_helpers.h pattern). Helpers return 0 / a negative errno, never a verdict: policy
 * (pass, drop, count) stays in fastpath.bpf.c. */
#ifndef MQTT_FAST_BPF_PARSE_H
#define MQTT_FAST_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "common.h"

/* Where parsing stands: `pos` is the next unread byte, `end` one past the last byte. */
struct fp_cursor {
	void *pos;
	void *end;
};

/* IPv4 flags/fragment-offset bits: MF and the 13-bit offset. DF alone is not a fragment. */
#define FP_IP_MF     0x2000
#define FP_IP_OFFSET 0x1fff

/* IPv6 extension headers looked through to find a UDP port for counting (the fast path
 * itself never serves a packet that has any). */
#define FP_MAX_EXT_HDRS 4

/* Walks hop-by-hop, routing and destination-options headers and a first fragment header
 * (RFC 8200 §4.3-4.6) from `nexthdr`, leaving the cursor on the header they lead to; returns
 * its next-header value. -EPROTO for anything else (ESP, AH, a later fragment, too many
 * headers), -EBADMSG when truncated. */
static __always_inline int fp_skip_ipv6_ext(struct fp_cursor *c, __u8 nexthdr)
{
	for (int i = 0; i < FP_MAX_EXT_HDRS; i++) {
		__u8 *h = c->pos;
		__u32 len;
		if (nexthdr != 0 && nexthdr != 43 && nexthdr != 44 && nexthdr != 60)
			return nexthdr;
		if ((void *)(h + 8) > c->end)
			return -EBADMSG;
		if (nexthdr == 44 && ((h[2] << 8 | h[3]) & 0xfff8))
			return -EPROTO; /* fragment offset != 0: no UDP header here */
		len = nexthdr == 44 ? 8 : ((__u32)h[1] + 1) * 8;
		nexthdr = h[0];
		c->pos = h + len;
	}
	return -EPROTO;
}

/* Ethernet header (no VLAN tags: a tagged frame is not ours and passes). */
static __always_inline int fp_parse_eth(struct fp_cursor *c, struct ethhdr **eth)
{
	struct ethhdr *h = c->pos;
	if ((void *)(h + 1) > c->end)
		return -EBADMSG;
	*eth = h;
	c->pos = h + 1;
	return 0;
}

/* The fixed 20-byte IPv4 header. The caller decides about ihl, fragments and lengths; the
 * cursor moves past the fixed part only. */
static __always_inline int fp_parse_ipv4(struct fp_cursor *c, struct iphdr **ip)
{
	struct iphdr *h = c->pos;
	if ((void *)(h + 1) > c->end)
		return -EBADMSG;
	*ip = h;
	c->pos = h + 1;
	return 0;
}

/* The fixed 40-byte IPv6 header. */
static __always_inline int fp_parse_ipv6(struct fp_cursor *c, struct ipv6hdr **ip6)
{
	struct ipv6hdr *h = c->pos;
	if ((void *)(h + 1) > c->end)
		return -EBADMSG;
	*ip6 = h;
	c->pos = h + 1;
	return 0;
}

/* The 8-byte UDP header. */
static __always_inline int fp_parse_udp(struct fp_cursor *c, struct udphdr **udp)
{
	struct udphdr *h = c->pos;
	if ((void *)(h + 1) > c->end)
		return -EBADMSG;
	*udp = h;
	c->pos = h + 1;
	return 0;
}

/* One's complement sum of an IPv4 header of exactly 20 bytes (ihl 5, checked by the caller),
 * folded: 0xffff when the header checksum is right (RFC 791, RFC 1071). */
static __always_inline __u16 fp_ipv4_header_sum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Folds a 64-bit one's complement accumulator to 16 bits. */
static __always_inline __u16 fp_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of 16-bit words in memory order of `n` bytes (n even, a compile-time constant). */
static __always_inline __u64 fp_sum_words(const void *p, const int n)
{
	const __u16 *w = p;
	__u64 sum = 0;
#pragma unroll
	for (int i = 0; i < n / 2; i++)
		sum += w[i];
	return sum;
}

/* What the MQTT-SN header says (MQTT-SN 1.2 §5.2). */
struct fp_sn_header {
	__u16 len;    /* the Length field: the whole message, header included */
	__u8 hdr_len; /* 1 or 3: size of the Length field */
	__u8 msg_type;
};

/* MQTT-SN header: a 1-byte Length, or 0x01 followed by a 2-byte Length (§5.2.1), then MsgType.
 * Leaves the cursor on MsgType. -EBADMSG when the bytes are not there. */
static __always_inline int fp_parse_sn_header(struct fp_cursor *c, struct fp_sn_header *sn)
{
	__u8 *p = c->pos;
	if ((void *)(p + 2) > c->end)
		return -EBADMSG;
	if (p[0] != 0x01) {
		sn->len = p[0];
		sn->hdr_len = 1;
		sn->msg_type = p[1];
		c->pos = p + 1;
		return 0;
	}
	if ((void *)(p + 4) > c->end)
		return -EBADMSG;
	sn->len = (__u16)(p[1] << 8 | p[2]);
	sn->hdr_len = 3;
	sn->msg_type = p[3];
	c->pos = p + 3;
	return 0;
}

/* The PUBLISH fields after MsgType (§5.4.12): Flags, TopicId, MsgId. The cursor must be on
 * MsgType. `topic_id` is copied as on the wire (network order), as fp_topic_key wants it. */
struct fp_sn_publish {
	__u8 flags;
	__u16 topic_id;
};

static __always_inline int fp_parse_sn_publish(struct fp_cursor *c, struct fp_sn_publish *pub)
{
	__u8 *p = c->pos;
	/* MsgType, Flags, TopicId (2), MsgId (2). */
	if ((void *)(p + 6) > c->end)
		return -EBADMSG;
	pub->flags = p[1];
	__builtin_memcpy(&pub->topic_id, p + 2, 2);
	return 0;
}

#endif
