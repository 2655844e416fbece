/* test_fastpath_xdp.c - runs fp_xdp (bpf/fastpath.bpf.c) in the kernel with
 * bpf_prog_test_run_opts over fixture tables: input frame, expected verdict, expected counter
 * (topic slot, verdict), expected fp_meta in front of the unchanged frame, fp_neigh learned or
 * not. A second table checks the per-level match (exact, '+', '#', "a/#" matching "a", filter
 * length) one subscriber slot at a time. The skeleton is loaded, never attached. */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "common.h"
#include "fastpath.skel.h"
#include "fp_frame.h"

#define SN_PORT  1884
#define PUB_PORT 40000

static const struct frame_end broker4 = {{2, 0, 0, 0, 0, 1}, {10, 0, 0, 1}, SN_PORT};
static const struct frame_end pub4 = {{2, 0, 0, 0, 0, 2}, {10, 0, 0, 2}, PUB_PORT};
static const struct frame_end broker6 = {{2, 0, 0, 0, 0, 1}, {0xfd, 0, [15] = 1}, SN_PORT};
static const struct frame_end pub6 = {{2, 0, 0, 0, 0, 2}, {0xfd, 0, [15] = 2}, PUB_PORT};
static const struct frame_end pub6b = {{2, 0, 0, 0, 0, 3}, {0xfd, 0, [15] = 3}, PUB_PORT};

/* Topics of the fixtures: (type, id) -> levels, flags, counter slot, serve set, publishers.
 * Subscribers (slots): 0 "a/b", 1 "a/+", 2 "a/#", 3 "#", 4 "+/b", 5 "xy", 6 "c/d/e".
 * Level indices: depth 0: a=1 c=3 xy=5; depth 1: b=2 d=4 e=6; depth 2: e=7 c=8. */
struct topic_fixture {
	uint8_t type;
	uint16_t id; /* host order; stored in network order like the wire */
	uint8_t nlevels;
	uint16_t idx[FP_MAX_LEVELS];
	uint8_t flags;
	uint16_t slot;
	uint64_t serve;
	uint64_t pubs;
};

enum { EN = FP_TF_ENABLED, UP = FP_TF_PASS_UP, M1 = FP_TF_QOS_M1 };

static const struct topic_fixture topics[] = {
        {FP_TOPIC_NORMAL, 1, 2, {1, 2}, EN, 1, 0xff, 0x7},        /* a/b */
        {FP_TOPIC_PREDEFINED, 2, 1, {1}, EN, 2, 0xff, 0x3},       /* a */
        {FP_TOPIC_SHORT, 0x7879, 1, {5}, EN | M1, 3, 0xff, 0x0},  /* "xy" */
        {FP_TOPIC_NORMAL, 4, 2, {1, 2}, 0, 4, 0xff, 0x3},         /* a/b, not enabled */
        {FP_TOPIC_NORMAL, 5, 2, {3, 4}, EN, 5, 1 << 6, 0x3},      /* c/d: only c/d/e served */
        {FP_TOPIC_NORMAL, 6, 2, {3, 6}, EN | UP, 6, 1 << 6, 0x3}, /* c/e, pass-up */
};

static void put_sub(struct fastpath *skel, int depth_idx[][2], int n, uint32_t slot, int plus_at,
                    int hash_at, int len)
{
	uint64_t bit = 1ull << slot;
	for (int i = 0; i < n; i++) {
		uint32_t key = (uint32_t)(depth_idx[i][0] * FP_MAX_INDEX + depth_idx[i][1]);
		struct fp_bits b;
		bpf_map__lookup_elem(skel->maps.fp_exact, &key, sizeof(key), &b, sizeof(b), 0);
		b.w[0] |= bit;
		bpf_map__update_elem(skel->maps.fp_exact, &key, sizeof(key), &b, sizeof(b), 0);
	}
	for (uint32_t d = 0; d <= FP_MAX_LEVELS; d++) {
		struct fp_wild w;
		bpf_map__lookup_elem(skel->maps.fp_wild, &d, sizeof(d), &w, sizeof(w), 0);
		if ((int)d == plus_at)
			w.plus[0] |= bit;
		if (hash_at >= 0 && (int)d >= hash_at)
			w.hash_cum[0] |= bit;
		if (hash_at < 0 && (int)d == len)
			w.ends[0] |= bit;
		bpf_map__update_elem(skel->maps.fp_wild, &d, sizeof(d), &w, sizeof(w), 0);
	}
}

static int put_topic(struct fastpath *skel, const struct topic_fixture *t)
{
	struct fp_topic_key key = {.type = t->type, .id = htons(t->id)};
	struct fp_topic v = {
	        .nlevels = t->nlevels, .flags = t->flags, .slot = t->slot, .serve_gen = 1};
	memcpy(v.idx, t->idx, sizeof(v.idx));
	v.serve[0] = t->serve;
	v.pubs[0] = t->pubs;
	return bpf_map__update_elem(skel->maps.fp_topics, &key, sizeof(key), &v, sizeof(v), 0);
}

static int put_publisher(struct fastpath *skel, const struct frame_end *e, int family,
                         uint16_t slot)
{
	struct fp_addr key = {.family = (uint8_t)family, .port = htons(e->port)};
	memcpy(key.addr, e->addr, family == 4 ? 4 : 16);
	struct fp_publisher v = {.slot = slot};
	return bpf_map__update_elem(skel->maps.fp_publishers, &key, sizeof(key), &v, sizeof(v), 0);
}

static int setup_maps(struct fastpath *skel)
{
	uint32_t zero = 0;
	struct fp_config cfg = {.sn_ports = {htons(SN_PORT)}, .enabled = 1};
	int err = bpf_map__update_elem(skel->maps.fp_config, &zero, sizeof(zero), &cfg, sizeof(cfg),
	                               0);
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		err = err ? err : put_topic(skel, &topics[i]);
	err = err ? err : put_publisher(skel, &pub4, 4, 0);
	err = err ? err : put_publisher(skel, &pub6, 6, 1);
	err = err ? err : put_publisher(skel, &pub6b, 6, 2);
	put_sub(skel, (int[][2]){{0, 1}, {1, 2}}, 2, 0, -1, -1, 2);         /* a/b */
	put_sub(skel, (int[][2]){{0, 1}}, 1, 1, 1, -1, 2);                  /* a/+ */
	put_sub(skel, (int[][2]){{0, 1}}, 1, 2, -1, 1, 0);                  /* a/# */
	put_sub(skel, NULL, 0, 3, -1, 0, 0);                                /* # */
	put_sub(skel, (int[][2]){{1, 2}}, 1, 4, 0, -1, 2);                  /* +/b */
	put_sub(skel, (int[][2]){{0, 5}}, 1, 5, -1, -1, 1);                 /* xy */
	put_sub(skel, (int[][2]){{0, 3}, {1, 4}, {2, 7}}, 3, 6, -1, -1, 3); /* c/d/e */
	return err;
}

/* Frame mutations applied after a correct frame is built. */
enum mutation {
	MUT_NONE,
	MUT_SPORT,         /* source port `arg` (spoofed / unknown) */
	MUT_DPORT,         /* destination port `arg` */
	MUT_UDP_CSUM_BAD,  /* UDP checksum off by one */
	MUT_UDP_CSUM_ZERO, /* UDP checksum 0 */
	MUT_UDP_LEN,       /* UDP length field + arg (IP lengths unchanged) */
	MUT_IP_CSUM_BAD,   /* IPv4 header checksum off by one */
	MUT_IP_OPTIONS,    /* IPv4 header with 4 bytes of NOP options */
	MUT_FRAG_MF,       /* IPv4 first fragment (MF set) */
	MUT_FRAG_OFFSET,   /* IPv4 later fragment (offset `arg` * 8) */
	MUT_IP6_EXT,       /* one 8-byte IPv6 extension header of type `arg & 0xff` before UDP;
	                      EXT_LATER: a fragment offset; EXT_PORT: UDP to another port */
	MUT_CUT,           /* frame cut to `arg` bytes (headers claim the full length) */
	MUT_PAD,           /* Ethernet padding up to `arg` bytes */
	MUT_SRC_V6_PUB2,   /* IPv6 publisher of slot 2 (allowed on topic 1, not topic 2) */
};

#define EXT_LATER 0x100
#define EXT_PORT  0x200

struct fixture {
	const char *name;
	int family;
	const char *sn; /* hex() of the UDP payload */
	enum mutation mut;
	int arg;
	int verdict;  /* XDP_PASS / XDP_DROP */
	int cslot;    /* expected counter slot, -1: no counter moves */
	int cverdict; /* expected counter verdict */
	int meta;     /* fp_meta expected in front of the frame */
	uint8_t key_type;
	uint16_t key_id;
	int neigh; /* fp_neigh learned for the sender */
};

#define NOTOPIC FP_MAX_TOPICS
#define P       XDP_PASS
#define D       XDP_DROP
/* PUBLISH, QoS 0, normal topic id 1, MsgId 0, "hi" (MQTT-SN 1.2 §5.4.12). */
#define PUB_T1 "09 0c 00 0001 0000 'hi'"

static const struct fixture fixtures[] = {
        {"v4 qos0 normal id", 4, PUB_T1, 0, 0, P, -1, 0, 1, 0, 1, 1},
        {"v6 qos0 normal id", 6, PUB_T1, 0, 0, P, -1, 0, 1, 0, 1, 1},
        {"v4 qos-1 known publisher", 4, "09 0c 60 0001 0000 'hi'", 0, 0, P, -1, 0, 1, 0, 1, 1},
        {"v4 qos1 passes", 4, "09 0c 20 0001 0001 'hi'", 0, 0, P, 1, FP_V_PASS_NOT_FASTPATH, 0, 0,
         0, 1},
        {"v4 qos2 passes", 4, "09 0c 40 0001 0001 'hi'", 0, 0, P, 1, FP_V_PASS_NOT_FASTPATH, 0, 0,
         0, 1},
        {"v4 retain passes", 4, "09 0c 10 0001 0000 'hi'", 0, 0, P, 1, FP_V_PASS_NOT_FASTPATH, 0, 0,
         0, 1},
        {"v4 dup passes", 4, "09 0c 80 0001 0000 'hi'", 0, 0, P, 1, FP_V_PASS_NOT_FASTPATH, 0, 0, 0,
         1},
        {"v6 predefined id, a/# matches a", 6, "09 0c 01 0002 0000 'hi'", 0, 0, P, -1, 0, 1, 1, 2,
         1},
        {"v4 short name qos-1 anyone", 4, "09 0c 62 'xy' 0000 'hi'", MUT_SPORT, 40001, P, -1, 0, 1,
         2, 0x7879, 1},
        {"v4 short name qos0 unknown publisher", 4, "09 0c 02 'xy' 0000 'hi'", MUT_SPORT, 40001, D,
         3, FP_V_DROP_UNAUTHORIZED, 0, 0, 0, 0},
        {"v4 qos-1 without FP_TF_QOS_M1", 4, "09 0c 60 0001 0000 'hi'", MUT_SPORT, 40001, D, 1,
         FP_V_DROP_UNAUTHORIZED, 0, 0, 0, 0},
        {"v4 spoofed source port", 4, PUB_T1, MUT_SPORT, 40002, D, 1, FP_V_DROP_UNAUTHORIZED, 0, 0,
         0, 0},
        {"v6 publisher not allowed on topic", 6, "09 0c 01 0002 0000 'hi'", MUT_SRC_V6_PUB2, 0, D,
         2, FP_V_DROP_UNAUTHORIZED, 0, 0, 0, 0},
        {"v4 unknown topic", 4, "09 0c 00 0099 0000 'hi'", 0, 0, P, NOTOPIC, FP_V_PASS_NOT_FASTPATH,
         0, 0, 0, 1},
        {"v4 disabled topic", 4, "09 0c 00 0004 0000 'hi'", 0, 0, P, 4, FP_V_PASS_NOT_FASTPATH, 0,
         0, 0, 1},
        {"v4 no subscriber", 4, "09 0c 00 0005 0000 'hi'", 0, 0, D, 5, FP_V_DROP_NO_SUBSCRIBER, 0,
         0, 0, 1},
        {"v4 no subscriber, pass-up", 4, "09 0c 00 0006 0000 'hi'", 0, 0, P, 6, FP_V_PASSED, 0, 0,
         0, 1},
        {"v4 3-byte length", 4, "01 000b 0c 00 0001 0000 'hi'", 0, 0, P, -1, 0, 1, 0, 1, 1},
        {"v6 3-byte length", 6, "01 000b 0c 00 0001 0000 'hi'", 0, 0, P, -1, 0, 1, 0, 1, 1},
        {"v4 sn length < payload", 4, "08 0c 00 0001 0000 'hi'", 0, 0, D, NOTOPIC,
         FP_V_DROP_MALFORMED, 0, 0, 0, 0},
        {"v4 sn length > payload (truncated)", 4, "0a 0c 00 0001 0000 'hi'", 0, 0, D, NOTOPIC,
         FP_V_DROP_MALFORMED, 0, 0, 0, 0},
        {"v4 3-byte length != payload", 4, "01 000c 0c 00 0001 0000 'hi'", 0, 0, D, NOTOPIC,
         FP_V_DROP_MALFORMED, 0, 0, 0, 0},
        {"v4 3-byte length truncated", 4, "01 00", 0, 0, D, NOTOPIC, FP_V_DROP_MALFORMED, 0, 0, 0,
         0},
        {"v4 empty datagram", 4, "", 0, 0, D, NOTOPIC, FP_V_DROP_MALFORMED, 0, 0, 0, 0},
        {"v4 publish shorter than its header", 4, "05 0c 00 0001", 0, 0, P, NOTOPIC,
         FP_V_PASS_NOT_FASTPATH, 0, 0, 0, 1},
        {"v4 pingreq", 4, "02 16", 0, 0, P, NOTOPIC, FP_V_PASS_NOT_FASTPATH, 0, 0, 0, 1},
        {"v4 bad udp checksum", 4, PUB_T1, MUT_UDP_CSUM_BAD, 0, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0,
         0, 0, 0},
        {"v6 bad udp checksum", 6, PUB_T1, MUT_UDP_CSUM_BAD, 0, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0,
         0, 0, 0},
        {"v4 udp checksum 0 (none)", 4, PUB_T1, MUT_UDP_CSUM_ZERO, 0, P, -1, 0, 1, 0, 1, 1},
        {"v6 udp checksum 0", 6, PUB_T1, MUT_UDP_CSUM_ZERO, 0, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0, 0,
         0, 0},
        {"v4 udp length too long", 4, PUB_T1, MUT_UDP_LEN, 2, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0, 0,
         0, 0},
        {"v4 udp length too short", 4, PUB_T1, MUT_UDP_LEN, -2, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0,
         0, 0, 0},
        {"v6 udp length too short", 6, PUB_T1, MUT_UDP_LEN, -2, P, NOTOPIC, FP_V_PASS_BAD_CSUM, 0,
         0, 0, 0},
        {"v4 bad ip header checksum", 4, PUB_T1, MUT_IP_CSUM_BAD, 0, P, NOTOPIC, FP_V_PASS_BAD_CSUM,
         0, 0, 0, 0},
        {"v4 ip options", 4, PUB_T1, MUT_IP_OPTIONS, 0, P, NOTOPIC, FP_V_PASS_IP_OPTIONS, 0, 0, 0,
         0},
        {"v4 first fragment", 4, PUB_T1, MUT_FRAG_MF, 0, P, NOTOPIC, FP_V_PASS_IP_OPTIONS, 0, 0, 0,
         0},
        {"v4 later fragment", 4, PUB_T1, MUT_FRAG_OFFSET, 1, P, -1, 0, 0, 0, 0, 0},
        {"v6 hop-by-hop header", 6, PUB_T1, MUT_IP6_EXT, 0, P, NOTOPIC, FP_V_PASS_IP_OPTIONS, 0, 0,
         0, 0},
        {"v6 destination options header", 6, PUB_T1, MUT_IP6_EXT, 60, P, NOTOPIC,
         FP_V_PASS_IP_OPTIONS, 0, 0, 0, 0},
        {"v6 first fragment", 6, PUB_T1, MUT_IP6_EXT, 44, P, NOTOPIC, FP_V_PASS_IP_OPTIONS, 0, 0, 0,
         0},
        {"v6 later fragment", 6, PUB_T1, MUT_IP6_EXT, 44 | EXT_LATER, P, -1, 0, 0, 0, 0, 0},
        {"v6 hop-by-hop header, other port", 6, PUB_T1, MUT_IP6_EXT, EXT_PORT, P, -1, 0, 0, 0, 0,
         0},
        {"v6 ESP", 6, PUB_T1, MUT_IP6_EXT, 50, P, -1, 0, 0, 0, 0, 0},
        {"v4 cut in ip header", 4, PUB_T1, MUT_CUT, ETH_LEN + 10, P, -1, 0, 0, 0, 0, 0},
        {"v4 cut in udp header", 4, PUB_T1, MUT_CUT, ETH_LEN + IP4_LEN + 4, P, -1, 0, 0, 0, 0, 0},
        {"v4 cut in payload", 4, PUB_T1, MUT_CUT, ETH_LEN + IP4_LEN + UDP_LEN + 4, P, NOTOPIC,
         FP_V_PASS_BAD_CSUM, 0, 0, 0, 0},
        {"v6 cut in ip header", 6, PUB_T1, MUT_CUT, ETH_LEN + 30, P, -1, 0, 0, 0, 0, 0},
        {"v6 cut in payload", 6, PUB_T1, MUT_CUT, ETH_LEN + IP6_LEN + UDP_LEN + 4, P, NOTOPIC,
         FP_V_PASS_BAD_CSUM, 0, 0, 0, 0},
        {"v4 other port", 4, PUB_T1, MUT_DPORT, 1885, P, -1, 0, 0, 0, 0, 0},
        {"v4 ethernet padding", 4, "07 0c 00 0001 0000", MUT_PAD, 60, P, -1, 0, 1, 0, 1, 1},
};

static size_t make_frame(const struct fixture *f, uint8_t *buf)
{
	uint8_t sn[256];
	size_t sn_len = hex(f->sn, sn, sizeof(sn));
	struct frame_spec s = {.family = f->family, .sn = sn, .sn_len = sn_len};
	s.src = f->family == 4 ? pub4 : pub6;
	s.dst = f->family == 4 ? broker4 : broker6;
	if (f->mut == MUT_SPORT)
		s.src.port = (uint16_t)f->arg;
	if (f->mut == MUT_DPORT)
		s.dst.port = (uint16_t)f->arg;
	if (f->mut == MUT_SRC_V6_PUB2)
		s.src = pub6b;
	size_t n = frame_build(buf, &s);
	size_t l4 = ETH_LEN + (f->family == 4 ? IP4_LEN : IP6_LEN);
	uint8_t *ip = buf + ETH_LEN;
	switch (f->mut) {
	case MUT_UDP_CSUM_BAD:
		buf[l4 + 7] ^= 1;
		break;
	case MUT_UDP_CSUM_ZERO:
		buf[l4 + 6] = buf[l4 + 7] = 0;
		break;
	case MUT_UDP_LEN: {
		int ulen = (buf[l4 + 4] << 8 | buf[l4 + 5]) + f->arg;
		buf[l4 + 4] = (uint8_t)(ulen >> 8), buf[l4 + 5] = (uint8_t)ulen;
		break;
	}
	case MUT_IP_CSUM_BAD:
		ip[11] ^= 1;
		break;
	case MUT_IP_OPTIONS:
		memmove(ip + IP4_LEN + 4, ip + IP4_LEN, n - l4);
		memset(ip + IP4_LEN, 1, 4); /* NOP options */
		ip[0] = 0x46;
		ip[3] = (uint8_t)(ip[3] + 4);
		frame_fix_ip4_csum(ip, 24);
		n += 4;
		break;
	case MUT_FRAG_MF:
		ip[6] = 0x20;
		frame_fix_ip4_csum(ip, IP4_LEN);
		break;
	case MUT_FRAG_OFFSET:
		ip[7] = (uint8_t)f->arg;
		frame_fix_ip4_csum(ip, IP4_LEN);
		break;
	case MUT_IP6_EXT:
		if (f->arg & EXT_PORT)
			buf[l4 + 3] ^= 1; /* checksums do not matter: the packet passes anyway */
		memmove(ip + IP6_LEN + 8, ip + IP6_LEN, n - l4);
		memset(ip + IP6_LEN, 0, 8);
		ip[IP6_LEN] = 17; /* next header UDP, length 0 (8 bytes) */
		if ((f->arg & 0xff) != 44)
			ip[IP6_LEN + 2] = 1, ip[IP6_LEN + 3] = 4; /* PadN */
		if (f->arg & EXT_LATER)
			ip[IP6_LEN + 3] = 8; /* fragment offset 1 (8 bytes) */
		ip[6] = (uint8_t)(f->arg & 0xff);
		ip[5] = (uint8_t)(ip[5] + 8);
		n += 8;
		break;
	case MUT_CUT:
		n = (size_t)f->arg;
		break;
	case MUT_PAD:
		memset(buf + n, 0, (size_t)f->arg - n);
		n = (size_t)f->arg;
		break;
	default:
		break;
	}
	return n;
}

/* Per-CPU counters summed: packets of (slot, verdict). */
static uint64_t counter(struct fastpath *skel, uint32_t slot, uint32_t verdict, uint64_t *bytes)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fp_counter values[ncpu > 0 ? ncpu : 1];
	uint32_t key = slot * FP_NVERDICTS + verdict;
	uint64_t packets = 0;
	*bytes = 0;
	if (ncpu <= 0 || bpf_map__lookup_elem(skel->maps.fp_counters, &key, sizeof(key), values,
	                                      sizeof(values), 0) < 0)
		return UINT64_MAX;
	for (int i = 0; i < ncpu; i++) {
		packets += values[i].packets;
		*bytes += values[i].bytes;
	}
	return packets;
}

/* Snapshot of every counter of the slots the fixtures use (0..7 and the no-topic slot). */
#define SNAP_SLOTS 9
static void snapshot(struct fastpath *skel, uint64_t pk[SNAP_SLOTS][FP_NVERDICTS],
                     uint64_t by[SNAP_SLOTS][FP_NVERDICTS])
{
	for (uint32_t s = 0; s < SNAP_SLOTS; s++) {
		uint32_t slot = s == SNAP_SLOTS - 1 ? FP_MAX_TOPICS : s;
		for (uint32_t v = 0; v < FP_NVERDICTS; v++)
			pk[s][v] = counter(skel, slot, v, &by[s][v]);
	}
}

static int run_xdp(struct fastpath *skel, const uint8_t *in, size_t len, uint8_t *out,
                   uint32_t *out_len, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len,
	            .data_out = out, .data_size_out = FRAME_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fp_xdp), &opts);
	*retval = opts.retval;
	*out_len = opts.data_size_out;
	return err;
}

static void check_neigh(struct fastpath *skel, const struct fixture *f, const uint8_t *frame)
{
	struct fp_addr key = {.family = (uint8_t)f->family};
	size_t alen = f->family == 4 ? 4 : 16, l3 = ETH_LEN;
	size_t l4 = l3 + (f->family == 4 ? IP4_LEN : IP6_LEN);
	memcpy(key.addr, frame + l3 + (f->family == 4 ? 12 : 8), alen);
	memcpy(&key.port, frame + l4, 2);
	struct fp_neigh n;
	int found =
	        bpf_map__lookup_elem(skel->maps.fp_neigh, &key, sizeof(key), &n, sizeof(n), 0) == 0;
	CHECK_EQ(found, f->neigh);
	if (!found || !f->neigh)
		goto out;
	CHECK_EQ(n.ifindex, 1); /* test runs see the namespace's loopback as ingress */
	CHECK_MEM(n.peer_mac, 6, frame + 6, 6);
	CHECK_MEM(n.local_mac, 6, frame, 6);
	CHECK_EQ(n.local.family, f->family);
	CHECK_MEM(&n.local.port, 2, frame + l4 + 2, 2);
	CHECK_MEM(n.local.addr, alen, frame + l3 + (f->family == 4 ? 16 : 24), alen);
out:
	bpf_map__delete_elem(skel->maps.fp_neigh, &key, sizeof(key), 0);
}

static void check_meta(const struct fixture *f, const uint8_t *in, size_t len, const uint8_t *out,
                       uint32_t out_len)
{
	if (!f->meta) {
		CHECK_MEM(out, out_len, in, len); /* frame unchanged, nothing in front */
		return;
	}
	CHECK_EQ(out_len, len + sizeof(struct fp_meta));
	if (out_len != len + sizeof(struct fp_meta))
		return;
	struct fp_meta m;
	memcpy(&m, out, sizeof(m));
	size_t l4 = ETH_LEN + (f->family == 4 ? IP4_LEN : IP6_LEN);
	uint16_t ulen = (uint16_t)(in[l4 + 4] << 8 | in[l4 + 5]);
	CHECK_EQ(m.magic, FP_META_MAGIC);
	CHECK_EQ(m.key.type, f->key_type);
	CHECK_EQ(m.key.pad, 0);
	CHECK_EQ(m.key.id, htons(f->key_id));
	CHECK_EQ(m.l3_off, ETH_LEN);
	CHECK_EQ(m.l4_off, l4);
	CHECK_EQ(m.sn_off, l4 + UDP_LEN);
	CHECK_EQ(m.sn_len, ulen - UDP_LEN);
	CHECK_EQ(m.family, f->family);
	CHECK(m.pad[0] == 0 && m.pad[1] == 0 && m.pad[2] == 0);
	CHECK_MEM(out + sizeof(m), out_len - sizeof(m), in, len);
}

static void run_fixture(struct fastpath *skel, const struct fixture *f)
{
	static uint8_t in[FRAME_MAX], out[FRAME_MAX];
	static uint64_t pk0[SNAP_SLOTS][FP_NVERDICTS], by0[SNAP_SLOTS][FP_NVERDICTS];
	static uint64_t pk1[SNAP_SLOTS][FP_NVERDICTS], by1[SNAP_SLOTS][FP_NVERDICTS];
	size_t len = make_frame(f, in);
	uint32_t retval = 0, out_len = 0;
	unsigned failed = check_state_.failed;
	snapshot(skel, pk0, by0);
	CHECK_EQ(run_xdp(skel, in, len, out, &out_len, &retval), 0);
	snapshot(skel, pk1, by1);
	CHECK_EQ(retval, f->verdict);
	for (uint32_t s = 0; s < SNAP_SLOTS; s++) {
		for (uint32_t v = 0; v < FP_NVERDICTS; v++) {
			uint32_t slot = s == SNAP_SLOTS - 1 ? FP_MAX_TOPICS : s;
			int want = f->cslot == (int)slot && f->cverdict == (int)v;
			CHECK_EQ(pk1[s][v] - pk0[s][v], want);
			CHECK_EQ(by1[s][v] - by0[s][v], want ? len : 0);
		}
	}
	check_meta(f, in, len, out, out_len);
	check_neigh(skel, f, in);
	if (check_state_.failed != failed)
		fprintf(stderr, "  ^ fixture \"%s\"\n", f->name);
}

/* Match table: topic levels vs one served slot. */
struct match_fixture {
	uint8_t nlevels;
	uint16_t idx[FP_MAX_LEVELS];
	uint32_t slot;
	int matches;
};

static const struct match_fixture matches[] = {
        {2, {1, 2}, 0, 1},    /* a/b  ~ a/b */
        {2, {1, 2}, 1, 1},    /* a/b  ~ a/+ */
        {2, {1, 2}, 2, 1},    /* a/b  ~ a/# */
        {2, {1, 2}, 3, 1},    /* a/b  ~ # */
        {2, {1, 2}, 4, 1},    /* a/b  ~ +/b */
        {2, {1, 2}, 5, 0},    /* a/b !~ xy */
        {2, {1, 2}, 6, 0},    /* a/b !~ c/d/e */
        {1, {1}, 0, 0},       /* a !~ a/b */
        {1, {1}, 1, 0},       /* a !~ a/+ */
        {1, {1}, 2, 1},       /* a ~ a/#  [MQTT-4.7.1-2]: '#' also matches the parent level */
        {1, {1}, 3, 1},       /* a ~ # */
        {1, {1}, 4, 0},       /* a !~ +/b */
        {3, {1, 2, 8}, 0, 0}, /* a/b/c !~ a/b */
        {3, {1, 2, 8}, 1, 0}, /* a/b/c !~ a/+ */
        {3, {1, 2, 8}, 2, 1}, /* a/b/c ~ a/# */
        {3, {1, 2, 8}, 4, 0}, /* a/b/c !~ +/b */
        {3, {3, 4, 7}, 6, 1}, /* c/d/e ~ c/d/e */
        {3, {3, 4, 8}, 6, 0}, /* c/d/c !~ c/d/e */
        {2, {3, 6}, 1, 0},    /* c/e !~ a/+ */
        {2, {3, 6}, 3, 1},    /* c/e ~ # */
        {1, {5}, 5, 1},       /* xy ~ xy */
        {1, {5}, 2, 0},       /* xy !~ a/# */
        {2, {1, FP_MAX_INDEX + 5}, 1, 1}, /* a/<index out of range> ~ a/+ (no exact bits) */
        {2, {1, FP_MAX_INDEX + 5}, 0, 0},
};

static void run_match(struct fastpath *skel, const struct match_fixture *m, int i)
{
	struct topic_fixture t = {FP_TOPIC_NORMAL,
	                          (uint16_t)(0x100 + i),
	                          m->nlevels,
	                          {0},
	                          EN,
	                          7,
	                          1ull << m->slot,
	                          0x1};
	memcpy(t.idx, m->idx, sizeof(t.idx));
	CHECK_EQ(put_topic(skel, &t), 0);
	uint8_t sn[16], in[FRAME_MAX], out[FRAME_MAX];
	size_t sn_len = hex("09 0c 00 0000 0000 'hi'", sn, sizeof(sn));
	sn[3] = (uint8_t)(t.id >> 8), sn[4] = (uint8_t)t.id;
	struct frame_spec s = {
	        .family = 4, .src = pub4, .dst = broker4, .sn = sn, .sn_len = sn_len};
	size_t len = frame_build(in, &s);
	uint32_t retval = 0, out_len = 0;
	CHECK_EQ(run_xdp(skel, in, len, out, &out_len, &retval), 0);
	CHECK_EQ(retval, m->matches ? XDP_PASS : XDP_DROP);
	CHECK_EQ(out_len, m->matches ? len + sizeof(struct fp_meta) : len);
	if (retval != (uint32_t)(m->matches ? XDP_PASS : XDP_DROP))
		fprintf(stderr, "  ^ match fixture %d (slot %u)\n", i, m->slot);
}

/* fp_config.enabled == 0: everything passes untouched and nothing is counted. */
static void run_disabled(struct fastpath *skel)
{
	uint32_t zero = 0;
	struct fp_config cfg = {.sn_ports = {htons(SN_PORT)}, .enabled = 0};
	CHECK_EQ(bpf_map__update_elem(skel->maps.fp_config, &zero, sizeof(zero), &cfg, sizeof(cfg),
	                              0),
	         0);
	/* The match table let fp_xdp learn pub4: forget it, so "not learned" is meaningful. */
	struct fp_addr key = {.family = 4, .port = htons(PUB_PORT)};
	memcpy(key.addr, pub4.addr, 4);
	CHECK_EQ(bpf_map__delete_elem(skel->maps.fp_neigh, &key, sizeof(key), 0), 0);
	struct fixture f = {"disabled", 4, "09 0c 00 0005 0000 'hi'", 0, 0, P, -1, 0, 0, 0, 0, 0};
	run_fixture(skel, &f);
}

/* fp_tc without fp_meta in front of the frame (bpf_prog_test_run cannot supply metadata for
 * SCHED_CLS; the namespace test covers the rest): a fast-path PUBLISH is left alone. */
static void run_tc_without_meta(struct fastpath *skel)
{
	uint8_t sn[32], in[FRAME_MAX], out[FRAME_MAX];
	size_t sn_len = hex(PUB_T1, sn, sizeof(sn));
	struct frame_spec s = {
	        .family = 4, .src = pub4, .dst = broker4, .sn = sn, .sn_len = sn_len};
	size_t len = frame_build(in, &s);
	uint64_t bytes, before = counter(skel, 1, FP_V_FORWARDED, &bytes);
	uint64_t passed = counter(skel, 1, FP_V_PASSED, &bytes);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len,
	            .data_out = out, .data_size_out = FRAME_MAX, .repeat = 1);
	CHECK_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fp_tc), &opts), 0);
	CHECK_EQ(opts.retval, TC_ACT_OK);
	CHECK_MEM(out, opts.data_size_out, in, len);
	CHECK_EQ(counter(skel, 1, FP_V_FORWARDED, &bytes), before);
	CHECK_EQ(counter(skel, 1, FP_V_PASSED, &bytes), passed);
}

static void print_verified_insns(struct bpf_program *prog)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
		printf("%s: %u verified instructions, %u xlated bytes\n", bpf_program__name(prog),
		       info.verified_insns, info.xlated_prog_len);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: loading BPF programs needs root\n");
		return 77; /* SKIP_RETURN_CODE */
	}
	struct fastpath *skel = fastpath__open_and_load();
	if (!skel && (errno == ENOSYS || errno == EPERM)) {
		printf("skipped: the kernel refuses BPF here (%s)\n", strerror(errno));
		return 77;
	}
	if (!skel) {
		fprintf(stderr, "fastpath__open_and_load: %s\n", strerror(errno));
		CHECK(skel != NULL);
		return check_report();
	}
	print_verified_insns(skel->progs.fp_xdp);
	print_verified_insns(skel->progs.fp_tc);
	CHECK_EQ(setup_maps(skel), 0);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		run_fixture(skel, &fixtures[i]);
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
		run_match(skel, &matches[i], (int)i);
	run_tc_without_meta(skel);
	run_disabled(skel);
	fastpath__destroy(skel);
	return check_report();
}
