/*
 * fwd_body.h - the forwarder's CPU work, done off the loop when a
 * helper can (worker.h): a sealed batch compressed to the gzip member
 * that is spooled, and a spooled segment made into a request body in
 * the payload format. Plain functions on a job; no threads here.
 *
 * A job belongs to its owner, who fills the inputs, runs it (or has a
 * worker run it) and reads the outputs; while it runs nothing else
 * touches it or its gzip handle.
 */
#ifndef PODTRAIL_FWD_BODY_H
#define PODTRAIL_FWD_BODY_H

#include <stddef.h>

#include "buf.h"
#include "fwd_format.h"
#include "gzip.h"

enum fwd_body_kind {
	FWD_BODY_SEAL,		/* zraw -> zgz */
	FWD_BODY_REQUEST,	/* raw -> body (and sel) */
};

struct fwd_body {
	enum fwd_body_kind kind;
	/* out: 0, -1 (no memory: retry) or -2 (raw is not a valid segment) */
	int rc;
	struct gzip *gz;			/* borrowed */
	const struct fwd_format *fmt;		/* borrowed */
	/* SEAL: a batch's NDJSON lines -> one gzip member */
	struct buf zraw, zgz;
	/* REQUEST: a segment as spooled (gzip or plain NDJSON) -> a body */
	struct buf raw, body;
	/* in: send lines [part_off, part_off + part_n) only (after a 413) */
	int in_parts;
	size_t part_off, part_n;
	/* out: the lines the body holds, until the answer (dead letters) */
	struct buf sel;
	size_t part_total, part_sent;	/* out: lines in raw, in the body */
	struct buf plain, fmtbuf;	/* scratch */
};

/* Do job b's work; the result is in b->rc. */
void fwd_body_run(struct fwd_body *b);
/* Give back b's buffers (not gz or fmt). */
void fwd_body_free(struct fwd_body *b);

/* "seq" of a serialized event (the chain appends it near the end), or 0. */
unsigned long long fwd_body_line_seq(const char *line, size_t len);
/* Bytes of the line at p (up to end), without its newline. */
size_t fwd_body_line_len(const char *p, const char *end);
/* Non-empty lines in b. */
size_t fwd_body_count_lines(const struct buf *b);
/*
 * Non-empty lines [off, off + n) of nd (n 0: to the end), each ended
 * by a newline -> out (reset first). 0, or -1 (ENOMEM).
 */
int fwd_body_select_lines(const struct buf *nd, size_t off, size_t n,
    struct buf *out);

/*
 * The lines of sel whose items[i] is FWD_ITEM_DEAD (all when items is
 * NULL) -> out (reset first), with their lowest and highest seq. How
 * many (fewer when memory runs out).
 */
size_t fwd_body_pick_lines(const struct buf *sel, const enum fwd_item *items,
    struct buf *out, unsigned long long *first, unsigned long long *last);

#endif
