/*
 * evfield.h - reading and writing the few fields of an event tree that
 * podtrail's own watchers (disk.h, context.h) look at.
 */
#ifndef PODTRAIL_EVFIELD_H
#define PODTRAIL_EVFIELD_H

#include <cjson/cJSON.h>

/* o[k] if it is a string (owned by o), else NULL. */
const char *evf_str(const cJSON *o, const char *k);
/* o[k] as an integer, written as a number or as event.c's raw literal; dflt otherwise. */
long long evf_int(const cJSON *o, const char *k, long long dflt);
/* Add k: v, or k: null when v is NULL or "". */
void evf_add_str_or_null(cJSON *o, const char *k, const char *v);
/* FNV-1a of s, continuing from h (start with EVF_HASH_INIT). */
#define EVF_HASH_INIT 2166136261u
unsigned evf_hash(const char *s, unsigned h);

#endif
