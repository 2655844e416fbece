/* test_bpf_probe.c - loads the toolchain probe through its bpftool skeleton and runs it on
 * fixture packets with bpf_prog_test_run_opts: proves the BPF build and load pipeline. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "probe.skel.h"

/* Ethernet + IPv4 + UDP to `port`, 4 bytes of payload. */
static size_t make_udp(uint8_t *buf, uint16_t port)
{
	struct ethhdr eth = {.h_proto = htons(ETH_P_IP)};
	struct iphdr ip = {.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP};
	struct udphdr udp = {.source = htons(40000), .dest = htons(port), .len = htons(12)};
	ip.tot_len = htons(sizeof(ip) + sizeof(udp) + 4);
	memcpy(buf, &eth, sizeof(eth));
	memcpy(buf + sizeof(eth), &ip, sizeof(ip));
	memcpy(buf + sizeof(eth) + sizeof(ip), &udp, sizeof(udp));
	memcpy(buf + sizeof(eth) + sizeof(ip) + sizeof(udp), "\x04\x0c\x00\x01", 4);
	return sizeof(eth) + sizeof(ip) + sizeof(udp) + 4;
}

static int run(struct probe *skel, const uint8_t *pkt, size_t len, uint32_t *retval)
{
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (uint32_t)len,
	            .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.probe_xdp), &opts);
	*retval = opts.retval;
	return err;
}

static uint64_t counter(struct probe *skel, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t values[ncpu > 0 ? ncpu : 1], sum = 0;
	if (ncpu <= 0 || bpf_map__lookup_elem(skel->maps.probe_counters, &key, sizeof(key), values,
	                                      sizeof(values), 0) < 0)
		return UINT64_MAX;
	for (int i = 0; i < ncpu; i++)
		sum += values[i];
	return sum;
}

int main(void)
{
	if (geteuid() != 0) {
		/* CTest treats exit code 77 as skipped (SKIP_RETURN_CODE). */
		printf("skipped: loading BPF programs needs root\n");
		return 77;
	}
	struct probe *skel = probe__open_and_load();
	CHECK(skel != NULL);
	if (!skel) {
		fprintf(stderr, "probe__open_and_load: %s\n", strerror(errno));
		return check_report();
	}

	uint8_t pkt[128];
	uint32_t retval = 0;
	size_t n = make_udp(pkt, 1884);
	CHECK_EQ(run(skel, pkt, n, &retval), 0);
	CHECK_EQ(retval, XDP_PASS);
	n = make_udp(pkt, 1883);
	CHECK_EQ(run(skel, pkt, n, &retval), 0);
	/* An ARP frame: Ethernet only (the kernel refuses test runs shorter than ETH_HLEN). */
	memset(pkt, 0, ETH_HLEN);
	pkt[12] = 0x08, pkt[13] = 0x06;
	CHECK_EQ(run(skel, pkt, ETH_HLEN, &retval), 0);
	CHECK_EQ(retval, XDP_PASS);

	CHECK_EQ(counter(skel, 1), 1); /* PROBE_SN_UDP */
	CHECK_EQ(counter(skel, 0), 2); /* PROBE_OTHER */

	probe__destroy(skel);
	return check_report();
}
