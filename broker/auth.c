/* auth.c - password_file (mosquitto_passwd's $7$ PBKDF2-SHA512 and $6$ SHA-512 lines), the
 * password check in constant time, and the CONNECT authentication decision. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acl.h"
#include "auth.h"
#include "broker.h"
#include "file.h"

#define AUTH_FILE_MAX   (16u << 20)
#define AUTH_HASH_LEN   64 /* SHA-512 */
#define AUTH_SALT_MAX   64
#define AUTH_ITER_MAX   10000000u
#define AUTH_DUMMY_ITER 101 /* mosquitto_passwd 2.0's default, for unknown users */

struct auth_user {
	char *name; /* owned, NUL-terminated */
	size_t name_len;
	unsigned line;       /* in the file, for the duplicate message */
	uint32_t iterations; /* $7$: PBKDF2 iterations; 0 = $6$ (one SHA-512) */
	uint8_t salt_len;
	uint8_t salt[AUTH_SALT_MAX];
	uint8_t hash[AUTH_HASH_LEN];
};

struct auth_db {
	struct auth_user *users; /* sorted by name */
	size_t count;
};

/* ---- reading files ------------------------------------------------------------------------ */

int auth_read_file(const char *path, char **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	int rc = read_small_file(path, AUTH_FILE_MAX, &buf, &n);

	if (rc < 0)
		goto out;
	if (memchr(buf, '\0', n)) {
		rc = -EINVAL;
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (rc < 0 && errlen)
		snprintf(err, errlen, "%s: %s", path,
		         rc == -EFBIG    ? "larger than 16 MiB"
		         : rc == -EINVAL ? "NUL byte in the file"
		                         : strerror(-rc));
	free(buf);
	return rc;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Strict base64 (standard alphabet, '=' padding to a multiple of 4). 0 or -EINVAL. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	if (len == 0 || len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			char ch = in[i + (size_t)k];
			if (ch == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = b64_value(ch);
			if (v[k] < 0 || pad)
				return -EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		             (uint32_t)v[3];
		size_t take = 3 - (size_t)pad;
		if (n + take > cap)
			return -EINVAL;
		out[n++] = (uint8_t)(w >> 16);
		if (take > 1)
			out[n++] = (uint8_t)(w >> 8);
		if (take > 2)
			out[n++] = (uint8_t)w;
	}
	*outlen = n;
	return 0;
}

/* Splits the next '$'-separated field off *s (NUL-terminating it). NULL when there is none. */
static char *next_field(char **s)
{
	char *f = *s, *d;
	if (!f)
		return NULL;
	d = strchr(f, '$');
	if (d) {
		*d = '\0';
		*s = d + 1;
	} else {
		*s = NULL;
	}
	return f;
}

/* The part after "user:" of one line. 0, or -EINVAL with *reason. */
static int parse_hash(char *h, struct auth_user *u, const char **reason)
{
	char *rest, *type, *salt, *hash;
	size_t n;

	if (h[0] != '$') {
		*reason = "password is not hashed (mosquitto_passwd -U hashes a plain-text file)";
		return -EINVAL;
	}
	rest = h + 1;
	type = next_field(&rest);
	if (strcmp(type, "7") == 0) {
		char *iter = next_field(&rest), *end;
		unsigned long it = iter && *iter ? strtoul(iter, &end, 10) : 0;
		if (!iter || !*iter || *end || iter[0] == '-' || it < 1 || it > AUTH_ITER_MAX) {
			*reason = "bad iteration count in a $7$ hash";
			return -EINVAL;
		}
		u->iterations = (uint32_t)it;
	} else if (strcmp(type, "6") != 0) {
		*reason = "unknown hash type (mosquitto_passwd writes $7$ or $6$)";
		return -EINVAL;
	}
	salt = next_field(&rest);
	hash = next_field(&rest);
	if (!salt || !hash || rest) {
		*reason = "expected $7$ITERATIONS$SALT$HASH or $6$SALT$HASH";
		return -EINVAL;
	}
	if (b64_decode(salt, strlen(salt), u->salt, sizeof(u->salt), &n) < 0) {
		*reason = "salt is not base64 (at most 64 bytes)";
		return -EINVAL;
	}
	u->salt_len = (uint8_t)n;
	if (b64_decode(hash, strlen(hash), u->hash, sizeof(u->hash), &n) < 0 ||
	    n != AUTH_HASH_LEN) {
		*reason = "hash is not 64 bytes of base64";
		return -EINVAL;
	}
	return 0;
}

/* Trims blanks at both ends of s in place; returns the new start. */
static char *trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* One non-blank, non-comment line. 0, -EINVAL with *reason, -ENOMEM. */
static int parse_line(char *line, struct auth_user *u, const char **reason)
{
	char *colon = strchr(line, ':');
	if (!colon) {
		*reason = "expected user:hash";
		return -EINVAL;
	}
	*colon = '\0';
	char *name = trim(line), *hash = trim(colon + 1);
	if (!*name) {
		*reason = "empty user name";
		return -EINVAL;
	}
	if (strchr(hash, ':')) {
		*reason = "more than one ':' (a user name cannot contain one)";
		return -EINVAL;
	}
	int rc = parse_hash(hash, u, reason);
	if (rc < 0)
		return rc;
	u->name_len = strlen(name);
	u->name = strdup(name);
	return u->name ? 0 : -ENOMEM;
}

static int cmp_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_users(const void *a, const void *b)
{
	const struct auth_user *x = a, *y = b;
	return cmp_name((const uint8_t *)x->name, x->name_len, (const uint8_t *)y->name,
	                y->name_len);
}

/* Appends a zeroed user slot. NULL on allocation failure. */
static struct auth_user *db_slot(struct auth_db *db, size_t *cap)
{
	if (db->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct auth_user *u = realloc(db->users, ncap * sizeof(*u));
		if (!u)
			return NULL;
		db->users = u;
		*cap = ncap;
	}
	struct auth_user *u = &db->users[db->count];
	memset(u, 0, sizeof(*u));
	return u;
}

/* Sorts the users; a name listed twice refuses the file. */
static int db_finish(struct auth_db *db, const char *name, char *err, size_t errlen)
{
	if (db->count > 1)
		qsort(db->users, db->count, sizeof(*db->users), cmp_users);
	for (size_t i = 1; i < db->count; i++) {
		if (cmp_users(&db->users[i - 1], &db->users[i]) == 0) {
			unsigned later = db->users[i].line > db->users[i - 1].line
			                         ? db->users[i].line
			                         : db->users[i - 1].line;
			if (errlen)
				snprintf(err, errlen, "%s:%u: user '%s' listed twice", name, later,
				         db->users[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

int auth_db_parse(const char *name, const char *text, struct auth_db **out, char *err,
                  size_t errlen)
{
	struct auth_db *db = calloc(1, sizeof(*db));
	char *copy = strdup(text);
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (!db || !copy) {
		rc = -ENOMEM;
		goto out;
	}
	for (char *p = copy, *nl; p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		char *line = trim(p);
		if (!*line || *line == '#')
			continue;
		const char *reason = "out of memory";
		struct auth_user *u = db_slot(db, &cap);
		rc = u ? parse_line(line, u, &reason) : -ENOMEM;
		if (rc < 0) {
			if (errlen)
				snprintf(err, errlen, "%s:%u: %s", name, lineno, reason);
			goto out;
		}
		u->line = lineno;
		db->count++;
	}
	rc = db_finish(db, name, err, errlen);
out:
	free(copy);
	if (rc < 0) {
		auth_db_free(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

int auth_db_load(const char *path, struct auth_db **out, char *err, size_t errlen)
{
	char *text = NULL;
	int rc = auth_read_file(path, &text, err, errlen);
	*out = NULL;
	if (rc < 0)
		return rc;
	rc = auth_db_parse(path, text, out, err, errlen);
	free(text);
	return rc;
}

void auth_db_free(struct auth_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->count; i++) {
		free(db->users[i].name);
		OPENSSL_cleanse(&db->users[i], sizeof(db->users[i]));
	}
	free(db->users);
	free(db);
}

size_t auth_db_count(const struct auth_db *db)
{
	return db ? db->count : 0;
}

/* ---- checking ----------------------------------------------------------------------------- */

/* The hash of `pw` with u's salt and method into out. 0 or -ENOMEM. */
static int compute_hash(const struct auth_user *u, const uint8_t *pw, size_t pwlen,
                        uint8_t out[AUTH_HASH_LEN])
{
	static const char empty[1] = "";
	const char *p = pwlen ? (const char *)pw : empty;
	if (pwlen > 65535)
		return -EINVAL;
	if (u->iterations)
		return PKCS5_PBKDF2_HMAC(p, (int)pwlen, u->salt, u->salt_len, (int)u->iterations,
		                         EVP_sha512(), AUTH_HASH_LEN, out) == 1
		               ? 0
		               : -ENOMEM;
	/* $6$: SHA-512 over the password, then the salt bytes (mosquitto's pw_sha512). */
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
	         EVP_DigestUpdate(ctx, p, pwlen) == 1 &&
	         EVP_DigestUpdate(ctx, u->salt, u->salt_len) == 1 &&
	         EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == AUTH_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -ENOMEM;
}

int auth_db_check(const struct auth_db *db, const uint8_t *user, size_t ulen, const uint8_t *pw,
                  size_t pwlen)
{
	/* An unknown user costs a hash too, so the time taken does not tell who exists. */
	static const struct auth_user dummy = {.iterations = AUTH_DUMMY_ITER, .salt_len = 12};
	const struct auth_user *u = NULL;
	size_t lo = 0, hi = db ? db->count : 0;
	uint8_t got[AUTH_HASH_LEN];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct auth_user *m = &db->users[mid];
		int c = cmp_name(user, ulen, (const uint8_t *)m->name, m->name_len);
		if (c == 0) {
			u = m;
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	int rc = compute_hash(u ? u : &dummy, pw, pwlen, got);
	if (rc == 0 && !u)
		rc = -ENOENT;
	else if (rc == 0 && CRYPTO_memcmp(got, u->hash, AUTH_HASH_LEN) != 0)
		rc = -EACCES;
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

/* ---- the broker's use ---------------------------------------------------------------------- */

int auth_init(struct broker *b)
{
	char err[512];
	if (!b->cfg.password_file)
		return 0;
	int rc = auth_db_load(b->cfg.password_file, &b->passwords, err, sizeof(err));
	if (rc < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL, "password_file %s", err);
		return rc;
	}
	log_line(&b->log, LOG_LEVEL_INFO, NULL, NULL, "password_file %s: %zu users",
	         b->cfg.password_file, auth_db_count(b->passwords));
	return 0;
}

void auth_reload(struct broker *b, struct config *neu)
{
	struct auth_db *db = NULL;
	char err[512];

	if (neu->password_file && auth_db_load(neu->password_file, &db, err, sizeof(err)) < 0) {
		log_line(&b->log, LOG_LEVEL_ERR, NULL, NULL,
		         "reload: password_file %s; keeping the old password_file and "
		         "allow_anonymous",
		         err);
		return;
	}
	auth_db_free(b->passwords);
	b->passwords = db;
	char *old = b->cfg.password_file;
	b->cfg.password_file = neu->password_file;
	neu->password_file = old; /* freed with neu */
	b->cfg.allow_anonymous = neu->allow_anonymous;
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL,
	         "reload: password_file %s (%zu users), allow_anonymous %s",
	         b->cfg.password_file ? b->cfg.password_file : "(none)", auth_db_count(db),
	         b->cfg.allow_anonymous ? "true" : "false");
}

uint8_t auth_connect_check(struct conn *c, const struct mqtt_connect *p, const char **why)
{
	struct broker *b = c->b;
	/* use_identity_as_username: the client certificate authenticated the user (tls.c
	 * replaced the CONNECT's user name and password), as mosquitto. */
	if (c->listener && c->listener->conf && c->listener->conf->use_identity_as_username)
		return 0;
	if (!p->has_username) {
		if (b->cfg.allow_anonymous)
			return 0;
		*why = "anonymous clients are not allowed (allow_anonymous false)";
		return MQTT_RC_NOT_AUTHORIZED;
	}
	if (!b->passwords) {
		if (b->cfg.allow_anonymous)
			return 0; /* mosquitto: no password_file, user names are not checked */
		*why = "no password_file to authenticate against";
		return MQTT_RC_BAD_USERNAME_OR_PASSWORD;
	}
	int rc = auth_db_check(b->passwords, p->username.p, p->username.len,
	                       p->has_password ? p->password.p : NULL,
	                       p->has_password ? p->password.len : 0);
	if (rc == 0 && p->has_password)
		return 0;
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, c->peer,
	         "authentication failed for user '%.*s': %s", (int)p->username.len,
	         (const char *)p->username.p,
	         rc == -ENOENT      ? "unknown user"
	         : rc == -ENOMEM    ? "out of memory"
	         : !p->has_password ? "no password"
	                            : "wrong password");
	*why = "bad user name or password";
	return MQTT_RC_BAD_USERNAME_OR_PASSWORD;
}

int auth_check_files(const struct config *cfg, char *err, size_t errlen)
{
	struct auth_db *db = NULL;
	struct acl *acl = NULL;
	int rc = 0;
	if (cfg->password_file)
		rc = auth_db_load(cfg->password_file, &db, err, errlen);
	auth_db_free(db);
	if (rc == 0 && cfg->acl_file)
		rc = acl_load(cfg->acl_file, &acl, err, errlen);
	acl_free(acl);
	return rc;
}
