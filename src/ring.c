/*
 * ring.c - a byte-bounded single-producer single-consumer record queue.
 *
 * One mutex guards the offsets and the producer's copy (a lock and a
 * 300-byte copy cost tens of ns; a record costs microseconds to parse);
 * the consumer reads a record outside it, since the records between
 * head and tail are the consumer's until ring_done. The consumer takes
 * the lock once per batch, not twice per record: it learns how many
 * bytes are there (c_avail) and gives back what it read (c_done) in one
 * go, at once only while the ring is half full or the producer waits
 * (taking it per record, the two threads met on the lock and each
 * meeting cost a futex wake-up). A record that does
 * not fit before the end starts again at offset 0 (wrap marks where
 * the older records end). A backlog that never quite empties cycles
 * through the whole bound, so all of it can become resident. The eventfd is written only when the consumer
 * has found the ring empty, so a busy consumer costs the producer no
 * syscall.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define HDR 8
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct hdr {
	uint32_t len;
	uint32_t tag;
};

struct ring {
	char *mem;
	size_t cap;
	pthread_mutex_t mu;
	pthread_cond_t room;		/* a producer waits for room */
	size_t head, tail, used;	/* set under mu; used: record bytes */
	size_t wrap;			/* older records end here, 0: none */
	size_t peak, touched;		/* under mu */
	long long deep_ms;		/* last put above RING_KEEP (under mu) */
	/* the consumer's own: */
	size_t held;			/* bytes of the record out */
	size_t c_head;			/* where it reads */
	size_t c_wrap;			/* the wrap it has yet to pass, 0: none */
	size_t c_avail;			/* bytes put that it has not read */
	size_t c_done;			/* bytes read, not given back yet */
	size_t c_give;			/* give back once c_done is this large */
	int c_crossed;			/* it passed the wrap since giving back */
	int waiting;			/* consumer found it empty (under mu) */
	int wants_room;			/* producer waits (set under mu) */
	int shut;			/* under mu */
	int efd;
};

struct ring *
ring_new(size_t bytes)
{
	struct ring *r = calloc(1, sizeof(*r));
	long pg = sysconf(_SC_PAGESIZE);

	if (r == NULL)
		return NULL;
	if (bytes < 65536)
		bytes = 65536;
	r->cap = (bytes + (size_t)pg - 1) & ~((size_t)pg - 1);
	r->efd = -1;
	r->mem = mmap(NULL, r->cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		goto err;
	}
	if ((r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto err;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->room, NULL);
	r->waiting = 1;
	r->c_give = r->cap / 8 < 65536 ? r->cap / 8 : 65536;
	return r;
err:
	ring_free(r);
	return NULL;
}

void
ring_free(struct ring *r)
{
	int e = errno;

	if (r == NULL)
		return;
	if (r->efd != -1) {
		close(r->efd);
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->room);
	}
	if (r->mem)
		munmap(r->mem, r->cap);
	free(r);
	errno = e;
}

/* A cheap clock (vDSO, ~4 ms resolution): it only spaces page releases. */
static long long
coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where a record of need bytes goes, or -1 if there is no room (mu held). */
static ssize_t
place(struct ring *r, size_t need)
{
	if (r->used == 0)
		r->head = r->tail = r->wrap = 0;
	if (r->wrap)	/* records in [head, wrap) and [0, tail) */
		return r->head - r->tail >= need ? (ssize_t)r->tail : -1;
	/*
	 * Records in [head, tail): the end, else the front. (Going back to
	 * the front early, to keep fewer pages resident, capped the ring
	 * at the front's free room: records lost at 4 MiB. Not done.)
	 */
	if (r->cap - r->tail >= need)
		return (ssize_t)r->tail;
	if (r->head < need)
		return -1;
	r->wrap = r->tail;
	r->tail = 0;
	return 0;
}

static int
put(struct ring *r, unsigned int tag, const void *data, size_t len, int wait)
{
	size_t need = HDR + ALIGN8(len);
	struct hdr h = { (uint32_t)len, tag };
	ssize_t at = -1;
	int wake;

	if (tag >= RING_TAG_MAX || need > r->cap / 2 || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->shut && (at = place(r, need)) == -1) {
		if (!wait) {
			pthread_mutex_unlock(&r->mu);
			errno = EAGAIN;
			return -1;
		}
		__atomic_store_n(&r->wants_room, 1, __ATOMIC_RELAXED);
		pthread_cond_wait(&r->room, &r->mu);
	}
	if (r->shut) {
		pthread_mutex_unlock(&r->mu);
		errno = EPIPE;
		return -1;
	}
	/* copied under the lock: an empty ring may be reset or trimmed */
	memcpy(r->mem + at, &h, sizeof(h));
	memcpy(r->mem + at + HDR, data, len);
	r->tail = (size_t)at + need;
	__atomic_store_n(&r->used, r->used + need, __ATOMIC_RELAXED);
	if (r->used > r->peak)
		r->peak = r->used;
	if (r->tail > r->touched)
		r->touched = r->tail;
	if (r->tail > RING_KEEP)
		r->deep_ms = coarse_ms();
	wake = r->waiting;
	r->waiting = 0;
	pthread_mutex_unlock(&r->mu);
	if (wake) {
		uint64_t one = 1;

		/* cannot fail short of a counter overflow */
		(void)!write(r->efd, &one, sizeof(one));
	}
	return 0;
}

int
ring_put(struct ring *r, unsigned int tag, const void *data, size_t len)
{
	return put(r, tag, data, len, 0);
}

int
ring_put_wait(struct ring *r, unsigned int tag, const void *data, size_t len)
{
	return put(r, tag, data, len, 1);
}

void
ring_shutdown(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->shut = 1;
	pthread_cond_broadcast(&r->room);
	pthread_mutex_unlock(&r->mu);
}

/*
 * The ring is empty: arm the eventfd, and give back a backlog's pages
 * once no backlog has reached past RING_KEEP for RING_IDLE_MS. Under a
 * storm the ring empties and refills many times a second: releasing at
 * every empty made the producer fault the same pages in again each time.
 */
static void
went_empty(struct ring *r)
{
	uint64_t v;

	(void)!read(r->efd, &v, sizeof(v));
	r->waiting = 1;
	r->head = r->tail = r->wrap = 0;
	if (r->touched > RING_KEEP &&
	    coarse_ms() - r->deep_ms >= RING_IDLE_MS) {
		/* nothing is held: the pages above RING_KEEP are free */
		(void)madvise(r->mem + RING_KEEP, r->touched - RING_KEEP,
		    MADV_DONTNEED);
		r->touched = RING_KEEP;
	}
}

/* Give back what the consumer has read (mu held). */
static void
give_back(struct ring *r)
{
	if (r->c_done == 0)
		return;
	__atomic_store_n(&r->used, r->used - r->c_done, __ATOMIC_RELAXED);
	r->c_done = 0;
	if (r->c_crossed) {
		/* the producer sets no wrap while one is set */
		r->wrap = 0;
		r->c_crossed = 0;
	}
	r->head = r->c_head;
	if (r->wrap && r->head == r->wrap) {
		/* the older records are done: the rest starts at the front */
		r->head = 0;
		r->wrap = 0;
	}
	if (r->wants_room) {
		__atomic_store_n(&r->wants_room, 0, __ATOMIC_RELAXED);
		pthread_cond_signal(&r->room);
	}
}

int
ring_get(struct ring *r, unsigned int *tag, const char **data, size_t *len)
{
	struct hdr h;

	if (r->c_avail == 0) {
		pthread_mutex_lock(&r->mu);
		give_back(r);
		if (r->used == 0) {
			went_empty(r);
			pthread_mutex_unlock(&r->mu);
			return 0;
		}
		/* what was put before the unlock is ours to read */
		r->c_head = r->head;
		r->c_wrap = r->wrap;
		r->c_avail = r->used;
		pthread_mutex_unlock(&r->mu);
	}
	memcpy(&h, r->mem + r->c_head, sizeof(h));
	*tag = h.tag;
	*len = h.len;
	*data = r->mem + r->c_head + HDR;
	r->held = HDR + ALIGN8((size_t)h.len);
	return 1;
}

void
ring_done(struct ring *r)
{
	r->c_head += r->held;
	r->c_avail -= r->held;
	r->c_done += r->held;
	r->held = 0;
	if (r->c_wrap && r->c_head == r->c_wrap) {
		r->c_head = 0;
		r->c_wrap = 0;
		r->c_crossed = 1;
	}
	/* the producer may be short of room: give it back now */
	if (r->c_done >= r->c_give ||
	    __atomic_load_n(&r->used, __ATOMIC_RELAXED) >= r->cap / 2 ||
	    __atomic_load_n(&r->wants_room, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&r->mu);
		give_back(r);
		pthread_mutex_unlock(&r->mu);
	}
}

int
ring_fd(const struct ring *r)
{
	return r->efd;
}

/* One of the counters, read under the lock. */
static size_t
read_locked(struct ring *r, const size_t *v)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = *v;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* The consumer's view: what it has read is no longer held. */
size_t
ring_used(struct ring *r)
{
	return read_locked(r, &r->used) - r->c_done;
}

size_t
ring_peak(struct ring *r)
{
	return read_locked(r, &r->peak);
}

size_t
ring_size(const struct ring *r)
{
	return r->cap;
}
