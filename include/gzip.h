/*
 * gzip.h - one gzip member per buffer, with a compressor and a
 * decompressor kept per handle (no 270 KB churn per batch): libdeflate
 * when built with it (about twice zlib's speed), zlib otherwise.
 * A handle is used by one thread at a time.
 */
#ifndef PODTRAIL_GZIP_H
#define PODTRAIL_GZIP_H

#include <stddef.h>

#include "buf.h"

/* a member's text may not claim more (batch_bytes <= 1 GiB) */
#define GZIP_PLAIN_MAX ((size_t)1 << 31)

struct gzip;

/* A handle; its (de)compressor is made at first use. NULL on ENOMEM. */
struct gzip *gzip_new(void);
/* in -> one gzip member (level 1) in out (reset first). 0, or -1 (ENOMEM). */
int gzip_compress(struct gzip *g, const struct buf *in, struct buf *out);
/*
 * One gzip member -> out (reset first, NUL-terminated). 0, -1 (no
 * memory) or -2 (not valid gzip, or larger than GZIP_PLAIN_MAX).
 */
int gzip_decompress(struct gzip *g, const struct buf *in, struct buf *out);
/* Does b start like a gzip member (what podtrail spools), not plain text? */
int gzip_is_member(const struct buf *b);
/* Release the handle (NULL is fine). */
void gzip_free(struct gzip *g);

#endif
