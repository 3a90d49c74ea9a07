/*
 * event_fields.c - a record's fields, read once from auparse, as its
 * canonical JSON (keys sorted, values decoded and escaped: text.h), and
 * a PATH record's summary for "paths".
 */
#include "config.h"

#include <libaudit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "event_int.h"
#include "json.h"
#include "text.h"

/*
 * One field of the record being written, name and value as spans. A
 * span that needed decoding or escaping lives in the record's scratch
 * buffer (at an offset while the buffer may still move); the others
 * point into auparse's copy of the record.
 */
struct fld {
	uint64_t key;		/* the name's first 8 bytes, big-endian */
	const char *name, *val;
	size_t noff, nlen, voff, vlen;
	int nclean, vclean;	/* JSON-ready as they are (CLEAN) */
	int anon;		/* a bare name=(null): the kernel's anonymous path */
};

/*
 * Per-call scratch, kept between events so the hot path does not
 * allocate: one record's fields and their decoded bytes. Per thread,
 * as is the hex cache below: events are built on the
 * loop's thread or on the parse worker (parse.h).
 */
static _Thread_local struct {
	struct fld *f;
	size_t n, cap;
	uint32_t *ord;		/* their sorted order (event_fields_write) */
	size_t ordcap;
	struct buf scratch;	/* escaped names and decoded values */
	struct buf tmp;		/* a value's decoded bytes before escaping */
} R;

static int
may_hex(int ftype)
{
	return ftype == AUPARSE_TYPE_ESCAPED ||
	    ftype == AUPARSE_TYPE_PROCTITLE ||
	    ftype == AUPARSE_TYPE_ESCAPED_KEY ||
	    ftype == AUPARSE_TYPE_ESCAPED_FILE;
}

/*
 * auparse_get_field_type() costs as much as the rest of a field's
 * handling (string compares per call), and only matters for bare values
 * that look like hex. Remember its answer per record type and name.
 */
#define HEXCACHE_SIZE 512
#define HEXCACHE_NAME 24

static _Thread_local struct {
	int rtype;
	char name[HEXCACHE_NAME];
	int hex;
} hexcache[HEXCACHE_SIZE];

#ifdef HAVE_AUPARSE_INTERP_ADJUST_TYPE
/* libauparse's own: auparse_get_field_type() is this of the field */
int auparse_interp_adjust_type(int rtype, const char *name, const char *val);
#endif

/* The field's type as libauparse gives it: au's current, or r's value. */
static int
field_type(auparse_state_t *au, int rtype, const char *name, const char *raw)
{
#ifdef HAVE_AUPARSE_INTERP_ADJUST_TYPE
	if (au == NULL)
		return auparse_interp_adjust_type(rtype, name, raw);
#else
	(void)rtype, (void)name, (void)raw;
#endif
	return auparse_get_field_type(au);
}

static int
field_may_hex(auparse_state_t *au, int rtype, const char *name, size_t n,
    const char *raw)
{
	unsigned h = (unsigned)rtype * 31u;

	if (n >= HEXCACHE_NAME)
		return may_hex(field_type(au, rtype, name, raw));
	for (size_t i = 0; i < n; i++)
		h = h * 33u + (unsigned char)name[i];
	for (unsigned probe = 0; probe < 8; probe++) {
		unsigned i = (h + probe) % HEXCACHE_SIZE;

		if (hexcache[i].name[0] == '\0') {
			hexcache[i].rtype = rtype;
			memcpy(hexcache[i].name, name, n + 1);
			hexcache[i].hex = may_hex(field_type(au, rtype, name,
			    raw));
			return hexcache[i].hex;
		}
		if (hexcache[i].rtype == rtype &&
		    memcmp(hexcache[i].name, name, n + 1) == 0)
			return hexcache[i].hex;
	}
	return may_hex(field_type(au, rtype, name, raw));
}

/* Each byte's class and OK_HEX (event_int.h). */
const unsigned char event_fields_byteclass[256] = {
	[' ' ... '!'] = CLEAN, ['"'] = PLAIN, ['#' ... '/'] = CLEAN,
	['0' ... '9'] = OK_ALL, [':' ... '@'] = CLEAN, ['A' ... 'F'] = OK_ALL,
	['G' ... '['] = CLEAN, [']' ... '`'] = CLEAN,	/* not '\\' */
	['a' ... 'f'] = OK_ALL, ['g' ... '~'] = CLEAN,
};

/*
 * One pass over a NUL-terminated value instead of strlen, a hex test and
 * event_fields_plain(): its length, what all its bytes allow (the byte
 * classes), and what its inner bytes (all but the first and last)
 * allow, which is the class of a quoted value without its quotes.
 */
struct scan {
	size_t len;
	unsigned all, inner;
};

static inline void
scan(const char *p, struct scan *sc)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned inner = OK_ALL, last = OK_ALL;
	size_t i;

	if (u[0] == '\0') {
		sc->len = 0;
		sc->all = sc->inner = CLEAN;	/* and not hex */
		return;
	}
	for (i = 1; u[i] != '\0'; i++) {
		inner &= last;
		last = event_fields_byteclass[u[i]];
	}
	sc->len = i;
	sc->all = event_fields_byteclass[u[0]] & inner & last;
	sc->inner = inner;
}

/* Is the scanned value hex text, as text_is_hex() says? */
static inline int
scan_hex(const struct scan *sc)
{
	return (sc->all & OK_HEX) && sc->len % 2 == 0 && sc->len > 0;
}

/*
 * A string (or raw) node from a span of known length: one copy, where
 * cJSON_CreateString would measure it again and a NUL-terminated
 * staging copy would add another.
 */
cJSON *
event_fields_span(const char *p, size_t n, int type)
{
	cJSON *c = cJSON_CreateNull();
	char *v;

	if (c == NULL || (v = cJSON_malloc(n + 1)) == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	memcpy(v, p, n);
	v[n] = '\0';
	c->type = type;
	c->valuestring = v;
	return c;
}

/* Make room for one more field; NULL on ENOMEM. */
static struct fld *
fld_new(void)
{
	if (__builtin_expect(R.n == R.cap, 0)) {
		size_t cap = R.cap ? R.cap * 2 : 64;
		struct fld *f = reallocarray(R.f, cap, sizeof(*f));

		if (f == NULL)
			return NULL;
		R.f = f;
		R.cap = cap;
	}
	return memset(&R.f[R.n++], 0, sizeof(*R.f));
}

/*
 * The value as podtrail writes it: the kernel's bytes decoded (quotes
 * stripped, hex decoded) and escaped (text.h). Clean values, the common
 * case, stay spans of auparse's text.
 */
static int
fld_value(struct fld *f, const char *raw, const struct scan *sc, int hex)
{
	size_t n = sc->len;
	int q = n >= 2 && raw[0] == '"' && raw[n - 1] == '"';
	int cls = (int)((q ? sc->inner : sc->all) & CLEAN);

	if (!hex && cls != 0) {
		f->val = raw + q;
		f->vlen = n - 2 * q;
		f->vclean = cls == CLEAN;
		return 0;
	}
	buf_reset(&R.tmp);
	if (text_decode(&R.tmp, raw, hex) == -1)
		return -1;
	f->val = NULL;
	f->voff = R.scratch.len;
	if (text_escape(&R.scratch, R.tmp.data ? R.tmp.data : "", R.tmp.len) == -1)
		return -1;
	f->vlen = R.scratch.len - f->voff;
	return 0;
}

/* The value span of f, wherever it lives now. */
static const char *
fld_val(const struct fld *f)
{
	return f->val ? f->val : R.scratch.data + f->voff;
}

/*
 * Sort keys: names compare bytewise, and almost all differ within their
 * first 8 bytes, so one integer compare decides most pairs.
 */
static inline void
fld_key(struct fld *f)
{
	const unsigned char *u = (const unsigned char *)f->name;
	size_t n = f->nlen < 8 ? f->nlen : 8;
	uint64_t k = 0;

	/* in registers: a memcpy to a stack word stalls the load after it */
	for (size_t i = 0; i < n; i++)
		k = k << 8 | u[i];
	f->key = n ? k << (8 * (8 - n)) : 0;	/* the first byte most significant */
}

static int
fld_cmp(const struct fld *a, const struct fld *b)
{
	size_t n;
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	/* names hold no NUL: equal keys and a short name mean a prefix */
	n = a->nlen < b->nlen ? a->nlen : b->nlen;
	if (n > 8 && (c = memcmp(a->name + 8, b->name + 8, n - 8)) != 0)
		return c;
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

/*
 * The kernel writes a record type's fields in the same order every
 * time, so remember the last order seen per type and the permutation
 * that sorted it: a record with exactly the same names is put in order
 * without comparing them.
 */
#define PERM_TYPES 64
#define PERM_FIELDS 48

static struct perm {
	int rtype;
	size_t n;
	uint64_t key[PERM_FIELDS];
	unsigned char to[PERM_FIELDS];	/* sorted position of field i */
} perms[PERM_TYPES];

static int
perm_match(const struct perm *p, int rtype, const struct fld *f, size_t n)
{
	if (p->rtype != rtype || p->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p->key[i] != f[i].key)
			return 0;
	return 1;
}

/*
 * The fields' order by name into ord (indices: the 72-byte fields do
 * not move), stably: a repeated name keeps its values' order.
 */
static void
sort_fields(int rtype, const struct fld *f, size_t n, uint32_t *ord)
{
	struct perm *p = &perms[(unsigned)rtype % PERM_TYPES];
	size_t i, j;

	if (n <= PERM_FIELDS && perm_match(p, rtype, f, n)) {
		for (i = 0; i < n; i++)
			ord[p->to[i]] = (uint32_t)i;
		return;
	}
	for (i = 0; i < n; i++)
		ord[i] = (uint32_t)i;
	for (i = 1; i < n; i++) {
		uint32_t x = ord[i];

		for (j = i; j > 0 && fld_cmp(&f[ord[j - 1]], &f[x]) > 0; j--)
			ord[j] = ord[j - 1];
		ord[j] = x;
	}
	if (n > PERM_FIELDS)
		return;
	/*
	 * Cache only an order the 8-byte keys alone decide (no two
	 * equal): then any record with the same keys sorts the same way.
	 */
	for (i = 1; i < n; i++)
		if (f[ord[i - 1]].key == f[ord[i]].key)
			return;
	p->rtype = rtype;
	p->n = n;
	for (i = 0; i < n; i++) {
		p->key[i] = f[i].key;
		p->to[ord[i]] = (unsigned char)i;
	}
}

/* A JSON string into d: clean text (event_fields_plain()) needs no escaping. */
static inline char *
put_str(char *d, const char *s, size_t n, int clean)
{
	if (!clean)
		return json_put_strn(d, s, n);
	*d++ = '"';
	memcpy(d, s, n);
	d += n;
	*d++ = '"';
	return d;
}

/*
 * Write the record's fields as one canonical JSON object: keys in
 * bytewise order, a repeated name as an array of its values in the
 * order they came. The same bytes json_write(JSON_SORTED) gives for the
 * equivalent cJSON tree, without building one.
 */
int
event_fields_write(struct buf *out, int rtype)
{
	struct fld *f = R.f;
	size_t n = R.n, i, j, k, room = 2;
	uint32_t *ord;
	char *d;

	if (R.ordcap < n) {
		if ((ord = reallocarray(R.ord, R.cap, sizeof(*ord))) == NULL)
			return -1;
		R.ord = ord;
		R.ordcap = R.cap;
	}
	ord = R.ord;
	for (i = 0; i < n; i++) {
		if (f[i].name == NULL)
			f[i].name = R.scratch.data + f[i].noff;
		f[i].val = fld_val(&f[i]);
		fld_key(&f[i]);
		room += JSON_STR_MAX(f[i].nlen) + JSON_STR_MAX(f[i].vlen) + 4;
	}
	sort_fields(rtype, f, n, ord);
	buf_reset(out);
	if (buf_reserve(out, room) == -1)
		return -1;
	d = out->data;
	*d++ = '{';
	for (i = 0; i < n; i = j) {
		const struct fld *a = &f[ord[i]];

		for (j = i + 1; j < n && fld_cmp(a, &f[ord[j]]) == 0; j++)
			;
		if (i)
			*d++ = ',';
		d = put_str(d, a->name, a->nlen, a->nclean);
		*d++ = ':';
		if (j - i > 1)
			*d++ = '[';
		for (k = i; k < j; k++) {
			const struct fld *b = &f[ord[k]];

			if (k > i)
				*d++ = ',';
			d = put_str(d, b->val, b->vlen, b->vclean);
		}
		if (j - i > 1)
			*d++ = ']';
	}
	*d++ = '}';
	*d = '\0';
	out->len = (size_t)(d - out->data);
	return 0;
}

/*
 * One PATH record's summary for "paths", from its fields: each value a
 * string (the inode an exact number), an array if the name repeats,
 * null if absent.
 */
cJSON *
event_fields_path_entry(void)
{
	static const char *const keep[] = { "name", "nametype", "inode", "mode" };
	static _Thread_local struct fld want[4];	/* sort keys: <= 8 bytes */
	cJSON *v[4] = { NULL }, *p = cJSON_CreateObject();
	size_t hits[4] = { 0 };
	int anon = 0;

	if (want[0].key == 0)
		for (size_t i = 0; i < 4; i++) {
			want[i].name = keep[i];
			want[i].nlen = strlen(keep[i]);
			fld_key(&want[i]);
		}
	for (size_t j = 0; j < R.n; j++) {
		const struct fld *f = &R.f[j];
		size_t i;
		cJSON *s;

		for (i = 0; i < 4; i++)
			if (f->key == want[i].key && f->nlen == want[i].nlen)
				break;
		if (i == 4)
			continue;
		if (i == 2 && text_is_int(f->val, f->vlen)) {
			s = event_fields_span(f->val, f->vlen, cJSON_Raw);
		} else if (i == 0 && f->anon) {
			/* no name: nothing to resolve against the cwd */
			s = cJSON_CreateNull();
			anon = 1;
		} else {
			s = event_fields_string(f->val, f->vlen);
		}
		if (++hits[i] == 1) {
			v[i] = s;
			continue;
		}
		if (hits[i] == 2) {
			cJSON *arr = cJSON_CreateArray();

			/* an array holds strings, not raw numbers */
			if (cJSON_IsRaw(v[i]))
				v[i]->type = cJSON_String;
			cJSON_AddItemToArray(arr, v[i]);
			v[i] = arr;
		}
		if (cJSON_IsRaw(s))
			s->type = cJSON_String;
		cJSON_AddItemToArray(v[i], s);
	}
	for (size_t i = 0; i < 4; i++)
		cJSON_AddItemToObjectCS(p, keep[i], v[i] ? v[i] : cJSON_CreateNull());
	if (anon)
		cJSON_AddItemToObjectCS(p, "anonymous", cJSON_CreateTrue());
	return p;
}

/*
 * Fields written "name=" with no value, which libauparse leaves out
 * (parse_up_record skips an empty value): added with an empty value,
 * split as libauparse splits. Only for a record text that has one.
 */
static int
empty_fields(const char *t)
{
	const char *p, *end;
	size_t n;

	if (t == NULL || (n = strlen(t)) == 0 ||
	    (t[n - 1] != '=' && strstr(t, "= ") == NULL))
		return 0;
	for (p = t, end = t + n; p < end; p++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *eq;
		struct fld *f;

		if (sp == NULL)
			sp = end;
		/* libauparse: a msg=' prefix opens nested fields */
		if (sp - p > 5 && memcmp(p, "msg='", 5) == 0)
			p += 5;
		if (*p == '(')
			p++;
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq != NULL && eq + 1 == sp && eq > p) {
			if ((f = fld_new()) == NULL)
				return -1;
			f->noff = R.scratch.len;
			if (text_escape(&R.scratch, p, (size_t)(eq - p)) == -1)
				return -1;
			f->nlen = R.scratch.len - f->noff;
			f->val = "";
			f->vclean = 1;
		}
		p = sp;
	}
	return 0;
}

/* Start the record: its type first, then the empty fields of text. */
static int
scan_begin(const char *tname, const char *text)
{
	struct fld *f;

	R.n = 0;
	buf_reset(&R.scratch);
	if ((f = fld_new()) == NULL)
		return -1;
	/* a type libaudit has no name for: as written (UNKNOWN[1234]) */
	if (tname == NULL)
		tname = "UNKNOWN";
	f->name = "type";
	f->nlen = 4;
	f->nclean = 1;
	f->val = tname;
	f->vlen = strlen(tname);
	f->vclean = event_fields_plain(tname, f->vlen) == CLEAN;
	return empty_fields(text);
}

/*
 * One field as libauparse holds it (au on it, or NULL: then raw is all
 * its type depends on). *typed: the record's type is known.
 */
static int
scan_field(auparse_state_t *au, int rtype, const char *name, const char *raw,
    int *typed, struct event_derive *s)
{
	struct scan sn, sv;
	struct fld *f;
	size_t nlen;
	enum fid id;
	int hex, cls;

	if (name == NULL || raw == NULL || *name == '\0')
		return 0;
	scan(name, &sn);
	nlen = sn.len;
	if ((id = event_derive_id(name, nlen)) == F_TYPE && !*typed) {
		/* checked by parse.c: plain bytes */
		R.f[0].val = raw;
		R.f[0].vlen = strlen(raw);
		R.f[0].vclean = event_fields_plain(raw, R.f[0].vlen) == CLEAN;
		*typed = 1;
	}
	if (id == F_TYPE || id == F_NODE)
		return 0;
	scan(raw, &sv);
	/* EXECVE arguments are untrusted strings too */
	hex = raw[0] != '"' && scan_hex(&sv) &&
	    ((rtype == AUDIT_EXECVE && name[0] == 'a' &&
	    !strstr(name, "_len") && strcmp(name, "argc")) ||
	    field_may_hex(au, rtype, name, nlen, raw));
	if ((f = fld_new()) == NULL)
		return -1;
	/* a garbled stream can hold any bytes in a name */
	if ((cls = (int)(sn.all & CLEAN)) != 0) {
		f->name = name;
		f->nlen = nlen;
		f->nclean = cls == CLEAN;
	} else {
		f->noff = R.scratch.len;
		if (text_escape(&R.scratch, name, nlen) == -1)
			return -1;
		f->nlen = R.scratch.len - f->noff;
	}
	if (fld_value(f, raw, &sv, hex) == -1)
		return -1;
	/* bare, not "(null)" quoted: a path with no name */
	if (rtype == AUDIT_PATH && nlen == 4 && memcmp(name, "name", 4) == 0)
		f->anon = strcmp(raw, "(null)") == 0;
	/* fld_value left a hex value's decoded bytes in R.tmp */
	if (id != F_OTHER || rtype == AUDIT_EXECVE)
		event_derive_field(s, rtype, id, name, raw, fld_val(f),
		    f->vlen, f->val == NULL && hex ? &R.tmp : NULL);
	return 0;
}

/* The fields of the record auparse is on, and what the top level needs. */
int
event_fields_scan(auparse_state_t *au, int rtype, const char *tname,
    struct event_derive *s)
{
	int typed = tname != NULL;

	if (scan_begin(tname, auparse_get_record_text(au)) == -1)
		return -1;
	if (!auparse_first_field(au))
		return 0;
	do {
		if (scan_field(au, rtype, auparse_get_field_name(au),
		    auparse_get_field_str(au), &typed, s) == -1)
			return -1;
	} while (auparse_next_field(au) > 0);
	return 0;
}

int
event_fields_scan_rec(const struct event_rec *r, struct event_derive *s)
{
	int typed = r->tname != NULL;

	if (scan_begin(r->tname, r->text) == -1)
		return -1;
	for (size_t i = 0; i < r->nf; i++)
		if (scan_field(NULL, r->rtype, r->fv[2 * i], r->fv[2 * i + 1],
		    &typed, s) == -1)
			return -1;
	return 0;
}

void
event_fields_thread_done(void)
{
	free(R.f);
	free(R.ord);
	buf_free(&R.scratch);
	buf_free(&R.tmp);
	memset(&R, 0, sizeof(R));
}
