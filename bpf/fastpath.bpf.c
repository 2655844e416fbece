/* fastpath.bpf.c - the kernel fast path: fp_xdp parses, validates, authorizes and matches an
 * MQTT-SN v1.2 QoS 0 / QoS -1 PUBLISH and hands the result to fp_tc in XDP metadata; fp_tc
 * (clsact ingress) writes one copy per served subscriber with bpf_clone_redirect, then consumes
 * the original or restores it and passes it up with a mark naming the serve generation used.
 *
 * Semantics are those of common.h and docs/FASTPATH.md. The rule everywhere: a packet that was
 * not fully validated (every header bounds-checked, IPv4 header and UDP checksums verified,
 * MQTT-SN Length == UDP payload length) is never forwarded; when in doubt it passes up and
 * userspace, the authority, handles it as it would without the fast path. */
#include "parse.h"

#include <linux/if_packet.h>
#include <linux/pkt_cls.h>

char LICENSE[] SEC("license") = "GPL";

/* ---- maps (layouts and ownership in common.h) ---- */

/* Fast-path topics by (topic id type, topic id as on the wire). Not preallocated: a replaced
 * element is freed after an RCU grace period, never reused under a reader, so fp_tc always
 * sees `serve` and `serve_gen` of one and the same update. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FP_MAX_TOPICS);
	__type(key, struct fp_topic_key);
	__type(value, struct fp_topic);
} fp_topics SEC(".maps");

/* E[d][i]: subscribers whose filter has level string i at depth d. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_MAX_LEVELS *FP_MAX_INDEX);
	__type(key, __u32);
	__type(value, struct fp_bits);
} fp_exact SEC(".maps");

/* P[d], Hc[d], N[d]: wildcard and filter-length bitsets per depth. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_MAX_LEVELS + 1);
	__type(key, __u32);
	__type(value, struct fp_wild);
} fp_wild SEC(".maps");

/* Where each subscriber slot's copy goes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct fp_subscriber);
} fp_subscribers SEC(".maps");

/* Connected SN clients by source address and port -> publisher slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fp_addr);
	__type(value, struct fp_publisher);
} fp_publishers SEC(".maps");

/* Learned by fp_xdp: the interface and MACs each client's datagrams came from. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fp_addr);
	__type(value, struct fp_neigh);
} fp_neigh SEC(".maps");

/* Listener ports and the global on/off switch. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_config);
} fp_config SEC(".maps");

/* Per-CPU packets and bytes per (topic slot, verdict). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct fp_counter);
} fp_counters SEC(".maps");

/* UDP checksums are verified over at most FP_CSUM_CHUNKS chunks of FP_CSUM_CHUNK bytes (the
 * bpf_csum_diff limit is 512); larger datagrams pass up. 2048 bytes cover any 1500-byte MTU. */
#define FP_CSUM_CHUNK  512
#define FP_CSUM_CHUNKS 4

/* Per-CPU scratch buffer for the checksum chunks (the BPF stack is 512 bytes in all). The +4
 * leaves room to zero-pad a chunk to a multiple of 4 bytes, as bpf_csum_diff requires. */
struct fp_scratch {
	__u8 buf[FP_CSUM_CHUNK + 4];
};

/* Internal to fp_xdp: checksum scratch space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_scratch);
} fp_scratch SEC(".maps");

/* ---- shared by both programs ---- */

static __always_inline __u32 fp_counter_slot(const struct fp_topic *t)
{
	return t && t->slot < FP_MAX_TOPICS ? t->slot : FP_MAX_TOPICS;
}

static __always_inline void fp_count(__u32 slot, enum fp_verdict v, __u64 bytes)
{
	__u32 key = slot * FP_NVERDICTS + v;
	struct fp_counter *c = bpf_map_lookup_elem(&fp_counters, &key);
	/* Per-CPU values: no other CPU writes this copy, and bpf_loop stays on this CPU. */
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Subscriber slots matched by topic `t` and served by the kernel (docs/FASTPATH.md):
 *   out = (N[L] | Hc[L]) & AND_{d<L} (E[d][idx_d] | P[d] | Hc[d]) & serve.
 * -EINVAL for a topic entry userspace should never have written (no levels, too many). */
static __always_inline int fp_match(const struct fp_topic *t, __u64 out[FP_SUB_WORDS])
{
	__u32 levels = t->nlevels;
	if (levels == 0 || levels > FP_MAX_LEVELS)
		return -EINVAL;
	__u32 key = levels;
	struct fp_wild *w = bpf_map_lookup_elem(&fp_wild, &key);
	if (!w)
		return -ENOENT;
#pragma unroll
	for (int k = 0; k < FP_SUB_WORDS; k++)
		out[k] = (w->ends[k] | w->hash_cum[k]) & t->serve[k];
	for (__u32 d = 0; d < FP_MAX_LEVELS; d++) {
		if (d >= levels)
			break;
		key = d;
		struct fp_wild *wd = bpf_map_lookup_elem(&fp_wild, &key);
		if (!wd)
			return -ENOENT;
		__u32 idx = t->idx[d];
		struct fp_bits *e = NULL;
		if (idx < FP_MAX_INDEX) {
			key = d * FP_MAX_INDEX + idx;
			e = bpf_map_lookup_elem(&fp_exact, &key);
		}
#pragma unroll
		for (int k = 0; k < FP_SUB_WORDS; k++)
			out[k] &= (e ? e->w[k] : 0) | wd->plus[k] | wd->hash_cum[k];
	}
	return 0;
}

static __always_inline int fp_bits_empty(const __u64 b[FP_SUB_WORDS])
{
	__u64 any = 0;
#pragma unroll
	for (int k = 0; k < FP_SUB_WORDS; k++)
		any |= b[k];
	return any == 0;
}

static __always_inline const struct fp_config *fp_config_get(void)
{
	__u32 zero = 0;
	const struct fp_config *cfg = bpf_map_lookup_elem(&fp_config, &zero);
	return cfg && cfg->enabled ? cfg : NULL;
}

/* ---- XDP: parse, validate, authorize, match ---- */

/* What fp_xdp learned about a datagram to one of our MQTT-SN ports. */
struct fp_pkt {
	struct ethhdr *eth;
	struct udphdr *udp;
	__u64 pseudo_sum; /* UDP pseudo-header sum, memory order (RFC 768, RFC 8200 §8.1) */
	__u16 l3_off;
	__u16 l4_off;
	__u16 udp_len; /* host order, header included */
	__u8 family;
	struct fp_addr src;
	struct fp_addr dst;
};

/* How parsing ended. Everything but FP_P_OK is a verdict on its own. */
enum fp_parse_result {
	FP_P_OK,
	FP_P_OTHER,      /* not a datagram to our ports (or not parseable up to the port): pass */
	FP_P_IP_OPTIONS, /* to our port, but IPv4 options / fragment / IPv6 extension header */
	FP_P_BAD_CSUM,   /* to our port, but a checksum or a length is wrong */
	FP_P_TOO_BIG,    /* to our port, larger than the checksum code verifies */
};

static __always_inline int fp_is_sn_port(const struct fp_config *cfg, __u16 port)
{
	return port && (port == cfg->sn_ports[0] || port == cfg->sn_ports[1] ||
	                port == cfg->sn_ports[2] || port == cfg->sn_ports[3]);
}

/* IPv4 with options or fragments: counted when, as far as can be seen, it is for our port (a
 * first fragment or an options header still shows the UDP header; later fragments do not). */
static __always_inline int fp_ipv4_unusual(const struct iphdr *ip, void *end,
                                           const struct fp_config *cfg)
{
	__u32 ihl = ip->ihl;
	if (ihl < 5 || (bpf_ntohs(ip->frag_off) & FP_IP_OFFSET))
		return FP_P_OTHER;
	struct udphdr *udp = (void *)ip + ihl * 4;
	if ((void *)(udp + 1) > end || !fp_is_sn_port(cfg, udp->dest))
		return FP_P_OTHER;
	return FP_P_IP_OPTIONS;
}

/* IPv6 with extension headers: counted when a UDP header for our port can be found behind
 * them (as for IPv4, the first fragment shows it, later ones do not). */
static __always_inline int fp_ipv6_unusual(struct fp_cursor *c, __u8 nexthdr,
                                           const struct fp_config *cfg)
{
	struct udphdr *udp;
	if (fp_skip_ipv6_ext(c, nexthdr) != IPPROTO_UDP || fp_parse_udp(c, &udp) < 0 ||
	    !fp_is_sn_port(cfg, udp->dest))
		return FP_P_OTHER;
	return FP_P_IP_OPTIONS;
}

static __always_inline int fp_parse_v4(struct fp_cursor *c, struct fp_pkt *p,
                                       const struct fp_config *cfg, void *data)
{
	struct iphdr *ip;
	if (fp_parse_ipv4(c, &ip) < 0 || ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return FP_P_OTHER;
	if (ip->ihl != 5 || (bpf_ntohs(ip->frag_off) & (FP_IP_MF | FP_IP_OFFSET)))
		return fp_ipv4_unusual(ip, c->end, cfg);
	if (fp_parse_udp(c, &p->udp) < 0 || !fp_is_sn_port(cfg, p->udp->dest))
		return FP_P_OTHER;
	/* tot_len inside the frame (Ethernet padding may follow) and UDP length == IP payload:
	 * anything else the stack drops or trims, so it is not ours to forward. */
	__u32 tot_len = bpf_ntohs(ip->tot_len);
	__u32 avail = (__u32)(c->end - (void *)ip);
	p->udp_len = bpf_ntohs(p->udp->len);
	if (tot_len > avail || tot_len != sizeof(*ip) + (__u32)p->udp_len ||
	    p->udp_len < sizeof(struct udphdr) || fp_ipv4_header_sum(ip) != 0xffff)
		return FP_P_BAD_CSUM;
	p->family = 4;
	p->l3_off = (__u16)((void *)ip - data);
	p->src.family = p->dst.family = 4;
	__builtin_memcpy(p->src.addr, &ip->saddr, 4);
	__builtin_memcpy(p->dst.addr, &ip->daddr, 4);
	/* An IPv4 UDP checksum of 0 means "none" (RFC 768): pseudo_sum 0 marks it. */
	p->pseudo_sum = p->udp->check
	                        ? fp_sum_words(&ip->saddr, 8) + bpf_htons(IPPROTO_UDP) + p->udp->len
	                        : 0;
	return FP_P_OK;
}

static __always_inline int fp_parse_v6(struct fp_cursor *c, struct fp_pkt *p,
                                       const struct fp_config *cfg, void *data)
{
	struct ipv6hdr *ip6;
	if (fp_parse_ipv6(c, &ip6) < 0 || ip6->version != 6)
		return FP_P_OTHER;
	if (ip6->nexthdr != IPPROTO_UDP)
		return fp_ipv6_unusual(c, ip6->nexthdr, cfg);
	if (fp_parse_udp(c, &p->udp) < 0 || !fp_is_sn_port(cfg, p->udp->dest))
		return FP_P_OTHER;
	__u32 payload_len = bpf_ntohs(ip6->payload_len);
	__u32 avail = (__u32)(c->end - (void *)ip6);
	p->udp_len = bpf_ntohs(p->udp->len);
	/* The UDP checksum is mandatory over IPv6 (RFC 8200 §8.1). */
	if (payload_len + sizeof(*ip6) > avail || payload_len != p->udp_len ||
	    p->udp_len < sizeof(struct udphdr) || p->udp->check == 0)
		return FP_P_BAD_CSUM;
	p->family = 6;
	p->l3_off = (__u16)((void *)ip6 - data);
	p->src.family = p->dst.family = 6;
	__builtin_memcpy(p->src.addr, &ip6->saddr, 16);
	__builtin_memcpy(p->dst.addr, &ip6->daddr, 16);
	p->pseudo_sum = fp_sum_words(&ip6->saddr, 32) + bpf_htons(IPPROTO_UDP) + p->udp->len;
	return FP_P_OK;
}

/* Verifies the UDP checksum of the datagram at p->l4_off: one's complement sum of pseudo
 * header, UDP header and payload must fold to 0xffff.
 * Measured on veth (tests/bpf/test_fastpath_tc.c, run_udp_publisher): a datagram sent by a
 * local socket through a veth with tx checksum offload on (the default) reaches XDP as
 * CHECKSUM_PARTIAL, its checksum field holding only the pseudo-header sum. XDP cannot tell it
 * from a corrupt one, so it passes up counted PASS_BAD_CSUM and the stack, which trusts partial
 * checksums of local origin, delivers it: no loss, no fast path. Frames from a real NIC (remote
 * devices) and from a veth with `ethtool -K <peer> tx off` carry complete checksums. */
static __always_inline int fp_udp_csum_ok(struct xdp_md *ctx, const struct fp_pkt *p)
{
	__u32 zero = 0;
	struct fp_scratch *s = bpf_map_lookup_elem(&fp_scratch, &zero);
	if (!s)
		return 0;
	__u64 sum = p->pseudo_sum, len = p->udp_len;
	/* 64-bit lengths: with 32-bit ones clang checks a zero-extended copy and passes the
	 * unchecked register to the helper, which the verifier rejects. */
	for (__u64 done = 0; done < FP_CSUM_CHUNKS * FP_CSUM_CHUNK; done += FP_CSUM_CHUNK) {
		if (done >= len)
			break;
		__u64 n = len - done;
		if (n > FP_CSUM_CHUNK)
			n = FP_CSUM_CHUNK;
		/* Clang knows n is in range and drops checks; the verifier must see them. */
		barrier_var(n);
		if (n < 1 || n > FP_CSUM_CHUNK)
			return 0;
		/* Zero the word the chunk ends in, so padding to 4 bytes adds nothing; chunks
		 * start at even offsets, so the 16-bit word order is kept. */
		__u64 w = n & 0x3fc;
		*(__u32 *)&s->buf[w] = 0;
		if (bpf_xdp_load_bytes(ctx, p->l4_off + (__u32)done, s->buf, n) < 0)
			return 0;
		__u64 padded = (n + 3) & 0x3fc;
		__s64 part = bpf_csum_diff(NULL, 0, (__be32 *)s->buf, padded, 0);
		if (part < 0)
			return 0;
		sum += (__u32)part;
	}
	return fp_csum_fold(sum) == 0xffff;
}

/* Ethernet, IP, UDP: fills `p` for a checksum-valid datagram to one of our ports. */
static __always_inline int fp_parse_frame(struct xdp_md *ctx, const struct fp_config *cfg,
                                          struct fp_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	struct fp_cursor c = {.pos = data, .end = (void *)(long)ctx->data_end};
	int res;
	if (fp_parse_eth(&c, &p->eth) < 0)
		return FP_P_OTHER;
	if (p->eth->h_proto == bpf_htons(ETH_P_IP))
		res = fp_parse_v4(&c, p, cfg, data);
	else if (p->eth->h_proto == bpf_htons(ETH_P_IPV6))
		res = fp_parse_v6(&c, p, cfg, data);
	else
		return FP_P_OTHER;
	if (res != FP_P_OK)
		return res;
	p->l4_off = (__u16)((void *)p->udp - data);
	p->src.port = p->udp->source;
	p->dst.port = p->udp->dest;
	if (p->udp_len > FP_CSUM_CHUNKS * FP_CSUM_CHUNK)
		return FP_P_TOO_BIG;
	if (p->pseudo_sum && !fp_udp_csum_ok(ctx, p))
		return FP_P_BAD_CSUM;
	return FP_P_OK;
}

/* Records where the client's datagrams come from, before the stack (and userspace) sees this
 * one, so the broker can fill fp_subscriber for it. Written only when something changed. */
static __always_inline void fp_learn_neigh(struct xdp_md *ctx, const struct fp_pkt *p)
{
	struct fp_neigh n = {.ifindex = ctx->ingress_ifindex, .local = p->dst};
	__builtin_memcpy(n.peer_mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(n.local_mac, p->eth->h_dest, ETH_ALEN);
	const struct fp_neigh *old = bpf_map_lookup_elem(&fp_neigh, &p->src);
	if (old) {
		const __u32 *a = (const __u32 *)old, *b = (const __u32 *)&n;
		__u32 diff = 0;
#pragma unroll
		for (int i = 0; i < (int)(sizeof(n) / 4); i++)
			diff |= a[i] ^ b[i];
		if (!diff)
			return;
	}
	bpf_map_update_elem(&fp_neigh, &p->src, &n, BPF_ANY);
}

/* The publisher may publish on `t`: a connected client whose slot is in t->pubs, or anyone
 * with QoS -1 where the topic allows it (MQTT-SN 1.2 §6.8). */
static __always_inline int fp_authorized(const struct fp_pkt *p, const struct fp_topic *t, __u8 qos)
{
	const struct fp_publisher *pub = bpf_map_lookup_elem(&fp_publishers, &p->src);
	if (pub && pub->slot < FP_MAX_PUBS &&
	    ((t->pubs[(pub->slot / 64) & (FP_PUB_WORDS - 1)] >> (pub->slot % 64)) & 1))
		return 1;
	return qos == FP_SN_FLAG_QOSM1 && (t->flags & FP_TF_QOS_M1);
}

/* Writes fp_meta in front of the frame for fp_tc. -ENOSPC when the driver has no room. */
static __always_inline int fp_write_meta(struct xdp_md *ctx, const struct fp_pkt *p,
                                         const struct fp_topic_key *key, __u16 sn_len)
{
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct fp_meta)) < 0)
		return -ENOSPC;
	struct fp_meta *m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return -ENOSPC;
	m->magic = FP_META_MAGIC;
	m->key = *key;
	m->l3_off = p->l3_off;
	m->l4_off = p->l4_off;
	m->sn_off = p->l4_off + sizeof(struct udphdr);
	m->sn_len = sn_len;
	m->family = p->family;
	m->pad[0] = m->pad[1] = m->pad[2] = 0;
	return 0;
}

/* The flags the kernel serves: QoS 0 or -1, retain and DUP clear, Will/CleanSession unused,
 * a defined topic id type (MQTT-SN 1.2 §5.3.4, §5.4.12). */
static __always_inline int fp_flags_fastpath(__u8 flags)
{
	__u8 qos = flags & FP_SN_FLAG_QOS_MASK;
	if (qos != FP_SN_FLAG_QOS0 && qos != FP_SN_FLAG_QOSM1)
		return 0;
	if (flags & (FP_SN_FLAG_DUP | FP_SN_FLAG_RETAIN | 0x0c))
		return 0;
	return (flags & FP_SN_FLAG_TOPIC_TYPE) <= FP_TOPIC_SHORT;
}

/* A checksum-valid MQTT-SN datagram with a consistent Length: is it a fast-path PUBLISH? */
static __always_inline int fp_xdp_publish(struct xdp_md *ctx, struct fp_pkt *p, struct fp_cursor *c,
                                          const struct fp_sn_header *sn, __u64 bytes)
{
	struct fp_sn_publish pub;
	/* Length covers MsgType, Flags, TopicId, MsgId (§5.4.12): bytes beyond Length may be
	 * Ethernet padding, so the Length decides, not the frame. */
	if (sn->len < sn->hdr_len + 6 || fp_parse_sn_publish(c, &pub) < 0) {
		/* Too short for a PUBLISH: userspace rejects it as it always does. */
		fp_learn_neigh(ctx, p);
		fp_count(FP_MAX_TOPICS, FP_V_PASS_NOT_FASTPATH, bytes);
		return XDP_PASS;
	}
	struct fp_topic_key key = {.type = pub.flags & FP_SN_FLAG_TOPIC_TYPE, .id = pub.topic_id};
	const struct fp_topic *t = bpf_map_lookup_elem(&fp_topics, &key);
	__u32 slot = fp_counter_slot(t);
	if (!t || !(t->flags & FP_TF_ENABLED) || !fp_flags_fastpath(pub.flags)) {
		fp_learn_neigh(ctx, p);
		fp_count(slot, FP_V_PASS_NOT_FASTPATH, bytes);
		return XDP_PASS;
	}
	if (!fp_authorized(p, t, pub.flags & FP_SN_FLAG_QOS_MASK)) {
		fp_count(slot, FP_V_DROP_UNAUTHORIZED, bytes);
		return XDP_DROP;
	}
	fp_learn_neigh(ctx, p);
	__u64 match[FP_SUB_WORDS];
	if (fp_match(t, match) < 0) {
		fp_count(slot, FP_V_PASS_NOT_FASTPATH, bytes);
		return XDP_PASS;
	}
	if (fp_bits_empty(match)) {
		if (t->flags & FP_TF_PASS_UP) {
			fp_count(slot, FP_V_PASSED, bytes);
			return XDP_PASS;
		}
		fp_count(slot, FP_V_DROP_NO_SUBSCRIBER, bytes);
		return XDP_DROP;
	}
	/* No metadata room: the original passes without it, userspace serves everyone. */
	if (fp_write_meta(ctx, p, &key, sn->len) < 0)
		fp_count(slot, FP_V_PASSED, bytes);
	return XDP_PASS;
}

SEC("xdp")
int fp_xdp(struct xdp_md *ctx)
{
	const struct fp_config *cfg = fp_config_get();
	if (!cfg)
		return XDP_PASS;
	__u64 bytes = ctx->data_end - ctx->data;
	struct fp_pkt p = {};
	switch (fp_parse_frame(ctx, cfg, &p)) {
	case FP_P_OK:
		break;
	case FP_P_IP_OPTIONS:
		fp_count(FP_MAX_TOPICS, FP_V_PASS_IP_OPTIONS, bytes);
		return XDP_PASS;
	case FP_P_BAD_CSUM:
		fp_count(FP_MAX_TOPICS, FP_V_PASS_BAD_CSUM, bytes);
		return XDP_PASS;
	case FP_P_TOO_BIG:
		fp_count(FP_MAX_TOPICS, FP_V_PASS_NOT_FASTPATH, bytes);
		return XDP_PASS;
	default:
		return XDP_PASS;
	}
	struct fp_cursor c = {.pos = p.udp + 1, .end = (void *)(long)ctx->data_end};
	struct fp_sn_header sn;
	__u16 sn_len = p.udp_len - sizeof(struct udphdr);
	/* MQTT-SN 1.2 §5.2.1: Length is the whole message; one message per datagram. */
	if (fp_parse_sn_header(&c, &sn) < 0 || sn.len != sn_len || sn.len < sn.hdr_len + 1) {
		fp_count(FP_MAX_TOPICS, FP_V_DROP_MALFORMED, bytes);
		return XDP_DROP;
	}
	if (sn.msg_type == FP_SN_PUBLISH)
		return fp_xdp_publish(ctx, &p, &c, &sn, bytes);
	fp_learn_neigh(ctx, &p);
	fp_count(FP_MAX_TOPICS, FP_V_PASS_NOT_FASTPATH, bytes);
	return XDP_PASS;
}

/* ---- TC: one copy per served subscriber ----
 *
 * For a packet carrying fp_meta, with T the fp_topics entry looked up again now:
 * - T missing or not enabled, or fp_meta inconsistent: TC_ACT_OK, no mark (nobody served).
 * - S = match & T.serve empty: pass-up flag -> TC_ACT_OK with the mark; else TC_ACT_SHOT
 *   (counted DROP_NO_SUBSCRIBER).
 * - Otherwise one clone per slot of S whose fp_subscriber is valid and of the packet's family
 *   (CLONES, or CLONE_FAILED when bpf_clone_redirect fails). A slot of S that is invalid or of
 *   the other family is not served and forces the pass-up. Then: pass-up (FP_TF_PASS_UP or a
 *   forced one) -> headers and checksums restored, skb->mark = FP_MARK_TAG | serve_gen, counted
 *   PASSED, TC_ACT_OK; else TC_ACT_SHOT counted FORWARDED.
 * - A helper failing half-way through a rewrite: that copy counts CLONE_FAILED, the fan-out
 *   stops and the original is dropped (it can no longer be trusted).
 * So with a mark G, userspace serves exactly the subscribers not in
 * match & serve(G) & {valid slots of the packet's family}. */

/* Header fields fp_tc rewrites, in wire layout: Ethernet dst+src, IP src+dst (IPv4 uses the
 * first 8 bytes), UDP src+dst port. */
struct fp_hdrs {
	__u8 eth[12];
	__u8 addrs[32];
	__u16 ports[2];
};

/* State of one fan-out, shared with the bpf_loop callback. */
struct fp_fanout {
	struct __sk_buff *skb;
	__u64 todo[FP_SUB_WORDS]; /* slots still to serve */
	struct fp_meta m;
	__u32 cslot;    /* counter slot of the topic */
	__u8 pass_up;   /* a slot could not be served here: userspace must see the original */
	__u8 broken;    /* a rewrite failed half-way: the skb can no longer be trusted */
	__u8 rewritten; /* headers differ from the original */
	__u8 pad;
	struct fp_hdrs cur;  /* what the skb carries now */
	struct fp_hdrs orig; /* what it carried on arrival */
};

/* Index of the single bit set in `b`. */
static __always_inline __u32 fp_bit_index(__u64 b)
{
	__u32 n = 0;
	if (b & 0xffffffff00000000ull)
		n += 32;
	if (b & 0xffff0000ffff0000ull)
		n += 16;
	if (b & 0xff00ff00ff00ff00ull)
		n += 8;
	if (b & 0xf0f0f0f0f0f0f0f0ull)
		n += 4;
	if (b & 0xccccccccccccccccull)
		n += 2;
	if (b & 0xaaaaaaaaaaaaaaaaull)
		n += 1;
	return n;
}

/* Takes the lowest slot out of f->todo; -ENOENT when none is left. */
static __always_inline int fp_next_slot(struct fp_fanout *f, __u32 *slot)
{
#pragma unroll
	for (int k = 0; k < FP_SUB_WORDS; k++) {
		__u64 w = f->todo[k];
		if (w) {
			__u64 low = w & -w;
			f->todo[k] = w & ~low;
			*slot = ((__u32)k * 64 + fp_bit_index(low)) & FP_SLOT_MASK;
			return 0;
		}
	}
	return -ENOENT;
}

/* Rewrites the skb's headers from f->cur to `to`, fixing the IPv4 header checksum and the UDP
 * checksum incrementally. Offsets only: packet pointers are invalid after the first clone.
 * BPF_F_MARK_MANGLED_0 keeps an IPv4 UDP checksum of 0 ("none") as 0 and writes a computed 0
 * as 0xffff (RFC 768); on a CHECKSUM_PARTIAL skb the helpers update only the pseudo-header
 * part the device will complete, which is what BPF_F_PSEUDO_HDR distinguishes. */
static __always_inline int fp_rewrite(struct fp_fanout *f, const struct fp_hdrs *to)
{
	struct __sk_buff *skb = f->skb;
	__u32 l3 = f->m.l3_off, l4 = f->m.l4_off, csum = l4 + offsetof(struct udphdr, check);
	__s64 diff;
	long err;
	if (bpf_skb_store_bytes(skb, 0, to->eth, sizeof(to->eth), 0) < 0)
		return -EIO;
	__builtin_memcpy(f->cur.eth, to->eth, sizeof(to->eth));
	if (f->m.family == 4) {
		diff = bpf_csum_diff((__be32 *)f->cur.addrs, 8, (__be32 *)to->addrs, 8, 0);
		err = diff < 0 ? diff
		               : bpf_skb_store_bytes(skb, l3 + offsetof(struct iphdr, saddr),
		                                     to->addrs, 8, 0);
		if (!err)
			err = bpf_l3_csum_replace(skb, l3 + offsetof(struct iphdr, check), 0, diff,
			                          0);
	} else {
		diff = bpf_csum_diff((__be32 *)f->cur.addrs, 32, (__be32 *)to->addrs, 32, 0);
		err = diff < 0 ? diff
		               : bpf_skb_store_bytes(skb, l3 + offsetof(struct ipv6hdr, saddr),
		                                     to->addrs, 32, 0);
	}
	if (!err)
		err = bpf_l4_csum_replace(skb, csum, 0, diff,
		                          BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
	if (err)
		return -EIO;
	__builtin_memcpy(f->cur.addrs, to->addrs, sizeof(to->addrs));
	diff = bpf_csum_diff((__be32 *)f->cur.ports, 4, (__be32 *)to->ports, 4, 0);
	err = diff < 0 ? diff : bpf_skb_store_bytes(skb, l4, to->ports, 4, 0);
	if (!err)
		err = bpf_l4_csum_replace(skb, csum, 0, diff, BPF_F_MARK_MANGLED_0);
	if (err)
		return -EIO;
	__builtin_memcpy(f->cur.ports, to->ports, sizeof(to->ports));
	return 0;
}

/* bpf_loop callback: serves the next slot of f->todo. Returns 1 to stop the loop. */
static long fp_fanout_one(__u32 index, void *arg)
{
	struct fp_fanout *f = arg;
	__u32 slot;
	(void)index;
	if (fp_next_slot(f, &slot) < 0)
		return 1;
	const struct fp_subscriber *sub = bpf_map_lookup_elem(&fp_subscribers, &slot);
	/* A slot the kernel cannot serve (not filled in yet, or the other address family) is
	 * left to userspace: the original must go up. */
	if (!sub || !sub->valid || sub->peer.family != f->m.family ||
	    sub->local.family != f->m.family) {
		f->pass_up = 1;
		return 0;
	}
	struct fp_hdrs to;
	__builtin_memcpy(to.eth, sub->dst_mac, 12); /* dst_mac, src_mac: Ethernet order */
	if (f->m.family == 4) {
		__builtin_memcpy(to.addrs, sub->local.addr, 4);
		__builtin_memcpy(to.addrs + 4, sub->peer.addr, 4);
	} else {
		__builtin_memcpy(to.addrs, sub->local.addr, 16);
		__builtin_memcpy(to.addrs + 16, sub->peer.addr, 16);
	}
	to.ports[0] = sub->local.port;
	to.ports[1] = sub->peer.port;
	f->rewritten = 1;
	if (fp_rewrite(f, &to) < 0) {
		f->broken = 1;
		fp_count(f->cslot, FP_V_CLONE_FAILED, f->skb->len);
		return 1;
	}
	/* Egress of the subscriber's interface; fails when the backlog is full. */
	if (bpf_clone_redirect(f->skb, sub->ifindex, 0) == 0)
		fp_count(f->cslot, FP_V_CLONES, f->skb->len);
	else
		fp_count(f->cslot, FP_V_CLONE_FAILED, f->skb->len);
	return 0;
}

/* Reads the headers fp_tc may rewrite, before any clone (offsets checked by the caller). */
static __always_inline int fp_load_hdrs(struct __sk_buff *skb, const struct fp_meta *m,
                                        struct fp_hdrs *h)
{
	__builtin_memset(h, 0, sizeof(*h));
	if (bpf_skb_load_bytes(skb, 0, h->eth, sizeof(h->eth)) < 0)
		return -EIO;
	if (m->family == 4 &&
	    bpf_skb_load_bytes(skb, m->l3_off + offsetof(struct iphdr, saddr), h->addrs, 8) < 0)
		return -EIO;
	if (m->family == 6 &&
	    bpf_skb_load_bytes(skb, m->l3_off + offsetof(struct ipv6hdr, saddr), h->addrs, 32) < 0)
		return -EIO;
	if (bpf_skb_load_bytes(skb, m->l4_off, h->ports, 4) < 0)
		return -EIO;
	return 0;
}

/* Takes the metadata fp_xdp wrote, if any, and clears its magic so that no later program
 * (on a clone, or the same skb looping back) takes it for a fresh one. */
static __always_inline int fp_take_meta(struct __sk_buff *skb, struct fp_meta *out)
{
	struct fp_meta *m = (void *)(long)skb->data_meta;
	if ((void *)(m + 1) > (void *)(long)skb->data || m->magic != FP_META_MAGIC)
		return -ENOENT;
	*out = *m;
	m->magic = 0;
	/* Offsets as fp_xdp writes them; GSO skbs (GRO merged datagrams) are left alone, and so
	 * are frames not addressed to this host's MAC (promiscuous mode: the stack drops them,
	 * XDP cannot tell them apart). */
	if ((out->family != 4 && out->family != 6) || out->l3_off != sizeof(struct ethhdr) ||
	    out->l4_off < out->l3_off + sizeof(struct iphdr) ||
	    out->sn_off != out->l4_off + sizeof(struct udphdr) ||
	    (__u32)out->sn_off + out->sn_len > skb->len || skb->gso_size ||
	    skb->pkt_type != PACKET_HOST)
		return -EINVAL;
	return 0;
}

/* Restores the original headers after a fan-out and passes it up with the serve generation in
 * the mark, so userspace skips exactly the slots this generation let the kernel serve. */
static __always_inline int fp_tc_pass_up(struct fp_fanout *f, __u32 serve_gen)
{
	if (f->rewritten && fp_rewrite(f, &f->orig) < 0) {
		fp_count(f->cslot, FP_V_CLONE_FAILED, f->skb->len);
		return TC_ACT_SHOT;
	}
	f->skb->mark = FP_MARK_TAG | (serve_gen & FP_MARK_GEN_MASK);
	fp_count(f->cslot, FP_V_PASSED, f->skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int fp_tc(struct __sk_buff *skb)
{
	struct fp_fanout f = {.skb = skb};
	int err = fp_take_meta(skb, &f.m);
	if (err == -ENOENT || !fp_config_get())
		return TC_ACT_OK;
	/* The topic again: the serve set may have changed since fp_xdp, and the mark must name
	 * the generation actually used. */
	const struct fp_topic *t = err ? NULL : bpf_map_lookup_elem(&fp_topics, &f.m.key);
	f.cslot = fp_counter_slot(t);
	if (!t || !(t->flags & FP_TF_ENABLED) || fp_match(t, f.todo) < 0) {
		/* Nobody served: no mark, userspace serves everyone. */
		fp_count(f.cslot, FP_V_PASSED, skb->len);
		return TC_ACT_OK;
	}
	__u32 serve_gen = t->serve_gen;
	int pass_up = !!(t->flags & FP_TF_PASS_UP);
	if (fp_bits_empty(f.todo)) {
		if (pass_up)
			return fp_tc_pass_up(&f, serve_gen);
		fp_count(f.cslot, FP_V_DROP_NO_SUBSCRIBER, skb->len);
		return TC_ACT_SHOT;
	}
	if (fp_load_hdrs(skb, &f.m, &f.orig) < 0) {
		fp_count(f.cslot, FP_V_PASSED, skb->len);
		return TC_ACT_OK;
	}
	f.cur = f.orig;
	bpf_loop(FP_MAX_SUBS, fp_fanout_one, &f, 0);
	if (f.broken)
		return TC_ACT_SHOT;
	if (pass_up || f.pass_up)
		return fp_tc_pass_up(&f, serve_gen);
	fp_count(f.cslot, FP_V_FORWARDED, skb->len);
	return TC_ACT_SHOT;
}
