/* test_fastpath_tc.c - fp_xdp + fp_tc attached for real (native XDP and clsact ingress) on the
 * broker side of a veth pair, in namespaces made by test_fastpath_tc.sh:
 *
 *   fpk-pub: fpkp1 10.251.1.2 fd51:1::2  <->  fpkp0 10.251.1.1 fd51:1::1 :fpk-brk (programs)
 *   fpk-sub: fpks1 10.251.2.2 fd51:2::2  <->  fpks0 10.251.2.1 fd51:2::1 :fpk-brk
 *
 * The publisher injects exact frames with AF_PACKET (so every byte of the expected copy is
 * known) and also sends through ordinary UDP sockets (what devices do). The subscriber side
 * captures frames with AF_PACKET and compares them byte for byte with frames built from scratch
 * (fp_frame.h), and receives them on UDP sockets (the kernel's own checksum check). The
 * broker's UDP sockets receive the passed-up originals and read the mark with SO_RCVMARK.
 * Counters are checked per scenario. Usage: test_fastpath_tc PUB_NS BRK_NS SUB_NS. */
#include "fp_netns.h"

#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "common.h"
#include "fastpath.skel.h"
#include "fp_frame.h"

#define SN_PORT       25000
#define PUB_PORT      25100
#define SUB_PORT0     25201 /* subscriber sockets: 25201, 25202, 25203 per family */
#define PUB_SIDE_PORT 25204 /* a subscriber on the publisher's side (another interface) */
#define NSUBPORTS     3
#define WAIT_MS       1000 /* for what must arrive */
#define QUIET_MS      250  /* for what must not */

static const uint8_t pub4[4] = {10, 251, 1, 2}, brk_pub4[4] = {10, 251, 1, 1};
static const uint8_t brk_sub4[4] = {10, 251, 2, 1}, sub4[4] = {10, 251, 2, 2};
static const uint8_t pub6[16] = {0xfd, 0x51, 0, 1, [15] = 2};
static const uint8_t brk_pub6[16] = {0xfd, 0x51, 0, 1, [15] = 1};
static const uint8_t brk_sub6[16] = {0xfd, 0x51, 0, 2, [15] = 1};
static const uint8_t sub6[16] = {0xfd, 0x51, 0, 2, [15] = 2};

struct env {
	int ns_pub, ns_brk, ns_sub;
	int if_pub, if_pub_brk, if_sub, if_sub_brk; /* fpkp1, fpkp0, fpks1, fpks0 */
	uint8_t mac_pub[6], mac_pub_brk[6], mac_sub[6], mac_sub_brk[6];
	int pkt_pub, pkt_sub;  /* AF_PACKET: inject on fpkp1, capture on fpks1 */
	int brk[2];            /* broker UDP sockets (v4, v6) with SO_RCVMARK */
	int sub[2][NSUBPORTS]; /* subscriber UDP sockets per family */
	int pub_udp[2];        /* publisher UDP sockets per family */
	int pub_side_sub;      /* subscriber UDP socket on the publisher host (IPv4) */
	struct fastpath *skel;
};

static int fam_index(int family)
{
	return family == 6;
}

static const uint8_t *addr_of(const uint8_t *a4, const uint8_t *a6, int family)
{
	return family == 4 ? a4 : a6;
}

/* Subscriber slots: where each one sits. */
enum slot_side { SIDE_SUB, SIDE_PUB, SIDE_NOWHERE };

struct slot_def {
	int family;
	enum slot_side side; /* SIDE_SUB: behind fpks0; SIDE_PUB: behind fpkp0 (the ingress
	                        interface itself); SIDE_NOWHERE: an ifindex that does not exist,
	                        so bpf_clone_redirect fails */
	uint16_t port;
};

static const struct slot_def slot_defs[] = {
        {4, SIDE_SUB, SUB_PORT0},     {4, SIDE_SUB, SUB_PORT0 + 1},
        {6, SIDE_SUB, SUB_PORT0},     {6, SIDE_SUB, SUB_PORT0 + 1},
        {4, SIDE_SUB, SUB_PORT0 + 2}, {6, SIDE_SUB, SUB_PORT0 + 2},
        {4, SIDE_PUB, PUB_SIDE_PORT}, {4, SIDE_NOWHERE, SUB_PORT0 + 2},
};
#define NSLOTS          ((int)(sizeof(slot_defs) / sizeof(slot_defs[0])))
#define NOWHERE_IFINDEX 0x7fff

static int slot_family(int slot)
{
	return slot_defs[slot].family;
}

static uint16_t slot_port(int slot)
{
	return slot_defs[slot].port;
}

/* Slots on `side`, as a bitmask. */
static unsigned side_mask(enum slot_side side)
{
	unsigned m = 0;
	for (int i = 0; i < NSLOTS; i++)
		m |= (unsigned)(slot_defs[i].side == side) << i;
	return m;
}

static int open_sockets(struct env *e)
{
	for (int f = 0; f < 2; f++) {
		int family = f ? 6 : 4, domain = f ? AF_INET6 : AF_INET, one = 1;
		e->brk[f] = socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (e->brk[f] < 0 ||
		    udp_bind(e->brk[f], family, addr_of(brk_pub4, brk_pub6, family), SN_PORT) < 0)
			return -EIO;
		if (setsockopt(e->brk[f], SOL_SOCKET, SO_RCVMARK, &one, sizeof(one)) < 0) {
			fprintf(stderr, "SO_RCVMARK: %s\n", strerror(errno));
			return -EIO;
		}
		for (int i = 0; i < NSUBPORTS; i++) {
			e->sub[f][i] = netns_socket(e->ns_sub, e->ns_brk, domain, SOCK_DGRAM, 0);
			if (e->sub[f][i] < 0 ||
			    udp_bind(e->sub[f][i], family, addr_of(sub4, sub6, family),
			             (uint16_t)(SUB_PORT0 + i)) < 0)
				return -EIO;
		}
		e->pub_udp[f] = netns_socket(e->ns_pub, e->ns_brk, domain, SOCK_DGRAM, 0);
		if (e->pub_udp[f] < 0 ||
		    udp_bind(e->pub_udp[f], family, addr_of(pub4, pub6, family), PUB_PORT) < 0)
			return -EIO;
	}
	e->pub_side_sub = netns_socket(e->ns_pub, e->ns_brk, AF_INET, SOCK_DGRAM, 0);
	if (e->pub_side_sub < 0 || udp_bind(e->pub_side_sub, 4, pub4, PUB_SIDE_PORT) < 0)
		return -EIO;
	return 0;
}

/* AF_PACKET sockets on fpkp1 (inject) and fpks1 (capture); after read_interfaces(). */
static int open_packet_sockets(struct env *e)
{
	e->pkt_pub = netns_socket(e->ns_pub, e->ns_brk, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	e->pkt_sub = netns_socket(e->ns_sub, e->ns_brk, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (e->pkt_pub < 0 || e->pkt_sub < 0)
		return -EIO;
	return packet_bind(e->pkt_pub, e->if_pub) ? -EIO : packet_bind(e->pkt_sub, e->if_sub);
}

static int read_interfaces(struct env *e)
{
	int err = netns_if_info(e->brk[0], "fpkp0", &e->if_pub_brk, e->mac_pub_brk);
	err = err ? err : netns_if_info(e->brk[0], "fpks0", &e->if_sub_brk, e->mac_sub_brk);
	err = err ? err : netns_if_info(e->pub_udp[0], "fpkp1", &e->if_pub, e->mac_pub);
	err = err ? err : netns_if_info(e->sub[0][0], "fpks1", &e->if_sub, e->mac_sub);
	return err;
}

static int attach(struct env *e)
{
	int xdp = bpf_program__fd(e->skel->progs.fp_xdp);
	int tc = bpf_program__fd(e->skel->progs.fp_tc);
	int err = bpf_xdp_attach(e->if_pub_brk, xdp, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "bpf_xdp_attach (native) fpkp0: %s\n", strerror(-err));
		return err;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->if_pub_brk, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = tc);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fprintf(stderr, "bpf_tc_hook_create: %s\n", strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		fprintf(stderr, "bpf_tc_attach: %s\n", strerror(-err));
	return err;
}

/* Topics: normal ids, all named "a/b" (level indices 1, 2) but for id 6 ("c/d", 3, 4), which
 * nobody subscribes to. Every slot subscribes to "a/b". */
struct tc_topic {
	uint16_t id;
	uint8_t flags;
	uint64_t serve;
	uint32_t serve_gen;
};

static const struct tc_topic tc_topics[] = {
        {1, FP_TF_ENABLED, 0x03, 11},                       /* v4 slots 0, 1: consumed */
        {2, FP_TF_ENABLED | FP_TF_PASS_UP, 0x01, 0x123456}, /* v4 slot 0, then passed up */
        {3, FP_TF_ENABLED, 0x05, 0x1000001},                /* slot 2 is IPv6: forces pass-up */
        {4, FP_TF_ENABLED, 0x0c, 44},                       /* v6 slots 2, 3: consumed */
        {5, FP_TF_ENABLED | FP_TF_PASS_UP, 0x04, 55},       /* v6 slot 2, then passed up */
        {6, FP_TF_ENABLED, 0x3f, 66},                       /* "c/d": no subscriber, dropped */
        {7, FP_TF_ENABLED | FP_TF_PASS_UP, 0x00, 77},       /* nobody served: passed by XDP */
        {8, FP_TF_ENABLED, 0xc1, 88}, /* slots 0 (fpks0), 6 (fpkp0), 7 (no such interface) */
};

static int fill_subscribers(struct env *e)
{
	for (uint32_t slot = 0; slot < (uint32_t)NSLOTS; slot++) {
		const struct slot_def *d = &slot_defs[slot];
		int family = d->family, pub = d->side == SIDE_PUB;
		size_t alen = family == 4 ? 4 : 16;
		struct fp_subscriber s = {
		        .ifindex = (uint32_t)(pub ? e->if_pub_brk : e->if_sub_brk), .valid = 1};
		if (d->side == SIDE_NOWHERE)
			s.ifindex = NOWHERE_IFINDEX;
		memcpy(s.dst_mac, pub ? e->mac_pub : e->mac_sub, 6);
		memcpy(s.src_mac, pub ? e->mac_pub_brk : e->mac_sub_brk, 6);
		s.peer.family = s.local.family = (uint8_t)family;
		s.peer.port = htons(d->port);
		s.local.port = htons(SN_PORT);
		memcpy(s.peer.addr, pub ? pub4 : addr_of(sub4, sub6, family), alen);
		memcpy(s.local.addr, pub ? brk_pub4 : addr_of(brk_sub4, brk_sub6, family), alen);
		int err = bpf_map__update_elem(e->skel->maps.fp_subscribers, &slot, sizeof(slot),
		                               &s, sizeof(s), 0);
		if (err)
			return err;
	}
	return 0;
}

static int fill_maps(struct env *e)
{
	struct fastpath *skel = e->skel;
	uint32_t zero = 0, k;
	struct fp_config cfg = {.sn_ports = {htons(SN_PORT)}, .enabled = 1};
	int err = bpf_map__update_elem(skel->maps.fp_config, &zero, sizeof(zero), &cfg, sizeof(cfg),
	                               0);
	struct fp_bits all = {.w = {(1ull << NSLOTS) - 1}};
	k = 0 * FP_MAX_INDEX + 1;
	err = err ? err : bpf_map__update_elem(skel->maps.fp_exact, &k, 4, &all, sizeof(all), 0);
	k = 1 * FP_MAX_INDEX + 2;
	err = err ? err : bpf_map__update_elem(skel->maps.fp_exact, &k, 4, &all, sizeof(all), 0);
	struct fp_wild ends2 = {.ends = {(1ull << NSLOTS) - 1}};
	k = 2;
	err = err ? err : bpf_map__update_elem(skel->maps.fp_wild, &k, 4, &ends2, sizeof(ends2), 0);
	for (size_t i = 0; i < sizeof(tc_topics) / sizeof(tc_topics[0]) && !err; i++) {
		const struct tc_topic *t = &tc_topics[i];
		struct fp_topic_key key = {.type = FP_TOPIC_NORMAL, .id = htons(t->id)};
		struct fp_topic v = {.nlevels = 2,
		                     .flags = t->flags,
		                     .slot = t->id,
		                     .serve_gen = t->serve_gen,
		                     .idx = {1, 2}};
		if (t->id == 6)
			v.idx[0] = 3, v.idx[1] = 4;
		v.serve[0] = t->serve;
		v.pubs[0] = 0x3;
		err = bpf_map__update_elem(skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v),
		                           0);
	}
	for (int f = 0; f < 2 && !err; f++) {
		int family = f ? 6 : 4;
		struct fp_addr key = {.family = (uint8_t)family, .port = htons(PUB_PORT)};
		memcpy(key.addr, addr_of(pub4, pub6, family), family == 4 ? 4 : 16);
		struct fp_publisher v = {.slot = (uint16_t)f};
		err = bpf_map__update_elem(skel->maps.fp_publishers, &key, sizeof(key), &v,
		                           sizeof(v), 0);
	}
	return err ? err : fill_subscribers(e);
}

/* Per-CPU counter of (slot, verdict), summed over CPUs. */
static uint64_t counter(struct env *e, uint32_t slot, uint32_t verdict)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fp_counter values[ncpu > 0 ? ncpu : 1];
	uint32_t key = slot * FP_NVERDICTS + verdict;
	uint64_t n = 0;
	if (ncpu <= 0 || bpf_map__lookup_elem(e->skel->maps.fp_counters, &key, sizeof(key), values,
	                                      sizeof(values), 0) < 0)
		return UINT64_MAX;
	for (int i = 0; i < ncpu; i++)
		n += values[i].packets;
	return n;
}

static void counters(struct env *e, uint32_t slot, uint64_t out[FP_NVERDICTS])
{
	for (uint32_t v = 0; v < FP_NVERDICTS; v++)
		out[v] = counter(e, slot, v);
}

/* The PUBLISH a scenario sends: QoS 0 (or flags given), normal topic id, a payload naming it. */
static size_t make_publish(uint8_t *sn, uint8_t flags, uint16_t id, const char *payload)
{
	size_t plen = strlen(payload);
	sn[0] = (uint8_t)(7 + plen);
	sn[1] = FP_SN_PUBLISH, sn[2] = flags;
	sn[3] = (uint8_t)(id >> 8), sn[4] = (uint8_t)id;
	sn[5] = sn[6] = 0;
	memcpy(sn + 7, payload, plen);
	return 7 + plen;
}

/* The frame the publisher host sends to the broker. */
static size_t publisher_frame(const struct env *e, int family, const uint8_t *sn, size_t n,
                              uint8_t *out)
{
	struct frame_spec s = {.family = family, .sn = sn, .sn_len = n};
	memcpy(s.src.mac, e->mac_pub, 6);
	memcpy(s.dst.mac, e->mac_pub_brk, 6);
	memcpy(s.src.addr, addr_of(pub4, pub6, family), family == 4 ? 4 : 16);
	memcpy(s.dst.addr, addr_of(brk_pub4, brk_pub6, family), family == 4 ? 4 : 16);
	s.src.port = PUB_PORT, s.dst.port = SN_PORT;
	return frame_build(out, &s);
}

/* The copy subscriber `slot` must receive: same IP header fields and MQTT-SN bytes, broker
 * (fpks0) as source, subscriber as destination, checksums computed from scratch. */
static size_t copy_frame(const struct env *e, int slot, const uint8_t *sn, size_t n, uint8_t *out)
{
	int family = slot_family(slot), pub = slot_defs[slot].side == SIDE_PUB;
	size_t alen = family == 4 ? 4 : 16;
	struct frame_spec s = {.family = family, .sn = sn, .sn_len = n};
	memcpy(s.src.mac, pub ? e->mac_pub_brk : e->mac_sub_brk, 6);
	memcpy(s.dst.mac, pub ? e->mac_pub : e->mac_sub, 6);
	memcpy(s.src.addr, pub ? brk_pub4 : addr_of(brk_sub4, brk_sub6, family), alen);
	memcpy(s.dst.addr, pub ? pub4 : addr_of(sub4, sub6, family), alen);
	s.src.port = SN_PORT, s.dst.port = slot_port(slot);
	return frame_build(out, &s);
}

static void drain_all(struct env *e)
{
	drain(e->pkt_sub);
	drain(e->pkt_pub);
	drain(e->pub_side_sub);
	for (int f = 0; f < 2; f++) {
		drain(e->brk[f]);
		for (int i = 0; i < NSUBPORTS; i++)
			drain(e->sub[f][i]);
	}
}

/* A frame captured on fpks1 that is a copy from the broker's SN port to a subscriber port. */
static int is_copy(const uint8_t *f, size_t n)
{
	size_t l4;
	if (n >= ETH_LEN + IP4_LEN + UDP_LEN && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17)
		l4 = ETH_LEN + (size_t)(f[14] & 0x0f) * 4;
	else if (n >= ETH_LEN + IP6_LEN + UDP_LEN && f[12] == 0x86 && f[13] == 0xdd && f[20] == 17)
		l4 = ETH_LEN + IP6_LEN;
	else
		return 0;
	if (l4 + UDP_LEN > n)
		return 0;
	unsigned sport = (unsigned)(f[l4] << 8 | f[l4 + 1]),
	         dport = (unsigned)(f[l4 + 2] << 8 | f[l4 + 3]);
	return sport == SN_PORT && dport >= SUB_PORT0 && dport <= PUB_SIDE_PORT;
}

/* Copies on AF_PACKET socket `fd` (fpks1 or fpkp1): up to WAIT_MS for `want`, then QUIET_MS
 * for any extra. */
static int capture(int fd, struct captured *out, int want)
{
	return capture_frames(fd, out, want, is_copy, WAIT_MS, QUIET_MS);
}

/* The original passed up to the broker socket: its payload and mark (0 when none). */
static ssize_t recv_up(struct env *e, int family, uint8_t *buf, size_t cap, uint32_t *mark, int ms)
{
	int fd = e->brk[fam_index(family)];
	*mark = 0;
	if (wait_readable(fd, ms) <= 0)
		return -ETIMEDOUT;
	char cbuf[CMSG_SPACE(sizeof(uint32_t))];
	struct iovec iov = {buf, cap};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = cbuf,
	                     .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_MARK)
			memcpy(mark, CMSG_DATA(c), sizeof(*mark));
	return n < 0 ? -errno : n;
}

/* Each subscriber UDP socket gets exactly the copies it should: `sn` from the broker's address
 * and SN port for the slots in `copies`, nothing for the others. */
static void check_sub_sockets(struct env *e, unsigned copies, const uint8_t *sn, size_t sn_len)
{
	for (int slot = 0; slot < NSLOTS; slot++) {
		enum slot_side side = slot_defs[slot].side;
		int family = slot_family(slot), want = (copies >> slot) & 1;
		if (side == SIDE_NOWHERE)
			continue;
		int fd = side == SIDE_PUB ? e->pub_side_sub
		                          : e->sub[fam_index(family)][slot_port(slot) - SUB_PORT0];
		uint8_t buf[FRAME_MAX];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = -1;
		if (wait_readable(fd, want ? WAIT_MS : 0) > 0)
			n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			             &flen);
		CHECK_EQ(n >= 0, want);
		if (n < 0 || !want)
			continue;
		CHECK_MEM(buf, n, sn, sn_len);
		if (family == 4) {
			struct sockaddr_in *a = (struct sockaddr_in *)&from;
			CHECK_MEM(&a->sin_addr, 4, side == SIDE_PUB ? brk_pub4 : brk_sub4, 4);
			CHECK_EQ(ntohs(a->sin_port), SN_PORT);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from;
			CHECK_MEM(&a->sin6_addr, 16, brk_sub6, 16);
			CHECK_EQ(ntohs(a->sin6_port), SN_PORT);
		}
		/* Exactly one copy: a second datagram would be a duplicate. */
		CHECK_EQ(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	}
}

struct tc_scenario {
	const char *name;
	int family;
	uint16_t topic;
	uint8_t flags;    /* PUBLISH flags (QoS 0, normal id unless given) */
	unsigned copies;  /* slots that must get a copy */
	int up;           /* the original reaches the broker socket */
	uint32_t mark;    /* its mark (0: none) */
	int verdict;      /* counter of the topic slot that moves by one */
	int clone_failed; /* copies counted CLONE_FAILED */
};

#define MARK(gen) (FP_MARK_TAG | ((gen)&FP_MARK_GEN_MASK))

static const struct tc_scenario scenarios[] = {
        {"v4 two subscribers, consumed", 4, 1, 0, 0x03, 0, 0, FP_V_FORWARDED, 0},
        {"v4 one subscriber, pass-up with mark", 4, 2, 0, 0x01, 1, MARK(0x123456), FP_V_PASSED, 0},
        {"v4 IPv6 slot skipped forces pass-up", 4, 3, 0, 0x01, 1, MARK(0x1000001), FP_V_PASSED, 0},
        {"v6 IPv4 slot skipped forces pass-up", 6, 3, 0, 0x04, 1, MARK(0x1000001), FP_V_PASSED, 0},
        {"v6 two subscribers, consumed", 6, 4, 0, 0x0c, 0, 0, FP_V_FORWARDED, 0},
        {"v6 one subscriber, pass-up with mark", 6, 5, 0, 0x04, 1, MARK(55), FP_V_PASSED, 0},
        {"v4 qos-1 consumed", 4, 1, FP_SN_FLAG_QOSM1, 0x03, 0, 0, FP_V_FORWARDED, 0},
        {"v4 unmatched topic dropped", 4, 6, 0, 0, 0, 0, FP_V_DROP_NO_SUBSCRIBER, 0},
        {"v4 nobody served, passed unmarked", 4, 7, 0, 0, 1, 0, FP_V_PASSED, 0},
        {"v6 nobody served, passed unmarked", 6, 7, 0, 0, 1, 0, FP_V_PASSED, 0},
        {"v4 qos1 not fast path", 4, 1, 0x20, 0, 1, 0, FP_V_PASS_NOT_FASTPATH, 0},
        {"v4 copies on two interfaces, one clone fails", 4, 8, 0, 0x41, 0, 0, FP_V_FORWARDED, 1},
};

/* Captures the copies of `copies` on both sides and compares each with the frame built from
 * scratch. Copies leave in slot order (fp_tc walks the set from bit 0). */
static void check_copies(struct env *e, unsigned copies, const uint8_t *sn, size_t sn_len,
                         int no_csum)
{
	static struct captured cap[MAX_CAPTURE];
	uint8_t want[FRAME_MAX];
	for (int side = SIDE_SUB; side <= SIDE_PUB; side++) {
		unsigned mine = copies & side_mask((enum slot_side)side);
		int got = capture(side == SIDE_SUB ? e->pkt_sub : e->pkt_pub, cap,
		                  __builtin_popcount(mine));
		CHECK_EQ(got, __builtin_popcount(mine));
		for (int slot = 0, i = 0; slot < NSLOTS && i < got; slot++) {
			if (!((mine >> slot) & 1))
				continue;
			size_t wlen = copy_frame(e, slot, sn, sn_len, want);
			if (no_csum) /* IPv4 "no checksum" stays so (RFC 768) */
				memset(want + ETH_LEN + IP4_LEN + 6, 0, 2);
			CHECK_MEM(cap[i].frame, cap[i].len, want, wlen);
			CHECK_EQ(cap[i].csum_partial, 0);
			i++;
		}
	}
}

/* Sends `sn` as an exact frame from the publisher host and checks what everyone receives. */
static void run_scenario(struct env *e, const struct tc_scenario *s, const char *payload)
{
	uint8_t sn[256], frame[FRAME_MAX], up[FRAME_MAX];
	uint64_t before[FP_NVERDICTS], after[FP_NVERDICTS];
	unsigned failed = check_state_.failed;
	size_t sn_len = make_publish(sn, s->flags, s->topic, payload);
	size_t len = publisher_frame(e, s->family, sn, sn_len, frame);
	int ncopies = __builtin_popcount(s->copies);
	drain_all(e);
	counters(e, s->topic, before);
	CHECK_EQ(send(e->pkt_pub, frame, len, 0), (ssize_t)len);
	check_copies(e, s->copies, sn, sn_len, 0);
	check_sub_sockets(e, s->copies, sn, sn_len);
	uint32_t mark;
	ssize_t n = recv_up(e, s->family, up, sizeof(up), &mark, s->up ? WAIT_MS : QUIET_MS);
	CHECK_EQ(n >= 0, s->up);
	if (n >= 0 && s->up) {
		CHECK_MEM(up, n, sn, sn_len); /* restored: the socket saw the original datagram */
		CHECK_EQ(mark, s->mark);
	}
	counters(e, s->topic, after);
	for (uint32_t v = 0; v < FP_NVERDICTS; v++) {
		uint64_t d = after[v] - before[v];
		if (v == FP_V_CLONES)
			CHECK_EQ(d, (uint64_t)ncopies);
		else if (v == FP_V_CLONE_FAILED)
			CHECK_EQ(d, (uint64_t)s->clone_failed);
		else
			CHECK_EQ(d, v == (uint32_t)s->verdict);
	}
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ scenario \"%s\"\n", s->name);
}

/* A fast-path PUBLISH to another host's MAC (as a promiscuous interface sees it): fp_xdp
 * cannot tell, fp_tc sees PACKET_OTHERHOST and leaves it to the stack, which drops it. */
static void run_otherhost(struct env *e)
{
	static struct captured cap[MAX_CAPTURE];
	uint8_t sn[64], frame[FRAME_MAX], up[FRAME_MAX];
	uint64_t before[FP_NVERDICTS], after[FP_NVERDICTS];
	uint64_t passed0 = counter(e, FP_MAX_TOPICS, FP_V_PASSED);
	unsigned failed = check_state_.failed;
	size_t sn_len = make_publish(sn, 0, 1, "otherhost");
	size_t len = publisher_frame(e, 4, sn, sn_len, frame);
	memcpy(frame, "\x02\x00\x00\x00\x00\x99", 6);
	drain_all(e);
	counters(e, 1, before);
	CHECK_EQ(send(e->pkt_pub, frame, len, 0), (ssize_t)len);
	CHECK_EQ(capture(e->pkt_sub, cap, 0), 0);
	check_sub_sockets(e, 0, sn, sn_len);
	uint32_t mark;
	CHECK_EQ(recv_up(e, 4, up, sizeof(up), &mark, QUIET_MS), -ETIMEDOUT);
	counters(e, 1, after);
	for (uint32_t v = 0; v < FP_NVERDICTS; v++)
		CHECK_EQ(after[v] - before[v], 0);
	CHECK_EQ(counter(e, FP_MAX_TOPICS, FP_V_PASSED) - passed0, 1);
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ frame to another host's MAC\n");
}

/* UDP checksum edge cases on topic 1 (IPv4 slots 0, 1): a publisher's checksum of 0 (none)
 * stays 0 in the copies; a copy whose checksum computes to 0 carries 0xffff (RFC 768), which
 * the payload's last two bytes are chosen to force for slot 0. */
static void run_csum_edges(struct env *e)
{
	uint8_t sn[64], frame[FRAME_MAX], copy[FRAME_MAX];
	uint64_t clones0 = counter(e, 1, FP_V_CLONES);
	unsigned failed = check_state_.failed;
	size_t sn_len = make_publish(sn, 0, 1, "zero-csum");
	size_t len = publisher_frame(e, 4, sn, sn_len, frame);
	memset(frame + ETH_LEN + IP4_LEN + 6, 0, 2);
	drain_all(e);
	CHECK_EQ(send(e->pkt_pub, frame, len, 0), (ssize_t)len);
	check_copies(e, 0x03, sn, sn_len, 1);
	sn_len = make_publish(sn, 0, 1, "csum-0xffff..");
	sn[sn_len - 2] = sn[sn_len - 1] = 0;
	size_t clen = copy_frame(e, 0, sn, sn_len, copy), l4 = ETH_LEN + IP4_LEN;
	copy[l4 + 6] = copy[l4 + 7] = 0;
	uint16_t rest =
	        frame_udp_sum(4, copy + ETH_LEN + 12, copy + ETH_LEN + 16, copy + l4, clen - l4);
	uint16_t fill = (uint16_t)(0xffff - rest); /* the sum then folds to 0xffff: checksum 0 */
	sn[sn_len - 2] = (uint8_t)(fill >> 8), sn[sn_len - 1] = (uint8_t)fill;
	copy_frame(e, 0, sn, sn_len, copy);
	CHECK_EQ(copy[l4 + 6] << 8 | copy[l4 + 7], 0xffff);
	len = publisher_frame(e, 4, sn, sn_len, frame);
	drain_all(e);
	CHECK_EQ(send(e->pkt_pub, frame, len, 0), (ssize_t)len);
	check_copies(e, 0x03, sn, sn_len, 0);
	CHECK_EQ(counter(e, 1, FP_V_CLONES) - clones0, 4);
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ UDP checksum 0 / 0xffff\n");
}

static int put_topic_serve(struct env *e, uint16_t id, uint64_t serve, uint32_t gen)
{
	struct fp_topic_key key = {.type = FP_TOPIC_NORMAL, .id = htons(id)};
	struct fp_topic v;
	int err =
	        bpf_map__lookup_elem(e->skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v), 0);
	v.serve[0] = serve;
	v.serve_gen = gen;
	return err ? err
	           : bpf_map__update_elem(e->skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v),
	                                  0);
}

/* Map changes take effect on the next packet: a serve set shrinking, a slot becoming invalid
 * (not fillable yet: the kernel leaves it to userspace and passes the original up). */
static void run_changes(struct env *e)
{
	struct tc_scenario s = {
	        "v4 serve set changed to slot 1", 4, 1, 0, 0x02, 0, 0, FP_V_FORWARDED, 0};
	CHECK_EQ(put_topic_serve(e, 1, 0x02, 12), 0);
	run_scenario(e, &s, "serve-changed");
	CHECK_EQ(put_topic_serve(e, 1, 0x03, 13), 0);
	uint32_t slot = 1;
	struct fp_subscriber sub;
	CHECK_EQ(bpf_map__lookup_elem(e->skel->maps.fp_subscribers, &slot, 4, &sub, sizeof(sub), 0),
	         0);
	sub.valid = 0;
	CHECK_EQ(bpf_map__update_elem(e->skel->maps.fp_subscribers, &slot, 4, &sub, sizeof(sub), 0),
	         0);
	struct tc_scenario inv = {
	        "v4 invalid slot left to userspace", 4, 1, 0, 0x01, 1, MARK(13), FP_V_PASSED, 0};
	run_scenario(e, &inv, "slot-invalid");
	sub.valid = 1;
	CHECK_EQ(bpf_map__update_elem(e->skel->maps.fp_subscribers, &slot, 4, &sub, sizeof(sub), 0),
	         0);
}

/* A copy of a datagram the publisher's own stack built: IP header fields are the sender's,
 * so check what the fast path owns: ends, lengths, both checksums from scratch, SN bytes. */
static void check_copy_of_udp(const struct env *e, const struct captured *c, int slot,
                              const uint8_t *sn, size_t sn_len)
{
	int family = slot_family(slot);
	size_t l4 = ETH_LEN + (family == 4 ? IP4_LEN : IP6_LEN), alen = family == 4 ? 4 : 16;
	const uint8_t *f = c->frame, *ip = f + ETH_LEN;
	CHECK_EQ(c->len, l4 + UDP_LEN + sn_len);
	if (c->len != l4 + UDP_LEN + sn_len)
		return;
	CHECK_MEM(f, 6, e->mac_sub, 6);
	CHECK_MEM(f + 6, 6, e->mac_sub_brk, 6);
	CHECK_MEM(ip + (family == 4 ? 12 : 8), alen, addr_of(brk_sub4, brk_sub6, family), alen);
	CHECK_MEM(ip + (family == 4 ? 16 : 24), alen, addr_of(sub4, sub6, family), alen);
	if (family == 4)
		CHECK_EQ(frame_fold(frame_sum(ip, IP4_LEN, 0)), 0xffff);
	CHECK_EQ(f[l4] << 8 | f[l4 + 1], SN_PORT);
	CHECK_EQ(f[l4 + 2] << 8 | f[l4 + 3], slot_port(slot));
	CHECK_EQ(c->csum_partial, 0);
	CHECK_EQ(frame_udp_sum(family, ip + (family == 4 ? 12 : 8), ip + (family == 4 ? 16 : 24),
	                       f + l4, UDP_LEN + sn_len),
	         0xffff);
	CHECK_MEM(f + l4 + UDP_LEN, sn_len, sn, sn_len);
}

/* A datagram from an ordinary UDP socket of the publisher host. With tx checksum offload on
 * (the veth default) the frame fp_xdp sees carries a CHECKSUM_PARTIAL checksum (pseudo header
 * only): it fails verification, passes up counted PASS_BAD_CSUM, and the stack, which trusts
 * partial checksums of local origin, delivers it to the broker: nothing lost, no fast path.
 * With offload off (a remote device's frames are always complete) it is served in the kernel. */
static void run_udp_publisher(struct env *e, int family, int tx_csum)
{
	static struct captured cap[MAX_CAPTURE];
	uint8_t sn[64], up[FRAME_MAX];
	uint64_t before[FP_NVERDICTS], after[FP_NVERDICTS], bad0, bad1;
	uint16_t topic = family == 4 ? 1 : 4; /* served slots 0,1 (v4) or 2,3 (v6) */
	unsigned copies = tx_csum ? 0 : family == 4 ? 0x03 : 0x0c;
	size_t sn_len = make_publish(sn, 0, topic, tx_csum ? "udp-offload" : "udp-sw-csum");
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(SN_PORT)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(SN_PORT)};
	unsigned failed = check_state_.failed;
	memcpy(&a4.sin_addr, brk_pub4, 4);
	memcpy(&a6.sin6_addr, brk_pub6, 16);
	CHECK_EQ(netns_set_tx_csum(e->pub_udp[0], "fpkp1", tx_csum), 0);
	drain_all(e);
	counters(e, topic, before);
	bad0 = counter(e, FP_MAX_TOPICS, FP_V_PASS_BAD_CSUM);
	ssize_t sent =
	        family == 4
	                ? sendto(e->pub_udp[0], sn, sn_len, 0, (struct sockaddr *)&a4, sizeof(a4))
	                : sendto(e->pub_udp[1], sn, sn_len, 0, (struct sockaddr *)&a6, sizeof(a6));
	CHECK_EQ(sent, (ssize_t)sn_len);
	int got = capture(e->pkt_sub, cap, __builtin_popcount(copies));
	CHECK_EQ(got, __builtin_popcount(copies));
	for (int slot = 0, i = 0; slot < NSLOTS && i < got; slot++)
		if ((copies >> slot) & 1)
			check_copy_of_udp(e, &cap[i++], slot, sn, sn_len);
	check_sub_sockets(e, copies, sn, sn_len);
	uint32_t mark;
	ssize_t n = recv_up(e, family, up, sizeof(up), &mark, tx_csum ? WAIT_MS : QUIET_MS);
	CHECK_EQ(n >= 0, tx_csum);
	if (n >= 0) {
		CHECK_MEM(up, n, sn, sn_len);
		CHECK_EQ(mark, 0);
	}
	counters(e, topic, after);
	bad1 = counter(e, FP_MAX_TOPICS, FP_V_PASS_BAD_CSUM);
	CHECK_EQ(bad1 - bad0, tx_csum);
	CHECK_EQ(after[FP_V_FORWARDED] - before[FP_V_FORWARDED], !tx_csum);
	CHECK_EQ(after[FP_V_CLONES] - before[FP_V_CLONES], __builtin_popcount(copies));
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ udp publisher v%d, tx checksum offload %s\n", family,
		        tx_csum ? "on" : "off");
}

/* Not a test: with FPK_BENCH set, measures the programs' own run time (BPF_ENABLE_STATS) for
 * fan-outs of 1..64 copies, all to one subscriber socket, and reports clone failures. */
static void prog_stats(struct bpf_program *p, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	*ns = *cnt = 0;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0)
		*ns = info.run_time_ns, *cnt = info.run_cnt;
}

static void run_bench(struct env *e)
{
	static const int fanouts[] = {1, 8, 32, 64};
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	uint32_t slot;
	struct fp_subscriber sub;
	slot = 4; /* IPv4, port 25203 */
	if (stats < 0 ||
	    bpf_map__lookup_elem(e->skel->maps.fp_subscribers, &slot, 4, &sub, sizeof(sub), 0) < 0)
		return;
	for (slot = 8; slot < 8 + 64; slot++)
		bpf_map__update_elem(e->skel->maps.fp_subscribers, &slot, 4, &sub, sizeof(sub), 0);
	struct fp_bits all = {.w = {~0ull, ~0ull, ~0ull, ~0ull}};
	struct fp_wild ends2 = {.ends = {~0ull, ~0ull, ~0ull, ~0ull}};
	uint32_t k0 = 1, k1 = FP_MAX_INDEX + 2, k2 = 2;
	bpf_map__update_elem(e->skel->maps.fp_exact, &k0, 4, &all, sizeof(all), 0);
	bpf_map__update_elem(e->skel->maps.fp_exact, &k1, 4, &all, sizeof(all), 0);
	bpf_map__update_elem(e->skel->maps.fp_wild, &k2, 4, &ends2, sizeof(ends2), 0);
	for (size_t i = 0; i < sizeof(fanouts) / sizeof(fanouts[0]); i++) {
		int k = fanouts[i];
		/* Slots 8..8+k-1 served on topic 1. */
		struct fp_topic_key key = {.type = FP_TOPIC_NORMAL, .id = htons(1)};
		struct fp_topic v;
		bpf_map__lookup_elem(e->skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v), 0);
		v.serve[0] = k == 64 ? ~0ull << 8 : ((1ull << k) - 1) << 8;
		v.serve[1] = k == 64 ? 0xff : 0;
		v.serve_gen = 100 + (uint32_t)i;
		bpf_map__update_elem(e->skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v), 0);
		uint8_t sn[64], frame[FRAME_MAX];
		size_t len = publisher_frame(e, 4, sn, make_publish(sn, 0, 1, "bench"), frame);
		uint64_t ns0, c0, ns1, c1, x0, xc0, x1, xc1, f0 = counter(e, 1, FP_V_CLONE_FAILED);
		uint64_t cl0 = counter(e, 1, FP_V_CLONES);
		prog_stats(e->skel->progs.fp_tc, &ns0, &c0);
		prog_stats(e->skel->progs.fp_xdp, &x0, &xc0);
		for (int n = 0; n < 2000; n++) {
			if (send(e->pkt_pub, frame, len, 0) < 0)
				break;
			if (n % 16 == 15 && !getenv("FPK_BENCH_BURST")) /* paced */
				drain(e->sub[0][2]);
		}
		usleep(200 * 1000);
		drain_all(e);
		prog_stats(e->skel->progs.fp_tc, &ns1, &c1);
		prog_stats(e->skel->progs.fp_xdp, &x1, &xc1);
		uint64_t cnt = c1 - c0 ? c1 - c0 : 1, xcnt = xc1 - xc0 ? xc1 - xc0 : 1;
		printf("bench: %2d copies: fp_tc %6llu ns/packet (%llu runs), fp_xdp %4llu "
		       "ns/packet, "
		       "clones %llu, clone failures %llu\n",
		       k, (unsigned long long)((ns1 - ns0) / cnt), (unsigned long long)(c1 - c0),
		       (unsigned long long)((x1 - x0) / xcnt),
		       (unsigned long long)(counter(e, 1, FP_V_CLONES) - cl0),
		       (unsigned long long)(counter(e, 1, FP_V_CLONE_FAILED) - f0));
	}
	close(stats);
}

static int run(struct env *e)
{
	if (open_sockets(e) < 0 || read_interfaces(e) < 0 || open_packet_sockets(e) < 0)
		return -EIO;
	e->skel = fastpath__open_and_load();
	if (!e->skel && (errno == ENOSYS || errno == EPERM)) {
		printf("skipped: the kernel refuses BPF here (%s)\n", strerror(errno));
		return 77;
	}
	if (!e->skel) {
		fprintf(stderr, "fastpath__open_and_load: %s\n", strerror(errno));
		return -errno;
	}
	int err = fill_maps(e);
	if (err) {
		fprintf(stderr, "filling maps: %s\n", strerror(-err));
		return err;
	}
	err = attach(e);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(e, &scenarios[i], scenarios[i].name);
	run_changes(e);
	run_otherhost(e);
	run_csum_edges(e);
	run_udp_publisher(e, 4, 1);
	run_udp_publisher(e, 4, 0);
	run_udp_publisher(e, 6, 1);
	run_udp_publisher(e, 6, 0);
	if (getenv("FPK_BENCH"))
		run_bench(e);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s PUB_NS BRK_NS SUB_NS\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("skipped: attaching BPF programs needs root\n");
		return 77;
	}
	struct env e = {.ns_pub = netns_open(argv[1]),
	                .ns_brk = netns_open(argv[2]),
	                .ns_sub = netns_open(argv[3])};
	if (e.ns_pub < 0 || e.ns_brk < 0 || e.ns_sub < 0 || setns(e.ns_brk, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cannot enter the test namespaces\n");
		return 1;
	}
	int err = run(&e);
	if (err == 77)
		return 77;
	CHECK_EQ(err, 0);
	/* Namespaces go with the script's cleanup; detach explicitly all the same. */
	bpf_xdp_detach(e.if_pub_brk, XDP_FLAGS_DRV_MODE, NULL);
	fastpath__destroy(e.skel);
	return check_report();
}
