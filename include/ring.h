/*
 * ring.h - the hand-off between two threads: a bounded queue of
 * variable-length records, one producer and one consumer, with an
 * eventfd the consumer's poll loop watches.
 *
 * Bounded in bytes, not in records: a record costs its length plus an
 * 8-byte header (rounded up to 8), so a small audit record held here
 * costs ~300 bytes where the kernel's socket buffer charged ~1 KiB of
 * skb. Memory is reserved (mmap) at the bound but only the pages a
 * backlog reaches become resident, and those above RING_KEEP are given
 * back when the consumer empties the ring after RING_IDLE_MS without a
 * backlog that deep.
 *
 * The producer either drops what does not fit (ring_put: a reader that
 * must never wait) or waits for room (ring_put_wait: backpressure).
 * The consumer reads records in place (ring_get .. ring_done), outside
 * the lock: a slow consumer never stalls the producer beyond the bound.
 */
#ifndef PODTRAIL_RING_H
#define PODTRAIL_RING_H

#include <stddef.h>

/* resident memory kept after a backlog drains (refaulting it cost the
 * drain ~10% of its CPU at 1 MiB) */
#define RING_KEEP ((size_t)4 << 20)
/* ... and the pages above it are given back once the ring has stayed
 * within RING_KEEP this long */
#define RING_IDLE_MS 2000
/* tags at and above this are the ring's own */
#define RING_TAG_MAX 0xfffffff0u

struct ring;

/*
 * A ring holding at most bytes (rounded up to pages, at least 64 KiB).
 * NULL on failure (errno: ENOMEM, EMFILE for the eventfd).
 */
struct ring *ring_new(size_t bytes);
/* Unmap and close; the caller has joined the producer. NULL is fine. */
void ring_free(struct ring *r);

/*
 * Producer: append one record (tag < RING_TAG_MAX, len bytes). 0, or -1
 * with errno EAGAIN (no room now), EMSGSIZE (could never fit) or EPIPE
 * (ring_shutdown was called). Wakes a consumer that found it empty.
 */
int ring_put(struct ring *r, unsigned int tag, const void *data,
    size_t len);
/* ring_put, waiting for room while there is none. Same returns, no EAGAIN. */
int ring_put_wait(struct ring *r, unsigned int tag, const void *data,
    size_t len);
/* Make puts fail with EPIPE and release a producer waiting for room. */
void ring_shutdown(struct ring *r);

/*
 * Consumer: the oldest record, in place (*data valid until ring_done).
 * 1 if there is one, 0 if the ring is empty: ring_fd then becomes
 * readable when a record is put. Stopping early with records left is
 * fine: ring_fd stays readable.
 */
int ring_get(struct ring *r, unsigned int *tag, const char **data,
    size_t *len);
/*
 * Release the record ring_get returned. Its room goes back to the
 * producer in batches, at once while the ring is half full or the
 * producer waits for room.
 */
void ring_done(struct ring *r);
/* Readable (POLLIN) while records wait that the consumer has not seen. */
int ring_fd(const struct ring *r);

/* Bytes held now (records not yet released), the most ever held, and
 * the bound. ring_used is the consumer's to call. */
size_t ring_used(struct ring *r);
size_t ring_peak(struct ring *r);
size_t ring_size(const struct ring *r);

#endif
