/* test_ring.c - the byte-bounded thread hand-off. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"
#include "unit.h"

static int
readable(const struct ring *r)
{
	struct pollfd p = { ring_fd(r), POLLIN, 0 };

	return poll(&p, 1, 0) == 1;
}

START_TEST(test_order_and_content)
{
	struct ring *r = ring_new(65536);
	const char *d;
	unsigned int tag;
	size_t len;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ring_get(r, &tag, &d, &len), 0);
	ck_assert(!readable(r));
	ck_assert_int_eq(ring_put(r, 7, "hello", 5), 0);
	ck_assert(readable(r));
	ck_assert_int_eq(ring_put(r, 8, "", 0), 0);
	ck_assert_int_eq(ring_get(r, &tag, &d, &len), 1);
	ck_assert_uint_eq(tag, 7);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(d, "hello", 5) == 0);
	ring_done(r);
	/* released, if not yet given back to the producer */
	ck_assert_uint_eq(ring_used(r), 8);
	/* stopping early leaves the fd readable */
	ck_assert(readable(r));
	ck_assert_int_eq(ring_get(r, &tag, &d, &len), 1);
	ck_assert_uint_eq(tag, 8);
	ck_assert_uint_eq(len, 0);
	ring_done(r);
	ck_assert_int_eq(ring_get(r, &tag, &d, &len), 0);
	ck_assert(!readable(r));
	ck_assert_uint_eq(ring_used(r), 0);
	ck_assert_uint_eq(ring_peak(r), 16 + 8);
	ring_free(r);
}
END_TEST

/* Full: EAGAIN, the bound is never passed, and room comes back. */
START_TEST(test_full_and_bound)
{
	struct ring *r = ring_new(65536);
	char rec[1000];
	const char *d;
	unsigned int tag;
	size_t len, n = 0;

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(ring_size(r), 65536);
	memset(rec, 'x', sizeof(rec));
	while (ring_put(r, 1, rec, sizeof(rec)) == 0)
		n++;
	ck_assert_int_eq(errno, EAGAIN);
	/* 1008 bytes a record: 65 fit in 64 KiB */
	ck_assert_uint_eq(n, 65536 / 1008);
	ck_assert_uint_le(ring_used(r), ring_size(r));
	ck_assert_uint_le(ring_peak(r), ring_size(r));
	ck_assert_int_eq(ring_get(r, &tag, &d, &len), 1);
	ring_done(r);
	ck_assert_int_eq(ring_put(r, 1, rec, sizeof(rec)), 0);
	ck_assert_int_eq(ring_put(r, 1, rec, sizeof(rec)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* too large for the ring at all */
	ck_assert_int_eq(ring_put(r, 1, rec, 40000), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ring_free(r);
}
END_TEST

/* Records that do not fit before the end start again at the front. */
START_TEST(test_wraps)
{
	struct ring *r = ring_new(65536);
	char rec[3000], want[3000];
	const char *d;
	unsigned int tag;
	size_t len;
	unsigned int put = 0, got = 0;

	ck_assert_ptr_nonnull(r);
	/* keep a few records in flight so the offsets go round many times */
	for (int round = 0; round < 2000; round++) {
		size_t l = 1 + (size_t)(round * 37) % sizeof(rec);

		memset(rec, 'a' + round % 26, l);
		while (ring_put(r, put, rec, l) == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_int_eq(ring_get(r, &tag, &d, &len), 1);
			ck_assert_uint_eq(tag, got);
			ck_assert_uint_eq(len, 1 + (size_t)(got * 37) % sizeof(rec));
			memset(want, 'a' + got % 26, len);
			ck_assert(memcmp(d, want, len) == 0);
			ring_done(r);
			got++;
		}
		put++;
		ck_assert_uint_le(ring_used(r), ring_size(r));
	}
	while (ring_get(r, &tag, &d, &len) == 1) {
		ck_assert_uint_eq(tag, got);
		ring_done(r);
		got++;
	}
	ck_assert_uint_eq(got, put);
	ring_free(r);
}
END_TEST

/*
 * A backlog well below half the ring, going round it many times: the
 * consumer gives room back in batches, and passes each wrap in the
 * middle of one.
 */
START_TEST(test_wraps_in_batches)
{
	struct ring *r = ring_new(1 << 20);
	char rec[3000];
	const char *d;
	unsigned int tag, put = 0, got = 0;
	size_t len, held = 0;

	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 20000; i++) {
		size_t l = 1 + (size_t)(put * 37) % sizeof(rec);

		memset(rec, 'a' + put % 26, l);
		ck_assert_int_eq(ring_put(r, put, rec, l), 0);
		held += 8 + ((l + 7) & ~(size_t)7);
		put++;
		if (put - got < 100)
			continue;
		ck_assert_int_eq(ring_get(r, &tag, &d, &len), 1);
		ck_assert_uint_eq(tag, got);
		ck_assert_uint_eq(len, 1 + (size_t)(got * 37) % sizeof(rec));
		ck_assert(d[0] == (char)('a' + got % 26) && d[len - 1] == d[0]);
		ring_done(r);
		held -= 8 + ((len + 7) & ~(size_t)7);
		got++;
		ck_assert_uint_eq(ring_used(r), held);
	}
	while (ring_get(r, &tag, &d, &len) == 1) {
		ck_assert_uint_eq(tag, got);
		ring_done(r);
		got++;
	}
	ck_assert_uint_eq(got, put);
	ck_assert_uint_eq(ring_used(r), 0);
	/* about 100 records of 1.5 KiB on average were ever held */
	ck_assert_uint_lt(ring_peak(r), 1 << 19);
	ring_free(r);
}
END_TEST

struct prod {
	struct ring *r;
	unsigned int n;
	int wait;
	unsigned int dropped;
	int rc;
};

static void *
producer(void *arg)
{
	struct prod *p = arg;
	char rec[600];

	for (unsigned int i = 0; i < p->n; i++) {
		size_t l = 8 + i % 500;

		memset(rec, (int)(i & 0xff), l);
		memcpy(rec, &i, sizeof(i));
		if ((p->wait ? ring_put_wait(p->r, 1, rec, l) :
		    ring_put(p->r, 1, rec, l)) == -1) {
			if (errno != EAGAIN) {
				p->rc = -1;
				return NULL;
			}
			p->dropped++;
		}
	}
	ring_put_wait(p->r, 2, "", 0);
	return NULL;
}

/* Two threads: in order, intact; with ring_put_wait nothing is dropped. */
static void
run_threads(int wait)
{
	struct prod p = { ring_new(65536), 200000, wait, 0, 0 };
	pthread_t t;
	unsigned int tag, last = 0, seen = 0;
	const char *d;
	size_t len;
	int first = 1;

	ck_assert_ptr_nonnull(p.r);
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &p), 0);
	for (;;) {
		struct pollfd pf = { ring_fd(p.r), POLLIN, 0 };
		unsigned int i;

		if (ring_get(p.r, &tag, &d, &len) == 0) {
			ck_assert_int_ge(poll(&pf, 1, 5000), 0);
			continue;
		}
		if (tag == 2) {
			ring_done(p.r);
			break;
		}
		memcpy(&i, d, sizeof(i));
		ck_assert(first || i > last);
		ck_assert_uint_eq(len, 8 + i % 500);
		ck_assert_uint_eq((unsigned char)d[len - 1], i & 0xff);
		first = 0;
		last = i;
		seen++;
		ring_done(p.r);
		ck_assert_uint_le(ring_used(p.r), ring_size(p.r));
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_uint_eq(seen + p.dropped, p.n);
	if (wait)
		ck_assert_uint_eq(p.dropped, 0);
	ring_free(p.r);
}

START_TEST(test_threads_drop)
{
	run_threads(0);
}
END_TEST

START_TEST(test_threads_wait)
{
	run_threads(1);
}
END_TEST

static void *
blocked_producer(void *arg)
{
	struct prod *p = arg;
	char rec[1000] = { 0 };

	while (ring_put_wait(p->r, 1, rec, sizeof(rec)) == 0)
		p->n++;
	p->rc = errno;
	return NULL;
}

/* A producer waiting for room is released by ring_shutdown. */
START_TEST(test_shutdown_releases)
{
	struct prod p = { ring_new(65536), 0, 1, 0, 0 };
	pthread_t t;

	ck_assert_ptr_nonnull(p.r);
	ck_assert_int_eq(pthread_create(&t, NULL, blocked_producer, &p), 0);
	/* no sleep: the producer fills the ring and waits, or is shut first */
	ring_shutdown(p.r);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.rc, EPIPE);
	ck_assert_int_eq(ring_put(p.r, 1, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ring_free(p.r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order_and_content);
	tcase_add_test(tc, test_full_and_bound);
	tcase_add_test(tc, test_wraps);
	tcase_add_test(tc, test_wraps_in_batches);
	tcase_add_test(tc, test_threads_drop);
	tcase_add_test(tc, test_threads_wait);
	tcase_add_test(tc, test_shutdown_releases);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
