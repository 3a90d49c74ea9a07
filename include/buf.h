/* buf.h - a growable byte buffer, always NUL-terminated. */
#ifndef PODTRAIL_BUF_H
#define PODTRAIL_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated; NULL until the first append */
	size_t len;	/* bytes used, excluding the NUL */
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* buf_reserve's slow path: reallocate. */
int buf_grow(struct buf *b, size_t n);

/*
 * Make room for n more bytes. 0, or -1 with errno ENOMEM. Inline: it
 * runs for every string written, and there is room almost always.
 */
static inline int
buf_reserve(struct buf *b, size_t n)
{
	if (n < b->cap && b->len < b->cap - n)
		return 0;
	return buf_grow(b, n);
}

/* Append bytes / a string / formatted text. 0, or -1 (ENOMEM). */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
/* buf_addc for hot loops: inline when there is room. */
static inline int
buf_putc(struct buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_addc(b, c);
}
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the memory. */
void buf_reset(struct buf *b);
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Exchange two buffers' contents (no copy). */
static inline void
buf_swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}
/* Release the memory; the buffer can be used again afterwards. */
void buf_free(struct buf *b);

#endif
