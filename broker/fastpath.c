/* fastpath.c - who the kernel serves and who userspace serves (fastpath.h), and keeping the
 * kernel maps equal to that decision.
 *
 * Order of map writes in one sync (DESIGN.md "Exactly one copy"): the kernel serves
 * level_match & serve, and serve only ever holds subscribers whose subscription truly matches
 * (the per-level bitsets over-approximate when one slot has several filters). So:
 *   1. topics whose serve set loses slots, and topics that stop being fast-path,
 *   2. the level bitsets fp_exact / fp_wild,
 *   3. topics whose serve set gains slots, and new topics.
 * A slot in a serve set therefore always has its level bits, and userspace skips exactly the
 * slots of the serve generation named by a passed-up packet's mark. */
#include "fastpath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "broker.h"
#include "fastpath_internal.h"

void fp_log_error(struct broker *b, int rc, const char *what)
{
	struct fastpath *fp = b->fp;
	fp->map_errors++;
	if (log_ratelimit(&fp->rl, broker_now_ms(b)))
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "fast path: %s failed: %s", what,
		         strerror(-rc));
}

bool fp_addr_from(const struct sockaddr_storage *ss, struct fp_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		out->family = 4;
		out->port = in->sin_port;
		memcpy(out->addr, &in->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		out->family = 6;
		out->port = in6->sin6_port;
		memcpy(out->addr, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* ---- start / stop ---------------------------------------------------------------------- */

static int filters_from_config(struct fastpath *fp, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->fastpath_filter_count; i++) {
		char **l = realloc(fp->filters, (fp->nfilters + 1) * sizeof(*l));
		if (!l)
			return -ENOMEM;
		fp->filters = l;
		if (!(l[fp->nfilters] = strdup(cfg->fastpath_filters[i])))
			return -ENOMEM;
		fp->nfilters++;
	}
	return 0;
}

static void fp_config_write(struct broker *b)
{
	struct fp_config c = {.enabled = 1};
	unsigned n = 0;
	for (size_t i = 0; i < b->cfg.listener_count && n < 4; i++)
		if (b->cfg.listeners[i].protocol == LISTENER_MQTTSN)
			c.sn_ports[n++] = htons(b->cfg.listeners[i].port);
	int rc = fpctl_config_put(b->fp->ctl, &c);
	if (rc < 0)
		fp_log_error(b, rc, "writing fp_config");
}

int fastpath_start(struct broker *b)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));
	int rc = -ENOMEM;
	char err[256] = "";
	if (!fp)
		return -ENOMEM;
	b->fp = fp;
	log_ratelimit_init(&fp->rl, 60000, 5);
	if (filters_from_config(fp, &b->cfg) < 0 || !(fp->levels = fp_levels_new()) ||
	    !(fp->shadow = calloc(1, sizeof(*fp->shadow))) ||
	    !(fp->build = calloc(1, sizeof(*fp->build))))
		goto out;
	rc = 0;
	if (!b->cfg.fastpath_interface_count) {
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
		         "fast path off (no fastpath_interface): MQTT-SN runs in userspace");
		goto out;
	}
	enum fpctl_mode mode = b->cfg.fastpath_mode == FASTPATH_MODE_NATIVE    ? FPCTL_MODE_NATIVE
	                       : b->cfg.fastpath_mode == FASTPATH_MODE_GENERIC ? FPCTL_MODE_GENERIC
	                                                                       : FPCTL_MODE_AUTO;
	int orc = fpctl_open((const char *const *)b->cfg.fastpath_interfaces,
	                     b->cfg.fastpath_interface_count, mode, &fp->ctl, err, sizeof(err));
	if (orc < 0) {
		/* The promise: one clear line, then identical behaviour in userspace. */
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "fast path unavailable, running in userspace: %s", err);
		goto out;
	}
	for (size_t i = 0; i < b->cfg.fastpath_interface_count; i++)
		log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
		         "fast path attached to %s (XDP %s + TC ingress), %zu fastpath filter(s)",
		         b->cfg.fastpath_interfaces[i], fpctl_iface_mode(fp->ctl, i), fp->nfilters);
	fp_config_write(b);
	fp->dirty = true;
out:
	return rc;
}

void fastpath_stop(struct broker *b)
{
	struct fastpath *fp = b->fp;
	if (!fp)
		return;
	fpctl_close(fp->ctl);
	for (size_t i = 0; i < fp->nfilters; i++)
		free(fp->filters[i]);
	free(fp->filters);
	fp_levels_free(fp->levels);
	free(fp->shadow);
	free(fp->build);
	free(fp->topics);
	/* Clients outlive the module at shutdown: their slot numbers mean nothing any more. */
	for (unsigned i = 0; i < FP_MAX_SUBS; i++)
		if (fp->subs[i])
			fp->subs[i]->fp_sub = 0;
	for (unsigned i = 0; i < FP_MAX_PUBS; i++)
		if (fp->pubs[i])
			fp->pubs[i]->fp_pub = 0;
	free(fp);
	b->fp = NULL;
}

bool fastpath_active(const struct broker *b)
{
	return b->fp && b->fp->ctl;
}

void fastpath_touch(struct broker *b)
{
	if (b->fp)
		b->fp->dirty = true;
}

/* ---- slots ------------------------------------------------------------------------------- */

/* Whether an SN client can be handled by the kernel at all: plain UDP (the programs do not
 * parse the forwarder encapsulation, MQTT-SN 1.2 §5.5) and connected. */
static bool client_eligible(const struct sn_client *c)
{
	return !c->encapsulated && c->session &&
	       (c->state == SN_ACTIVE || c->state == SN_AWAKE || c->state == SN_ASLEEP);
}

/* Gives c a subscriber slot when XDP has seen it (fp_neigh); no neighbour entry means it
 * came in over an interface without the programs and is never served by the kernel. */
void fp_sub_slot_assign(struct broker *b, struct sn_client *c)
{
	struct fastpath *fp = b->fp;
	struct fp_addr a;
	struct fp_neigh n;
	if (c->fp_sub || !client_eligible(c) || !fp_addr_from(&c->addr, &a) ||
	    fpctl_neigh_get(fp->ctl, &a, &n) < 0)
		return;
	for (unsigned k = 0; k < FP_MAX_SUBS; k++) {
		/* Round robin, so a freed slot is reused as late as possible (older serve
		 * generations in the history still name it). */
		unsigned slot = (fp->sub_next + k) % FP_MAX_SUBS;
		if (fp->subs[slot])
			continue;
		struct fp_subscriber s = {
		        .ifindex = n.ifindex, .valid = 1, .peer = a, .local = n.local};
		memcpy(s.dst_mac, n.peer_mac, 6);
		memcpy(s.src_mac, n.local_mac, 6);
		int rc = fpctl_subscriber_put(fp->ctl, slot, &s);
		if (rc < 0) {
			fp_log_error(b, rc, "writing fp_subscribers");
			return;
		}
		fp->subs[slot] = c;
		fp->sub_family[slot] = a.family;
		fp->sub_next = slot + 1;
		c->fp_sub = (uint16_t)(slot + 1);
		return;
	}
}

void fp_pub_slot_assign(struct broker *b, struct sn_client *c)
{
	struct fastpath *fp = b->fp;
	struct fp_addr a;
	if (c->fp_pub || c->encapsulated || !c->session ||
	    (c->state != SN_ACTIVE && c->state != SN_AWAKE) || !fp_addr_from(&c->addr, &a))
		return;
	for (unsigned k = 0; k < FP_MAX_PUBS; k++) {
		unsigned slot = (fp->pub_next + k) % FP_MAX_PUBS;
		if (fp->pubs[slot])
			continue;
		struct fp_publisher p = {.slot = (uint16_t)slot};
		int rc = fpctl_publisher_put(fp->ctl, &a, &p);
		if (rc < 0) {
			fp_log_error(b, rc, "writing fp_publishers");
			return;
		}
		fp->pubs[slot] = c;
		fp->pub_addr[slot] = a;
		fp->pub_next = slot + 1;
		c->fp_pub = (uint16_t)(slot + 1);
		return;
	}
}

static void pub_slot_release(struct broker *b, struct sn_client *c)
{
	struct fastpath *fp = b->fp;
	unsigned slot = c->fp_pub - 1u;
	int rc = fpctl_publisher_del(fp->ctl, &fp->pub_addr[slot]);
	if (rc < 0)
		fp_log_error(b, rc, "deleting from fp_publishers");
	fp->pubs[slot] = NULL;
	c->fp_pub = 0;
}

/* ---- a client leaves ----------------------------------------------------------------------- */

/* Takes `slot` out of every serve set now (the client is going away), passing those topics up
 * so userspace decides for the others until the next sync. */
static void withdraw_sub_slot(struct broker *b, unsigned slot)
{
	struct fastpath *fp = b->fp;
	for (size_t i = 0; i < fp->ntopics; i++) {
		struct fp_topic_entry *e = &fp->topics[i];
		if (!e->present || !fp_bit_test(e->val.serve, slot))
			continue;
		e->val.serve[slot / 64] &= ~(1ull << (slot % 64));
		e->val.flags |= FP_TF_PASS_UP;
		e->val.serve_gen = fp_gen_next(e->val.serve_gen);
		fp_history_push(&e->hist, e->val.serve_gen, (const struct fp_bits *)e->val.serve);
		int rc = fpctl_topic_put(fp->ctl, &e->key, &e->val);
		if (rc < 0)
			fp_log_error(b, rc, "writing fp_topics");
	}
	struct fp_subscriber none = {0};
	int rc = fpctl_subscriber_put(fp->ctl, slot, &none);
	if (rc < 0)
		fp_log_error(b, rc, "clearing fp_subscribers");
	fp->subs[slot] = NULL;
}

void fastpath_client_gone(struct broker *b, struct sn_client *c)
{
	struct fastpath *fp = b->fp;
	if (!fp || !fp->ctl) {
		c->fp_sub = c->fp_pub = 0;
		return;
	}
	if (c->fp_pub)
		pub_slot_release(b, c);
	if (c->fp_sub) {
		withdraw_sub_slot(b, c->fp_sub - 1u);
		c->fp_sub = 0;
	}
	fp->dirty = true;
}

void fp_pub_slot_check(struct broker *b, struct sn_client *c)
{
	/* A sleeping publisher's PUBLISH is dropped by the gateway (MQTT-SN 1.2 §6.14): the
	 * kernel must not forward it either. */
	if (c->fp_pub && (c->state != SN_ACTIVE && c->state != SN_AWAKE))
		pub_slot_release(b, c);
	else
		fp_pub_slot_assign(b, c);
}

/* ---- datagrams ----------------------------------------------------------------------------- */

static struct fp_topic_entry *topic_entry_find(struct fastpath *fp, const struct fp_topic_key *k)
{
	for (size_t i = 0; i < fp->ntopics; i++)
		if (memcmp(&fp->topics[i].key, k, sizeof(*k)) == 0)
			return &fp->topics[i];
	return NULL;
}

struct fp_topic_entry *fp_topic_entry(struct fastpath *fp, const struct fp_topic_key *k)
{
	struct fp_topic_entry *e = topic_entry_find(fp, k);
	if (e || fp->ntopics == FP_MAX_TOPICS)
		return e;
	if (fp->ntopics % 64 == 0) {
		struct fp_topic_entry *t = realloc(fp->topics, (fp->ntopics + 64) * sizeof(*t));
		if (!t)
			return NULL;
		fp->topics = t;
	}
	e = &fp->topics[fp->ntopics++];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->val.slot = (uint16_t)(e - fp->topics);
	return e;
}

void fastpath_rx_begin(struct broker *b, uint32_t mark, int family, const uint8_t *d, size_t len)
{
	struct fastpath *fp = b->fp;
	if (!fp)
		return;
	fp->rx_active = false;
	if (!fp->ctl || (mark & FP_MARK_TAG_MASK) != FP_MARK_TAG)
		return; /* no mark: the kernel served nobody */
	/* MQTT-SN 1.2 §5.2.1: a 1-octet Length, or 0x01 and a 2-octet Length; then the type,
	 * and for PUBLISH the Flags and the Topic Id (§5.4.12). The gateway validates the rest. */
	size_t off = len && d[0] == 0x01 ? 3 : 1;
	if (len < off + 4 || d[off] != FP_SN_PUBLISH)
		return;
	struct fp_topic_key k = {.type = d[off + 1] & FP_SN_FLAG_TOPIC_TYPE};
	memcpy(&k.id, d + off + 2, 2);
	struct fp_topic_entry *e = topic_entry_find(fp, &k);
	if (!e || fp_history_find(&e->hist, mark & FP_MARK_GEN_MASK, &fp->rx_skip) < 0) {
		/* Older than the history: deliver to everyone (a possible duplicate rather than a
		 * lost message). */
		fp->history_misses++;
		if (log_ratelimit(&fp->rl, broker_now_ms(b)))
			log_line(
			        &b->log, LOG_LEVEL_WARNING, NULL, NULL,
			        "fast path: serve generation %u of a passed-up PUBLISH is unknown; "
			        "delivering to every subscriber",
			        (unsigned)(mark & FP_MARK_GEN_MASK));
		return;
	}
	fp->rx_family = family == AF_INET6 ? 6 : 4;
	fp->rx_active = true;
}

void fastpath_rx_end(struct broker *b)
{
	if (b->fp)
		b->fp->rx_active = false;
}

bool fastpath_kernel_served(const struct broker *b, const struct session *s)
{
	const struct fastpath *fp = b->fp;
	if (!fp || !fp->rx_active || s->proto != SESSION_SN || !s->conn)
		return false;
	const struct sn_client *c = s->conn;
	if (!c->fp_sub)
		return false;
	unsigned slot = c->fp_sub - 1u;
	/* The kernel serves only slots of the packet's own family. */
	return fp->sub_family[slot] == fp->rx_family && fp_bit_test(fp->rx_skip.w, slot);
}

/* ---- control: filters and counters --------------------------------------------------------- */

int fastpath_filter_add(struct broker *b, const char *filter)
{
	struct fastpath *fp = b->fp;
	size_t len = strlen(filter);
	if (!fp)
		return -ENOTSUP;
	if (!len || mqtt_topic_filter_valid((const uint8_t *)filter, len) < 0 ||
	    strncmp(filter, "$share/", 7) == 0)
		return -EINVAL;
	for (size_t i = 0; i < fp->nfilters; i++)
		if (strcmp(fp->filters[i], filter) == 0)
			return -EEXIST;
	char **l = realloc(fp->filters, (fp->nfilters + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	fp->filters = l;
	if (!(l[fp->nfilters] = strdup(filter)))
		return -ENOMEM;
	fp->nfilters++;
	fp->dirty = true;
	return 0;
}

int fastpath_filter_del(struct broker *b, const char *filter)
{
	struct fastpath *fp = b->fp;
	for (size_t i = 0; fp && i < fp->nfilters; i++) {
		if (strcmp(fp->filters[i], filter) == 0) {
			free(fp->filters[i]);
			fp->filters[i] = fp->filters[--fp->nfilters];
			fp->dirty = true;
			return 0;
		}
	}
	return -ENOENT;
}

void fastpath_filter_list(const struct broker *b, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; b->fp && i < b->fp->nfilters && used < len; i++) {
		int n = snprintf(out + used, len - used, "%s\n", b->fp->filters[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Sums the counters of every known topic slot and the no-topic slot. */
static void counters_total(struct broker *b, struct fp_counter tot[FP_NVERDICTS])
{
	struct fastpath *fp = b->fp;
	struct fp_counter one[FP_NVERDICTS];
	memset(tot, 0, sizeof(*tot) * FP_NVERDICTS);
	if (!fp || !fp->ctl)
		return;
	for (size_t i = 0; i <= fp->ntopics; i++) {
		uint32_t slot = i == fp->ntopics ? FP_MAX_TOPICS : (uint32_t)i;
		if (fpctl_counters_sum(fp->ctl, slot, one) < 0)
			continue;
		for (unsigned v = 0; v < FP_NVERDICTS; v++) {
			tot[v].packets += one[v].packets;
			tot[v].bytes += one[v].bytes;
		}
	}
}

void fastpath_stats_text(struct broker *b, char *out, size_t len)
{
	struct fastpath *fp = b->fp;
	struct fp_counter tot[FP_NVERDICTS];
	size_t used = 0;
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(out + used, len > used ? len - used : 0, __VA_ARGS__);           \
		if (n_ > 0)                                                                        \
			used += (size_t)n_;                                                        \
	} while (0)
	out[0] = '\0';
	PUT("mode %s\n", fastpath_active(b) ? "kernel" : "userspace");
	counters_total(b, tot);
	for (unsigned v = 0; v < FP_NVERDICTS; v++)
		PUT("%s %llu packets %llu bytes\n", fpctl_verdict_name(v),
		    (unsigned long long)tot[v].packets, (unsigned long long)tot[v].bytes);
	for (size_t i = 0; fp && fp->ctl && i < fp->ntopics; i++) {
		struct fp_topic_entry *e = &fp->topics[i];
		struct fp_counter one[FP_NVERDICTS];
		if (!e->present || fpctl_counters_sum(fp->ctl, (uint32_t)i, one) < 0)
			continue;
		PUT("topic %s %u gen %u flags 0x%x forwarded %llu clones %llu passed %llu\n",
		    e->key.type == FP_TOPIC_NORMAL       ? "normal"
		    : e->key.type == FP_TOPIC_PREDEFINED ? "predefined"
		                                         : "short",
		    (unsigned)ntohs(e->key.id), (unsigned)e->val.serve_gen, (unsigned)e->val.flags,
		    (unsigned long long)one[FP_V_FORWARDED].packets,
		    (unsigned long long)one[FP_V_CLONES].packets,
		    (unsigned long long)one[FP_V_PASSED].packets);
	}
	/* The gateway's own view: what reached the socket (fast-path-only traffic does not). */
	PUT("gateway_datagrams_received %llu\ngateway_publish_received %llu\n",
	    (unsigned long long)b->sn.stats.datagrams_received,
	    (unsigned long long)b->sn.stats.publish_received);
	PUT("map_errors %llu\nhistory_misses %llu\n", (unsigned long long)(fp ? fp->map_errors : 0),
	    (unsigned long long)(fp ? fp->history_misses : 0));
#undef PUT
}

void fastpath_sys_publish(struct broker *b, void (*put)(struct broker *, const char *, uint64_t))
{
	struct fp_counter tot[FP_NVERDICTS];
	char topic[96];
	if (!fastpath_active(b))
		return;
	counters_total(b, tot);
	for (unsigned v = 0; v < FP_NVERDICTS; v++) {
		snprintf(topic, sizeof(topic), "$SYS/broker/fastpath/%s", fpctl_verdict_name(v));
		put(b, topic, tot[v].packets);
	}
}

void fastpath_kernel_totals(struct broker *b, uint64_t *received, uint64_t *sent)
{
	struct fp_counter tot[FP_NVERDICTS];
	counters_total(b, tot);
	*received = tot[FP_V_FORWARDED].packets;
	*sent = tot[FP_V_CLONES].packets;
}
