/* acl.c - acl_file: parsing mosquitto's format, the per-topic decision (user lists, patterns
 * with %c / %u, deny first), and the checks the handlers and routing call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "auth.h"
#include "broker.h"

/* Substituted pattern topics up to this size are built on the stack. */
#define ACL_SUBST_STACK 512

struct acl_rule {
	char *topic; /* owned, NUL-terminated */
	size_t len;
	uint8_t access;  /* ACL_READ | ACL_WRITE; 0 = deny */
	bool subst;      /* pattern holding %c or %u */
	bool needs_user; /* pattern holding %u: skipped for clients without a user name */
};

/* The rules of one `user` section, of the anonymous clients, or the patterns. Deny rules come
 * first (mosquitto prepends them), then the others in file order. */
struct acl_list {
	char *name; /* owned; NULL for the anonymous list and the patterns */
	size_t name_len;
	unsigned seq; /* order of the section in the file, while parsing */
	struct acl_rule *rules;
	size_t n, cap;
};

struct acl {
	struct acl_list anon;
	struct acl_list patterns;
	struct acl_list *users; /* sorted by name, one per name */
	size_t nusers, ucap;
};

/* ---- building ------------------------------------------------------------------------------ */

static void list_free(struct acl_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->rules[i].topic);
	free(l->rules);
	free(l->name);
}

void acl_free(struct acl *a)
{
	if (!a)
		return;
	list_free(&a->anon);
	list_free(&a->patterns);
	for (size_t i = 0; i < a->nusers; i++)
		list_free(&a->users[i]);
	free(a->users);
	free(a);
}

static int list_add(struct acl_list *l, const char *topic, uint8_t access, bool pattern)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct acl_rule *r = realloc(l->rules, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		l->rules = r;
		l->cap = cap;
	}
	struct acl_rule *r = &l->rules[l->n];
	*r = (struct acl_rule){.len = strlen(topic), .access = access};
	r->topic = strdup(topic);
	if (!r->topic)
		return -ENOMEM;
	if (pattern) {
		r->needs_user = strstr(topic, "%u") != NULL;
		r->subst = r->needs_user || strstr(topic, "%c") != NULL;
	}
	l->n++;
	return 0;
}

/* A new `user` section (merged with earlier ones of the same name by acl_finish). */
static struct acl_list *user_section(struct acl *a, const char *name)
{
	if (a->nusers == a->ucap) {
		size_t cap = a->ucap ? a->ucap * 2 : 8;
		struct acl_list *u = realloc(a->users, cap * sizeof(*u));
		if (!u)
			return NULL;
		a->users = u;
		a->ucap = cap;
	}
	struct acl_list *l = &a->users[a->nusers];
	*l = (struct acl_list){.name = strdup(name), .name_len = strlen(name), .seq = a->nusers};
	if (!l->name)
		return NULL;
	a->nusers++;
	return l;
}

static int cmp_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_sections(const void *x, const void *y)
{
	const struct acl_list *a = x, *b = y;
	int c = cmp_name((const uint8_t *)a->name, a->name_len, (const uint8_t *)b->name,
	                 b->name_len);
	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Deny rules first, each group in file order. */
static int deny_first(struct acl_list *l)
{
	if (l->n < 2)
		return 0;
	struct acl_rule *r = malloc(l->n * sizeof(*r));
	size_t k = 0;
	if (!r)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < l->n; i++)
			if ((l->rules[i].access == 0) == (pass == 0))
				r[k++] = l->rules[i];
	free(l->rules);
	l->rules = r;
	l->cap = l->n;
	return 0;
}

/* Sorts the user sections, merges repeated names (rules keep file order), orders deny first. */
static int acl_finish(struct acl *a)
{
	if (a->nusers > 1)
		qsort(a->users, a->nusers, sizeof(*a->users), cmp_sections);
	size_t out = 0;
	for (size_t i = 0; i < a->nusers; i++) {
		struct acl_list *cur = &a->users[i];
		struct acl_list *prev = out ? &a->users[out - 1] : NULL;
		if (!prev || cmp_name((const uint8_t *)prev->name, prev->name_len,
		                      (const uint8_t *)cur->name, cur->name_len) != 0) {
			a->users[out++] = *cur;
			continue;
		}
		for (size_t k = 0; k < cur->n; k++) {
			struct acl_rule r = cur->rules[k];
			cur->rules[k].topic = NULL;
			int rc = list_add(prev, r.topic, r.access, false);
			free(r.topic);
			if (rc < 0) {
				cur->n = 0;
				list_free(cur);
				for (size_t j = i + 1; j < a->nusers; j++)
					list_free(&a->users[j]);
				a->nusers = out;
				return rc;
			}
		}
		cur->n = 0;
		list_free(cur);
	}
	a->nusers = out;
	int rc = deny_first(&a->anon);
	if (rc == 0)
		rc = deny_first(&a->patterns);
	for (size_t i = 0; rc == 0 && i < a->nusers; i++)
		rc = deny_first(&a->users[i]);
	return rc;
}

/* ---- parsing ------------------------------------------------------------------------------- */

static char *skip_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Splits the first blank-separated word off *s. */
static char *next_word(char **s)
{
	char *w = skip_blanks(*s), *e = w;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = '\0';
	*s = e;
	return w;
}

static int access_of(const char *w)
{
	if (!strcmp(w, "read"))
		return ACL_READ;
	if (!strcmp(w, "write"))
		return ACL_WRITE;
	if (!strcmp(w, "readwrite"))
		return ACL_READ | ACL_WRITE;
	if (!strcmp(w, "deny"))
		return 0;
	return -1;
}

/* `topic ...` or `pattern ...` after the keyword. */
static int parse_rule(struct acl *a, struct acl_list *cur, char *rest, bool pattern,
                      const char **reason)
{
	char *first = next_word(&rest);
	char *topic = skip_blanks(rest);
	int access = ACL_READ | ACL_WRITE;
	if (!*first) {
		*reason = "missing topic";
		return -EINVAL;
	}
	if (*topic) {
		access = access_of(first);
		if (access < 0) {
			*reason = "access must be read, write, readwrite or deny";
			return -EINVAL;
		}
	} else {
		topic = first; /* `topic TOPIC`: readwrite (mosquitto) */
	}
	if (mqtt_topic_filter_valid((const uint8_t *)topic, strlen(topic)) < 0) {
		*reason = "invalid topic filter";
		return -EINVAL;
	}
	struct acl_list *l = pattern ? &a->patterns : cur;
	int rc = list_add(l, topic, (uint8_t)access, pattern);
	if (rc < 0)
		*reason = "out of memory";
	return rc;
}

/* One line (already trimmed, not blank, not a comment). *cur is the list `topic` lines go to. */
static int parse_line(struct acl *a, char *line, struct acl_list **cur, const char **reason)
{
	char *kw = next_word(&line);
	if (!strcmp(kw, "topic") || !strcmp(kw, "pattern"))
		return parse_rule(a, *cur, line, kw[0] == 'p', reason);
	if (!strcmp(kw, "user")) {
		char *name = skip_blanks(line);
		if (!*name) {
			*reason = "missing user name";
			return -EINVAL;
		}
		*cur = user_section(a, name);
		if (!*cur) {
			*reason = "out of memory";
			return -ENOMEM;
		}
		return 0;
	}
	*reason = "unknown keyword (expected topic, pattern or user)";
	return -EINVAL;
}

int acl_parse(const char *name, const char *text, struct acl **out, char *err, size_t errlen)
{
	struct acl *a = calloc(1, sizeof(*a));
	char *copy = strdup(text);
	unsigned lineno = 0;
	int rc = 0;

	*out = NULL;
	if (!a || !copy) {
		rc = -ENOMEM;
		goto out;
	}
	size_t cur_index = SIZE_MAX; /* user sections move when the array grows */
	for (char *p = copy, *nl; p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		size_t n = strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
			p[--n] = '\0';
		char *line = skip_blanks(p);
		if (!*line || *line == '#')
			continue;
		const char *reason = "out of memory";
		struct acl_list *cur = cur_index == SIZE_MAX ? &a->anon : &a->users[cur_index];
		rc = parse_line(a, line, &cur, &reason);
		if (rc < 0) {
			if (errlen)
				snprintf(err, errlen, "%s:%u: %s", name, lineno, reason);
			goto out;
		}
		if (cur != &a->anon)
			cur_index = (size_t)(cur - a->users);
	}
	rc = acl_finish(a);
	if (rc < 0 && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
out:
	free(copy);
	if (rc < 0)
		acl_free(a);
	else
		*out = a;
	return rc;
}

int acl_load(const char *path, struct acl **out, char *err, size_t errlen)
{
	char *text = NULL;
	int rc = auth_read_file(path, &text, err, errlen);
	*out = NULL;
	if (rc < 0)
		return rc;
	rc = acl_parse(path, text, out, err, errlen);
	free(text);
	return rc;
}

/* ---- deciding ------------------------------------------------------------------------------ */

static const struct acl_list *find_user(const struct acl *a, const uint8_t *name, size_t len)
{
	size_t lo = 0, hi = a->nusers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct acl_list *m = &a->users[mid];
		int c = cmp_name(name, len, (const uint8_t *)m->name, m->name_len);
		if (c == 0)
			return m;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool acl_has_user(const struct acl *a, const uint8_t *name, size_t len)
{
	return a && find_user(a, name, len) != NULL;
}

/* The topic of pattern r with %c and %u replaced, in buf (cap bytes) or a new allocation
 * (*heap, freed by the caller). NULL on allocation failure. */
static char *substitute(const struct acl_rule *r, const char *cid, const char *user, char *buf,
                        size_t cap, char **heap, size_t *outlen)
{
	size_t clen = strlen(cid), ulen = user ? strlen(user) : 0, need = 0;
	for (int pass = 0; pass < 2; pass++) {
		char *o = buf;
		size_t n = 0;
		for (size_t i = 0; i < r->len; i++) {
			const char *ins = NULL;
			size_t ilen = 0;
			if (r->topic[i] == '%' && i + 1 < r->len && r->topic[i + 1] == 'c')
				ins = cid, ilen = clen;
			else if (r->topic[i] == '%' && i + 1 < r->len && r->topic[i + 1] == 'u' &&
			         user)
				ins = user, ilen = ulen;
			if (pass == 1 && ins)
				memcpy(o + n, ins, ilen);
			else if (pass == 1)
				o[n] = r->topic[i];
			n += ins ? ilen : 1;
			i += ins ? 1 : 0;
		}
		if (pass == 0) {
			need = n;
			if (need > cap) {
				*heap = malloc(need ? need : 1);
				if (!*heap)
					return NULL;
				buf = *heap;
			}
		}
	}
	*outlen = need;
	return buf;
}

/* 1 allowed, 0 denied, -1 no line of l matches. */
static int list_decide(const struct acl_list *l, bool pattern, const char *cid, const char *user,
                       const uint8_t *topic, size_t len, unsigned access)
{
	char buf[ACL_SUBST_STACK];
	for (size_t i = 0; i < l->n; i++) {
		const struct acl_rule *r = &l->rules[i];
		const char *rt = r->topic;
		size_t rl = r->len;
		char *heap = NULL;
		if (pattern && r->needs_user && !user)
			continue;
		if (pattern && r->subst) {
			rt = substitute(r, cid, user, buf, sizeof(buf), &heap, &rl);
			if (!rt)
				return 0; /* out of memory: a deny line must not be skipped */
		}
		/* A '$' topic only matches a line written for '$' topics. */
		bool match = !(len && topic[0] == '$' && (rl == 0 || rt[0] != '$')) &&
		             mqtt_topic_matches((const uint8_t *)rt, rl, topic, len);
		free(heap);
		if (!match)
			continue;
		if (r->access == 0)
			return 0;
		if (r->access & access)
			return 1;
	}
	return -1;
}

bool acl_check(const struct acl *a, const char *client_id, const char *username,
               const uint8_t *topic, size_t len, unsigned access)
{
	if (!a)
		return true;
	if ((access & ACL_WRITE) && len >= 4 && memcmp(topic, "$SYS", 4) == 0)
		return false; /* only the broker writes $SYS (mosquitto) */
	const struct acl_list *own =
	        username ? find_user(a, (const uint8_t *)username, strlen(username)) : &a->anon;
	if (own) {
		int d = list_decide(own, false, client_id, username, topic, len, access);
		if (d >= 0)
			return d == 1;
	}
	if (!a->patterns.n || !client_id)
		return false;
	/* A '+' or '#' in an identity would turn a pattern into a wildcard (mosquitto). */
	if (strpbrk(client_id, "+#") || (username && strpbrk(username, "+#")))
		return false;
	return list_decide(&a->patterns, true, client_id, username, topic, len, access) == 1;
}

/* ---- the broker's use ---------------------------------------------------------------------- */

int acl_init(struct broker *b)
{
	char err[512];
	if (!b->cfg.acl_file)
		return 0;
	int rc = acl_load(b->cfg.acl_file, &b->acl, err, sizeof(err));
	if (rc < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "acl_file %s", err);
		return rc;
	}
	log_line(&b->log, LOG_LEVEL_INFO, NULL, NULL, "acl_file %s: %zu users, %zu patterns",
	         b->cfg.acl_file, b->acl->nusers, b->acl->patterns.n);
	return 0;
}

void acl_reload(struct broker *b, struct config *neu)
{
	struct acl *a = NULL;
	char err[512];

	if (neu->acl_file && acl_load(neu->acl_file, &a, err, sizeof(err)) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "reload: acl_file %s; keeping the old acl_file", err);
		return;
	}
	acl_free(b->acl);
	b->acl = a;
	char *old = b->cfg.acl_file;
	b->cfg.acl_file = neu->acl_file;
	neu->acl_file = old; /* freed with neu */
	b->cfg.sn_allow_anonymous = neu->sn_allow_anonymous;
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
	         "reload: acl_file %s (%zu users, %zu patterns)",
	         b->cfg.acl_file ? b->cfg.acl_file : "(none)", a ? a->nusers : 0,
	         a ? a->patterns.n : 0);
}

/* The identity acl_file rules see for a session. */
static void identity(const struct session *s, const char **cid, const char **user)
{
	*cid = s ? (const char *)s->client_id : NULL;
	*user = !s ? NULL : s->proto == SESSION_SN ? *cid : s->username;
}

bool acl_can_read(struct broker *b, const struct session *s, const uint8_t *topic, size_t len)
{
	const char *cid, *user;
	if (!b->acl)
		return true;
	identity(s, &cid, &user);
	return acl_check(b->acl, cid, user, topic, len, ACL_READ);
}

bool acl_can_write(struct broker *b, const struct session *s, const uint8_t *topic, size_t len)
{
	const char *cid, *user;
	if (!b->acl)
		return true;
	identity(s, &cid, &user);
	if (acl_check(b->acl, cid, user, topic, len, ACL_WRITE))
		return true;
	log_line(&b->log, LOG_LEVEL_DEBUG, cid, NULL, "denied PUBLISH to %.*s (acl_file)", (int)len,
	         (const char *)topic);
	return false;
}

bool acl_can_subscribe(struct broker *b, const struct session *s, const uint8_t *filter, size_t len)
{
	struct mqtt_str group, inner = {filter, (uint16_t)len};
	if (!b->acl)
		return true;
	if (mqtt_topic_shared_split(filter, len, &group, &inner) < 0)
		return true; /* invalid: refused by the caller's own check */
	if (memchr(inner.p, '+', inner.len) || memchr(inner.p, '#', inner.len))
		return true; /* checked per message at delivery (route.c) */
	if (acl_can_read(b, s, inner.p, inner.len))
		return true;
	log_line(&b->log, LOG_LEVEL_DEBUG, s ? (const char *)s->client_id : NULL, NULL,
	         "denied SUBSCRIBE to %.*s (acl_file)", (int)len, (const char *)filter);
	return false;
}
