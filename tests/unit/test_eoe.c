/* test_eoe.c - which syscall events get a synthetic EOE, and when. */
#include "config.h"

#include <check.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eoe.h"
#include "unit.h"

static struct eoe *e;
static char closed[8][EOE_STAMP_MAX + 1];
static int nclosed;

static void
on_close(const char *stamp, size_t len, void *arg)
{
	(void)arg;
	ck_assert_int_lt(nclosed, 8);
	snprintf(closed[nclosed++], sizeof(closed[0]), "%.*s", (int)len, stamp);
}

static void
setup(void)
{
	nclosed = 0;
	e = eoe_new(on_close, NULL);
	ck_assert_ptr_nonnull(e);
}

static void
teardown(void)
{
	eoe_free(e);
}

static void
rec(int type, const char *payload, long long now)
{
	eoe_record(e, type, payload, strlen(payload), now);
}

START_TEST(complete_events_are_not_closed)
{
	rec(AUDIT_SYSCALL, "audit(1700000000.123:10): arch=c000003e", 0);
	rec(AUDIT_PATH, "audit(1700000000.123:10): item=0", 0);
	rec(AUDIT_EOE, "audit(1700000000.123:10): ", 0);
	ck_assert_uint_eq(eoe_open(e), 0);
	ck_assert_uint_eq(eoe_expire(e, 10000, 500, 1), 0);
	ck_assert_int_eq(nclosed, 0);
}
END_TEST

START_TEST(missing_eoe_closed_after_age)
{
	rec(AUDIT_SYSCALL, "audit(1700000000.123:10): arch=c000003e", 1000);
	rec(AUDIT_SYSCALL, "audit(1700000000.124:11): arch=c000003e", 1400);
	ck_assert_uint_eq(eoe_open(e), 2);
	ck_assert_uint_eq(eoe_expire(e, 1400, 500, 1), 0);
	/* not idle: the EOE may still be waiting in the socket */
	ck_assert_uint_eq(eoe_expire(e, 1600, 500, 0), 0);
	ck_assert_uint_eq(eoe_expire(e, 1600, 500, 1), 1);
	ck_assert_str_eq(closed[0], "audit(1700000000.123:10)");
	ck_assert_uint_eq(eoe_expire(e, 2000, 500, 1), 1);
	ck_assert_str_eq(closed[1], "audit(1700000000.124:11)");
	ck_assert_uint_eq(eoe_open(e), 0);
	ck_assert_uint_eq(eoe_closed(e), 2);
}
END_TEST

START_TEST(slot_reuse_closes_the_stale_event)
{
	char p[64];

	rec(AUDIT_SYSCALL, "audit(1700000000.001:5): arch=c000003e", 0);
	snprintf(p, sizeof(p), "audit(1700000001.001:%d): x", 5 + EOE_SLOTS);
	rec(AUDIT_SYSCALL, p, 0);
	ck_assert_int_eq(nclosed, 1);
	ck_assert_str_eq(closed[0], "audit(1700000000.001:5)");
	ck_assert_uint_eq(eoe_open(e), 1);
}
END_TEST

START_TEST(other_records_and_garbage_ignored)
{
	rec(AUDIT_SYSCALL, "no stamp here", 0);
	rec(AUDIT_SYSCALL, "audit(1700000000.123:x1): y", 0);
	rec(AUDIT_EOE, "audit(1700000000.123:99): ", 0);
	ck_assert_uint_eq(eoe_open(e), 0);
	ck_assert_uint_eq(eoe_expire(e, 1 << 30, 0, 1), 0);
}
END_TEST

/* A serial past 2^64-1 wrapped to a small one; parse.c drops it. */
START_TEST(serial_past_64_bits_ignored)
{
	rec(AUDIT_SYSCALL, "audit(1700000000.123:18446744073709551626): x=1", 0);
	ck_assert_uint_eq(eoe_open(e), 0);
	rec(AUDIT_SYSCALL, "audit(1700000000.123:18446744073709551615): x=1", 0);
	ck_assert_uint_eq(eoe_open(e), 1);
}
END_TEST

START_TEST(event_without_its_syscall_record_is_tracked)
{
	rec(AUDIT_PATH, "audit(1700000000.123:10): item=0", 0);
	rec(AUDIT_PROCTITLE, "audit(1700000000.123:10): proctitle=6C73", 0);
	ck_assert_uint_eq(eoe_open(e), 1);
	ck_assert_uint_eq(eoe_expire(e, 1000, 500, 1), 1);
	ck_assert_str_eq(closed[0], "audit(1700000000.123:10)");
}
END_TEST

START_TEST(stale_after_many_later_records)
{
	rec(AUDIT_SYSCALL, "audit(1700000000.123:10): arch=c000003e", 0);
	for (int i = 0; i < EOE_STALE_RECORDS - 1; i++)
		rec(AUDIT_PATH, "audit(1700000000.124:11): item=0", 0);
	ck_assert_uint_eq(eoe_expire(e, 0, 500, 0), 0);
	rec(AUDIT_PATH, "audit(1700000000.124:11): item=0", 0);
	ck_assert_uint_eq(eoe_expire(e, 0, 500, 0), 1);
	ck_assert_str_eq(closed[0], "audit(1700000000.123:10)");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("eoe");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, complete_events_are_not_closed);
	tcase_add_test(tc, missing_eoe_closed_after_age);
	tcase_add_test(tc, slot_reuse_closes_the_stale_event);
	tcase_add_test(tc, serial_past_64_bits_ignored);
	tcase_add_test(tc, other_records_and_garbage_ignored);
	tcase_add_test(tc, stale_after_many_later_records);
	tcase_add_test(tc, event_without_its_syscall_record_is_tracked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
