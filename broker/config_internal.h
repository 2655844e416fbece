/* config_internal.h - what the parts of the configuration parser share (config.c: the directive
 * table, values, lines and files; config_listener.c: listeners and the default listener). Not
 * part of the broker's API: only config*.c include it. */
#ifndef MQTT_FAST_CONFIG_INTERNAL_H
#define MQTT_FAST_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CFG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum dtype {
	D_BOOL,     /* true | false */
	D_UINT,     /* decimal integer in [min, max], stored in an unsigned field of `size` bytes */
	D_INT,      /* same, signed field */
	D_DURATION, /* N{h,d,w,m,y} in seconds, int64_t field */
	D_STRING,   /* rest of the line, owned char * field */
	D_ENUM,     /* one of names[] (index = value), int-sized enum field */
	D_SPECIAL,  /* handler() does everything; field (if size) only gets the default */
};

enum dscope {
	S_GLOBAL,   /* offset into struct config */
	S_LISTENER, /* offset into struct listener_conf: the last listener, or the implicit one */
};

struct parser;
struct directive;

typedef int (*directive_handler)(struct parser *p, const struct directive *d, char *value);
/* Post-parse hook for numbers: may check or rewrite *v; returns 0 or cfgp_fail(). */
typedef int (*directive_adjust)(struct parser *p, const struct directive *d, const char *word,
                                int64_t *v);

struct directive {
	const char *name;
	enum dtype type;
	enum dscope scope;
	size_t offset;
	size_t size;
	int64_t min, max;
	int64_t def;         /* default of numbers, bools, enums, and sized D_SPECIAL fields */
	const char *def_str; /* default of D_STRING (NULL = unset) */
	const char *const *names;
	size_t nnames;
	bool needs_listener; /* error when no `listener` line came before */
	directive_handler handler;
	directive_adjust adjust;
};

struct parser {
	struct config *c;
	const char *name; /* the file being read, for messages */
	unsigned line;
	char *err;
	size_t errlen;
	size_t listener_cap;
	size_t warning_cap;
	/* mosquitto's default listener: listener-scoped settings seen before the first `listener`
	 * line, plus `port` (tmpl.port, 0 = not given) and `bind_address` wherever they appear.
	 * With `port` or `bind_address` it becomes a real listener (default_listener); otherwise
	 * its settings apply only to the implicit local listeners (no `listener` line at all). */
	struct listener_conf tmpl;
	bool default_listener;
	unsigned default_line; /* the last port / bind_address line */
	/* Where listener-scoped lines go: listeners[cur_listener - 1], or tmpl when 0 (before the
	 * first `listener` line of the current file, as mosquitto). */
	size_t cur_listener;
	unsigned depth;    /* 0 in the main file, 1 in a file of include_dir */
	bool log_type_set; /* the first log_type / log_dest line replaces the default */
	bool log_dest_set;
};

/* config_fastpath.c: fastpath_interface and fastpath lines, fastpath_mode's words, and freeing
 * what they own (from config_free). */
int cfgp_h_fastpath_interface(struct parser *p, const struct directive *d, char *value);
int cfgp_h_fastpath(struct parser *p, const struct directive *d, char *value);
extern const char *const cfgp_fastpath_mode_names[3];
void cfgp_fastpath_free(struct config *c);

/* Writes "name:line: message" into p->err and returns -EINVAL. */
int cfgp_fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "name:line: message" to p->c->warnings. 0 or -ENOMEM. */
int cfgp_warn(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

char *cfgp_skip_blank(char *s);
/* Cuts the next blank-separated word from *s (NUL-terminating it) and advances *s past it.
 * Returns NULL when only blanks remain. */
char *cfgp_next_word(char **s);
/* The single word of value; "missing value" / "too many arguments" otherwise. */
int cfgp_one_word(struct parser *p, const char *name, char *value, char **out);
/* A decimal integer in [d->min, d->max]. */
int cfgp_parse_int(struct parser *p, const struct directive *d, const char *w, int64_t *v);
/* Replaces the owned string in *field with a copy of s (NULL clears). 0 or -ENOMEM. */
int cfgp_store_string(char **field, const char *s);
/* Applies the defaults of every directive of `scope` to base. 0 or -ENOMEM. */
int cfgp_apply_defaults(void *base, enum dscope scope);

/* Parses text (modified in place) line by line, counting lines in p->line. */
int cfgp_parse_text(struct parser *p, char *text);

/* config_file.c: reading files. */
/* Reads the whole file at path (at most 1 MiB, no NUL byte) into an owned NUL-terminated
 * buffer. On error returns a negative errno and writes "path: reason" (or "path:line: NUL
 * byte in the file") into err. */
int cfgp_read_file(const char *path, char **out, char *err, size_t errlen);
int cfgp_h_include_dir(struct parser *p, const struct directive *d, char *value);

/* config_listener.c: directive handlers. */
int cfgp_h_listener(struct parser *p, const struct directive *d, char *value);
int cfgp_h_port(struct parser *p, const struct directive *d, char *value);
int cfgp_h_bind_address(struct parser *p, const struct directive *d, char *value);
/* Frees the strings a listener_conf owns. */
void cfgp_listener_free(struct listener_conf *l);
/* After the last line: adds the default listener (when `port` / `bind_address` asked for it),
 * checks that no two listeners collide, and adds the implicit local listeners when there is
 * no listener at all. 0, -EINVAL (p->err set) or -ENOMEM. */
int cfgp_finish_listeners(struct parser *p);

#endif
