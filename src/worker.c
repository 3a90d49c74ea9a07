/*
 * worker.c - jobs run in order by one helper thread (or inline), and
 * collected in the same order on the owner's thread.
 *
 * Outstanding jobs sit in a circular array of depth slots: [head,
 * head + n) are submitted and not collected, and the first fin of them
 * are finished. The helper runs slot head + fin; the owner collects
 * slot head. One mutex guards the indices; jobs run outside it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "thread.h"
#include "worker.h"

struct worker {
	char name[32];
	worker_run_fn *run;
	void *arg;
	int want_thread;
	int when_asked;		/* WORKER_WHEN_ASKED */
	int use;		/* 0: the owner runs jobs while none is out */
	int started;		/* the helper runs (owner's view) */
	int stop;		/* under mu: finish the queue, then exit */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* to the helper: a job, or stop */
	pthread_cond_t done;	/* to the owner: a job finished */
	void **slot;
	size_t depth, head, n, fin;
	int efd;
};

static void
signal_fd(int fd)
{
	uint64_t one = 1;

	/* only fails when the counter would overflow: still readable */
	(void)!write(fd, &one, sizeof(one));
}

static void *
helper(void *p)
{
	struct worker *w = p;
	void *job;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->fin == w->n && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->fin == w->n)
			break;	/* stopping, and nothing is left to run */
		job = w->slot[(w->head + w->fin) % w->depth];
		pthread_mutex_unlock(&w->mu);
		w->run(job, w->arg);
		pthread_mutex_lock(&w->mu);
		w->fin++;
		pthread_cond_signal(&w->done);
		signal_fd(w->efd);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct worker *
worker_new(const char *name, size_t depth, int threads, worker_run_fn *run,
    void *arg)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->slot = calloc(depth ? depth : 1, sizeof(*w->slot))) == NULL) {
		log_warn("%s worker", name);
		free(w);
		return NULL;
	}
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("%s worker: eventfd", name);
		free(w->slot);
		free(w);
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->depth = depth ? depth : 1;
	w->want_thread = threads;
	w->when_asked = threads == WORKER_WHEN_ASKED;
	w->use = !w->when_asked;
	w->run = run;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	return w;
}

/* Start the helper when it is wanted and allowed; until then, inline. */
static void
maybe_start(struct worker *w)
{
	if (w->started || !w->want_thread || !thread_allowed())
		return;
	if (thread_start(&w->thread, helper, w, w->name) == 0)
		w->started = 1;
	else
		w->want_thread = 0;	/* logged: inline from now on */
}

int
worker_submit(struct worker *w, void *job)
{
	if (w->n == w->depth) {
		errno = EAGAIN;
		return -1;
	}
	if (w->use)
		maybe_start(w);
	if (!w->started || (!w->use && w->n == 0)) {
		/* nothing is out: the helper, if any, waits and reads none */
		w->run(job, w->arg);
		if (w->started)
			pthread_mutex_lock(&w->mu);
		w->slot[(w->head + w->n) % w->depth] = job;
		w->n++;
		w->fin++;
		if (w->started)
			pthread_mutex_unlock(&w->mu);
		signal_fd(w->efd);
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	w->slot[(w->head + w->n) % w->depth] = job;
	w->n++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
worker_wait(struct worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->n > 0 && w->fin == 0)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
worker_finish(struct worker *w, void (*done)(void *job, void *arg),
    void *arg)
{
	void *job;

	while (worker_pending(w)) {
		worker_wait(w);
		while ((job = worker_collect(w)) != NULL)
			done(job, arg);
	}
}

void
worker_sync(struct worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->fin < w->n)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

/* The oldest job if it has finished, under mu when the helper runs. */
static void *
pop(struct worker *w)
{
	void *job = NULL;

	if (w->started)
		pthread_mutex_lock(&w->mu);
	if (w->fin > 0) {
		job = w->slot[w->head];
		w->head = (w->head + 1) % w->depth;
		w->n--;
		w->fin--;
	}
	if (w->started)
		pthread_mutex_unlock(&w->mu);
	return job;
}

void *
worker_collect(struct worker *w)
{
	uint64_t v;
	void *job;

	if ((job = pop(w)) != NULL)
		return job;
	/*
	 * Reset the fd, then look again: a job finished after the first
	 * look is found now, one finished later signals the fd anew.
	 */
	(void)!read(w->efd, &v, sizeof(v));
	return pop(w);
}

size_t
worker_pending(const struct worker *w)
{
	return w->n;
}

int
worker_fd(const struct worker *w)
{
	return w->efd;
}

int
worker_threaded(const struct worker *w)
{
	return w->started && w->use;
}

void
worker_use_helper(struct worker *w, int on)
{
	if (w->when_asked)
		w->use = on;
}

void
worker_free(struct worker *w, void (*drop)(void *job, void *arg))
{
	void *job;

	if (w == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
	while ((job = pop(w)) != NULL)
		if (drop)
			drop(job, w->arg);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	free(w->slot);
	free(w);
}
