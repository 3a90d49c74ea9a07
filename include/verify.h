/*
 * verify.h - checking chains as an aggregator stored them (NDJSON
 * lines in any order, duplicates allowed): per stream, events, gaps,
 * duplicates, conflicts, broken links and hash (HMAC) failures.
 */
#ifndef PODTRAIL_VERIFY_H
#define PODTRAIL_VERIFY_H

#include <stddef.h>
#include <stdio.h>

struct verify;

/* New checker; key NULL for plain SHA-256 chains. NULL on ENOMEM (logged). */
struct verify *verify_new(const unsigned char *key, size_t keylen);
/*
 * Leave out a top-level field the aggregator added (e.g. Vector's
 * "timestamp") before checking hashes. 0, or -1 on ENOMEM (logged).
 */
int verify_ignore(struct verify *v, const char *field);
/*
 * Take one stored line (without newline); where names it in reports
 * (file, line number). 0, or -1 on ENOMEM; bad lines are counted.
 */
int verify_line(struct verify *v, const char *line, size_t len,
    const char *file, unsigned long lineno);
/* Read every line of fp. 0, or -1 on a read error (logged). */
int verify_file(struct verify *v, FILE *fp, const char *name);
/*
 * Print the report (readable, or JSON when json is set) to out.
 * Returns 1 when every stream is complete and intact, else 0.
 */
int verify_report(struct verify *v, FILE *out, int json);
void verify_free(struct verify *v);

#endif
