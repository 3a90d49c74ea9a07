/*
 * thread.h - helper threads (the chain's sealer, the forwarder's body
 * builder): CPU-only work handed off the loop's thread.
 *
 * A helper never sees a signal (they are the loop's business) and holds
 * no capability: capabilities are per thread, so one started before
 * privileges are dropped would otherwise keep them all. Start helpers
 * once privileges are final (after the uid switch): source_start.
 *
 * Hand work between threads through ring.h (a byte-bounded queue with
 * an eventfd for the consumer's poll loop, dropping or waiting when
 * full) rather than another hand-written mutex/condvar/eventfd trio.
 */
#ifndef PODTRAIL_THREAD_H
#define PODTRAIL_THREAD_H

#include <pthread.h>

/* Start fn(arg) as a helper. 0, or -1 (logged, naming what). */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg,
    const char *what);

#endif
