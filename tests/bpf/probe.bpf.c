/* probe.bpf.c - toolchain probe: an XDP program that classifies packets as MQTT-SN-port UDP or
 * other and counts them. It exists to prove, on every test run, that the BPF build pipeline
 * (clang -target bpf, bpftool skeleton, libbpf load, verifier) works on this machine. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PROBE_SN_PORT 1884

enum probe_counter { PROBE_OTHER, PROBE_SN_UDP, PROBE_NCOUNTERS };

/* Packets seen per class, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROBE_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} probe_counters SEC(".maps");

static __always_inline __u32 classify(void *data, void *end)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return PROBE_OTHER;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
		return PROBE_OTHER;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return PROBE_OTHER;
	return udp->dest == bpf_htons(PROBE_SN_PORT) ? PROBE_SN_UDP : PROBE_OTHER;
}

SEC("xdp")
int probe_xdp(struct xdp_md *ctx)
{
	__u32 key = classify((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u64 *count = bpf_map_lookup_elem(&probe_counters, &key);
	if (count)
		(*count)++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
