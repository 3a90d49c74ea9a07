/*
 * test_source_netlink.c - netlink messages become the lines auditd
 * writes, so both sources give the parser the same text.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "source_netlink.h"
#include "unit.h"

static void
check_line(int type, const char *payload, size_t len, const char *want)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(source_netlink_format_record(&b, type, payload, len),
	    0);
	ck_assert_str_eq(b.data, want);
	buf_free(&b);
}

START_TEST(known_type)
{
	const char *p = "audit(1700000000.123:42): arch=c000003e syscall=165";

	check_line(1300, p, strlen(p),
	    "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e "
	    "syscall=165");
}
END_TEST

START_TEST(trailing_nul_and_newline_dropped)
{
	const char p[] = "audit(1.002:7): cwd=\"/\"\n";

	check_line(1307, p, sizeof(p), "type=CWD msg=audit(1.002:7): cwd=\"/\"");
}
END_TEST

START_TEST(unknown_type_like_auditd)
{
	const char *p = "audit(1.000:9): x=1";

	check_line(1999, p, strlen(p), "type=UNKNOWN[1999] msg=audit(1.000:9): x=1");
}
END_TEST

START_TEST(serials)
{
	const char *p = "audit(1700000000.123:18446744073709551615): x";

	ck_assert_uint_eq(source_netlink_serial("audit(1.002:7): a", 17), 7);
	ck_assert_uint_eq(source_netlink_serial(p, strlen(p)),
	    18446744073709551615ULL);
	ck_assert_uint_eq(source_netlink_serial("audit(1.002): a", 15), 0);
	ck_assert_uint_eq(source_netlink_serial("audit(1.002:7", 13), 0);
	ck_assert_uint_eq(source_netlink_serial("garbage", 7), 0);
	/* the length bounds the scan: no NUL needed */
	ck_assert_uint_eq(source_netlink_serial("audit(1.002:77)", 14), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("source_netlink");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, known_type);
	tcase_add_test(tc, trailing_nul_and_newline_dropped);
	tcase_add_test(tc, unknown_type_like_auditd);
	tcase_add_test(tc, serials);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
