/*
 * thread.h - helper threads (the chain's sealer, the forwarder's body
 * builder): CPU-only work handed off the loop's thread.
 *
 * A helper never sees a signal (they are the loop's business) and holds
 * no capability: capabilities are per thread, so one started before
 * privileges are dropped would otherwise keep them all.
 */
#ifndef PODTRAIL_THREAD_H
#define PODTRAIL_THREAD_H

#include <pthread.h>

/* Start fn(arg) as a helper. 0, or -1 (logged, naming what). */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg,
    const char *what);

#endif
