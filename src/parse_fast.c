/*
 * parse_fast.c - one event's records split into fields as libauparse
 * 3.0.9's parse_up_record() splits them (parse_fast.h).
 *
 * libauparse splits a record at each run of spaces; a token with an
 * '=' is a field (its name without a leading '('), "msg=audit(...):"
 * is skipped, as is a field with no value; a value loses one trailing
 * ':', then ',', then '\'', then ')' (but "(none)" and "(null)" keep
 * theirs). What it does more (AVC fields without names, msg='...'
 * nesting, key lists, the interpretation separator) is refused here,
 * and libauparse gets the event.
 */
#include "config.h"

#include <libaudit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "parse_fast.h"

/* libauparse's AUDIT_INTERP_SEPARATOR: enriched logs only */
#define INTERP_SEP 0x1d

struct frec {
	size_t line, len;	/* in lines (NUL-terminated there) */
	size_t f0, nf;		/* its fields in off[] */
	int rtype;
	const char *tname;
};

struct parse_fast {
	long long sec;
	unsigned ms;
	unsigned long long serial, bytes;
	size_t n;
	struct frec rec[PARSE_FAST_MAX_RECORDS];
	struct buf lines;	/* the lines as given */
	struct buf tok;		/* split copies: names and values */
	size_t *off;		/* name, value offsets in tok */
	size_t noff, offcap;
	const char **fv;	/* parse_fast_view's pointers (offcap of them) */
	struct event_rec view[PARSE_FAST_MAX_RECORDS];
};

struct parse_fast *
parse_fast_new(void)
{
	struct parse_fast *f = calloc(1, sizeof(*f));

	if (f == NULL)
		log_warn("parse_fast");
	return f;
}

void
parse_fast_free(struct parse_fast *f)
{
	if (f == NULL)
		return;
	buf_free(&f->lines);
	buf_free(&f->tok);
	free(f->off);
	free(f->fv);
	free(f);
}

void
parse_fast_reset(struct parse_fast *f)
{
	f->n = 0;
	f->bytes = 0;
	f->noff = 0;
	buf_reset(&f->lines);
	buf_reset(&f->tok);
}

size_t
parse_fast_records(const struct parse_fast *f)
{
	return f->n;
}

int
parse_fast_cmp(const struct parse_fast *f, const struct parse_line_stamp *st)
{
	/* auparse_timestamp_compare's order */
	if (f->sec != st->sec)
		return f->sec < st->sec ? -1 : 1;
	if (f->ms != st->ms)
		return f->ms < st->ms ? -1 : 1;
	if (f->serial != st->serial)
		return f->serial < st->serial ? -1 : 1;
	return 0;
}

unsigned long long
parse_fast_bytes(const struct parse_fast *f)
{
	return f->bytes;
}

long long
parse_fast_sec(const struct parse_fast *f)
{
	return f->sec;
}

const char *
parse_fast_line(const struct parse_fast *f, size_t i, size_t *len)
{
	*len = f->rec[i].len;
	return f->lines.data + f->rec[i].line;
}

/* The type named at name[0..n): libaudit's number and name, cached. */
static int
rec_type(const char *name, size_t n, const char **tname)
{
	static _Thread_local struct {
		char name[24];
		int rtype;
		const char *tname;
	} cache[32];
	unsigned h = ((unsigned)n * 31u + (unsigned char)name[0] * 7u +
	    (unsigned char)name[n - 1]) % 32;
	char tmp[64];
	int t;

	if (n < sizeof(cache[h].name) && cache[h].name[n] == '\0' &&
	    memcmp(cache[h].name, name, n) == 0) {
		*tname = cache[h].tname;
		return cache[h].rtype;
	}
	if (n >= sizeof(tmp)) {
		*tname = NULL;
		return -1;
	}
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	t = audit_name_to_msg_type(tmp);
	*tname = t > 0 ? audit_msg_type_to_name(t) : NULL;
	if (n < sizeof(cache[h].name)) {
		memcpy(cache[h].name, tmp, n + 1);
		cache[h].rtype = t;
		cache[h].tname = *tname;
	}
	return t;
}

static int
add_field(struct parse_fast *f, size_t name, size_t val)
{
	if (f->noff + 2 > f->offcap) {
		size_t cap = f->offcap ? f->offcap * 2 : 256;
		size_t *o = reallocarray(f->off, cap, sizeof(*o));
		const char **fv;

		if (o == NULL)
			return -1;
		f->off = o;
		/* grown here, so that parse_fast_view cannot fail */
		if ((fv = reallocarray(f->fv, cap, sizeof(*fv))) == NULL)
			return -1;
		f->fv = fv;
		f->offcap = cap;
	}
	f->off[f->noff++] = name;
	f->off[f->noff++] = val;
	return 0;
}

/* Trim the value at v[0..len) as libauparse does. */
static void
trim(char *v, size_t len)
{
	if (len && v[len - 1] == ':')
		v[--len] = '\0';
	if (len && v[len - 1] == ',')
		v[--len] = '\0';
	if (len && v[len - 1] == '\'')
		v[--len] = '\0';
	if (len && v[len - 1] == ')' && strcmp(v, "(none)") != 0 &&
	    strcmp(v, "(null)") != 0)
		v[--len] = '\0';
}

/* Split tok[0..len) (a NUL-terminated copy) into fields at base. 0 or -1. */
static int
split(struct parse_fast *f, size_t base, size_t len)
{
	char *t = f->tok.data + base, *p = t, *end = t + len;

	while (p < end) {
		char *q, *eq, *name, *v;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		/* one pass for both: fields are short, two memchr calls cost more */
		for (q = p, eq = NULL; q < end && *q != ' '; q++)
			if (*q == '=' && eq == NULL)
				eq = q;
		*q = '\0';
		name = p;
		p = q + 1;
		if (eq == NULL)
			continue;
		if (q - name >= 4 && memcmp(name, "msg=", 4) == 0) {
			if (name[4] == 'a')
				continue;
			if (name[4] == '\'')
				return -1;
		}
		*eq = '\0';
		v = eq + 1;
		if (*name == '(')
			name++;
		if (q == v)
			continue;
		trim(v, (size_t)(q - v));
		/* libauparse splits an unquoted key into a list */
		if (name[0] == 'k' && name[1] == 'e' && name[2] == 'y' &&
		    name[3] == '\0' && *v != '(' && *v != '"')
			return -1;
		if (add_field(f, (size_t)(name - f->tok.data),
		    (size_t)(v - f->tok.data)) == -1)
			return -1;
	}
	return 0;
}

int
parse_fast_add(struct parse_fast *f, const char *line, size_t len,
    const struct parse_line_stamp *st)
{
	size_t lbase = f->lines.len, tbase = f->tok.len, obase = f->noff, k;
	struct frec *r;
	const char *tname;
	int rtype;

	if (f->n == PARSE_FAST_MAX_RECORDS ||
	    memchr(line, INTERP_SEP, len) != NULL)
		return -1;
	/* parse_line_check: "type=NAME msg=audit(" */
	for (k = 5; k < len && line[k] != ' '; k++)
		;
	rtype = rec_type(line + 5, k - 5, &tname);
	if (rtype == AUDIT_AVC || rtype == AUDIT_USER_AVC)
		return -1;
	if (buf_reserve(&f->lines, len + 1) == -1 ||
	    buf_reserve(&f->tok, len + 1) == -1)
		return -1;
	buf_add(&f->lines, line, len);
	buf_putc(&f->lines, '\0');
	buf_add(&f->tok, line, len);
	buf_putc(&f->tok, '\0');
	if (split(f, tbase, len) == -1) {
		f->lines.len = lbase;
		f->tok.len = tbase;
		f->noff = obase;
		return -1;
	}
	if (f->n == 0) {
		f->sec = st->sec;
		f->ms = st->ms;
		f->serial = st->serial;
	}
	r = &f->rec[f->n++];
	r->line = lbase;
	r->len = len;
	r->f0 = obase;
	r->nf = (f->noff - obase) / 2;
	r->rtype = rtype;
	r->tname = tname;
	f->bytes += len;
	return 0;
}

void
parse_fast_view(struct parse_fast *f, struct event_recs *out)
{
	for (size_t i = 0; i < f->noff; i++)
		f->fv[i] = f->tok.data + f->off[i];
	for (size_t i = 0; i < f->n; i++) {
		struct frec *r = &f->rec[i];

		f->view[i] = (struct event_rec){ r->rtype, r->tname,
		    f->lines.data + r->line, f->fv + r->f0, r->nf };
	}
	out->sec = f->sec;
	out->ms = f->ms;
	out->serial = f->serial;
	out->rec = f->view;
	out->n = f->n;
}
