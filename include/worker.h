/*
 * worker.h - the one way work crosses to a helper thread and back: a
 * bounded queue of jobs run in order by one helper, and a completion
 * eventfd the owner's poll loop watches to collect finished jobs, in
 * the order they were submitted.
 *
 * The code that does the work (parsing, sealing, building a body) is a
 * plain function on a job and knows nothing about threads. Whether a
 * helper runs it is thread_plan.h's decision, passed to worker_new.
 * Without one (threads off, or helpers not yet allowed, see thread.h)
 * worker_submit runs the job at once on the caller's thread and it is
 * collected the same way, so callers have one code path.
 *
 * Single owner: submit, collect, sync and free are called from one
 * thread (the loop's). Jobs belong to the owner; the worker only holds
 * the pointer from submit until the owner collects it.
 */
#ifndef PODTRAIL_WORKER_H
#define PODTRAIL_WORKER_H

#include <stddef.h>

struct worker;

/* run one job on the helper (or inline); arg is worker_new's */
typedef void worker_run_fn(void *job, void *arg);

/*
 * A worker for name (in logs) holding at most depth jobs between
 * submit and collect. threads: 1 to use a helper thread when
 * thread_allowed(), 0 to always run inline, WORKER_WHEN_ASKED as 1
 * but only while worker_use_helper turned it on. NULL on failure
 * (logged). The helper starts on the first submit that uses it.
 */
#define WORKER_WHEN_ASKED 2
struct worker *worker_new(const char *name, size_t depth, int threads,
    worker_run_fn *run, void *arg);

/*
 * Queue job: 0, or -1 with errno EAGAIN when depth jobs are outstanding
 * (submitted, not collected). A job run inline is finished when this
 * returns. Backpressure: on EAGAIN, worker_wait, collect, submit again.
 */
int worker_submit(struct worker *w, void *job);

/* Wait until the oldest outstanding job has finished (none: at once). */
void worker_wait(struct worker *w);

/*
 * The oldest finished job, or NULL when the oldest is still running or
 * none is outstanding. Collect until NULL after worker_fd polls
 * readable (it is reset here).
 */
void *worker_collect(struct worker *w);

/*
 * Collect every outstanding job in order, waiting for those still
 * running, and pass each to done; jobs that done submits are waited for
 * too. For an owner that may go on only when nothing is out.
 */
void worker_finish(struct worker *w, void (*done)(void *job, void *arg),
    void *arg);

/* Wait until every submitted job has finished (not collected). */
void worker_sync(struct worker *w);

/* Jobs submitted and not yet collected. */
size_t worker_pending(const struct worker *w);

/* Readable when a finished job waits to be collected. */
int worker_fd(const struct worker *w);

/* 1 if jobs run on a helper thread now, 0 if inline. */
int worker_threaded(const struct worker *w);

/*
 * For a WORKER_WHEN_ASKED worker (others ignore it): on 1, jobs run on
 * the helper, started on the next submit if allowed; on 0 (the start),
 * a job submitted while none is outstanding runs inline. For an owner
 * that wants the helper only while it is behind.
 */
void worker_use_helper(struct worker *w, int on);

/*
 * Finish the jobs in flight, stop and join the helper, close the fd.
 * Jobs not collected are passed to drop (if not NULL) in order. NULL
 * is fine.
 */
void worker_free(struct worker *w, void (*drop)(void *job, void *arg));

#endif
