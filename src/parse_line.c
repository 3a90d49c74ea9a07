/*
 * parse_line.c - the checks a line passes before libauparse sees it.
 *
 * libauparse 3.0.9 leaks ~1 KiB for every line that has
 * "msg=audit(...)" but no "type=" in front of it (found by
 * tests/fuzz/fuzz_stream), and silently drops a line whose stamp it
 * cannot read: parse_au.c drops such lines, counted and reported, so
 * what passes the check ends up in an event.
 */
#include "config.h"

#include <libaudit.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "parse_line.h"

/* Length of the run at s[0..n) of bytes that may appear in a name. */
static size_t
name_len(const char *s, size_t n, int type)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* type names: TYPE or UNKNOWN[NUMBER]; node names: no controls */
		if (type ? !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '[' || c == ']') :
		    (c <= ' ' || c == 0x7f))
			break;
	}
	return i;
}

/*
 * The decimal at s[0..n) (leading zeros allowed) up to max: its digit
 * count (at most 20), or 0 if there is none or it is past max.
 */
static size_t
decimal(const char *s, size_t n, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n && i < 21 && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return i <= 20 ? i : 0;
}

/*
 * "SEC.MSEC:SERIAL):" as the kernel writes it (auparse leaks on less),
 * with values libauparse reads (its strtoul drops a serial past 2^64-1)
 * and a date can hold (PARSE_LINE_STAMP_MAX). Fills st; the closing ')' goes
 * to *close. NULL, or why not.
 */
static const char *
stamp_read(const char *s, size_t n, struct parse_line_stamp *st,
    const char **close)
{
	unsigned long long v;
	size_t k;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return "not an audit record";
	if ((k = decimal(s, n, (unsigned long long)PARSE_LINE_STAMP_MAX,
	    &v)) == 0)
		return "timestamp past the year 9999";
	if (k == n || s[k] != '.')
		return "not an audit record";
	/* libauparse takes 0 seconds for "no event": it reads no field */
	if (v == 0)
		return "timestamp of 0 seconds";
	st->sec = (long long)v;
	s += k + 1;
	n -= k + 1;
	if (n < 4 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9' || s[3] != ':')
		return "not an audit record";
	st->ms = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + s[2] - '0');
	s += 4;
	n -= 4;
	if (n > 0 && s[0] >= '0' && s[0] <= '9' &&
	    (k = decimal(s, n, ULLONG_MAX, &st->serial)) == 0)
		return "serial past 2^64-1";
	if (n == 0 || s[0] < '0' || s[0] > '9' || n - k < 2 || s[k] != ')' ||
	    s[k + 1] != ':')
		return "not an audit record";
	*close = s + k;
	return NULL;
}

/*
 * Does a record of type name[0..n) end its event in libauparse
 * (au_check_events: PROCTITLE, EOE, and the types of one-record
 * events)? Bit 1: it does, bit 2: it is an EOE. Cached per name.
 */
#define T_ENDS 1
#define T_EOE 2

static int
type_flags(const char *name, size_t n)
{
	/* per thread: lines may be checked on any thread */
	static _Thread_local struct {
		char name[16];
		int flags;
	} cache[64];
	char tmp[512];
	unsigned h = (unsigned)n * 31u + (unsigned char)name[0] * 7u +
	    (unsigned char)name[n - 1];
	int t, flags;

	h %= 64;
	if (n < 16 && cache[h].name[n] == '\0' &&
	    memcmp(cache[h].name, name, n) == 0 && cache[h].flags)
		return cache[h].flags & 3;
	if (n >= sizeof(tmp))
		return T_ENDS;	/* unknown to libaudit: -1 */
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	t = audit_name_to_msg_type(tmp);
	flags = t == AUDIT_EOE ? T_EOE | T_ENDS : 0;
	if (t == AUDIT_PROCTITLE || t < AUDIT_FIRST_EVENT ||
	    t >= AUDIT_FIRST_ANOM_MSG || t == AUDIT_KERNEL ||
	    (t >= AUDIT_MAC_UNLBL_ALLOW && t <= AUDIT_MAC_CALIPSO_DEL))
		flags |= T_ENDS;
	if (n < 16) {
		memcpy(cache[h].name, tmp, n + 1);
		cache[h].flags = flags | 4;	/* 4: the slot is filled */
	}
	return flags;
}

/*
 * How many fields named "cwd" s[0..n) holds as libauparse splits it: at
 * spaces, also inside quotes, and a msg='...' opens nested fields. (A
 * kernel CWD record has one field whose value holds no space.)
 */
static int
cwd_fields(const char *s, size_t n)
{
	const char *end = s + n, *sp;
	int count = 0;

	for (; s < end; s = sp + 1) {
		size_t t;

		if ((sp = memchr(s, ' ', (size_t)(end - s))) == NULL)
			sp = end;
		t = (size_t)(sp - s);
		if ((t >= 4 && memcmp(s, "cwd=", 4) == 0) ||
		    (t >= 9 && memcmp(s, "msg='cwd=", 9) == 0))
			count++;
	}
	return count;
}

/*
 * "[node=NAME ]type=NAME msg=audit(SEC.MSEC:SERIAL):" starts every
 * record, with names of plain bytes (libauparse mishandles a 0x1d, say,
 * in a type).
 */
const char *
parse_line_check(const char *s, size_t n, struct parse_line_stamp *st)
{
	const char *line = s, *type, *close, *why;
	size_t k, window = 80;
	int flags;

	st->node = NULL;
	st->nodelen = 0;
	if (n > 5 && memcmp(s, "node=", 5) == 0) {
		k = name_len(s + 5, n - 5, 0);
		if (k == 0 || 5 + k == n || s[5 + k] != ' ')
			return "not an audit record";
		st->node = s + 5;
		st->nodelen = k;
		window = 340;
		s += 6 + k;
		n -= 6 + k;
	}
	if (n < 5 || memcmp(s, "type=", 5) != 0)
		return "not an audit record";
	k = name_len(s + 5, n - 5, 1);
	if (k == 0 || 5 + k == n || s[5 + k] != ' ')
		return "not an audit record";
	type = s + 5;
	s += 6 + k;
	n -= 6 + k;
	if (n < 10 || memcmp(s, "msg=audit(", 10) != 0)
		return "not an audit record";
	if ((why = stamp_read(s + 10, n - 10, st, &close)) != NULL)
		return why;
	/*
	 * libauparse reads the stamp from the line's first 80 bytes (340
	 * after node=) and wants 19 of them for "msg=audit(...":
	 * extract_timestamp() drops the line, or misreads the serial, else.
	 */
	if ((size_t)(close - line) > window || (size_t)(s - line) + 19 > window)
		return "stamp too far into the line";
	flags = type_flags(type, k);
	st->ends = (flags & T_ENDS) != 0;
	st->eoe = (flags & T_EOE) != 0;
	/*
	 * libauparse 3.0.9 leaks a copy of the first cwd when a CWD record
	 * has a second one. The kernel never writes that; a forged or
	 * garbled stream must not make podtrail grow. libaudit takes the
	 * type name in any case ("cwd" is CWD).
	 */
	if (k == 3 && strncasecmp(type, "CWD", 3) == 0 && cwd_fields(s, n) > 1)
		return "CWD record with more than one cwd field";
	return NULL;
}
