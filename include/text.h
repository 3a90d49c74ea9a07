/*
 * text.h - turning the kernel's field encodings into valid UTF-8.
 *
 * The kernel writes an untrusted string either quoted ("...", bytes
 * verbatim) or, when it holds a space, quote, control or non-ASCII
 * byte, as bare upper-case hex. podtrail decodes both and then applies
 * one lossless escape so the result is always valid UTF-8:
 *   - a backslash is written as two backslashes;
 *   - a NUL byte, and every byte that is not part of a valid UTF-8
 *     sequence, is written as \xHH (two lower-case hex digits);
 *   - everything else is copied unchanged.
 * Undo it by replacing "\\" with "\" and "\xHH" with the byte HH.
 */
#ifndef PODTRAIL_TEXT_H
#define PODTRAIL_TEXT_H

#include <stddef.h>

#include "buf.h"

/* True if s[0..n) is non-empty, even-length, upper- or lower-case hex. */
int text_is_hex(const char *s, size_t n);
/* Append the bytes that hex s[0..n) encodes. 0, or -1 on bad hex/ENOMEM. */
int text_unhex(struct buf *out, const char *s, size_t n);
/*
 * Decode a raw field value as the kernel wrote it: strip quotes, or
 * decode hex when may_hex is set and the value is bare hex. Appends
 * raw bytes (possibly with NULs) to out. 0, or -1 (ENOMEM).
 */
int text_decode(struct buf *out, const char *raw, int may_hex);
/* Append p[0..n) to out with the lossless escape above. 0 or -1. */
int text_escape(struct buf *out, const char *p, size_t n);
/* Is s[0..n) a JSON integer (-?(0|[1-9][0-9]*)) of at most 20 digits? */
int text_is_int(const char *s, size_t n);

#endif
