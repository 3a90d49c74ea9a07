/* test_gaps.c - which serials count as missing, and when. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "gaps.h"
#include "unit.h"

static struct gaps *g;

static void
setup(void)
{
	g = gaps_new();
	ck_assert_ptr_nonnull(g);
}

static void
teardown(void)
{
	gaps_free(g);
}

START_TEST(no_gap_in_order)
{
	struct gaps_report r = { 0 };

	for (unsigned long long s = 100; s < 200; s++) {
		gaps_seen(g, s, &r);
		gaps_seen(g, s, &r);	/* a second record of the event */
	}
	gaps_tick(g, &r);
	gaps_tick(g, &r);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(gaps_max(g), 199);
}
END_TEST

START_TEST(reordered_within_a_tick_is_not_a_gap)
{
	struct gaps_report r = { 0 };

	gaps_seen(g, 10, &r);
	gaps_seen(g, 12, &r);
	gaps_seen(g, 11, &r);
	gaps_tick(g, &r);
	gaps_seen(g, 14, &r);
	gaps_seen(g, 13, &r);
	gaps_tick(g, &r);
	gaps_tick(g, &r);
	ck_assert_uint_eq(r.count, 0);
}
END_TEST

START_TEST(gap_settled_after_a_tick)
{
	struct gaps_report r = { 0 };

	gaps_seen(g, 10, &r);
	gaps_seen(g, 11, &r);
	gaps_seen(g, 15, &r);	/* 12, 13, 14 missing */
	gaps_seen(g, 17, &r);	/* 16 missing */
	gaps_tick(g, &r);	/* not yet: they may still come */
	ck_assert_uint_eq(r.count, 0);
	gaps_tick(g, &r);
	ck_assert_uint_eq(r.count, 4);
	ck_assert_uint_eq(r.first, 12);
	ck_assert_uint_eq(r.last, 16);
}
END_TEST

START_TEST(late_serial_after_settling)
{
	struct gaps_report r = { 0 };

	gaps_seen(g, 1, &r);
	gaps_seen(g, 3, &r);
	gaps_tick(g, &r);
	gaps_tick(g, &r);
	ck_assert_uint_eq(r.count, 1);
	gaps_seen(g, 2, &r);
	ck_assert_uint_eq(gaps_late(g), 1);
	ck_assert_uint_eq(r.count, 1);
}
END_TEST

START_TEST(window_overflow_and_big_jump)
{
	struct gaps_report r = { 0 };

	gaps_seen(g, 1000, &r);
	/* far beyond the window: all in between is settled at once */
	gaps_seen(g, 1000 + 3ULL * GAPS_WINDOW, &r);
	ck_assert_uint_eq(r.count, 2ULL * GAPS_WINDOW);
	ck_assert_uint_eq(r.first, 1001);
	ck_assert_uint_eq(r.last, 1000 + 2ULL * GAPS_WINDOW);
	r.count = 0;
	gaps_tick(g, &r);
	gaps_tick(g, &r);
	/* the rest of the jump, up to the new serial */
	ck_assert_uint_eq(r.count, (unsigned long long)GAPS_WINDOW - 1);
	ck_assert_uint_eq(r.last, 1000 + 3ULL * GAPS_WINDOW - 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("gaps");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_gap_in_order);
	tcase_add_test(tc, reordered_within_a_tick_is_not_a_gap);
	tcase_add_test(tc, gap_settled_after_a_tick);
	tcase_add_test(tc, late_serial_after_settling);
	tcase_add_test(tc, window_overflow_and_big_jump);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
