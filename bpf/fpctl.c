/* fpctl.c - loading, attaching and map access for the fast-path programs (fpctl.h).
 *
 * XDP is attached through netlink (bpf_xdp_attach) in the requested mode; TC through a clsact
 * ingress filter with a fixed handle and priority, so a filter left by a crashed run is
 * replaced in place. An XDP program left by a crashed run is recognised by its name (fp_xdp)
 * and detached first; a foreign XDP program is never touched (the attach fails and says so). */
#include "fpctl.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#ifdef FPCTL_HAVE_SKEL
#include "fastpath.skel.h"
#endif

#define FPCTL_TC_HANDLE   0xf5
#define FPCTL_TC_PRIORITY 1
#define FPCTL_XDP_NAME    "fp_xdp"

struct fpctl_iface {
	int ifindex;
	__u32 xdp_flags; /* the mode it was attached with */
	bool xdp_attached, tc_attached, hook_created;
};

struct fpctl {
#ifdef FPCTL_HAVE_SKEL
	struct fastpath *skel;
#endif
	int xdp_fd, tc_fd;
	int topics_fd, exact_fd, wild_fd, subs_fd, pubs_fd, neigh_fd, config_fd, counters_fd;
	int ncpus;
	struct fpctl_iface *ifaces;
	size_t nifaces;
};

static const char *const verdict_names[FP_NVERDICTS] = {
        [FP_V_FORWARDED] = "forwarded",
        [FP_V_CLONES] = "clones",
        [FP_V_CLONE_FAILED] = "clone_failed",
        [FP_V_PASSED] = "passed",
        [FP_V_DROP_NO_SUBSCRIBER] = "drop_no_subscriber",
        [FP_V_DROP_MALFORMED] = "drop_malformed",
        [FP_V_DROP_UNAUTHORIZED] = "drop_unauthorized",
        [FP_V_PASS_NOT_FASTPATH] = "pass_not_fastpath",
        [FP_V_PASS_IP_OPTIONS] = "pass_ip_options",
        [FP_V_PASS_BAD_CSUM] = "pass_bad_csum",
};

const char *fpctl_verdict_name(unsigned v)
{
	return v < FP_NVERDICTS && verdict_names[v] ? verdict_names[v] : "?";
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The id of the XDP program attached to ifindex in `mode` (0 = none). */
static __u32 xdp_attached_id(int ifindex, __u32 mode)
{
	__u32 id = 0;
	if (bpf_xdp_query_id(ifindex, (int)mode, &id) < 0)
		return 0;
	return id;
}

/* True when program `id` is one of ours (left by an earlier run). */
static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours = false;
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		ours = strncmp(info.name, FPCTL_XDP_NAME, sizeof(info.name)) == 0;
	close(fd);
	return ours;
}

/* Detaches an fp_xdp a crashed run left on ifindex, in either mode. */
static void xdp_remove_leftover(int ifindex)
{
	const __u32 modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	for (size_t i = 0; i < 2; i++) {
		__u32 id = xdp_attached_id(ifindex, modes[i]);
		if (id && prog_is_ours(id))
			(void)bpf_xdp_detach(ifindex, modes[i], NULL);
	}
}

static int xdp_attach(struct fpctl *f, struct fpctl_iface *ifc, enum fpctl_mode mode)
{
	int rc = -EINVAL;
	xdp_remove_leftover(ifc->ifindex);
	if (mode != FPCTL_MODE_GENERIC) {
		/* In auto mode a driver without native XDP is expected: keep libbpf's kernel
		 * message about it off stderr. */
		libbpf_print_fn_t old = mode == FPCTL_MODE_AUTO ? libbpf_set_print(NULL) : NULL;
		rc = bpf_xdp_attach(ifc->ifindex, f->xdp_fd,
		                    XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (mode == FPCTL_MODE_AUTO)
			libbpf_set_print(old);
		if (rc == 0)
			ifc->xdp_flags = XDP_FLAGS_DRV_MODE;
		if (rc == 0 || mode == FPCTL_MODE_NATIVE)
			goto out;
	}
	rc = bpf_xdp_attach(ifc->ifindex, f->xdp_fd,
	                    XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (rc == 0)
		ifc->xdp_flags = XDP_FLAGS_SKB_MODE;
out:
	ifc->xdp_attached = rc == 0;
	return rc;
}

static int tc_attach(struct fpctl *f, struct fpctl_iface *ifc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FPCTL_TC_HANDLE, .priority = FPCTL_TC_PRIORITY,
	            .prog_fd = f->tc_fd, .flags = BPF_TC_F_REPLACE);
	/* An existing clsact qdisc is fine (EEXIST): keep libbpf's kernel message quiet. */
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	int rc = bpf_tc_hook_create(&hook);
	libbpf_set_print(old);
	if (rc == 0)
		ifc->hook_created = true;
	else if (rc != -EEXIST)
		return rc;
	rc = bpf_tc_attach(&hook, &opts);
	ifc->tc_attached = rc == 0;
	return rc;
}

static void iface_detach(struct fpctl *f, struct fpctl_iface *ifc)
{
	if (ifc->tc_attached) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		            .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FPCTL_TC_HANDLE,
		            .priority = FPCTL_TC_PRIORITY);
		(void)bpf_tc_detach(&hook, &opts);
		ifc->tc_attached = false;
	}
	if (ifc->xdp_attached) {
		/* Only our own program: another process may have replaced it since. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = f->xdp_fd);
		(void)bpf_xdp_detach(ifc->ifindex, ifc->xdp_flags, &xo);
		ifc->xdp_attached = false;
	}
}

#ifdef FPCTL_HAVE_SKEL
static int load_programs(struct fpctl *f, char *err, size_t errlen)
{
	f->skel = fastpath__open_and_load();
	if (!f->skel)
		return fail(err, errlen, errno ? -errno : -EINVAL,
		            "loading the fast-path programs failed: %s (need root or CAP_BPF + "
		            "CAP_NET_ADMIN)",
		            strerror(errno ? errno : EINVAL));
	f->xdp_fd = bpf_program__fd(f->skel->progs.fp_xdp);
	f->tc_fd = bpf_program__fd(f->skel->progs.fp_tc);
	f->topics_fd = bpf_map__fd(f->skel->maps.fp_topics);
	f->exact_fd = bpf_map__fd(f->skel->maps.fp_exact);
	f->wild_fd = bpf_map__fd(f->skel->maps.fp_wild);
	f->subs_fd = bpf_map__fd(f->skel->maps.fp_subscribers);
	f->pubs_fd = bpf_map__fd(f->skel->maps.fp_publishers);
	f->neigh_fd = bpf_map__fd(f->skel->maps.fp_neigh);
	f->config_fd = bpf_map__fd(f->skel->maps.fp_config);
	f->counters_fd = bpf_map__fd(f->skel->maps.fp_counters);
	return 0;
}
#else
static int load_programs(struct fpctl *f, char *err, size_t errlen)
{
	(void)f;
	return fail(err, errlen, -ENOENT,
	            "the fast-path programs were not built (bpf/fastpath.bpf.c missing)");
}
#endif

int fpctl_open(const char *const *ifnames, size_t n, enum fpctl_mode mode, struct fpctl **out,
               char *err, size_t errlen)
{
	struct fpctl *f = calloc(1, sizeof(*f));
	int rc = -ENOMEM;
	*out = NULL;
	if (!f || !(f->ifaces = calloc(n ? n : 1, sizeof(*f->ifaces))))
		goto fail_out;
	f->ncpus = libbpf_num_possible_cpus();
	if (f->ncpus <= 0) {
		rc = fail(err, errlen, f->ncpus ? f->ncpus : -EINVAL, "cannot count the CPUs");
		goto fail_out;
	}
	for (size_t i = 0; i < n; i++) {
		int ifindex = (int)if_nametoindex(ifnames[i]);
		if (!ifindex) {
			rc = fail(err, errlen, -ENODEV, "fastpath_interface %s: no such interface",
			          ifnames[i]);
			goto fail_out;
		}
		f->ifaces[i].ifindex = ifindex;
	}
	/* The fallback promise is one clear line (ours, in err): libbpf's own diagnostics,
	 * verifier log included, only with MQTT_FAST_BPF_DEBUG set. */
	libbpf_print_fn_t old_print = libbpf_set_print(NULL);
	if (getenv("MQTT_FAST_BPF_DEBUG"))
		libbpf_set_print(old_print);
	rc = load_programs(f, err, errlen);
	libbpf_set_print(old_print);
	if (rc < 0)
		goto fail_out;
	for (size_t i = 0; i < n; i++, f->nifaces++) {
		rc = xdp_attach(f, &f->ifaces[i], mode);
		if (rc < 0) {
			rc = fail(err, errlen, rc,
			          "fastpath_interface %s: XDP attach (%s) failed: %s", ifnames[i],
			          mode == FPCTL_MODE_NATIVE    ? "native"
			          : mode == FPCTL_MODE_GENERIC ? "generic"
			                                       : "auto",
			          strerror(-rc));
			goto fail_out;
		}
		rc = tc_attach(f, &f->ifaces[i]);
		if (rc < 0) {
			f->nifaces++; /* detach its XDP below */
			rc = fail(err, errlen, rc,
			          "fastpath_interface %s: TC clsact ingress attach failed: %s",
			          ifnames[i], strerror(-rc));
			goto fail_out;
		}
	}
	*out = f;
	return 0;
fail_out:
	if (rc == -ENOMEM)
		fail(err, errlen, rc, "out of memory");
	fpctl_close(f);
	return rc;
}

void fpctl_close(struct fpctl *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nifaces; i++)
		iface_detach(f, &f->ifaces[i]);
#ifdef FPCTL_HAVE_SKEL
	fastpath__destroy(f->skel);
#endif
	free(f->ifaces);
	free(f);
}

const char *fpctl_iface_mode(const struct fpctl *f, size_t i)
{
	if (i >= f->nifaces)
		return "none";
	return f->ifaces[i].xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

static int ret(int rc)
{
	return rc < 0 ? (errno ? -errno : rc) : 0;
}

int fpctl_config_put(struct fpctl *f, const struct fp_config *c)
{
	__u32 key = 0;
	return ret(bpf_map_update_elem(f->config_fd, &key, c, BPF_ANY));
}

int fpctl_topic_put(struct fpctl *f, const struct fp_topic_key *k, const struct fp_topic *t)
{
	return ret(bpf_map_update_elem(f->topics_fd, k, t, BPF_ANY));
}

int fpctl_topic_del(struct fpctl *f, const struct fp_topic_key *k)
{
	int rc = bpf_map_delete_elem(f->topics_fd, k);
	return rc < 0 && errno == ENOENT ? 0 : ret(rc);
}

int fpctl_exact_put(struct fpctl *f, uint32_t depth_index, const struct fp_bits *bits)
{
	if (depth_index >= FP_MAX_LEVELS * FP_MAX_INDEX)
		return -ERANGE;
	return ret(bpf_map_update_elem(f->exact_fd, &depth_index, bits, BPF_ANY));
}

int fpctl_wild_put(struct fpctl *f, uint32_t depth, const struct fp_wild *w)
{
	if (depth > FP_MAX_LEVELS)
		return -ERANGE;
	return ret(bpf_map_update_elem(f->wild_fd, &depth, w, BPF_ANY));
}

int fpctl_subscriber_put(struct fpctl *f, uint32_t slot, const struct fp_subscriber *s)
{
	if (slot >= FP_MAX_SUBS)
		return -ERANGE;
	return ret(bpf_map_update_elem(f->subs_fd, &slot, s, BPF_ANY));
}

int fpctl_publisher_put(struct fpctl *f, const struct fp_addr *a, const struct fp_publisher *p)
{
	return ret(bpf_map_update_elem(f->pubs_fd, a, p, BPF_ANY));
}

int fpctl_publisher_del(struct fpctl *f, const struct fp_addr *a)
{
	int rc = bpf_map_delete_elem(f->pubs_fd, a);
	return rc < 0 && errno == ENOENT ? 0 : ret(rc);
}

int fpctl_neigh_get(struct fpctl *f, const struct fp_addr *a, struct fp_neigh *out)
{
	return ret(bpf_map_lookup_elem(f->neigh_fd, a, out));
}

int fpctl_counters_sum(struct fpctl *f, uint32_t slot, struct fp_counter out[FP_NVERDICTS])
{
	struct fp_counter *percpu = calloc((size_t)f->ncpus, sizeof(*percpu));
	int rc = 0;
	if (!percpu)
		return -ENOMEM;
	if (slot > FP_MAX_TOPICS) {
		rc = -ERANGE;
		goto out;
	}
	for (unsigned v = 0; v < FP_NVERDICTS; v++) {
		__u32 key = slot * FP_NVERDICTS + v;
		out[v] = (struct fp_counter){0};
		rc = ret(bpf_map_lookup_elem(f->counters_fd, &key, percpu));
		if (rc < 0)
			goto out;
		for (int c = 0; c < f->ncpus; c++) {
			out[v].packets += percpu[c].packets;
			out[v].bytes += percpu[c].bytes;
		}
	}
out:
	free(percpu);
	return rc;
}
