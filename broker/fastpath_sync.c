/* fastpath_sync.c - computing, from the broker's state, who the kernel serves on each
 * fast-path topic, and writing it to the maps in the order fastpath.c's header explains. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "fastpath_internal.h"

/* What one sync computes for one topic entry. */
struct topic_next {
	bool enabled;
	struct fp_topic val;
};

struct serve_ctx {
	struct broker *b;
	const struct fp_topic_key *key;
	struct mqtt_str name;
	struct fp_bits cand; /* SN subscribers the kernel could serve */
	bool other;          /* someone userspace must serve: pass the original up */
};

/* May the kernel send this normal/predefined/short topic to c with the publisher's bytes?
 * A normal id only once the client acknowledged it (REGACK accepted, or learned from a
 * SUBACK / its own REGISTER): MQTT-SN 1.2 §6.10. Predefined and short ids need nothing. */
static bool topic_known(const struct sn_client *c, const struct fp_topic_key *k)
{
	if (k->type != FP_TOPIC_NORMAL)
		return true;
	return sn_reg_get(c, ntohs(k->id)) == SN_REG_OK;
}

static void serve_visit(void *ctx, void *owner, const struct sub_opts *o, bool shared)
{
	struct serve_ctx *sc = ctx;
	struct session *s = owner;
	(void)o;
	/* Offline: QoS 0 is not queued for offline sessions (route.c deliver()), so nobody
	 * needs this message for it. */
	if (!s->conn)
		return;
	if (shared || s->proto != SESSION_SN) {
		sc->other = true; /* MQTT, TLS, WebSocket, shared groups: userspace */
		return;
	}
	const struct sn_client *c = s->conn;
	if (!c->fp_sub || c->state != SN_ACTIVE || !topic_known(c, sc->key)) {
		sc->other = true; /* asleep, unregistered, no slot: userspace buffers or sends */
		return;
	}
	if (!acl_can_read(sc->b, s, sc->name.p, sc->name.len))
		return; /* nobody delivers to it */
	fp_bit_set(sc->cand.w, c->fp_sub - 1u);
}

static bool name_is_fastpath(const struct fastpath *fp, struct mqtt_str name)
{
	for (size_t i = 0; i < fp->nfilters; i++)
		if (mqtt_topic_matches((const uint8_t *)fp->filters[i], strlen(fp->filters[i]),
		                       name.p, name.len))
			return true;
	return false;
}

/* Computes the next value of the entry for (type, id) named `name`. */
static void topic_compute(struct broker *b, struct topic_next *next, uint8_t type, uint16_t id,
                          struct mqtt_str name)
{
	struct fastpath *fp = b->fp;
	struct fp_topic_key k = {.type = type, .id = htons(id)};
	if (!name.len || !name_is_fastpath(fp, name))
		return;
	struct fp_topic_entry *e = fp_topic_entry(fp, &k);
	if (!e)
		return; /* FP_MAX_TOPICS reached: this one stays in userspace */
	struct topic_next *n = &next[e - fp->topics];
	if (n->enabled)
		return; /* a short name seen twice */
	n->val = (struct fp_topic){.slot = e->val.slot, .serve_gen = e->val.serve_gen};
	/* Too deep, '$', or no index left: userspace only (the entry stays disabled). */
	if (fp_topic_levels(fp->levels, name.p, name.len, &n->val.nlevels, n->val.idx) < 0)
		return;
	struct serve_ctx sc = {.b = b, .key = &k, .name = name};
	subtree_match(b->subs, name.p, name.len, serve_visit, &sc);
	struct fp_bits level;
	fp_shadow_match(fp->build, n->val.nlevels, n->val.idx, &level);
	for (unsigned w = 0; w < FP_SUB_WORDS; w++) {
		n->val.serve[w] = sc.cand.w[w] & level.w[w];
		if (n->val.serve[w] != sc.cand.w[w])
			sc.other = true; /* a filter the bitsets could not hold: userspace */
	}
	for (unsigned p = 0; p < FP_MAX_PUBS; p++) {
		struct sn_client *c = fp->pubs[p];
		if (c && c->session && acl_can_write(b, c->session, name.p, name.len))
			fp_bit_set(n->val.pubs, p);
	}
	n->val.flags = FP_TF_ENABLED | (sc.other ? FP_TF_PASS_UP : 0);
	/* QoS -1 from any address, exactly when the gateway would take it (sn_session.c). */
	if (b->cfg.sn_allow_qos_m1 && type != FP_TOPIC_NORMAL &&
	    acl_can_write(b, NULL, name.p, name.len))
		n->val.flags |= FP_TF_QOS_M1;
	n->enabled = true;
}

static void topics_compute(struct broker *b, struct topic_next *next)
{
	const struct topic_ids *ids = b->sn.ids;
	for (uint16_t id = topic_ids_next(ids, false, 0); id; id = topic_ids_next(ids, false, id))
		topic_compute(b, next, FP_TOPIC_NORMAL, id, topic_ids_name(ids, false, id));
	for (uint16_t id = topic_ids_next(ids, true, 0); id; id = topic_ids_next(ids, true, id))
		topic_compute(b, next, FP_TOPIC_PREDEFINED, id, topic_ids_name(ids, true, id));
	/* Short topic names (MQTT-SN 1.2 §3 "short topic names") have no registry: the ones the
	 * kernel knows are those SN subscribers subscribed to by exact 2-character name. The
	 * gateway sends a 2-character name as a short name too (sn_deliver.c), so the bytes the
	 * kernel forwards are the ones userspace would send. */
	for (unsigned slot = 0; slot < FP_MAX_SUBS; slot++) {
		struct sn_client *c = b->fp->subs[slot];
		for (struct session_sub *sub = c && c->session ? c->session->subs : NULL; sub;
		     sub = sub->next) {
			if (sub->len != 2 || memchr(sub->filter, '+', 2) ||
			    memchr(sub->filter, '#', 2) || memchr(sub->filter, '/', 2))
				continue;
			uint16_t id = (uint16_t)(sub->filter[0] << 8 | sub->filter[1]);
			topic_compute(b, next, FP_TOPIC_SHORT, id,
			              (struct mqtt_str){sub->filter, 2});
		}
	}
}

static void shadow_build(struct broker *b)
{
	struct fastpath *fp = b->fp;
	memset(fp->build, 0, sizeof(*fp->build));
	for (unsigned slot = 0; slot < FP_MAX_SUBS; slot++) {
		struct sn_client *c = fp->subs[slot];
		if (!c || !c->session)
			continue;
		for (struct session_sub *sub = c->session->subs; sub; sub = sub->next)
			(void)fp_shadow_add_filter(fp->build, fp->levels, sub->filter, sub->len,
			                           slot);
	}
}

/* Writes the level bitsets that changed; the shadow follows entry by entry, so it always says
 * what the kernel holds. False when a write failed: the caller must not add serve slots that
 * may lack their bits (the next sync tries again). */
static bool shadow_write(struct broker *b)
{
	struct fastpath *fp = b->fp;
	bool ok = true;
	for (uint32_t i = 0; i < FP_MAX_LEVELS * FP_MAX_INDEX; i++) {
		if (memcmp(&fp->build->exact[i], &fp->shadow->exact[i], sizeof(struct fp_bits)) ==
		    0)
			continue;
		int rc = fpctl_exact_put(fp->ctl, i, &fp->build->exact[i]);
		if (rc < 0) {
			fp_log_error(b, rc, "writing fp_exact");
			ok = false;
			continue;
		}
		fp->shadow->exact[i] = fp->build->exact[i];
	}
	for (uint32_t d = 0; d <= FP_MAX_LEVELS; d++) {
		if (memcmp(&fp->build->wild[d], &fp->shadow->wild[d], sizeof(struct fp_wild)) == 0)
			continue;
		int rc = fpctl_wild_put(fp->ctl, d, &fp->build->wild[d]);
		if (rc < 0) {
			fp_log_error(b, rc, "writing fp_wild");
			ok = false;
			continue;
		}
		fp->shadow->wild[d] = fp->build->wild[d];
	}
	return ok;
}

static bool serve_loses(const struct fp_topic *old, const struct fp_topic *neu)
{
	for (unsigned w = 0; w < FP_SUB_WORDS; w++)
		if (old->serve[w] & ~neu->serve[w])
			return true;
	return false;
}

/* Writes entry i: phase 1 takes deletions and shrinking serve sets, phase 3 the rest. */
static void topic_write(struct broker *b, size_t i, const struct topic_next *n, int phase)
{
	struct fastpath *fp = b->fp;
	struct fp_topic_entry *e = &fp->topics[i];
	int rc = 0;
	if (!n->enabled) {
		if (phase == 1 && e->present) {
			rc = fpctl_topic_del(fp->ctl, &e->key);
			e->present = false;
		}
		goto out;
	}
	if (e->present && memcmp(&e->val, &n->val, sizeof(n->val)) == 0)
		goto out;
	bool shrinks = e->present && serve_loses(&e->val, &n->val);
	if ((phase == 1) != shrinks)
		goto out;
	struct fp_topic v = n->val;
	if (!e->present || memcmp(v.serve, e->val.serve, sizeof(v.serve)) != 0) {
		v.serve_gen = fp_gen_next(e->val.serve_gen);
		fp_history_push(&e->hist, v.serve_gen, (const struct fp_bits *)v.serve);
	}
	rc = fpctl_topic_put(fp->ctl, &e->key, &v);
	if (rc == 0) {
		e->val = v;
		e->present = true;
	}
out:
	if (rc < 0)
		fp_log_error(b, rc, "writing fp_topics");
}

void fastpath_sync(struct broker *b)
{
	struct fastpath *fp = b->fp;
	if (!fp || !fp->ctl)
		return;
	uint64_t changes = subtree_changes(b->subs);
	if (!fp->dirty && changes == fp->subtree_seen)
		return;
	fp->dirty = false;
	fp->subtree_seen = changes;

	for (size_t i = 0; i < b->sn.nbuckets; i++) {
		for (struct sn_client *c = b->sn.buckets[i]; c; c = c->hnext) {
			fp_sub_slot_assign(b, c);
			fp_pub_slot_check(b, c);
		}
	}
	shadow_build(b);
	/* Entries may be created while computing: room for all of them. */
	struct topic_next *next = calloc(FP_MAX_TOPICS, sizeof(*next));
	if (!next) {
		fp->dirty = true; /* try again next iteration */
		return;
	}
	topics_compute(b, next);
	for (size_t i = 0; i < fp->ntopics; i++)
		topic_write(b, i, &next[i], 1);
	if (shadow_write(b)) {
		for (size_t i = 0; i < fp->ntopics; i++)
			topic_write(b, i, &next[i], 3);
		/* Every map entry now names only indices used in this sync. */
		fp_levels_sweep(fp->levels);
	} else {
		fp->dirty = true; /* the kernel keeps the smaller serve sets until then */
	}
	free(next);
}
