/* common.h - the one header shared by the kernel fast-path programs (fastpath.bpf.c) and
 * userspace (the control library and the broker). Everything here is a fixed-size layout that
 * both sides read and write through BPF maps; every struct has a _Static_assert on its size so
 * a change on one side cannot silently disagree with the other.
 *
 * Data model (docs/FASTPATH.md): the kernel never sees topic names. An MQTT-SN PUBLISH carries
 * (topic id type, topic id); userspace maps each fast-path topic to the per-level indices of its
 * name (FP_MAX_LEVELS levels at most), and keeps per-level subscriber bitsets, so a match is
 * FP_MAX_LEVELS + 2 array lookups whatever the number of subscribers or wildcard filters.
 *
 * Byte order: addresses and ports are stored in network order (as on the wire); everything else
 * in host order. */
#ifndef MQTT_FAST_BPF_COMMON_H
#define MQTT_FAST_BPF_COMMON_H

#include <linux/types.h>

/* ---- limits ---- */

#define FP_MAX_LEVELS 8    /* topics with more levels are never fast-path enabled */
#define FP_MAX_INDEX  1024 /* distinct level strings per depth */
#define FP_MAX_SUBS   256  /* subscriber slots (bits in a bitset) */
#define FP_SUB_WORDS  (FP_MAX_SUBS / 64)
#define FP_MAX_PUBS   256 /* publisher slots */
#define FP_PUB_WORDS  (FP_MAX_PUBS / 64)
#define FP_MAX_TOPICS 4096 /* fast-path topics (also counter slots) */
#define FP_MAX_IFACES 16   /* fastpath_interface lines */

/* A subscriber slot mask: clang may drop a bounds check it proved once; masking the index
 * keeps the verifier convinced (FP_MAX_SUBS is a power of two). */
#define FP_SLOT_MASK (FP_MAX_SUBS - 1)

/* ---- MQTT-SN constants the kernel needs (MQTT-SN 1.2 §5.2, §5.3.4, §5.4.12) ---- */

#define FP_SN_PUBLISH         0x0C
#define FP_SN_FLAG_DUP        0x80
#define FP_SN_FLAG_QOS_MASK   0x60
#define FP_SN_FLAG_QOS0       0x00
#define FP_SN_FLAG_QOSM1      0x60 /* QoS -1 is encoded as 0b11 */
#define FP_SN_FLAG_RETAIN     0x10
#define FP_SN_FLAG_TOPIC_TYPE 0x03

/* Topic id types, as in the PUBLISH Flags field (§5.3.4). */
enum fp_topic_type {
	FP_TOPIC_NORMAL = 0,
	FP_TOPIC_PREDEFINED = 1,
	FP_TOPIC_SHORT = 2, /* the id field holds the two characters of the name */
};

/* ---- maps ---- */

/* fp_topics key. `id` is the 2-byte Topic Id field exactly as on the wire (network order), so
 * the kernel copies it without conversion; for short names those are the two characters. */
struct fp_topic_key {
	__u8 type; /* enum fp_topic_type */
	__u8 pad;
	__u16 id;
};
_Static_assert(sizeof(struct fp_topic_key) == 4, "fp_topic_key layout");

enum fp_topic_flags {
	FP_TF_ENABLED = 1 << 0, /* fast path on for this topic (`fastpath` filter matched) */
	FP_TF_PASS_UP = 1 << 1, /* userspace must also see every PUBLISH on it: MQTT, WebSocket,
				    bridge, sleeping or not-yet-registered SN subscribers */
	FP_TF_QOS_M1 = 1 << 2,  /* QoS -1 from any address allowed (sn_allow_qos_m1, predefined
				    or short topic, ACL lets anonymous publish) */
};

/* fp_topics value: one fast-path topic. Replaced as a whole by userspace (a hash map update is
 * atomic for readers), so `serve` and `serve_gen` are always consistent with each other. */
struct fp_topic {
	__u8 nlevels;             /* 1..FP_MAX_LEVELS */
	__u8 flags;               /* enum fp_topic_flags */
	__u16 slot;               /* counter slot, 0..FP_MAX_TOPICS-1 */
	__u32 serve_gen;          /* bumped by userspace on every change of `serve`; never 0 */
	__u16 idx[FP_MAX_LEVELS]; /* level index at each depth, < FP_MAX_INDEX */
	/* Subscriber slots the kernel may serve on this topic: subscription matches, REGACK
	 * accepted (or predefined/short id), ACL read allowed, awake. The kernel serves
	 * level_match & serve; userspace serves every other subscriber. */
	__u64 serve[FP_SUB_WORDS];
	/* Publisher slots allowed to publish on this topic (connected, ACL write allowed). */
	__u64 pubs[FP_PUB_WORDS];
};
_Static_assert(sizeof(struct fp_topic) ==
                       8 + 2 * FP_MAX_LEVELS + 8 * FP_SUB_WORDS + 8 * FP_PUB_WORDS,
               "fp_topic layout");

/* fp_exact: BPF_MAP_TYPE_ARRAY, key depth * FP_MAX_INDEX + index: subscribers whose filter has
 * exactly that level string at that depth. */
struct fp_bits {
	__u64 w[FP_SUB_WORDS];
};
_Static_assert(sizeof(struct fp_bits) == FP_MAX_SUBS / 8, "fp_bits layout");

/* fp_wild: BPF_MAP_TYPE_ARRAY, key depth 0..FP_MAX_LEVELS. For a topic of L levels,
 *   match = (N[L] | Hc[L]) & AND over d < L of (E[d][t_d] | P[d] | Hc[d]). */
struct fp_wild {
	__u64 plus[FP_SUB_WORDS];     /* P[d]: '+' at depth d */
	__u64 hash_cum[FP_SUB_WORDS]; /* Hc[d]: '#' at a depth <= d */
	__u64 ends[FP_SUB_WORDS];     /* N[d]: filter has exactly d levels, no '#' */
};
_Static_assert(sizeof(struct fp_wild) == 3 * FP_MAX_SUBS / 8, "fp_wild layout");

/* Address as both families store it: IPv4 in the first 4 bytes, the rest zero. */
struct fp_addr {
	__u8 family; /* 4 or 6 (not AF_*: the kernel side has no libc) */
	__u8 pad;
	__u16 port; /* network order */
	__u8 addr[16];
};
_Static_assert(sizeof(struct fp_addr) == 20, "fp_addr layout");

/* fp_subscribers: BPF_MAP_TYPE_ARRAY, key slot. Written by userspace when an SN client gets a
 * slot; `ifindex` and the MACs come from fp_neigh (learned by XDP from the client's own
 * packets). A slot with valid == 0 is never served. */
struct fp_subscriber {
	__u32 ifindex; /* egress interface */
	__u8 valid;
	__u8 pad;
	__u8 dst_mac[6]; /* the client (or its next hop) */
	__u8 src_mac[6]; /* our interface */
	__u16 pad2;
	struct fp_addr peer;  /* where the copy goes */
	struct fp_addr local; /* our address and MQTT-SN port: the copy's source */
};
_Static_assert(sizeof(struct fp_subscriber) == 60, "fp_subscriber layout");

/* fp_publishers: BPF_MAP_TYPE_HASH, key struct fp_addr (the sender's address and port) ->
 * publisher slot. Only connected SN clients are present. */
struct fp_publisher {
	__u16 slot; /* < FP_MAX_PUBS */
	__u16 pad;
};
_Static_assert(sizeof(struct fp_publisher) == 4, "fp_publisher layout");

/* fp_neigh: BPF_MAP_TYPE_LRU_HASH, key struct fp_addr (a client's address and port) ->
 * where its packets came from. Written by XDP for every MQTT-SN datagram it passes up on a
 * fast-path interface (before userspace can see the datagram), read by userspace to fill
 * fp_subscriber. */
struct fp_neigh {
	__u32 ifindex;
	__u8 peer_mac[6];     /* Ethernet source of the client's packets */
	__u8 local_mac[6];    /* Ethernet destination: our interface */
	struct fp_addr local; /* the address and port the client sent to */
};
_Static_assert(sizeof(struct fp_neigh) == 36, "fp_neigh layout");

/* fp_config: BPF_MAP_TYPE_ARRAY, one entry. */
struct fp_config {
	__u16 sn_ports[4]; /* MQTT-SN listener ports, network order; 0 = unused */
	__u32 enabled;     /* 0: every packet passes (the programs stay attached) */
};
_Static_assert(sizeof(struct fp_config) == 12, "fp_config layout");

/* ---- XDP -> TC handoff ---- */

/* Placed in front of the packet with bpf_xdp_adjust_meta (at most 32 bytes) by XDP when it
 * validated and authorized a fast-path PUBLISH; TC trusts nothing else. */
#define FP_META_MAGIC 0x4d51534eu /* "MQSN" */
struct fp_meta {
	__u32 magic;
	struct fp_topic_key key;
	__u16 l3_off; /* IP header offset from the start of the frame */
	__u16 l4_off; /* UDP header offset */
	__u16 sn_off; /* MQTT-SN message offset */
	__u16 sn_len; /* MQTT-SN message length (== UDP payload length) */
	__u8 family;  /* 4 or 6 */
	__u8 pad[3];
};
_Static_assert(sizeof(struct fp_meta) == 20, "fp_meta layout");

/* The original passed up to the socket after TC served some subscribers carries
 * skb->mark = FP_MARK_TAG | (serve_gen & FP_MARK_GEN_MASK). The broker reads it with
 * SO_RCVMARK and skips exactly the slots of that generation's serve set (exactly one copy,
 * also while the set changes). No mark: the kernel served nobody. */
#define FP_MARK_TAG      0xf5000000u
#define FP_MARK_TAG_MASK 0xff000000u
#define FP_MARK_GEN_MASK 0x00ffffffu

/* ---- counters ---- */

enum fp_verdict {
	FP_V_FORWARDED = 0, /* PUBLISH handled by the kernel (original consumed or passed) */
	FP_V_CLONES,        /* copies sent to subscribers */
	FP_V_CLONE_FAILED,  /* bpf_clone_redirect failed (backlog full, interface down) */
	FP_V_PASSED,        /* passed up to the socket */
	FP_V_DROP_NO_SUBSCRIBER,
	FP_V_DROP_MALFORMED,    /* MQTT-SN length != UDP payload, truncated */
	FP_V_DROP_UNAUTHORIZED, /* unknown/spoofed publisher address or ACL */
	FP_V_PASS_NOT_FASTPATH, /* MQTT-SN but not a fast-path PUBLISH: passed */
	FP_V_PASS_IP_OPTIONS,   /* IPv4 options, IPv6 extension headers, fragments: passed */
	FP_V_PASS_BAD_CSUM,     /* UDP checksum or length wrong: passed (the stack drops it) */
	FP_NVERDICTS,
};

/* fp_counters: BPF_MAP_TYPE_PERCPU_ARRAY, key topic slot * FP_NVERDICTS + verdict; slot
 * FP_MAX_TOPICS (one past the topics) counts packets that matched no topic. */
struct fp_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct fp_counter) == 16, "fp_counter layout");
#define FP_COUNTER_SLOTS ((FP_MAX_TOPICS + 1) * FP_NVERDICTS)

#endif
