/*
 * test_source_netlink_status.c - what the netlink source says about the
 * kernel's audit "enabled" flag. enabled 2 (rules locked until reboot)
 * must never be set on a shared test machine, so the status reply is
 * mocked here.
 * It includes source_netlink_status.c to reach the static handle_status()
 * and enabled_note(); the rest of the source is linked from libpodtrail.a.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../src/source_netlink_status.c"
#include "unit.h"

/* Feed one mocked AUDIT_GET reply with stderr captured; return the log. */
static char *
status_log(struct source_netlink *ns, unsigned int enabled)
{
	static char out[1024];
	struct audit_status st;
	struct unit_capture cap;

	memset(&st, 0, sizeof(st));
	st.enabled = enabled;
	unit_capture_begin(&cap);
	handle_status(ns, &st);
	unit_capture_end(&cap, out, sizeof(out));
	return out;
}

START_TEST(locked_rules)
{
	struct source_netlink ns;

	memset(&ns, 0, sizeof(ns));
	ck_assert_ptr_nonnull(strstr(status_log(&ns, 2),
	    "rules are locked (enabled 2)"));
	/* said once, not on every status poll */
	ck_assert_str_eq(status_log(&ns, 2), "");
}
END_TEST

START_TEST(disabled_then_enabled)
{
	struct source_netlink ns;

	memset(&ns, 0, sizeof(ns));
	ck_assert_ptr_nonnull(strstr(status_log(&ns, 0),
	    "disabled (enabled 0): no records will arrive"));
	ck_assert_str_eq(status_log(&ns, 0), "");
	ck_assert_ptr_nonnull(strstr(status_log(&ns, 1), "enabled again"));
	ck_assert_str_eq(status_log(&ns, 1), "");
	ck_assert_ptr_nonnull(strstr(status_log(&ns, 0), "disabled"));
}
END_TEST

START_TEST(enabled_is_quiet)
{
	struct source_netlink ns;

	memset(&ns, 0, sizeof(ns));
	ck_assert_str_eq(status_log(&ns, 1), "");
	ck_assert_ptr_nonnull(enabled_note(7));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("source_netlink_status");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_INFO, "test");
	tcase_add_test(tc, locked_rules);
	tcase_add_test(tc, disabled_then_enabled);
	tcase_add_test(tc, enabled_is_quiet);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
