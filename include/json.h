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

#endif
