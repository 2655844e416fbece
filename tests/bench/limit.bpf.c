/* limit.bpf.c - the benchmark's *limit* reference (issue 7): the least work a kernel fan-out
 * can do. A TC ingress program that takes every IPv4 UDP datagram to one port and clones it to
 * N subscribers that all sit behind one interface at one address, on ports base .. base+N-1.
 * No MQTT-SN parsing, no topic matching, no authorization: the figure it reaches is the ceiling
 * of bpf_clone_redirect on this kernel and machine, which the real fast path is measured
 * against. Configured through read-only globals set by the loader (limit_load.c) before load.
 *
 * Fixed offsets: Ethernet (14) + IPv4 without options (20) + UDP (8). A packet that does not
 * fit this shape is passed untouched. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define LIMIT_MAX_SUBS 1024
#define IP_OFF         ETH_HLEN
#define UDP_OFF        (ETH_HLEN + (int)sizeof(struct iphdr))

/* Set by the loader before load (rodata). Addresses and ports in network order. */
const volatile __u32 cfg_nsubs = 1;
const volatile __u32 cfg_ifindex = 0;    /* egress interface of every copy */
const volatile __u32 cfg_match_port = 0; /* UDP destination port taken (network order) */
const volatile __u32 cfg_dst_ip = 0;
const volatile __u32 cfg_base_port = 0; /* host order: copies go to base + i */
const volatile __u8 cfg_dst_mac[ETH_ALEN] = {0};
const volatile __u8 cfg_src_mac[ETH_ALEN] = {0};

enum limit_counter { LIMIT_PACKETS, LIMIT_CLONES, LIMIT_CLONE_FAILED, LIMIT_NCOUNTERS };

/* Packets taken, copies sent and copies that bpf_clone_redirect refused, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMIT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} limit_counters SEC(".maps");

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&limit_counters, &which);

	if (v)
		*v += n;
}

struct clone_ctx {
	struct __sk_buff *skb;
	__u64 failed;
};

/* One copy: destination port base + i (UDP checksum is 0, so nothing else changes). Packet
 * pointers are invalid after a clone: only offset-based helpers here. */
static long clone_one(__u32 i, void *data)
{
	struct clone_ctx *c = data;
	__be16 port = bpf_htons((__u16)(cfg_base_port + i));

	if (bpf_skb_store_bytes(c->skb, UDP_OFF + offsetof(struct udphdr, dest), &port,
	                        sizeof(port), 0) < 0 ||
	    bpf_clone_redirect(c->skb, cfg_ifindex, 0) < 0)
		c->failed++;
	return 0;
}

SEC("tc")
int limit_fanout(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + IP_OFF;
	struct udphdr *udp = data + UDP_OFF;
	struct clone_ctx c = {.skb = skb};
	__u32 old_ip, new_ip = cfg_dst_ip, n = cfg_nsubs;
	__be16 zero = 0;
	__u8 macs[2 * ETH_ALEN];

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || udp->dest != (__be16)cfg_match_port)
		return TC_ACT_OK;
	old_ip = ip->daddr;
	for (int i = 0; i < ETH_ALEN; i++) {
		macs[i] = cfg_dst_mac[i];
		macs[ETH_ALEN + i] = cfg_src_mac[i];
	}
	/* The rewrite common to every copy, once: MACs, destination address (IP checksum fixed
	 * incrementally), UDP checksum 0 ("no checksum", allowed for IPv4 by RFC 768). */
	if (bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0) < 0 ||
	    bpf_l3_csum_replace(skb, IP_OFF + offsetof(struct iphdr, check), old_ip, new_ip,
	                        sizeof(new_ip)) < 0 ||
	    bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, daddr), &new_ip,
	                        sizeof(new_ip), 0) < 0 ||
	    bpf_skb_store_bytes(skb, UDP_OFF + offsetof(struct udphdr, check), &zero, sizeof(zero),
	                        0) < 0)
		return TC_ACT_SHOT;
	if (n > LIMIT_MAX_SUBS)
		n = LIMIT_MAX_SUBS;
	/* bpf_loop: a plain bounded loop over hundreds of clones exceeds the verifier's budget
	 * (issue 6). */
	bpf_loop(n, clone_one, &c, 0);
	count(LIMIT_PACKETS, 1);
	count(LIMIT_CLONES, n - c.failed);
	count(LIMIT_CLONE_FAILED, c.failed);
	return TC_ACT_SHOT; /* the original is consumed: only the copies travel on */
}

char LICENSE[] SEC("license") = "GPL";
