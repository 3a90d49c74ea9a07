/* test_worker.c - jobs run in order on a helper (or inline), collected in order. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"
#include "unit.h"
#include "worker.h"

struct job {
	int n;
	int out;
	pthread_t ran_on;
};

struct ctx {
	atomic_int ran;
	atomic_int next;	/* the order jobs are run in */
	atomic_int gate;	/* the helper waits while 0 */
	int dropped;
};

static void
run(void *p, void *arg)
{
	struct job *j = p;
	struct ctx *c = arg;

	while (!atomic_load(&c->gate))
		sched_yield();
	j->out = atomic_fetch_add(&c->next, 1);
	j->ran_on = pthread_self();
	atomic_fetch_add(&c->ran, 1);
}

static void
drop(void *p, void *arg)
{
	struct ctx *c = arg;

	free(p);
	c->dropped++;
}

static int
readable(const struct worker *w, int ms)
{
	struct pollfd p = { worker_fd(w), POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static void
order(int threads)
{
	struct ctx c = { 0, 0, 1, 0 };
	struct worker *w = worker_new("test", 8, threads, run, &c);
	struct job *j;
	int got = 0, sent = 0;

	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(worker_collect(w));
	while (got < 1000) {
		while (sent < 1000) {
			j = calloc(1, sizeof(*j));
			j->n = sent;
			if (worker_submit(w, j) == -1) {
				ck_assert_int_eq(errno, EAGAIN);
				free(j);
				worker_wait(w);
				break;
			}
			sent++;
		}
		while ((j = worker_collect(w)) != NULL) {
			ck_assert_int_eq(j->n, got);
			ck_assert_int_eq(j->out, got);
			ck_assert(threads ? !pthread_equal(j->ran_on, pthread_self()) :
			    pthread_equal(j->ran_on, pthread_self()));
			free(j);
			got++;
		}
		ck_assert_uint_le(worker_pending(w), 8);
	}
	ck_assert_int_eq(worker_threaded(w), threads);
	ck_assert_uint_eq(worker_pending(w), 0);
	worker_free(w, drop);
	ck_assert_int_eq(c.dropped, 0);
}

START_TEST(test_inline_order)
{
	order(0);
}
END_TEST

START_TEST(test_thread_order)
{
	order(1);
}
END_TEST

START_TEST(test_full_fd_and_sync)
{
	struct ctx c = { 0, 0, 0, 0 };
	struct worker *w = worker_new("test", 2, 1, run, &c);
	struct job a = { 0 }, b = { 0 }, x = { 0 };

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(worker_submit(w, &a), 0);
	ck_assert_int_eq(worker_submit(w, &b), 0);
	/* the helper is held at the gate: full, nothing finished */
	ck_assert_int_eq(worker_submit(w, &x), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert(!readable(w, 0));
	ck_assert_ptr_null(worker_collect(w));
	atomic_store(&c.gate, 1);
	worker_sync(w);
	ck_assert_int_eq(atomic_load(&c.ran), 2);
	ck_assert(readable(w, 0));
	/* finished but not collected: still full */
	ck_assert_int_eq(worker_submit(w, &x), -1);
	ck_assert_ptr_eq(worker_collect(w), &a);
	ck_assert_ptr_eq(worker_collect(w), &b);
	ck_assert_ptr_null(worker_collect(w));
	ck_assert(!readable(w, 0));
	worker_free(w, NULL);
}
END_TEST

START_TEST(test_free_finishes_and_drops)
{
	struct ctx c = { 0, 0, 1, 0 };
	struct worker *w = worker_new("test", 16, 1, run, &c);

	ck_assert_ptr_nonnull(w);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(worker_submit(w, calloc(1, sizeof(struct job))), 0);
	worker_free(w, drop);
	ck_assert_int_eq(atomic_load(&c.ran), 16);
	ck_assert_int_eq(c.dropped, 16);
}
END_TEST

START_TEST(test_held_runs_inline_then_threads)
{
	struct ctx c = { 0, 0, 1, 0 };
	struct worker *w = worker_new("test", 4, 1, run, &c);
	struct job a = { 0 }, b = { 0 };

	ck_assert_ptr_nonnull(w);
	thread_hold();
	ck_assert_int_eq(worker_submit(w, &a), 0);
	ck_assert_int_eq(worker_threaded(w), 0);
	ck_assert(pthread_equal(a.ran_on, pthread_self()));
	thread_release();
	ck_assert_int_eq(worker_submit(w, &b), 0);
	ck_assert_int_eq(worker_threaded(w), 1);
	worker_sync(w);
	ck_assert_ptr_eq(worker_collect(w), &a);
	ck_assert_ptr_eq(worker_collect(w), &b);
	ck_assert(!pthread_equal(b.ran_on, pthread_self()));
	worker_free(w, NULL);
}
END_TEST

/*
 * worker_use_helper: off, jobs run inline (no helper is started); on,
 * on the helper; off again, inline while the helper lives, but a job
 * submitted while one is out still goes behind it, in order.
 */
START_TEST(test_use_helper_switches)
{
	struct ctx c = { 0, 0, 1, 0 };
	struct worker *w = worker_new("test", 4, WORKER_WHEN_ASKED, run, &c);
	struct job a = { 0 }, b = { 0 }, d = { 0 }, e = { 0 }, g = { 0 };

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(worker_submit(w, &a), 0);
	ck_assert_int_eq(worker_threaded(w), 0);
	ck_assert(pthread_equal(a.ran_on, pthread_self()));
	ck_assert_ptr_eq(worker_collect(w), &a);
	worker_use_helper(w, 1);
	atomic_store(&c.gate, 0);	/* b waits on the helper */
	ck_assert_int_eq(worker_submit(w, &b), 0);
	ck_assert_int_eq(worker_threaded(w), 1);
	worker_use_helper(w, 0);
	ck_assert_int_eq(worker_threaded(w), 0);
	ck_assert_int_eq(worker_submit(w, &d), 0);	/* behind b */
	ck_assert_int_eq(atomic_load(&c.ran), 1);
	atomic_store(&c.gate, 1);
	worker_sync(w);
	ck_assert_ptr_eq(worker_collect(w), &b);
	ck_assert_ptr_eq(worker_collect(w), &d);
	ck_assert(!pthread_equal(b.ran_on, pthread_self()));
	ck_assert(!pthread_equal(d.ran_on, pthread_self()));
	/* nothing out: inline again, the helper still there */
	ck_assert_int_eq(worker_submit(w, &e), 0);
	ck_assert(pthread_equal(e.ran_on, pthread_self()));
	ck_assert_ptr_eq(worker_collect(w), &e);
	worker_use_helper(w, 1);
	ck_assert_int_eq(worker_submit(w, &g), 0);
	worker_sync(w);
	ck_assert_ptr_eq(worker_collect(w), &g);
	ck_assert(!pthread_equal(g.ran_on, pthread_self()));
	ck_assert_int_eq(a.out + 1, b.out);
	ck_assert_int_eq(b.out + 1, d.out);
	ck_assert_int_eq(d.out + 1, e.out);
	ck_assert_int_eq(e.out + 1, g.out);
	worker_free(w, NULL);
	/* a worker made with threads 1 keeps its helper */
	w = worker_new("test", 4, 1, run, &c);
	ck_assert_ptr_nonnull(w);
	worker_use_helper(w, 0);
	ck_assert_int_eq(worker_submit(w, &a), 0);
	worker_sync(w);
	ck_assert_ptr_eq(worker_collect(w), &a);
	ck_assert(!pthread_equal(a.ran_on, pthread_self()));
	worker_free(w, NULL);
}
END_TEST

/* worker_finish's done: note the order, and submit one more job once */
struct fin {
	struct worker *w;
	struct job more;
	struct job *seen[4];
	int n;
};

static void
finished(void *job, void *arg)
{
	struct fin *f = arg;

	f->seen[f->n++] = job;
	if (f->n == 2)
		ck_assert_int_eq(worker_submit(f->w, &f->more), 0);
}

START_TEST(test_finish_collects_all_in_order)
{
	struct ctx c = { 0, 0, 1, 0 };
	struct fin f = { 0 };
	struct job a = { 0 }, b = { 0 };

	f.w = worker_new("test", 2, 1, run, &c);
	ck_assert_ptr_nonnull(f.w);
	ck_assert_int_eq(worker_submit(f.w, &a), 0);
	ck_assert_int_eq(worker_submit(f.w, &b), 0);
	worker_finish(f.w, finished, &f);
	/* the job done submitted was waited for and collected too */
	ck_assert_int_eq(f.n, 3);
	ck_assert_ptr_eq(f.seen[0], &a);
	ck_assert_ptr_eq(f.seen[1], &b);
	ck_assert_ptr_eq(f.seen[2], &f.more);
	ck_assert_int_eq(f.more.out, 2);
	ck_assert_uint_eq(worker_pending(f.w), 0);
	worker_finish(f.w, finished, &f);	/* nothing out: at once */
	ck_assert_int_eq(f.n, 3);
	worker_free(f.w, NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_inline_order);
	tcase_add_test(tc, test_thread_order);
	tcase_add_test(tc, test_full_fd_and_sync);
	tcase_add_test(tc, test_free_finishes_and_drops);
	tcase_add_test(tc, test_held_runs_inline_then_threads);
	tcase_add_test(tc, test_finish_collects_all_in_order);
	tcase_add_test(tc, test_use_helper_switches);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
