/* fastpath_internal.h - what fastpath.c (start, slots, datagrams, control) and
 * fastpath_sync.c (computing serve sets and writing the maps) share. Not an API. */
#ifndef MQTT_FAST_FASTPATH_INTERNAL_H
#define MQTT_FAST_FASTPATH_INTERNAL_H

#include "broker.h"
#include "fastpath.h"
#include "fastpath_kern.h"
#include "fastpath_model.h"
#include "sn_internal.h"

struct fp_topic_entry {
	struct fp_topic_key key;
	bool present;        /* in fp_topics */
	bool enabled;        /* scratch of one sync: still fast-path */
	struct fp_topic val; /* as written to the kernel */
	struct fp_history hist;
};

struct fastpath {
	struct fpctl *ctl; /* NULL: everything runs in userspace */
	bool dirty;
	uint64_t subtree_seen; /* subtree_changes() at the last sync */
	char **filters;        /* `fastpath` filters, config then runtime; owned */
	size_t nfilters;
	struct fp_levels *levels;
	struct fp_shadow *shadow, *build; /* what the kernel has / the one being built */
	struct fp_topic_entry *topics;    /* index = counter slot */
	size_t ntopics;
	struct sn_client *subs[FP_MAX_SUBS];
	uint8_t sub_family[FP_MAX_SUBS];
	unsigned sub_next;
	struct sn_client *pubs[FP_MAX_PUBS];
	struct fp_addr pub_addr[FP_MAX_PUBS];
	unsigned pub_next;
	/* The datagram being handled (fastpath_rx_begin). */
	bool rx_active;
	uint8_t rx_family;
	struct fp_bits rx_skip;
	uint64_t map_errors, history_misses;
	struct log_ratelimit rl;
};

/* A map write failed: counted, logged (rate-limited). */
void fp_log_error(struct broker *b, int rc, const char *what);
/* The fp_addr of a socket address; false for another family. */
bool fp_addr_from(const struct sockaddr_storage *ss, struct fp_addr *out);
/* Slots for a client the kernel may serve / accept publishes from (no-op when not eligible,
 * already slotted, or all slots are taken). */
void fp_sub_slot_assign(struct broker *b, struct sn_client *c);
void fp_pub_slot_assign(struct broker *b, struct sn_client *c);
/* Releases a publisher slot of a client that may no longer publish (asleep), or assigns one. */
void fp_pub_slot_check(struct broker *b, struct sn_client *c);
/* The entry of key k, created (with its counter slot) when new; NULL when FP_MAX_TOPICS are
 * taken or out of memory. */
struct fp_topic_entry *fp_topic_entry(struct fastpath *fp, const struct fp_topic_key *k);

#endif
