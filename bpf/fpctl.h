/* fpctl.h - the userspace control library of the kernel fast path: loads the fastpath
 * skeleton (fp_xdp + fp_tc), attaches XDP and TC clsact ingress to each fastpath_interface,
 * replaces programs a crashed previous run left attached, detaches at close, and gives typed
 * access to the maps of bpf/common.h. No policy here: broker/fastpath.c decides what to write.
 *
 * Every function returns 0 or a negative errno. */
#ifndef MQTT_FAST_FPCTL_H
#define MQTT_FAST_FPCTL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

struct fpctl; /* loaded programs, their maps, the interfaces they are attached to */

enum fpctl_mode {
	FPCTL_MODE_AUTO = 0, /* native XDP where the driver has it, generic otherwise */
	FPCTL_MODE_NATIVE,
	FPCTL_MODE_GENERIC,
};

/* Loads the programs and attaches them to the `n` interfaces `ifnames` (borrowed). On failure
 * nothing stays attached or loaded, and `err` says why in one line (interface, step, errno).
 * *out is owned by the caller (fpctl_close). -ENOENT when the programs were not built. */
int fpctl_open(const char *const *ifnames, size_t n, enum fpctl_mode mode, struct fpctl **out,
               char *err, size_t errlen);
/* Detaches from every interface and unloads. NULL is ignored. */
void fpctl_close(struct fpctl *f);
/* "native" or "generic": the XDP mode interface i ended up in (borrowed static string). */
const char *fpctl_iface_mode(const struct fpctl *f, size_t i);

/* Typed map access (all arguments borrowed). */
int fpctl_config_put(struct fpctl *f, const struct fp_config *c);
int fpctl_topic_put(struct fpctl *f, const struct fp_topic_key *k, const struct fp_topic *t);
int fpctl_topic_del(struct fpctl *f, const struct fp_topic_key *k); /* absent: 0 */
int fpctl_exact_put(struct fpctl *f, uint32_t depth_index, const struct fp_bits *bits);
int fpctl_wild_put(struct fpctl *f, uint32_t depth, const struct fp_wild *w);
int fpctl_subscriber_put(struct fpctl *f, uint32_t slot, const struct fp_subscriber *s);
int fpctl_publisher_put(struct fpctl *f, const struct fp_addr *a, const struct fp_publisher *p);
int fpctl_publisher_del(struct fpctl *f, const struct fp_addr *a); /* absent: 0 */
/* Where the client at `a` sent from, as learned by XDP. -ENOENT when XDP never saw it. */
int fpctl_neigh_get(struct fpctl *f, const struct fp_addr *a, struct fp_neigh *out);
/* Counters of one counter slot (0..FP_MAX_TOPICS; FP_MAX_TOPICS = no topic) summed over every
 * CPU, one entry per enum fp_verdict. */
int fpctl_counters_sum(struct fpctl *f, uint32_t slot, struct fp_counter out[FP_NVERDICTS]);

/* Name of a verdict for logs, the control tool and $SYS ("forwarded", "clones", ...). */
const char *fpctl_verdict_name(unsigned v);

#endif
