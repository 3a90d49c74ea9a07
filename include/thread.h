/*
 * thread.h - helper threads (the parse worker, the netlink drain, the
 * forwarder's body builder): CPU-only work handed off the loop's thread.
 *
 * A helper never sees a signal (they are the loop's business) and holds
 * no capability: capabilities are per thread, so one started before
 * privileges are dropped would otherwise keep them all.
 *
 * Identity and threads: glibc makes every thread run setresuid(2),
 * setresgid(2) and setgroups(2) when one thread calls them, and aborts
 * the process if one cannot (a helper, holding no CAP_SETUID). So the
 * daemon holds helpers back (thread_hold) until its identity is final
 * (priv_drop) and then lets them start (thread_release).
 *
 * Which helpers run is thread_plan.h's to say. Hand work to one through
 * worker.h (jobs in order, a completion eventfd) or, for bytes from a
 * producer that must never wait, ring.h (byte-bounded, dropping or
 * waiting when full), rather than another mutex/condvar/eventfd trio.
 */
#ifndef PODTRAIL_THREAD_H
#define PODTRAIL_THREAD_H

#include <pthread.h>

/*
 * Start fn(arg) as a helper. 0, or -1 (logged, naming what; EAGAIN
 * while helpers are held back: a start-up order bug, see above).
 */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg,
    const char *what);
/* From now on thread_start refuses, until thread_release. */
void thread_hold(void);
/* Helpers may start (the default). */
void thread_release(void);
/* 1 if thread_start may start a helper now, else 0: lazy starters wait. */
int thread_allowed(void);

#endif
