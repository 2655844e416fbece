/* check.h - minimal assertion helpers for the unit tests (one executable per module).
 *
 * Each CHECK prints file:line and what differed, counts the failure and goes on, so one run
 * shows every broken case. A test's main() ends with `return check_report();`, which prints
 * "N passed, N failed" for the file and returns non-zero when anything failed. */
#ifndef MQTT_FAST_CHECK_H
#define MQTT_FAST_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct check_state {
	unsigned passed;
	unsigned failed;
};

/* One instance per test executable (each test file is its own program). */
static struct check_state check_state_;

static inline void check_hexdump_(const char *label, const uint8_t *p, size_t n)
{
	fprintf(stderr, "    %s (%zu):", label, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n");
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_state_.passed++;                                                     \
		} else {                                                                           \
			check_state_.failed++;                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ == b_) {                                                                    \
			check_state_.passed++;                                                     \
		} else {                                                                           \
			check_state_.failed++;                                                     \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
				__LINE__, #a, #b, a_, b_);                                         \
		}                                                                                  \
	} while (0)

#define CHECK_MEM(a, alen, b, blen)                                                                \
	do {                                                                                       \
		const uint8_t *pa_ = (const uint8_t *)(a), *pb_ = (const uint8_t *)(b);            \
		size_t la_ = (size_t)(alen), lb_ = (size_t)(blen);                                 \
		if (la_ == lb_ && (la_ == 0 || memcmp(pa_, pb_, la_) == 0)) {                      \
			check_state_.passed++;                                                     \
		} else {                                                                           \
			check_state_.failed++;                                                     \
			fprintf(stderr, "%s:%d: bytes differ: %s vs %s\n", __FILE__, __LINE__, #a, \
				#b);                                                               \
			check_hexdump_("got ", pa_, la_);                                          \
			check_hexdump_("want", pb_, lb_);                                          \
		}                                                                                  \
	} while (0)

/* Compares a view (struct mqtt_str or anything with .p/.len) with a C string. */
#define CHECK_STR(view, cstr) CHECK_MEM((view).p, (view).len, (cstr), strlen(cstr))

/* Parses hex such as "10 0c 00 04 'MQTT'" into out: pairs of hex digits, spaces ignored, and
 * 'quoted text' copied as ASCII. Returns the byte count; aborts the test on bad syntax or
 * overflow (a bug in the test itself). */
static inline size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ' || *s == '\n' || *s == '\t') {
			s++;
			continue;
		}
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++) {
				if (n >= cap)
					goto bad;
				out[n++] = (uint8_t)*s;
			}
			if (!*s)
				goto bad;
			s++;
			continue;
		}
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1 || !s[1] || s[1] == ' ' || n >= cap)
			goto bad;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
bad:
	fprintf(stderr, "hex(): bad test vector near \"%.16s\"\n", s);
	fflush(stderr);
	__builtin_trap();
}

static inline int check_report(void)
{
	printf("%u passed, %u failed\n", check_state_.passed, check_state_.failed);
	return check_state_.failed ? 1 : 0;
}

#endif
