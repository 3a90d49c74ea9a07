/*
 * spool.h - batches waiting to be sent, as fsync'd segment files in
 * STATE_DIR/spool, oldest first. Every sealed batch goes through the
 * spool before it is sent (write-ahead), so a crash loses at most the
 * batch still being built. A size cap and a free-disk floor bound it:
 * past them the oldest segments are dropped and reported as a loss.
 * Batches the aggregator refuses go to STATE_DIR/dead.
 */
#ifndef PODTRAIL_SPOOL_H
#define PODTRAIL_SPOOL_H

#include <stddef.h>

#include "buf.h"

struct spool;

/* What was dropped to keep within the cap / floor (accumulates). */
struct spool_loss {
	unsigned long long events, bytes, segments;
	unsigned long long first_seq, last_seq;	/* 0 when unknown */
};

/* A segment's description. */
struct spool_seg {
	unsigned long long id, first_seq, last_seq;
	unsigned long long events;
	size_t bytes;
};

/*
 * Open (creating 0700) STATE_DIR/spool and STATE_DIR/dead and index
 * what is already there. NULL on failure (logged).
 */
struct spool *spool_open(const char *state_dir, long long max_bytes,
    long long min_free);
/*
 * Store one batch durably (written, fsync'd, renamed into place). Older
 * segments (never the one being sent) are dropped first if needed, and
 * the drop is added to *loss; if the batch itself cannot be kept it is
 * added to *loss too. 0 when stored, -1 when not (logged).
 */
int spool_append(struct spool *s, const char *data, size_t len,
    unsigned long long first_seq, unsigned long long last_seq,
    unsigned long long events, struct spool_loss *loss);
/*
 * Read the oldest segment into data (reset first) and pin it so it is
 * not dropped while being sent. 1 if one was read, 0 if the spool is
 * empty, -1 on error (logged; the segment is set aside).
 */
int spool_peek(struct spool *s, struct buf *data, struct spool_seg *seg);
/*
 * Read the oldest segment whose id is above after (0: the oldest), for
 * an output with several batches in flight; nothing is pinned. 1 if
 * one was read, 0 if there is none, -1 on error (logged; set aside).
 */
int spool_next(struct spool *s, unsigned long long after, struct buf *data,
    struct spool_seg *seg);
/*
 * spool_peek without the read, for a caller that still holds the oldest
 * segment's bytes (it has just appended it). 1 pinned, 0 empty.
 */
int spool_pin_oldest(struct spool *s, struct spool_seg *seg);
/* The pinned segment may be dropped again (its send failed). */
void spool_unpin(struct spool *s);
/* Delete a segment that was delivered. 0 or -1 (logged). */
int spool_remove(struct spool *s, unsigned long long id);
/* Move a refused segment to the dead-letter directory. 0 or -1 (logged). */
int spool_dead(struct spool *s, unsigned long long id);
/*
 * Write part of a batch (lines the aggregator refused one by one) to
 * the dead-letter directory as a segment of its own. 0 or -1 (logged).
 */
int spool_dead_add(struct spool *s, const char *data, size_t len,
    unsigned long long first_seq, unsigned long long last_seq,
    unsigned long long events);
/*
 * Move every dead letter back into the spool, oldest first, behind
 * what is spooled; *segs and *events say how many. 0, or -1 (logged;
 * what was moved stays moved).
 */
int spool_requeue_dead(struct spool *s, unsigned long long *segs,
    unsigned long long *events);
/*
 * The batch being built, kept durable against a process crash (kill -9,
 * the OOM killer) as it grows: lines are appended with plain writes to
 * an open segment, STATE_DIR/spool/open-ID.ndjson (the page cache
 * outlives the process; a power loss can still take it: no fsync).
 *
 * Append len bytes (whole lines) to the open segment, creating it if
 * there is none. 0, or -1 (logged, rate-limited; the batch is still
 * sealed and spooled as usual, only its crash copy is incomplete).
 */
int spool_seg_append(struct spool *s, const char *data, size_t len);
/*
 * The batch is sealed: close its open segment (kept until
 * spool_seg_done) and return its id, 0 if there was none. The next
 * append starts a new one.
 */
unsigned long long spool_seg_seal(struct spool *s);
/*
 * spool_seg_append for a batch that grows in place: append what batch
 * gained since *kept (its bytes already in the open segment) and
 * advance *kept; after a failed append *kept is (size_t)-1 and the
 * batch gets no more (no half lines). Reset *kept to 0 at a seal.
 */
void spool_seg_keep(struct spool *s, const struct buf *batch, size_t *kept);
/* The sealed batch id is spooled (or reported lost): remove its open segment. */
void spool_seg_done(struct spool *s, unsigned long long id);
/*
 * spool_append of a sealed batch whose crash copy is the open segment
 * open_id (0: none), then spool_seg_done: the copy goes once the batch
 * is stored or counted lost in *loss. 0 stored, -1 not (logged).
 */
int spool_append_sealed(struct spool *s, const struct buf *data,
    unsigned long long open_id, unsigned long long first_seq,
    unsigned long long last_seq, unsigned long long events,
    struct spool_loss *loss);
/*
 * At start, before sending: turn open segments a crash left into
 * plain NDJSON segments after every sealed one, oldest first, a cut
 * last line dropped; seq(line, len) gives a line's chain seq (0 if
 * none). Returns how many events were recovered, -1 on error (logged).
 */
long long spool_seg_recover(struct spool *s,
    unsigned long long (*seq)(const char *line, size_t len));
/* The id the next segment appended will have (ids only grow). */
unsigned long long spool_next_id(const struct spool *s);
/* Segments and bytes currently spooled. */
size_t spool_segments(const struct spool *s);
unsigned long long spool_bytes(const struct spool *s);
void spool_close(struct spool *s);

#endif
