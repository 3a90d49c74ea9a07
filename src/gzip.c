/* gzip.c - whole-buffer gzip members for batches and spool segments. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#include <zlib.h>

#include "buf.h"
#include "gzip.h"

struct gzip {
#ifdef HAVE_LIBDEFLATE
	struct libdeflate_compressor *gz;
	struct libdeflate_decompressor *gunz;
#else
	z_stream z, zi;
	int z_ready, zi_ready;
#endif
};

struct gzip *
gzip_new(void)
{
	return calloc(1, sizeof(struct gzip));
}

int
gzip_is_member(const struct buf *b)
{
	return b->len >= 18 && (unsigned char)b->data[0] == 0x1f &&
	    (unsigned char)b->data[1] == 0x8b;
}

/* The uncompressed size a gzip member's trailer claims (mod 2^32). */
static size_t
gzip_isize(const struct buf *b)
{
	const unsigned char *t = (const unsigned char *)b->data + b->len - 4;

	return (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
	    (size_t)t[3] << 24;
}

#ifdef HAVE_LIBDEFLATE
int
gzip_compress(struct gzip *g, const struct buf *in, struct buf *out)
{
	size_t n;

	buf_reset(out);
	/*
	 * Level 1, whole batch at once: deflate was ~11% of the live path
	 * with zlib (perf); libdeflate takes about half that.
	 */
	if (g->gz == NULL && (g->gz = libdeflate_alloc_compressor(1)) == NULL)
		return -1;
	if (buf_reserve(out, libdeflate_gzip_compress_bound(g->gz,
	    in->len)) == -1)
		return -1;
	if ((n = libdeflate_gzip_compress(g->gz, in->data, in->len,
	    out->data, out->cap - 1)) == 0)
		return -1;
	out->len = n;
	return 0;
}

int
gzip_decompress(struct gzip *g, const struct buf *in, struct buf *out)
{
	size_t n, got;

	buf_reset(out);
	if (!gzip_is_member(in) || (n = gzip_isize(in)) > GZIP_PLAIN_MAX)
		return -2;
	if (g->gunz == NULL &&
	    (g->gunz = libdeflate_alloc_decompressor()) == NULL)
		return -1;
	if (buf_reserve(out, n + 1) == -1)
		return -1;
	if (libdeflate_gzip_decompress(g->gunz, in->data, in->len, out->data,
	    n, &got) != LIBDEFLATE_SUCCESS || got != n)
		return -2;
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

void
gzip_free(struct gzip *g)
{
	if (g == NULL)
		return;
	libdeflate_free_compressor(g->gz);
	libdeflate_free_decompressor(g->gunz);
	free(g);
}
#else
int
gzip_compress(struct gzip *g, const struct buf *in, struct buf *out)
{
	z_stream *z = &g->z;
	int rc;

	buf_reset(out);
	/*
	 * Level 1: at level 6 deflate was ~15% of podtrail's CPU under
	 * load (perf); repetitive JSON still shrinks several-fold.
	 */
	if (!g->z_ready) {
		memset(z, 0, sizeof(*z));
		if (deflateInit2(z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		g->z_ready = 1;
	} else if (deflateReset(z) != Z_OK) {
		return -1;
	}
	if (buf_reserve(out, deflateBound(z, in->len)) == -1)
		return -1;
	z->next_in = (Bytef *)in->data;
	z->avail_in = (uInt)in->len;
	z->next_out = (Bytef *)out->data;
	z->avail_out = (uInt)(out->cap - 1);
	rc = deflate(z, Z_FINISH);
	out->len = z->total_out;
	return rc == Z_STREAM_END ? 0 : -1;
}

int
gzip_decompress(struct gzip *g, const struct buf *in, struct buf *out)
{
	z_stream *z = &g->zi;
	size_t n;
	int rc;

	buf_reset(out);
	if (!gzip_is_member(in) || (n = gzip_isize(in)) > GZIP_PLAIN_MAX)
		return -2;
	if (!g->zi_ready) {
		memset(z, 0, sizeof(*z));
		if (inflateInit2(z, 15 + 16) != Z_OK)
			return -1;
		g->zi_ready = 1;
	} else if (inflateReset(z) != Z_OK) {
		return -1;
	}
	if (buf_reserve(out, n + 1) == -1)
		return -1;
	z->next_in = (Bytef *)in->data;
	z->avail_in = (uInt)in->len;
	z->next_out = (Bytef *)out->data;
	z->avail_out = (uInt)n + 1;
	rc = inflate(z, Z_FINISH);
	if (rc == Z_MEM_ERROR)
		return -1;
	if (rc != Z_STREAM_END || z->total_out != n)
		return -2;
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

void
gzip_free(struct gzip *g)
{
	if (g == NULL)
		return;
	if (g->z_ready)
		deflateEnd(&g->z);
	if (g->zi_ready)
		inflateEnd(&g->zi);
	free(g);
}
#endif
