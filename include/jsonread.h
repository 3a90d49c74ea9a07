/*
 * jsonread.h - a JSON reader that keeps numbers as written, for the
 * verifier and whoever re-reads sealed lines (a re-printed number must
 * hash the same, and big integers must survive).
 */
#ifndef PODTRAIL_JSONREAD_H
#define PODTRAIL_JSONREAD_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Parse one JSON text like cJSON does, except that numbers become raw
 * items holding their text verbatim. Caller owns the result; NULL if
 * the text is not valid JSON (or ENOMEM).
 */
cJSON *jsonread_parse(const char *s, size_t n);

#endif
