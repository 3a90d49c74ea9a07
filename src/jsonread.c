/*
 * jsonread.c - JSON text to a cJSON tree, numbers kept as their text
 * (see jsonread.h).
 */
#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jsonread.h"

/* deeper is refused: the recursion is bounded by this */
#define PARSE_DEPTH 64

struct jp {
	const char *p, *end;
	int depth;
};

static cJSON *jp_value(struct jp *j);

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jp_hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
utf8_put(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, u, n);
}

/* A string token into out (NUL-terminated; \u0000 is refused). */
static int
jp_string(struct jp *j, struct buf *out)
{
	buf_reset(out);
	if (buf_reserve(out, 1) == -1)
		return -1;
	out->data[0] = '\0';
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		unsigned cp, lo;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			if (buf_addc(out, (char)c) == -1)
				return -1;
			continue;
		}
		if (j->p >= j->end)
			return -1;
		switch ((c = (unsigned char)*j->p++)) {
		case '"': case '\\': case '/':
			if (buf_addc(out, (char)c) == -1)
				return -1;
			break;
		case 'b': if (buf_addc(out, '\b') == -1) return -1; break;
		case 'f': if (buf_addc(out, '\f') == -1) return -1; break;
		case 'n': if (buf_addc(out, '\n') == -1) return -1; break;
		case 'r': if (buf_addc(out, '\r') == -1) return -1; break;
		case 't': if (buf_addc(out, '\t') == -1) return -1; break;
		case 'u':
			if (jp_hex4(j, &cp) == -1 || cp == 0)
				return -1;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return -1;
				j->p += 2;
				if (jp_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return -1;
			}
			if (utf8_put(out, cp) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	return 0;
}

static cJSON *
jp_number(struct jp *j)
{
	const char *s = j->p;
	char tmp[64];
	size_t n;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return NULL;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return NULL;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return NULL;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	n = (size_t)(j->p - s);
	if (n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return cJSON_CreateRaw(tmp);
}

static int
jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static cJSON *
jp_container(struct jp *j, int obj)
{
	cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
	struct buf key = BUF_INIT;
	char close = obj ? '}' : ']';

	if (c == NULL || ++j->depth > PARSE_DEPTH)
		goto err;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		goto done;
	}
	for (;;) {
		cJSON *v;

		jp_ws(j);
		if (obj) {
			if (jp_string(j, &key) == -1)
				goto err;
			jp_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				goto err;
		}
		if ((v = jp_value(j)) == NULL)
			goto err;
		if (obj)
			cJSON_AddItemToObject(c, key.data, v);
		else
			cJSON_AddItemToArray(c, v);
		jp_ws(j);
		if (j->p >= j->end)
			goto err;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			goto err;
		break;
	}
done:
	j->depth--;
	buf_free(&key);
	return c;
err:
	buf_free(&key);
	cJSON_Delete(c);
	return NULL;
}

static cJSON *
jp_value(struct jp *j)
{
	struct buf s = BUF_INIT;
	cJSON *v = NULL;

	jp_ws(j);
	if (j->p >= j->end)
		return NULL;
	switch (*j->p) {
	case '{':
		return jp_container(j, 1);
	case '[':
		return jp_container(j, 0);
	case '"':
		if (jp_string(j, &s) == 0)
			v = cJSON_CreateString(s.data);
		buf_free(&s);
		return v;
	case 't':
		return jp_lit(j, "true") == 0 ? cJSON_CreateTrue() : NULL;
	case 'f':
		return jp_lit(j, "false") == 0 ? cJSON_CreateFalse() : NULL;
	case 'n':
		return jp_lit(j, "null") == 0 ? cJSON_CreateNull() : NULL;
	default:
		return jp_number(j);
	}
}

cJSON *
jsonread_parse(const char *s, size_t n)
{
	struct jp j = { s, s + n, 0 };
	cJSON *v = jp_value(&j);

	jp_ws(&j);
	if (v && j.p != j.end) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}
