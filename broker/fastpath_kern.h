/* fastpath_kern.h - the broker's view of the control library: bpf/fpctl.h when the build has
 * it (MQTT_FAST_BPF=ON), otherwise stand-ins that report the fast path as not built, so the
 * broker runs entirely in userspace. Only broker/fastpath*.c include this. */
#ifndef MQTT_FAST_FASTPATH_KERN_H
#define MQTT_FAST_FASTPATH_KERN_H

#ifdef MQTT_FAST_HAVE_FPCTL
#include "fpctl.h"
#else
#include <errno.h>
#include <stdio.h>

#include "common.h"

struct fpctl;
enum fpctl_mode { FPCTL_MODE_AUTO = 0, FPCTL_MODE_NATIVE, FPCTL_MODE_GENERIC };
static inline int fpctl_open(const char *const *ifnames, size_t n, enum fpctl_mode mode,
                             struct fpctl **out, char *err, size_t errlen)
{
	(void)ifnames, (void)n, (void)mode;
	*out = NULL;
	snprintf(err, errlen, "built without the kernel fast path (MQTT_FAST_BPF=OFF)");
	return -ENOTSUP;
}
static inline void fpctl_close(struct fpctl *f)
{
	(void)f;
}
static inline const char *fpctl_iface_mode(const struct fpctl *f, size_t i)
{
	(void)f, (void)i;
	return "none";
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define FPCTL_STUB(...)                                                                            \
	{                                                                                          \
		return -ENOTSUP;                                                                   \
	}
static inline int fpctl_config_put(
        struct fpctl *f,
        const struct fp_config
                *c) FPCTL_STUB() static inline int fpctl_topic_put(struct fpctl *f,
                                                                   const struct fp_topic_key *k,
                                                                   const struct fp_topic *t)
        FPCTL_STUB() static inline int fpctl_topic_del(
                struct fpctl *f,
                const struct fp_topic_key
                        *k) FPCTL_STUB() static inline int fpctl_exact_put(struct fpctl *f,
                                                                           uint32_t i,
                                                                           const struct fp_bits *b)
                FPCTL_STUB() static inline int fpctl_wild_put(
                        struct fpctl *f, uint32_t d,
                        const struct fp_wild *
                                w) FPCTL_STUB() static inline int fpctl_subscriber_put(struct fpctl
                                                                                               *f,
                                                                                       uint32_t
                                                                                               slot,
                                                                                       const struct
                                                                                       fp_subscriber
                                                                                               *s)
                        FPCTL_STUB() static inline int fpctl_publisher_put(
                                struct fpctl *f, const struct fp_addr *a,
                                const struct fp_publisher *p)
                                FPCTL_STUB() static inline int fpctl_publisher_del(
                                        struct fpctl *f, const struct fp_addr *a)
                                        FPCTL_STUB() static inline int fpctl_neigh_get(
                                                struct fpctl *f, const struct fp_addr *a,
                                                struct fp_neigh *out)
                                                FPCTL_STUB() static inline int fpctl_counters_sum(
                                                        struct fpctl *f, uint32_t slot,
                                                        struct fp_counter out[FP_NVERDICTS])
                                                        FPCTL_STUB() static inline const
        char *fpctl_verdict_name(unsigned v)
{
	(void)v;
	return "?";
}
#pragma GCC diagnostic pop
#endif

#endif
