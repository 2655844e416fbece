/* config_file.c - configuration files: reading one (file.c reads it; no NUL byte allowed),
 * config_load_file, and mosquitto's include_dir (every *.conf file of a directory, in strcmp
 * order). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "file.h"

#define CONFIG_MAX_FILE   (1024 * 1024)
#define INCLUDE_MAX_FILES 1024

int cfgp_read_file(const char *path, char **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_small_file(path, CONFIG_MAX_FILE, &text, &len);
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "%s: %s", path,
			         rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return rc;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *s = text; s < nul; s++)
			line += *s == '\n';
		if (errlen)
			snprintf(err, errlen, "%s:%u: NUL byte in the file", path, line);
		free(text);
		return -EINVAL;
	}
	*out = text;
	return 0;
}

int config_load_file(const char *path, struct config *out, char *err, size_t errlen)
{
	char *text = NULL;
	memset(out, 0, sizeof(*out));
	int rc = cfgp_read_file(path, &text, err, errlen);
	if (rc)
		return rc;
	rc = config_load_string(path, text, out, err, errlen);
	free(text);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's files ending in ".conf", sorted by strcmp (capitals first, as mosquitto).
 * Owned array of owned strings in *out. 0, -EINVAL (p->err set) or -ENOMEM. */
static int list_conf_files(struct parser *p, const char *dir, char ***out, size_t *count)
{
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	DIR *dh = opendir(dir);
	if (!dh)
		return cfgp_fail(p, "include_dir: cannot open '%.200s': %s", dir, strerror(errno));
	for (struct dirent *de; rc == 0 && (de = readdir(dh));) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (n == INCLUDE_MAX_FILES) {
			rc = cfgp_fail(p, "include_dir: more than %d files in '%.200s'",
			               INCLUDE_MAX_FILES, dir);
			break;
		}
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name)))
			rc = -ENOMEM;
		if (grown)
			names = grown;
		if (rc == 0)
			n++;
	}
	closedir(dh);
	if (rc == 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return rc;
}

/* Parses one included file with its own name and line numbers; listener-scoped lines at its
 * top go to the default listener again (mosquitto reads each file with a fresh listener). */
static int include_file(struct parser *p, const char *path)
{
	char *text = NULL;
	int rc = cfgp_read_file(path, &text, p->err, p->errlen);
	if (rc)
		return rc;
	const char *name = p->name;
	unsigned line = p->line;
	size_t cur = p->cur_listener;
	p->name = path;
	p->line = 0;
	p->cur_listener = 0;
	p->depth++;
	rc = cfgp_parse_text(p, text); /* an error message names path, already formatted */
	p->depth--;
	p->name = name;
	p->line = line;
	p->cur_listener = cur;
	free(text);
	return rc;
}

/* include_dir DIR: only in the main file (as mosquitto); DIR runs to the end of the line. */
int cfgp_h_include_dir(struct parser *p, const struct directive *d, char *value)
{
	char **names = NULL;
	size_t n = 0;
	if (p->depth > 0)
		return cfgp_fail(p, "%s: only allowed in the main configuration file", d->name);
	if (!*value)
		return cfgp_fail(p, "%s: missing value", d->name);
	int rc = list_conf_files(p, value, &names, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(value) + strlen(names[i]) + 2;
		char *path = malloc(len);
		if (!path) {
			rc = -ENOMEM;
			break;
		}
		snprintf(path, len, "%s/%s", value, names[i]);
		rc = include_file(p, path);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
