/* test_limit.c - the limit reference (limit.bpf.c) on fixture packets through
 * bpf_prog_test_run_opts: what it must leave alone (not IPv4 UDP to the configured port, IP
 * options), and what it must do to the rest (rewrite MACs, destination address with a valid IP
 * checksum, UDP checksum 0, one copy per subscriber port, original consumed). Needs root;
 * exits 77 (skipped) when BPF is not permitted. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "limit.skel.h"

#define NSUBS     3
#define BASE_PORT 30000
#define SN_PORT   1884

static const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0xd5};
static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x5c};

static uint16_t ip_checksum(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 (ihl 5, or 6 with a NOP option) + UDP to `port` + a 5-byte MQTT-SN PUBLISH
 * head. Returns the length. */
static size_t make_packet(uint8_t *buf, uint16_t proto, uint8_t ipproto, uint16_t port, int ihl)
{
	struct ethhdr eth = {.h_proto = htons(proto)};
	struct iphdr ip = {.version = 4, .ihl = (unsigned)ihl, .ttl = 64, .protocol = ipproto};
	size_t iplen = (size_t)ihl * 4, payload = 7;
	struct udphdr udp = {.source = htons(40000),
	                     .dest = htons(port),
	                     .len = htons((uint16_t)(sizeof(udp) + payload)),
	                     .check = htons(0x1234)};

	memset(eth.h_dest, 0xaa, 6);
	memset(eth.h_source, 0xbb, 6);
	ip.saddr = inet_addr("10.1.1.1");
	ip.daddr = inet_addr("10.1.1.2");
	ip.tot_len = htons((uint16_t)(iplen + sizeof(udp) + payload));
	memset(buf, 0, 128);
	memcpy(buf, &eth, sizeof(eth));
	memcpy(buf + sizeof(eth), &ip, sizeof(ip));
	/* ip.check is 0 here: the header checksum is computed over it as such. */
	uint16_t c = ip_checksum(buf + sizeof(eth), iplen);
	memcpy(buf + sizeof(eth) + offsetof(struct iphdr, check), &(uint16_t){htons(c)}, 2);
	memcpy(buf + sizeof(eth) + iplen, &udp, sizeof(udp));
	memcpy(buf + sizeof(eth) + iplen + sizeof(udp), "\x07\x0c\x60\x00\x01\x00\x00", payload);
	return sizeof(eth) + iplen + sizeof(udp) + payload;
}

static int run(struct limit *skel, const uint8_t *in, size_t len, uint8_t *out, uint32_t *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len,
	            .data_out = out, .data_size_out = 256, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.limit_fanout), &opts);

	*ret = opts.retval;
	return err;
}

static uint64_t counter(struct limit *skel, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 ||
	    bpf_map__lookup_elem(skel->maps.limit_counters, &key, sizeof(key), v, sizeof(v), 0))
		return UINT64_MAX;
	for (int c = 0; c < ncpu; c++)
		sum += v[c];
	return sum;
}

static void test_untouched(struct limit *skel)
{
	uint8_t in[128], out[256];
	uint32_t ret;
	/* Not IPv4 (ARP), TCP, another UDP port, IPv4 options: passed, unchanged. */
	size_t lens[4] = {make_packet(in, ETH_P_ARP, IPPROTO_UDP, SN_PORT, 5), 0, 0, 0};

	CHECK_EQ(run(skel, in, lens[0], out, &ret), 0);
	CHECK_EQ(ret, TC_ACT_OK);
	CHECK(memcmp(in, out, lens[0]) == 0);
	lens[1] = make_packet(in, ETH_P_IP, IPPROTO_TCP, SN_PORT, 5);
	CHECK_EQ(run(skel, in, lens[1], out, &ret), 0);
	CHECK_EQ(ret, TC_ACT_OK);
	lens[2] = make_packet(in, ETH_P_IP, IPPROTO_UDP, SN_PORT + 1, 5);
	CHECK_EQ(run(skel, in, lens[2], out, &ret), 0);
	CHECK_EQ(ret, TC_ACT_OK);
	lens[3] = make_packet(in, ETH_P_IP, IPPROTO_UDP, SN_PORT, 6);
	CHECK_EQ(run(skel, in, lens[3], out, &ret), 0);
	CHECK_EQ(ret, TC_ACT_OK);
	CHECK(memcmp(in, out, lens[3]) == 0);
	CHECK_EQ(counter(skel, 0), 0);
}

static void test_fanout(struct limit *skel)
{
	uint8_t in[128], out[256];
	uint32_t ret;
	size_t len = make_packet(in, ETH_P_IP, IPPROTO_UDP, SN_PORT, 5);
	struct iphdr ipc; /* aligned copies: the frame puts IP at offset 14 */
	struct udphdr udpc;
	const struct iphdr *ip = &ipc;
	const struct udphdr *udp = &udpc;

	CHECK_EQ(run(skel, in, len, out, &ret), 0);
	memcpy(&ipc, out + ETH_HLEN, sizeof(ipc));
	memcpy(&udpc, out + ETH_HLEN + sizeof(ipc), sizeof(udpc));
	CHECK_EQ(ret, TC_ACT_SHOT);
	CHECK(memcmp(out, dst_mac, 6) == 0);
	CHECK(memcmp(out + 6, src_mac, 6) == 0);
	CHECK_EQ(ip->daddr, inet_addr("10.9.9.9"));
	CHECK_EQ(ip->saddr, inet_addr("10.1.1.1"));
	CHECK_EQ(ip_checksum(ip, sizeof(*ip)), 0); /* still valid after the rewrite */
	CHECK_EQ(udp->check, 0);
	CHECK_EQ(ntohs(udp->dest), BASE_PORT + NSUBS - 1);  /* the last copy's port */
	CHECK(memcmp(out + len - 7, in + len - 7, 7) == 0); /* MQTT-SN bytes unchanged */
	CHECK_EQ(counter(skel, 0), 1);
	/* Every copy either left or was counted as refused. */
	CHECK_EQ(counter(skel, 1) + counter(skel, 2), NSUBS);
}

int main(void)
{
	struct limit *skel;
	int err;

	if (geteuid() != 0) {
		fprintf(stderr, "test_limit: needs root (BPF); skipped\n");
		return 77;
	}
	skel = limit__open();
	if (!skel)
		return 1;
	skel->rodata->cfg_nsubs = NSUBS;
	skel->rodata->cfg_ifindex = 1; /* lo: the copies loop back and are dropped */
	skel->rodata->cfg_match_port = htons(SN_PORT);
	skel->rodata->cfg_dst_ip = inet_addr("10.9.9.9");
	skel->rodata->cfg_base_port = BASE_PORT;
	memcpy((void *)skel->rodata->cfg_dst_mac, dst_mac, 6);
	memcpy((void *)skel->rodata->cfg_src_mac, src_mac, 6);
	err = limit__load(skel);
	if (err) {
		fprintf(stderr, "test_limit: load failed: %s\n", strerror(-err));
		limit__destroy(skel);
		return err == -EPERM ? 77 : 1;
	}
	test_untouched(skel);
	test_fanout(skel);
	limit__destroy(skel);
	return check_report();
}
