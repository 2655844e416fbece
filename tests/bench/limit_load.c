/* limit_load.c - loads the limit reference (limit.bpf.c) on a TC ingress hook, prints "ready",
 * holds it until SIGTERM/SIGINT or --timeout, then prints its counters and detaches. Run inside
 * the benchmark's broker namespace by tests/bench/run.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "limit.skel.h"

struct limit_args {
	const char *in, *out, *dst_ip, *dst_mac;
	long match_port, base_port, subs, timeout;
};

static int parse_mac(const char *s, volatile __u8 *mac)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)v[i];
	return 0;
}

static int iface_mac(const char *name, volatile __u8 *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		for (int i = 0; i < 6; i++)
			mac[i] = (__u8)ifr.ifr_hwaddr.sa_data[i];
	close(fd);
	return err;
}

static int parse_args(int argc, char **argv, struct limit_args *a)
{
	static const struct option opts[] = {
	        {"in", required_argument, NULL, 'i'},
	        {"out", required_argument, NULL, 'o'},
	        {"dst-ip", required_argument, NULL, 'a'},
	        {"dst-mac", required_argument, NULL, 'm'},
	        {"match-port", required_argument, NULL, 'p'},
	        {"base-port", required_argument, NULL, 'b'},
	        {"subs", required_argument, NULL, 'n'},
	        {"timeout", required_argument, NULL, 't'},
	        {0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			a->in = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'a':
			a->dst_ip = optarg;
			break;
		case 'm':
			a->dst_mac = optarg;
			break;
		case 'p':
			a->match_port = strtol(optarg, NULL, 10);
			break;
		case 'b':
			a->base_port = strtol(optarg, NULL, 10);
			break;
		case 'n':
			a->subs = strtol(optarg, NULL, 10);
			break;
		case 't':
			a->timeout = strtol(optarg, NULL, 10);
			break;
		default:
			return -EINVAL;
		}
	}
	if (!a->in || !a->out || !a->dst_ip || !a->dst_mac || a->match_port < 1 ||
	    a->match_port > 65535 || a->base_port < 1 || a->subs < 1 || a->subs > 1024 ||
	    a->base_port + a->subs - 1 > 65535 || a->timeout < 1) {
		fprintf(stderr, "usage: limit_load --in IF --out IF --dst-ip A --dst-mac M "
		                "--match-port P --base-port B --subs N(1..1024) --timeout S\n");
		return -EINVAL;
	}
	return 0;
}

/* Fills the read-only configuration from the arguments. */
static int configure(struct limit *skel, const struct limit_args *a, int out_ifindex)
{
	struct in_addr ip;

	if (inet_pton(AF_INET, a->dst_ip, &ip) != 1 ||
	    parse_mac(a->dst_mac, skel->rodata->cfg_dst_mac))
		return -EINVAL;
	if (iface_mac(a->out, skel->rodata->cfg_src_mac) < 0)
		return -ENODEV;
	skel->rodata->cfg_nsubs = (__u32)a->subs;
	skel->rodata->cfg_ifindex = (__u32)out_ifindex;
	skel->rodata->cfg_match_port = htons((uint16_t)a->match_port);
	skel->rodata->cfg_dst_ip = ip.s_addr;
	skel->rodata->cfg_base_port = (__u32)a->base_port;
	return 0;
}

static void print_counters(struct limit *skel)
{
	static const char *const names[] = {"packets", "clones", "clone_failed"};
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*v));

	for (__u32 k = 0; v && ncpu > 0 && k < 3; k++) {
		__u64 sum = 0;

		if (bpf_map__lookup_elem(skel->maps.limit_counters, &k, sizeof(k), v,
		                         sizeof(*v) * (size_t)ncpu, 0) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		printf("%s %llu\n", names[k], (unsigned long long)sum);
	}
	free(v);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct limit_args a = {0};
	struct limit *skel = NULL;
	sigset_t set;
	int in_ifindex, out_ifindex, err = 1;
	struct timespec ts;

	if (parse_args(argc, argv, &a))
		return 2;
	in_ifindex = (int)if_nametoindex(a.in);
	out_ifindex = (int)if_nametoindex(a.out);
	if (!in_ifindex || !out_ifindex) {
		fprintf(stderr, "limit_load: no interface %s\n", !in_ifindex ? a.in : a.out);
		return 1;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = in_ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = 1, .priority = 1);
	skel = limit__open();
	if (!skel || configure(skel, &a, out_ifindex) < 0) {
		fprintf(stderr,
		        "limit_load: cannot open or configure the program (bad address, MAC "
		        "or interface)\n");
		goto out;
	}
	if (limit__load(skel)) {
		fprintf(stderr, "limit_load: the kernel refused the program (see the verifier log "
		                "above)\n");
		goto out;
	}
	int r = bpf_tc_hook_create(&hook);

	if (r && r != -EEXIST) {
		fprintf(stderr, "limit_load: clsact on %s: %s\n", a.in, strerror(-r));
		goto out;
	}
	tc.prog_fd = bpf_program__fd(skel->progs.limit_fanout);
	r = bpf_tc_attach(&hook, &tc);
	if (r) {
		fprintf(stderr, "limit_load: attach on %s: %s\n", a.in, strerror(-r));
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	ts = (struct timespec){.tv_sec = a.timeout};
	if (sigtimedwait(&set, NULL, &ts) < 0)
		fprintf(stderr, "limit_load: --timeout %ld s reached, detaching\n", a.timeout);
	print_counters(skel);
	tc.prog_fd = tc.prog_id = tc.flags = 0;
	bpf_tc_detach(&hook, &tc);
	err = 0;
out:
	limit__destroy(skel);
	return err;
}
