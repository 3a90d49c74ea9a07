/*
 * test_rules.c - the pack compiled into podtrail is rules/podtrail.rules,
 * and the volume watches follow the settings.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "rules.h"
#include "unit.h"

START_TEST(pack_matches_rules_file)
{
	const char *top = getenv("top_srcdir");
	struct buf path = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct conf c;
	char line[4096];
	FILE *fp;

	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_int_eq(buf_printf(&path, "%s/rules/podtrail.rules",
	    top ? top : "."), 0);
	fp = fopen(path.data, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path.data);
	while (fgets(line, sizeof(line), fp))
		if (line[0] == '-')
			buf_adds(&want, line);
	fclose(fp);
	ck_assert_int_eq(rules_pack_text(&c, &got), 0);
	/* the file holds the fixed part; the watches come after it */
	ck_assert_ptr_nonnull(want.data);
	ck_assert_int_eq(strncmp(got.data, want.data, want.len), 0);
	ck_assert_str_eq(got.data + want.len,
	    "-w /var/lib/kubelet/pods -p wa -k podtrail_volume\n");
	conf_free(&c);
	buf_free(&path);
	buf_free(&want);
	buf_free(&got);
}
END_TEST

START_TEST(volume_watches_follow_settings)
{
	struct buf got = BUF_INIT;
	struct conf c;
	char err[256];

	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_int_eq(conf_set(&c, "kubelet-root", "/k", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&c, "hostpath", "/a,/b", err, sizeof(err)), 0);
	ck_assert_int_eq(rules_pack_text(&c, &got), 0);
	ck_assert_ptr_nonnull(strstr(got.data,
	    "-w /k/pods -p wa -k podtrail_volume\n"
	    "-w /a -p wa -k podtrail_hostpath\n"
	    "-w /b -p wa -k podtrail_hostpath\n"));
	/* every key says it is podtrail's */
	for (const char *k = got.data; (k = strstr(k, "-k ")) != NULL; k += 3)
		ck_assert_int_eq(strncmp(k + 3, "podtrail_", 9), 0);
	conf_free(&c);
	buf_free(&got);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("pack");

	tcase_add_test(tc, pack_matches_rules_file);
	tcase_add_test(tc, volume_watches_follow_settings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
