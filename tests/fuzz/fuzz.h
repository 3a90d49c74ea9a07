/*
 * fuzz.h - checks shared by the libFuzzer harnesses. Each check aborts
 * (so libFuzzer records a crash) when an invariant of podtrail's output
 * does not hold.
 */
#ifndef PODTRAIL_FUZZ_H
#define PODTRAIL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(fuzz_stderr(), "fuzz: %s:%d: %s\n", __FILE__,  \
			    __LINE__, #cond);                                \
			abort();                                             \
		}                                                            \
	} while (0)

/*
 * The real stderr, for our own reports: harnesses point the stderr
 * variable at /dev/null so the code under test stays quiet, while fd 2
 * (sanitizer reports) and libFuzzer's own copy of the FILE stay intact.
 */
static FILE *fuzz_real_stderr;

static inline FILE *
fuzz_stderr(void)
{
	return fuzz_real_stderr ? fuzz_real_stderr : stderr;
}

static inline void
fuzz_quiet(void)
{
	FILE *null = fopen("/dev/null", "w");

	fuzz_real_stderr = stderr;
	if (null)
		stderr = null;
}

/*
 * Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
 * Written apart from text.c's utf8_len on purpose: an oracle that
 * shared the code it checks would agree with its bugs.
 */
static inline int
fuzz_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len, k;
		unsigned cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static inline int
fuzz_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Undo text.h's lossless escape into out (at least n bytes). Returns
 * the decoded length, or -1 if s is not a well-formed escaped string.
 */
static inline long
fuzz_unescape(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
			continue;
		}
		if (i + 3 < n && s[i + 1] == 'x' && fuzz_hexval((unsigned char)s[i + 2]) >= 0 &&
		    fuzz_hexval((unsigned char)s[i + 3]) >= 0) {
			out[o++] = (char)(fuzz_hexval((unsigned char)s[i + 2]) << 4 |
			    fuzz_hexval((unsigned char)s[i + 3]));
			i += 4;
			continue;
		}
		return -1;
	}
	return (long)o;
}

/*
 * The next NUL-separated part of [*p, end) as a NUL-terminated copy the
 * caller frees; *n is its length and *p moves past the NUL.
 */
static inline char *
fuzz_part(const uint8_t **p, const uint8_t *end, size_t *n)
{
	const uint8_t *z = memchr(*p, '\0', (size_t)(end - *p));
	size_t len = z ? (size_t)(z - *p) : (size_t)(end - *p);
	char *s = malloc(len + 1);

	FUZZ_ASSERT(s != NULL);
	memcpy(s, *p, len);
	s[len] = '\0';
	*n = len;
	*p = z ? z + 1 : end;
	return s;
}

#endif
