/* fp_netns.h - socket helpers for the namespace test of the fast-path programs: open a socket
 * inside a named network namespace, read an interface's index and MAC there, receive with a
 * bounded wait, switch tx checksum offload. Test code only; every function returns 0 / a
 * negative errno (or a descriptor) and prints the cause of a failure. */
#ifndef MQTT_FAST_TEST_FP_NETNS_H
#define MQTT_FAST_TEST_FP_NETNS_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fp_frame.h"

#ifndef SO_RCVMARK
#define SO_RCVMARK 75 /* Linux >= 5.19 */
#endif

/* Descriptor of /run/netns/<name> (ip netns add), or -errno. */
static inline int netns_open(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return fd;
}

/* socket() inside namespace `ns`, then back to namespace `home`. */
static inline int netns_socket(int ns, int home, int domain, int type, int proto)
{
	if (setns(ns, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns: %s\n", strerror(errno));
		return -errno;
	}
	int fd = socket(domain, type | SOCK_CLOEXEC, proto);
	int err = fd < 0 ? -errno : 0;
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns back: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (err)
		fprintf(stderr, "socket: %s\n", strerror(-err));
	return fd < 0 ? err : fd;
}

/* Index and MAC of interface `ifname` as seen from the namespace of socket `fd`. */
static inline int netns_if_info(int fd, const char *ifname, int *ifindex, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		goto fail;
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
fail:
	fprintf(stderr, "%s: %s\n", ifname, strerror(errno));
	return -errno;
}

/* Turns tx checksum offload of `ifname` on or off (ethtool -K IF tx on|off), through a socket
 * `fd` of its namespace. */
static inline int netns_set_tx_csum(int fd, const char *ifname, int on)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = (uint32_t)on};
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		fprintf(stderr, "%s: tx checksum offload %s: %s\n", ifname, on ? "on" : "off",
		        strerror(errno));
		return -errno;
	}
	return 0;
}

/* Waits at most `ms` for `fd` to become readable: 1 readable, 0 timeout, -errno. */
static inline int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, ms);
	return n < 0 ? -errno : n;
}

/* AF_PACKET socket bound to `ifindex`, seeing every frame; -errno on failure. */
static inline int packet_bind(int fd, int ifindex)
{
	struct sockaddr_ll sll = {
	        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "bind AF_PACKET: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Binds UDP socket `fd` to address `addr` (4 or 16 bytes) and port. */
static inline int udp_bind(int fd, int family, const uint8_t *addr, uint16_t port)
{
	int one = 1;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int err;
	if (family == 6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		memcpy(&a6.sin6_addr, addr, 16);
		err = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		memcpy(&a4.sin_addr, addr, 4);
		err = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	}
	if (err < 0) {
		fprintf(stderr, "bind udp port %u: %s\n", port, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Reads everything pending on `fd` (a bounded number of datagrams). */
static inline void drain(int fd)
{
	uint8_t buf[FRAME_MAX];
	for (int i = 0; i < 1000 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0; i++)
		;
}

struct captured {
	uint8_t frame[FRAME_MAX];
	size_t len;
	int csum_partial; /* TP_STATUS_CSUMNOTREADY: the checksum field is not final */
};

#define MAX_CAPTURE 8

/* Captures incoming frames that `keep` accepts on AF_PACKET socket `fd`: waits up to
 * `wait_ms` for `want` of them, then `quiet_ms` for any extra (MAX_CAPTURE at most). */
static inline int capture_frames(int fd, struct captured *out, int want,
                                 int (*keep)(const uint8_t *, size_t), int wait_ms, int quiet_ms)
{
	int n = 0, one = 1;
	setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	for (int rounds = 0; rounds < 64 && n < MAX_CAPTURE; rounds++) {
		if (wait_readable(fd, n < want ? wait_ms : quiet_ms) <= 0)
			break;
		struct sockaddr_ll from;
		char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct iovec iov = {out[n].frame, FRAME_MAX};
		struct msghdr msg = {.msg_name = &from,
		                     .msg_namelen = sizeof(from),
		                     .msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = cbuf,
		                     .msg_controllen = sizeof(cbuf)};
		ssize_t len = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (len < 0 || from.sll_pkttype == PACKET_OUTGOING ||
		    !keep(out[n].frame, (size_t)len))
			continue;
		out[n].len = (size_t)len;
		out[n].csum_partial = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct tpacket_auxdata aux;
			if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			out[n].csum_partial = !!(aux.tp_status & TP_STATUS_CSUMNOTREADY);
		}
		n++;
	}
	return n;
}

#endif
