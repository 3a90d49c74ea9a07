/*
 * verify_scan.c - the verifier's fast path: a line as podtrail sealed
 * it is scanned and hashed as it stands, not parsed.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"
#include "verify_int.h"

/*
 * A stored line is usually byte for byte what podtrail sealed: the
 * hashed canonical JSON with ,"hash":"..." before its closing brace.
 * Such a line is only scanned (validated as jsonread_parse() would, and
 * its top-level stream, seq and prev found), not parsed into a tree,
 * and hashed as it stands. Anything else, or a hash that does not
 * match (a store that re-serialized its lines), takes the full path.
 */
struct scan {
	const char *p, *end;
	int depth;
};

static int scan_value(struct scan *sc);

static int
scan_string(struct scan *sc, int *escaped)
{
	*escaped = 0;
	if (sc->p >= sc->end || *sc->p != '"')
		return -1;
	for (sc->p++; sc->p < sc->end; sc->p++) {
		unsigned char c = (unsigned char)*sc->p;

		if (c == '"') {
			sc->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			/* escapes are rare in stored lines: the full parser judges */
			*escaped = 1;
			return -1;
		}
	}
	return -1;
}

static int
scan_number(struct scan *sc)
{
	const char *s = sc->p;

	if (sc->p < sc->end && *sc->p == '-')
		sc->p++;
	if (sc->p >= sc->end || *sc->p < '0' || *sc->p > '9')
		return -1;
	if (*sc->p == '0')
		sc->p++;
	else
		while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
			sc->p++;
	if (sc->p < sc->end && (*sc->p == '.' || *sc->p == 'e' ||
	    *sc->p == 'E'))
		return -1;	/* fractions and exponents: the full parser */
	return sc->p - s < 64 ? 0 : -1;
}

static int
scan_lit(struct scan *sc, const char *lit, size_t n)
{
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, lit, n) != 0)
		return -1;
	sc->p += n;
	return 0;
}

static int
scan_container(struct scan *sc, int obj)
{
	char close = obj ? '}' : ']';
	int esc;

	if (++sc->depth > 64)
		return -1;
	sc->p++;
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (obj && (scan_string(sc, &esc) == -1 || sc->p >= sc->end ||
		    *sc->p++ != ':'))
			return -1;
		if (scan_value(sc) == -1 || sc->p >= sc->end)
			return -1;
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p++ != close)
			return -1;
		sc->depth--;
		return 0;
	}
}

/* One value, no whitespace (podtrail writes none). 0 or -1. */
static int
scan_value(struct scan *sc)
{
	int esc;

	if (sc->p >= sc->end)
		return -1;
	switch (*sc->p) {
	case '{':
		return scan_container(sc, 1);
	case '[':
		return scan_container(sc, 0);
	case '"':
		return scan_string(sc, &esc);
	case 't':
		return scan_lit(sc, "true", 4);
	case 'f':
		return scan_lit(sc, "false", 5);
	case 'n':
		return scan_lit(sc, "null", 4);
	default:
		return scan_number(sc);
	}
}

struct span {
	const char *p;
	size_t n;
};

/*
 * The line as podtrail sealed it: 1 done (e filled, self_ok set, the
 * stream named in name), 0 take the full path, -1 ENOMEM.
 */
int
verify_scan_line(struct verify *v, const char *line, size_t len, struct item *e,
    char *name, size_t namelen)
{
	static const char tail[] = ",\"hash\":\"";
	const size_t tl = sizeof(tail) - 1 + CHAIN_HASH_HEX + 2;
	struct span stream = { 0 }, seq = { 0 }, prev = { 0 }, type = { 0 };
	struct scan sc = { line, line + len - tl + 1, 1 };
	char calc[CHAIN_HASH_HEX + 1], hashtxt[CHAIN_HASH_HEX + 1], pv[65];
	struct stream *st;
	int esc;

	if (len < tl + 2 || line[0] != '{' || line[len - 1] != '}' ||
	    line[len - 2] != '"' || memcmp(line + len - tl, tail,
	    sizeof(tail) - 1) != 0)
		return 0;
	memcpy(hashtxt, line + len - CHAIN_HASH_HEX - 2, CHAIN_HASH_HEX);
	hashtxt[CHAIN_HASH_HEX] = '\0';
	if (strspn(hashtxt, "0123456789abcdef") != CHAIN_HASH_HEX)
		return 0;
	/* the members before ,"hash": end at sc.end, where '}' is put back */
	sc.end = line + len - tl;
	sc.p = line + 1;
	if (sc.p < sc.end && *sc.p == '}')
		return 0;
	for (;;) {
		const char *k = sc.p + 1, *val;
		size_t kn;

		if (scan_string(&sc, &esc) == -1)
			return 0;
		kn = (size_t)(sc.p - k - 1);
		if (sc.p >= sc.end || *sc.p++ != ':')
			return 0;
		val = sc.p;
		if (scan_value(&sc) == -1)
			return 0;
		for (size_t i = 0; i < v->nignore; i++)
			if (strlen(v->ignore[i]) == kn &&
			    !memcmp(v->ignore[i], k, kn))
				return 0;
#define KEY(s, sp) if (kn == sizeof(s) - 1 && !memcmp(k, s, kn) && !sp.p) \
	{ sp.p = val; sp.n = (size_t)(sc.p - val); }
		KEY("stream", stream)
		KEY("seq", seq)
		KEY("prev", prev)
		KEY("type", type)
#undef KEY
		if (sc.p == sc.end)
			break;
		if (*sc.p++ != ',')
			return 0;
	}
	if (!stream.p || !seq.p || !prev.p || stream.n < 3 || stream.p[0] != '"' ||
	    stream.n - 2 >= namelen || prev.n != CHAIN_HASH_HEX + 2 ||
	    prev.p[0] != '"' || seq.p[0] < '1' || seq.p[0] > '9' ||
	    seq.n > 20)
		return 0;
	/* podtrail's signed events are rare: the full path keeps their text */
	if (type.p && type.n > 10 && !memcmp(type.p, "\"podtrail_", 10))
		return 0;
	memcpy(pv, prev.p + 1, CHAIN_HASH_HEX);
	pv[CHAIN_HASH_HEX] = '\0';
	if (strspn(pv, "0123456789abcdef") != CHAIN_HASH_HEX)
		return 0;
	memcpy(name, stream.p + 1, stream.n - 2);
	name[stream.n - 2] = '\0';
	e->seq = 0;
	for (size_t i = 0; i < seq.n; i++) {
		if (seq.p[i] < '0' || seq.p[i] > '9' ||
		    e->seq > (~0ULL - 9) / 10)
			return 0;
		e->seq = e->seq * 10 + (unsigned long long)(seq.p[i] - '0');
	}
	if ((st = verify_stream_get(v, name)) == NULL)
		return -1;
	buf_reset(&v->canon);
	if (buf_add(&v->canon, line, (size_t)(sc.end - line)) == -1 ||
	    buf_addc(&v->canon, '}') == -1)
		return -1;
	{
		size_t n = v->nkeys ? v->nkeys : 1;

		for (size_t i = 0; i < n; i++) {
			size_t k = (st->hkey + i) % n;

			if (chain_hash(v->nkeys ? v->keys[k].k : NULL,
			    v->nkeys ? v->keys[k].len : 0, pv, v->canon.data,
			    v->canon.len, calc) == -1)
				return -1;
			if (strcmp(calc, hashtxt) == 0) {
				st->hkey = k;
				(void)ckpt_unhex(hashtxt, e->hash,
				    sizeof(e->hash));
				(void)ckpt_unhex(pv, e->prev, sizeof(e->prev));
				e->self_ok = 1;
				e->kind = CKPT_NONE;
				return 1;
			}
		}
	}
	return 0;	/* not as sealed: the full path says why */
}
