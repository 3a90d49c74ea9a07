/* json.c - serialize cJSON trees quickly, optionally canonically. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Bytes a JSON string must escape, as cJSON does: " \ and controls. */
static const unsigned char needs_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Does any byte of x need escaping (< 0x20, '"' or '\\')? */
static inline int
special8(uint64_t x)
{
	uint64_t ctl = (x - ONES * 0x20) & ~x & HIGHS;
	uint64_t q = x ^ (ONES * '"');
	uint64_t b = x ^ (ONES * '\\');

	q = (q - ONES) & ~q & HIGHS;
	b = (b - ONES) & ~b & HIGHS;
	return (ctl | q | b) != 0;
}

char *
json_put_strn(char *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;

	*d++ = '"';
	/* eight clean bytes at a time: the common case */
	while (end - p >= 8) {
		uint64_t x;

		memcpy(&x, p, 8);
		if (special8(x))
			break;
		memcpy(d, p, 8);
		d += 8;
		p += 8;
	}
	for (; p < end; p++) {
		if (!needs_escape[*p]) {
			*d++ = (char)*p;
			continue;
		}
		*d++ = '\\';
		switch (*p) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\b': *d++ = 'b'; break;
		case '\f': *d++ = 'f'; break;
		case '\n': *d++ = 'n'; break;
		case '\r': *d++ = 'r'; break;
		case '\t': *d++ = 't'; break;
		default:
			memcpy(d, "u00", 3);
			d[3] = hex[*p >> 4];
			d[4] = hex[*p & 15];
			d += 5;
		}
	}
	*d++ = '"';
	return d;
}

int
json_write_strn(struct buf *out, const char *s, size_t n)
{
	char *d;

	if (buf_reserve(out, JSON_STR_MAX(n)) == -1)
		return -1;
	d = json_put_strn(out->data + out->len, s, n);
	*d = '\0';
	out->len = (size_t)(d - out->data);
	return 0;
}

static int
write_string(struct buf *out, const char *s)
{
	/* cJSON stops at the first NUL: so do we */
	if (s == NULL)
		s = "";
	return json_write_strn(out, s, strlen(s));
}

/* cJSON's number format, so both printers agree byte for byte. */
static int
write_number(struct buf *out, const cJSON *item)
{
	double d = item->valuedouble;
	char tmp[32];
	double back;

	if (isnan(d) || isinf(d))
		return buf_adds(out, "null");
	if (d == (double)item->valueint)
		return buf_printf(out, "%d", item->valueint);
	snprintf(tmp, sizeof(tmp), "%1.15g", d);
	/* cJSON's round-trip test is relative, not exact */
	if (sscanf(tmp, "%lg", &back) != 1 ||
	    fabs(back - d) > fmax(fabs(back), fabs(d)) * DBL_EPSILON)
		snprintf(tmp, sizeof(tmp), "%1.17g", d);
	return buf_adds(out, tmp);
}

/* What one json_write call needs at every level. */
struct wr {
	int flags;
};

static int write_value(struct buf *, const cJSON *, struct wr *, const char *);

static inline int
cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	/* most keys differ in their first byte: skip the call */
	if (x->string[0] != y->string[0])
		return (unsigned char)x->string[0] - (unsigned char)y->string[0];
	return strcmp(x->string, y->string);
}

/* Records have ~20 keys: insertion sort beats qsort's calls. */
static void
sort_kids(const cJSON **kids, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const cJSON *k = kids[i];
		size_t j = i;

		while (j > 0 && cmp_keys(&kids[j - 1], &k) > 0) {
			kids[j] = kids[j - 1];
			j--;
		}
		kids[j] = k;
	}
}

static int
write_member(struct buf *out, const cJSON *c, struct wr *w, int *first)
{
	if (!*first && buf_putc(out, ',') == -1)
		return -1;
	/* literal keys (cJSON_StringIsConst) are podtrail's own: plain ASCII */
	if (c->type & cJSON_StringIsConst) {
		size_t n = strlen(c->string);

		if (buf_reserve(out, n + 3) == -1)
			return -1;
		out->data[out->len++] = '"';
		memcpy(out->data + out->len, c->string, n);
		out->len += n;
		out->data[out->len++] = '"';
		out->data[out->len++] = ':';
	} else if (write_string(out, c->string) == -1 ||
	    buf_putc(out, ':') == -1) {
		return -1;
	}
	if (write_value(out, c, w, NULL) == -1)
		return -1;
	*first = 0;
	return 0;
}

static int
write_object(struct buf *out, const cJSON *obj, struct wr *w, const char *skip)
{
	const cJSON *stack[64], **kids = stack, *c;
	size_t n = 0, i;
	int rc = -1, first = 1;

	if (buf_putc(out, '{') == -1)
		return -1;
	if (!(w->flags & JSON_SORTED)) {
		for (c = obj->child; c; c = c->next)
			if (!(skip && strcmp(c->string, skip) == 0) &&
			    write_member(out, c, w, &first) == -1)
				return -1;
		return buf_putc(out, '}');
	}
	for (c = obj->child; c; c = c->next)
		n++;
	if (n > sizeof(stack) / sizeof(stack[0]) &&
	    (kids = malloc(n * sizeof(*kids))) == NULL)
		return -1;
	for (c = obj->child, i = 0; c; c = c->next)
		kids[i++] = c;
	if (n > sizeof(stack) / sizeof(stack[0]))
		qsort(kids, n, sizeof(*kids), cmp_keys);
	else
		sort_kids(kids, n);
	for (i = 0; i < n; i++)
		if (!(skip && strcmp(kids[i]->string, skip) == 0) &&
		    write_member(out, kids[i], w, &first) == -1)
			goto out;
	rc = buf_putc(out, '}');
out:
	if (kids != stack)
		free(kids);
	return rc;
}

static int
write_value(struct buf *out, const cJSON *item, struct wr *w, const char *skip)
{
	const cJSON *c;

	switch (item->type & 0xff) {
	case cJSON_NULL:
		return buf_adds(out, "null");
	case cJSON_False:
		return buf_adds(out, "false");
	case cJSON_True:
		return buf_adds(out, "true");
	case cJSON_Number:
		return write_number(out, item);
	case cJSON_Raw:
		return buf_adds(out, item->valuestring ? item->valuestring : "");
	case cJSON_String:
		return write_string(out, item->valuestring);
	case cJSON_Array:
		if (buf_putc(out, '[') == -1)
			return -1;
		for (c = item->child; c; c = c->next)
			if ((c != item->child && buf_putc(out, ',') == -1) ||
			    write_value(out, c, w, NULL) == -1)
				return -1;
		return buf_putc(out, ']');
	case cJSON_Object:
		return write_object(out, item, w, skip);
	}
	return -1;
}

int
json_write(struct buf *out, const cJSON *item, int flags, const char *skip_key)
{
	struct wr w = { .flags = flags };

	return write_value(out, item, &w, skip_key);
}
