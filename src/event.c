/*
 * event.c - from auparse's view of an event to podtrail's JSON.
 *
 * Every record and every field the kernel sent goes into "records",
 * decoded (text.h); the top-level fields (process, paths, key, ...) are
 * conveniences derived from them. Integers are written verbatim as raw
 * JSON numbers, so 64-bit values (inodes) keep every digit.
 */
#include "config.h"

#include <libaudit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "text.h"

/* What the top level is derived from, gathered while walking records. */
struct ev_scan {
	cJSON *process;
	cJSON *argv;		/* from EXECVE; PROCTITLE only if none */
	int have_proctitle;	/* its bytes are in R.proctitle */
	int have_execve;
	unsigned long arch;
	long syscall;
	struct buf arg;		/* EXECVE argument being reassembled */
	cJSON *keys;
	unsigned have;		/* process members set, by 1 << field id */
};

/* The field names the top level is derived from. */
enum fid {
	F_OTHER, F_ARCH, F_SYSCALL, F_SUCCESS, F_EXIT, F_KEY, F_PID, F_PPID,
	F_UID, F_AUID, F_COMM, F_EXE, F_CWD, F_PROCTITLE, F_TYPE, F_NODE,
};

static const char *const field_name[] = {
	[F_PID] = "pid", [F_PPID] = "ppid", [F_UID] = "uid", [F_AUID] = "auid",
	[F_COMM] = "comm", [F_EXE] = "exe",
};

static enum fid
field_id(const char *name, size_t n)
{
	/* called for every field: decide on length and first byte */
#define IS(s) (sizeof(s) - 1 == n && memcmp(name, s, n) == 0)
	switch (n) {
	case 3:
		if (IS("key")) return F_KEY;
		if (IS("pid")) return F_PID;
		if (IS("uid")) return F_UID;
		if (IS("exe")) return F_EXE;
		if (IS("cwd")) return F_CWD;
		break;
	case 4:
		if (IS("arch")) return F_ARCH;
		if (IS("exit")) return F_EXIT;
		if (IS("ppid")) return F_PPID;
		if (IS("auid")) return F_AUID;
		if (IS("comm")) return F_COMM;
		if (IS("type")) return F_TYPE;
		if (IS("node")) return F_NODE;
		break;
	case 7:
		if (IS("syscall")) return F_SYSCALL;
		if (IS("success")) return F_SUCCESS;
		break;
	case 9:
		if (IS("proctitle")) return F_PROCTITLE;
		break;
	}
#undef IS
	return F_OTHER;
}

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
	int nclean, vclean;	/* JSON-ready as they are (plain()) */
	int anon;		/* a bare name=(null): the kernel's anonymous path */
};

/*
 * Per-call scratch, kept between events so the hot path does not
 * allocate: one record's fields, their decoded bytes, the record's
 * JSON. Per thread, as are the caches below: events are built on the
 * loop's thread or on the parse worker (parse.h).
 */
static _Thread_local struct {
	struct fld *f;
	size_t n, cap;
	uint32_t *ord;		/* their sorted order (write_record) */
	size_t ordcap;
	struct buf scratch;	/* escaped names and decoded values */
	struct buf tmp;		/* a value's decoded bytes before escaping */
	struct buf esc;
	struct buf json;	/* the record being written */
	struct buf proctitle;	/* the event's decoded PROCTITLE */
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

static int
field_may_hex(auparse_state_t *au, int rtype, const char *name, size_t n)
{
	unsigned h = (unsigned)rtype * 31u;

	if (n >= HEXCACHE_NAME)
		return may_hex(auparse_get_field_type(au));
	for (size_t i = 0; i < n; i++)
		h = h * 33u + (unsigned char)name[i];
	for (unsigned probe = 0; probe < 8; probe++) {
		unsigned i = (h + probe) % HEXCACHE_SIZE;

		if (hexcache[i].name[0] == '\0') {
			hexcache[i].rtype = rtype;
			memcpy(hexcache[i].name, name, n + 1);
			hexcache[i].hex = may_hex(auparse_get_field_type(au));
			return hexcache[i].hex;
		}
		if (hexcache[i].rtype == rtype &&
		    memcmp(hexcache[i].name, name, n + 1) == 0)
			return hexcache[i].hex;
	}
	return may_hex(auparse_get_field_type(au));
}

/*
 * Printable ASCII but backslash: needs no decoding nor lossless escape.
 * Returns 0 if not, PLAIN if so, CLEAN if it also holds no '"' and so
 * goes into JSON verbatim.
 */
#define PLAIN 1
#define CLEAN 3

/*
 * What a byte allows, ANDed over a span: its class (CLEAN, PLAIN for
 * '"', 0 for the rest) and OK_HEX for a hex digit.
 */
#define OK_HEX 4
#define OK_ALL (CLEAN | OK_HEX)

static const unsigned char byteclass[256] = {
	[' ' ... '!'] = CLEAN, ['"'] = PLAIN, ['#' ... '/'] = CLEAN,
	['0' ... '9'] = OK_ALL, [':' ... '@'] = CLEAN, ['A' ... 'F'] = OK_ALL,
	['G' ... '['] = CLEAN, [']' ... '`'] = CLEAN,	/* not '\\' */
	['a' ... 'f'] = OK_ALL, ['g' ... '~'] = CLEAN,
};

static inline int
plain(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned r = OK_ALL;

	for (size_t i = 0; i < n; i++)
		r &= byteclass[u[i]];
	return (int)(r & CLEAN);
}

/*
 * One pass over a NUL-terminated value instead of strlen, a hex test and
 * plain(): its length, what all its bytes allow (byteclass), and what
 * its inner bytes (all but the first and last) allow, which is the
 * class of a quoted value without its quotes.
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
		last = byteclass[u[i]];
	}
	sc->len = i;
	sc->all = byteclass[u[0]] & inner & last;
	sc->inner = inner;
}

/* Is the scanned value hex text, as text_is_hex() says? */
static inline int
scan_hex(const struct scan *sc)
{
	return (sc->all & OK_HEX) && sc->len % 2 == 0 && sc->len > 0;
}

/* Decode raw as the kernel encoded it and escape it to valid UTF-8. */
static cJSON *
decoded_string(const char *raw, int hex, struct buf *tmp, struct buf *esc)
{
	size_t n = strlen(raw);

	/* the common cases: a bare number or word, a clean quoted string */
	if (!hex && plain(raw, n)) {
		if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
			return cJSON_CreateString(raw);
		buf_reset(esc);
		if (buf_add(esc, raw + 1, n - 2) == -1)
			return NULL;
		return cJSON_CreateString(esc->data);
	}
	buf_reset(tmp);
	buf_reset(esc);
	if (text_decode(tmp, raw, hex) == -1 ||
	    text_escape(esc, tmp->data ? tmp->data : "", tmp->len) == -1)
		return NULL;
	return cJSON_CreateString(esc->data ? esc->data : "");
}

static cJSON *
escaped_bytes(const char *p, size_t n, struct buf *esc)
{
	buf_reset(esc);
	if (text_escape(esc, p, n) == -1)
		return NULL;
	return cJSON_CreateString(esc->data ? esc->data : "");
}

/* An integer field as an exact raw number, or NULL if it is not one. */
static cJSON *
int_value(const char *raw)
{
	if (raw == NULL || !text_is_int(raw, strlen(raw)))
		return NULL;
	return cJSON_CreateRaw(raw);
}

/* Keys: the kernel joins several with \001. */
static void
add_keys(struct ev_scan *s, const char *raw, struct buf *tmp, struct buf *esc)
{
	const char *p, *end;

	if (strcmp(raw, "(null)") == 0)
		return;
	buf_reset(tmp);
	if (text_decode(tmp, raw, 1) == -1 || tmp->data == NULL)
		return;
	if (s->keys == NULL)
		s->keys = cJSON_CreateArray();
	for (p = tmp->data, end = p + tmp->len; p <= end; p++) {
		const char *q = memchr(p, '\001', (size_t)(end - p));

		if (q == NULL)
			q = end;
		cJSON_AddItemToArray(s->keys, escaped_bytes(p, (size_t)(q - p), esc));
		p = q;
	}
}

/*
 * EXECVE: argc=N a0=... and, for long arguments, aK_len=L aK[0]=hex
 * aK[1]=hex ...; arguments may continue in the next EXECVE record.
 */
static void
execve_field(struct ev_scan *s, const char *name, const char *raw,
    struct buf *tmp, struct buf *esc)
{
	const char *br;

	if (name[0] != 'a' || name[1] < '0' || name[1] > '9')
		return;
	if (strstr(name, "_len"))
		return;
	if (s->argv == NULL)
		s->argv = cJSON_CreateArray();
	br = strchr(name, '[');
	if (br && strcmp(br, "[0]") != 0) {
		/* continuation of the argument being reassembled */
		text_decode(&s->arg, raw, 1);
		return;
	}
	if (s->arg.data) {
		cJSON_AddItemToArray(s->argv,
		    escaped_bytes(s->arg.data, s->arg.len, esc));
		buf_free(&s->arg);
	}
	if (br) {
		buf_reset(&s->arg);
		text_decode(&s->arg, raw, 1);
		if (s->arg.data == NULL)
			buf_adds(&s->arg, "");
		return;
	}
	cJSON_AddItemToArray(s->argv, decoded_string(raw, 1, tmp, esc));
}

static void
execve_done(struct ev_scan *s, struct buf *esc)
{
	if (s->arg.data) {
		cJSON_AddItemToArray(s->argv,
		    escaped_bytes(s->arg.data, s->arg.len, esc));
		buf_free(&s->arg);
	}
}

static cJSON *
argv_from_proctitle(const struct buf *pt, struct buf *esc)
{
	cJSON *argv = cJSON_CreateArray();
	const char *p = pt->data, *end = pt->data + pt->len;

	/* NUL-separated; a trailing NUL ends the last argument */
	while (p < end) {
		const char *q = memchr(p, '\0', (size_t)(end - p));

		if (q == NULL)
			q = end;
		cJSON_AddItemToArray(argv, escaped_bytes(p, (size_t)(q - p), esc));
		p = q + 1;
	}
	return argv;
}

/* v in decimal into out (>= 21 bytes); snprintf costs more per event. */
static void
ulong_dec(char *out, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

void
event_format_time(char *out, size_t outlen, long long sec, unsigned ms)
{
	/* events come many to a second: format each second once (per thread) */
	static _Thread_local long long last = -1;
	static _Thread_local char date[64];
	struct tm tm;
	size_t n;
	time_t t = (time_t)sec;

	if (sec != last) {
		/* a forged stamp can be past what struct tm holds */
		if (gmtime_r(&t, &tm) == NULL) {
			t = 0;
			gmtime_r(&t, &tm);
		}
		snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		last = sec;
	}
	ms %= 1000;
	n = strlen(date);
	if (outlen < n + sizeof(".000Z")) {
		if (outlen)
			*out = '\0';
		return;
	}
	memcpy(out, date, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	memcpy(out + n + 4, "Z", 2);
}

cJSON *
event_new_internal(const char *type, const char *node)
{
	struct timespec ts;
	char tbuf[40];
	cJSON *ev = cJSON_CreateObject();

	if (ev == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(tbuf, sizeof(tbuf), ts.tv_sec,
	    (unsigned)(ts.tv_nsec / 1000000));
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "time", tbuf);
	cJSON_AddStringToObject(ev, "node", node);
	return ev;
}

/*
 * A string (or raw) node from a span of known length: one copy, where
 * cJSON_CreateString would measure it again and a NUL-terminated
 * staging copy would add another.
 */
static cJSON *
span_node(const char *p, size_t n, int type)
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

static cJSON *
string_n(const char *p, size_t n)
{
	return span_node(p, n, cJSON_String);
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

/* Fields of the acting process; the first record that has one wins. */
static void
process_field(struct ev_scan *s, enum fid id, const char *raw,
    const struct fld *f)
{
	cJSON *v;

	if (s->have & 1u << id)
		return;
	switch (id) {
	case F_PID:
	case F_PPID:
	case F_UID:
	case F_AUID:
		v = int_value(raw);
		break;
	case F_COMM:
	case F_EXE:
		v = string_n(fld_val(f), f->vlen);
		break;
	default:
		return;
	}
	if (v) {
		cJSON_AddItemToObjectCS(s->process, field_name[id], v);
		s->have |= 1u << id;
	}
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

/* A JSON string into d: clean text (plain()) needs no escaping. */
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
static int
write_record(struct buf *out, int rtype)
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
static cJSON *
path_entry(void)
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
			s = span_node(f->val, f->vlen, cJSON_Raw);
		} else if (i == 0 && f->anon) {
			/* no name: nothing to resolve against the cwd */
			s = cJSON_CreateNull();
			anon = 1;
		} else {
			s = string_n(f->val, f->vlen);
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
empty_fields(auparse_state_t *au)
{
	const char *t = auparse_get_record_text(au), *p, *end;
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

/* The fields of the record auparse is on, and what the top level needs. */
static int
scan_record(auparse_state_t *au, int rtype, const char *tname,
    struct ev_scan *s, const char **success, const char **exitv)
{
	struct fld *f;
	int typed = tname != NULL;

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
	f->vclean = plain(tname, f->vlen) == CLEAN;
	if (empty_fields(au) == -1)
		return -1;
	if (!auparse_first_field(au))
		return 0;
	do {
		const char *name = auparse_get_field_name(au);
		const char *raw = auparse_get_field_str(au);
		struct scan sn, sv;
		size_t nlen;
		enum fid id;
		int hex, cls;

		if (name == NULL || raw == NULL || *name == '\0')
			continue;
		scan(name, &sn);
		nlen = sn.len;
		if ((id = field_id(name, nlen)) == F_TYPE && !typed) {
			/* checked by parse.c: plain bytes */
			R.f[0].val = raw;
			R.f[0].vlen = strlen(raw);
			R.f[0].vclean = plain(raw, R.f[0].vlen) == CLEAN;
			typed = 1;
		}
		if (id == F_TYPE || id == F_NODE)
			continue;
		scan(raw, &sv);
		/* EXECVE arguments are untrusted strings too */
		hex = raw[0] != '"' && scan_hex(&sv) &&
		    ((rtype == AUDIT_EXECVE && name[0] == 'a' &&
		    !strstr(name, "_len") && strcmp(name, "argc")) ||
		    field_may_hex(au, rtype, name, nlen));
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

		switch (rtype) {
		case AUDIT_SYSCALL:
			if (id == F_ARCH)
				s->arch = strtoul(raw, NULL, 16);
			else if (id == F_SYSCALL)
				s->syscall = strtol(raw, NULL, 10);
			else if (id == F_SUCCESS)
				*success = raw;
			else if (id == F_EXIT)
				*exitv = raw;
			else if (id == F_KEY)
				add_keys(s, raw, &R.tmp, &R.esc);
			else if (id != F_OTHER)
				process_field(s, id, raw, f);
			break;
		case AUDIT_CWD:
			if (id == F_CWD && !(s->have & 1u << F_CWD)) {
				cJSON_AddItemToObjectCS(s->process, "cwd",
				    string_n(fld_val(f), f->vlen));
				s->have |= 1u << F_CWD;
			}
			break;
		case AUDIT_EXECVE:
			execve_field(s, name, raw, &R.tmp, &R.esc);
			break;
		case AUDIT_PROCTITLE:
			/* fld_value left the decoded bytes in R.tmp */
			if (id != F_PROCTITLE)
				break;
			if (!s->have_proctitle)
				buf_reset(&R.proctitle);
			s->have_proctitle = 1;
			if (f->val == NULL && hex)
				buf_add(&R.proctitle, R.tmp.data, R.tmp.len);
			else
				text_decode(&R.proctitle, raw, 1);
			break;
		default:
			/* user-space records carry the process too */
			if (id == F_KEY)
				add_keys(s, raw, &R.tmp, &R.esc);
			else if (id != F_OTHER)
				process_field(s, id, raw, f);
			break;
		}
	} while (auparse_next_field(au) > 0);
	return 0;
}

void
event_thread_done(void)
{
	free(R.f);
	free(R.ord);
	buf_free(&R.scratch);
	buf_free(&R.tmp);
	buf_free(&R.esc);
	buf_free(&R.json);
	buf_free(&R.proctitle);
	memset(&R, 0, sizeof(R));
}

/* "truncated":{"bytes":B,"records":R}: what parse.c dropped of the event. */
static void
add_truncated(cJSON *ev, const struct event_trunc *t)
{
	char num[24];
	cJSON *o = cJSON_CreateObject();

	ulong_dec(num, (unsigned long)t->bytes);
	cJSON_AddItemToObjectCS(o, "bytes", cJSON_CreateRaw(num));
	ulong_dec(num, (unsigned long)t->records);
	cJSON_AddItemToObjectCS(o, "records", cJSON_CreateRaw(num));
	cJSON_AddItemToObjectCS(ev, "truncated", o);
}

cJSON *
event_build(auparse_state_t *au, const char *node, const struct event_trunc *t)
{
	const au_event_t *ts = auparse_get_timestamp(au);
	struct ev_scan s = { 0 };
	cJSON *ev, *records = NULL, *paths = NULL;
	const char *success = NULL, *exitv = NULL;
	char tbuf[40], serial[24];

	if (ts == NULL)
		return NULL;
	arena_open();
	if ((ev = cJSON_CreateObject()) == NULL)
		goto nomem;
	s.syscall = -1;
	s.process = cJSON_CreateObject();
	records = cJSON_CreateArray();
	paths = cJSON_CreateArray();

	ulong_dec(serial, ts->serial);
	event_format_time(tbuf, sizeof(tbuf), ts->sec, ts->milli);
	/* literal keys need no copy (...CS): an event has dozens */
	cJSON_AddItemToObjectCS(ev, "type", cJSON_CreateStringReference("audit"));
	cJSON_AddItemToObjectCS(ev, "serial", cJSON_CreateRaw(serial));
	cJSON_AddItemToObjectCS(ev, "time", cJSON_CreateString(tbuf));
	/* node= comes from the input too: escaped like any value */
	if (ts->host && *ts->host) {
		size_t n = strlen(ts->host);

		buf_reset(&R.esc);
		if (plain(ts->host, n))	/* the escape would not change it */
			cJSON_AddItemToObjectCS(ev, "node",
			    cJSON_CreateString(ts->host));
		else if (text_escape(&R.esc, ts->host, n) == -1)
			goto nomem;
		else
			cJSON_AddItemToObjectCS(ev, "node",
			    cJSON_CreateString(R.esc.data));
	} else {
		cJSON_AddItemToObjectCS(ev, "node", cJSON_CreateString(node));
	}

	auparse_first_record(au);
	do {
		const char *tname = auparse_get_type_name(au);
		int rtype = auparse_get_type(au);
		cJSON *rec;

		/* EOE only ends the event; auparse does not always keep it */
		if (rtype == AUDIT_EOE)
			continue;
		/*
		 * Records are most of an event: each is written once, here,
		 * as its canonical JSON, and carried as a raw node.
		 */
		if (scan_record(au, rtype, tname, &s, &success, &exitv) == -1 ||
		    write_record(&R.json, rtype) == -1 ||
		    (rec = span_node(R.json.data, R.json.len, cJSON_Raw)) == NULL)
			goto nomem;
		/* tagged with its type (libaudit's static name) for lookups */
		rec->string = (char *)(tname ? tname : "UNKNOWN");
		rec->type |= cJSON_StringIsConst;
		if (rtype == AUDIT_EXECVE)
			s.have_execve = 1;
		if (rtype == AUDIT_PATH)
			cJSON_AddItemToArray(paths, path_entry());
		cJSON_AddItemToArray(records, rec);
	} while (auparse_next_record(au) > 0);
	if (s.have_execve)
		execve_done(&s, &R.esc);

	if (s.syscall >= 0) {
		int machine = audit_elf_to_machine((unsigned int)s.arch);
		const char *sc = machine < 0 ? NULL :
		    audit_syscall_to_name((int)s.syscall, machine);

		if (sc)
			cJSON_AddItemToObjectCS(ev, "syscall",
			    cJSON_CreateStringReference(sc));
		else
			cJSON_AddNumberToObject(ev, "syscall", (double)s.syscall);
	}
	if (success)
		cJSON_AddItemToObjectCS(ev, "success",
		    cJSON_CreateBool(!strcmp(success, "yes")));
	if (exitv) {
		cJSON *n = int_value(exitv);

		if (n == NULL)
			n = decoded_string(exitv, 0, &R.tmp, &R.esc);
		cJSON_AddItemToObjectCS(ev, "exit", n);
	}
	if (s.keys == NULL)
		cJSON_AddItemToObjectCS(ev, "key", cJSON_CreateNull());
	else if (cJSON_GetArraySize(s.keys) == 1)
		cJSON_AddItemToObjectCS(ev, "key",
		    cJSON_DetachItemFromArray(s.keys, 0));
	else {
		cJSON_AddItemToObjectCS(ev, "key", s.keys);
		s.keys = NULL;
	}
	if (!s.have_execve && s.have_proctitle && R.proctitle.len > 0)
		s.argv = argv_from_proctitle(&R.proctitle, &R.esc);
	if (s.argv) {
		cJSON_AddItemToObjectCS(s.process, "argv", s.argv);
		s.argv = NULL;
	}
	if (s.process->child) {
		cJSON_AddItemToObjectCS(ev, "process", s.process);
		s.process = NULL;
	} else {
		cJSON_AddItemToObjectCS(ev, "process", cJSON_CreateNull());
	}
	cJSON_AddItemToObjectCS(ev, "paths", paths);
	cJSON_AddItemToObjectCS(ev, "records", records);
	if (t != NULL && (t->records || t->bytes))
		add_truncated(ev, t);
	goto out;
nomem:
	log_warnx("out of memory building event");
	cJSON_Delete(records);
	cJSON_Delete(paths);
	cJSON_Delete(ev);
	ev = NULL;
out:
	arena_close();
	cJSON_Delete(s.process);
	cJSON_Delete(s.argv);
	cJSON_Delete(s.keys);
	buf_free(&s.arg);
	return ev;
}
