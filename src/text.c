/* text.c - kernel field decoding and the lossless UTF-8 escape. */
#include "config.h"

#include <string.h>

#include "text.h"

/* Each byte's hex digit value, or -1: every field value is tested. */
static const signed char hexdigits[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static inline int
hexval(unsigned char c)
{
	return hexdigits[c] - 1;
}

int
text_is_hex(const char *s, size_t n)
{
	if (n == 0 || n % 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

int
text_unhex(struct buf *out, const char *s, size_t n)
{
	char *d;

	if (n % 2 || buf_reserve(out, n / 2) == -1)
		return -1;
	d = out->data + out->len;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval((unsigned char)s[i]);
		int lo = hexval((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		*d++ = (char)(hi << 4 | lo);
	}
	out->len += n / 2;
	out->data[out->len] = '\0';
	return 0;
}

int
text_decode(struct buf *out, const char *raw, int may_hex)
{
	size_t n = strlen(raw);

	if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"')
		return buf_add(out, raw + 1, n - 2);
	if (may_hex && text_is_hex(raw, n))
		return text_unhex(out, raw, n);
	return buf_add(out, raw, n);
}

/* Length of the valid UTF-8 sequence at p (max n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned int cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
text_escape(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	if (buf_reserve(out, n) == -1)
		return -1;
	while (i < n) {
		size_t len;
		char esc[4];

		/* ASCII but NUL and backslash: most bytes, one test each */
		if (p[i] - 1u < 0x7fu && p[i] != '\\') {
			i++;
			run++;
			continue;
		}
		len = p[i] && p[i] != '\\' ? utf8_len(p + i, n - i) : 0;

		if (len) {
			i += len;
			run += len;
			continue;
		}
		/* flush the clean run before the byte that needs escaping */
		if (run && buf_add(out, p + i - run, run) == -1)
			return -1;
		run = 0;
		if (p[i] == '\\') {
			if (buf_add(out, "\\\\", 2) == -1)
				return -1;
		} else {
			esc[0] = '\\'; esc[1] = 'x';
			esc[2] = hex[p[i] >> 4]; esc[3] = hex[p[i] & 15];
			if (buf_add(out, esc, 4) == -1)
				return -1;
		}
		i++;
	}
	if (run && buf_add(out, p + i - run, run) == -1)
		return -1;
	return 0;
}

int
text_is_int(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[0] == '-')
		i++;
	if (i == n || n - i > 20)
		return 0;
	if (s[i] == '0' && n - i > 1)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}
