/* test_loop.c - timers, fds and hooks of the poll loop. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "unit.h"

struct rec {
	struct loop *l;
	char order[16];
	int n;
	int hooks;
};

static void
tick(void *arg)
{
	struct rec *r = arg;

	r->order[r->n++] = 'A';
}

static void
tock(void *arg)
{
	struct rec *r = arg;

	r->order[r->n++] = 'B';
	loop_stop(r->l);
}

START_TEST(test_timers_fire_in_order)
{
	struct rec r = { 0 };
	struct loop_timer *a, *b;

	r.l = loop_new();
	a = loop_timer_new(r.l, tick, &r);
	b = loop_timer_new(r.l, tock, &r);
	loop_timer_arm(b, 30);
	loop_timer_arm(a, 1);
	ck_assert_int_eq(loop_run(r.l, NULL), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert(memcmp(r.order, "AB", 2) == 0);
	loop_timer_free(a);
	loop_timer_free(b);
	loop_free(r.l);
}
END_TEST

static void
on_read(int fd, short revents, void *arg)
{
	struct rec *r = arg;
	char c;

	ck_assert(revents & POLLIN);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	r->order[r->n++] = c;
	if (c == 'z') {
		loop_fd_del(r->l, fd);
		loop_stop(r->l);
	}
}

static void
hook(void *arg)
{
	((struct rec *)arg)->hooks++;
}

START_TEST(test_fd_and_hook)
{
	struct rec r = { 0 };
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	r.l = loop_new();
	ck_assert_int_eq(loop_fd_add(r.l, p[0], POLLIN, on_read, &r), 0);
	ck_assert_int_eq(loop_fd_add(r.l, p[0], POLLIN, on_read, &r), -1);
	ck_assert_int_eq(loop_add_before_sleep(r.l, hook, &r), 0);
	ck_assert_int_eq(write(p[1], "xyz", 3), 3);
	ck_assert_int_eq(loop_run(r.l, NULL), 0);
	ck_assert(memcmp(r.order, "xyz", 3) == 0);
	ck_assert_int_ge(r.hooks, 3);
	close(p[0]);
	close(p[1]);
	loop_free(r.l);
}
END_TEST

static volatile sig_atomic_t got;
static void on_usr1(int s) { got = s; }

static void
check_flag(void *arg)
{
	if (got)
		loop_stop(arg);
}

START_TEST(test_signal_wakes_loop)
{
	/* blocked outside the wait, delivered inside it: no lost wake-up */
	struct loop *l = loop_new();
	sigset_t block, waitmask;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	loop_add_before_sleep(l, check_flag, l);
	raise(SIGUSR1);		/* pending before the loop sleeps */
	ck_assert_int_eq(loop_run(l, &waitmask), 0);
	ck_assert_int_eq(got, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	loop_free(l);
}
END_TEST

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long nap_once;

static void
nap_hook(void *arg)
{
	loop_nap(arg, nap_once);
	nap_once = 0;
}

static void
stop_timer(void *arg)
{
	loop_stop(arg);
}

/*
 * loop_nap: the next sleep starts with a nap, data waiting meanwhile
 * is still served; a due timer and a signal cut the nap short.
 */
START_TEST(test_nap)
{
	struct rec r = { 0 };
	struct loop_timer *t;
	sigset_t block, waitmask;
	long long t0;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	r.l = loop_new();
	ck_assert_int_eq(loop_fd_add(r.l, p[0], POLLIN, on_read, &r), 0);
	ck_assert_int_eq(loop_add_before_sleep(r.l, nap_hook, r.l), 0);
	ck_assert_int_eq(write(p[1], "z", 1), 1);
	nap_once = 30000;
	t0 = now_us();
	ck_assert_int_eq(loop_run(r.l, NULL), 0);
	ck_assert_int_eq(r.order[0], 'z');
	ck_assert_int_ge(now_us() - t0, 29000);	/* it did nap */

	/* a timer due in 20 ms ends a 60 s nap */
	ck_assert_ptr_nonnull(t = loop_timer_new(r.l, stop_timer, r.l));
	loop_timer_arm(t, 20);
	nap_once = 60000000;
	t0 = now_us();
	ck_assert_int_eq(loop_run(r.l, NULL), 0);
	ck_assert_int_lt(now_us() - t0, 30000000);

	/* so does a signal, whose flag is looked at first */
	got = 0;
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	ck_assert_int_eq(loop_add_before_sleep(r.l, check_flag, r.l), 0);
	nap_once = 60000000;
	raise(SIGUSR1);
	t0 = now_us();
	ck_assert_int_eq(loop_run(r.l, &waitmask), 0);
	ck_assert_int_eq(got, SIGUSR1);
	ck_assert_int_lt(now_us() - t0, 30000000);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	loop_timer_free(t);
	close(p[0]);
	close(p[1]);
	loop_free(r.l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_timers_fire_in_order);
	tcase_add_test(tc, test_fd_and_hook);
	tcase_add_test(tc, test_signal_wakes_loop);
	tcase_add_test(tc, test_nap);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
