/*
 * parse_line.h - is a line an audit record libauparse reads as written?
 *
 * "[node=N ]type=T msg=audit(SEC.MSEC:SERIAL): ..." with plain names, a
 * stamp libauparse reads the way the kernel meant it (and a date can
 * hold), within the bytes where libauparse looks for it, and none of
 * the shapes libauparse 3.0.9 leaks memory on.
 */
#ifndef PODTRAIL_PARSE_LINE_H
#define PODTRAIL_PARSE_LINE_H

#include <stddef.h>

/*
 * The newest stamp let through: past it, sec * 1000 overflows on the
 * way to a date, and RFC 3339 has no year 10000. (The kernel's clock
 * ends in 2262.)
 */
#define PARSE_LINE_STAMP_MAX 253402300799LL	/* 9999-12-31T23:59:59Z */

/* A record's stamp and type, as parse_line_check() read them. */
struct parse_line_stamp {
	long long sec;
	unsigned ms;
	unsigned long long serial;
	const char *node;	/* after "node=", in the line; or NULL */
	size_t nodelen;
	int eoe;		/* an EOE record */
	int ends;		/* of a type libauparse ends an event with */
};

/*
 * Check the line s[0..n) (no newline). NULL if it may go to libauparse
 * (st then holds its stamp and type, pointing into s), else a static
 * string saying why not.
 */
const char *parse_line_check(const char *s, size_t n,
    struct parse_line_stamp *st);

#endif
