/*
 * json.h - a fast writer for cJSON trees.
 *
 * Writes the same bytes as cJSON_PrintUnformatted (same string escapes,
 * same number format), about twice as fast, into a reusable buffer. With
 * JSON_SORTED, object keys are written in bytewise order: the canonical
 * form the chain hashes (no whitespace, keys sorted, raw numbers kept).
 */
#ifndef PODTRAIL_JSON_H
#define PODTRAIL_JSON_H

#include <cjson/cJSON.h>

#include "buf.h"

#define JSON_SORTED 1

/*
 * Append item to out. flags: 0 or JSON_SORTED. skip_key, if not NULL,
 * names a top-level key to leave out (e.g. "hash"). 0, or -1 (ENOMEM).
 */
int json_write(struct buf *out, const cJSON *item, int flags,
    const char *skip_key);
/*
 * Append s[0..n) as a JSON string, escaped as cJSON escapes it. A NUL
 * byte is written as \u0000 (cJSON would stop there). 0, or -1.
 */
int json_write_strn(struct buf *out, const char *s, size_t n);

/* Bytes json_put_strn() may write for n bytes of input: \u00XX each. */
#define JSON_STR_MAX(n) ((n) * 6 + 2)
/*
 * The same into d, which has room for JSON_STR_MAX(n) bytes, for
 * callers that reserve once for many strings. Returns the end.
 */
char *json_put_strn(char *d, const char *s, size_t n);

#endif
