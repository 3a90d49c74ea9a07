/* test_metrics.c - Prometheus text from the counters object. */
#include "config.h"

#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "metrics.h"
#include "unit.h"

START_TEST(test_format)
{
	cJSON *o = cJSON_Parse("{\"records\":12,\"proc_connector\":true,"
	    "\"chain_stream\":\"n/abc\",\"events_by_type\":{\"audit\":3,"
	    "\"podtrail_loss\":1},\"kernel_lost\":5,\"fwd_dead_events\":2,"
	    "\"odd-name\":1.5}");
	struct buf b = BUF_INIT;
	regex_t re;
	char *line, *nl;
	int lines = 0;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(metrics_format(&b, o), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "podtrail_records 12\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "podtrail_proc_connector 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "podtrail_events_by_type{type=\"podtrail_loss\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "podtrail_lost_events{cause=\"kernel\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "podtrail_lost_events{cause=\"rejected\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "podtrail_odd_name 1.5\n"));
	/* strings are not metrics */
	ck_assert_ptr_null(strstr(b.data, "chain_stream"));
	/* every family has HELP (promtool check metrics wants it) */
	ck_assert_ptr_nonnull(strstr(b.data, "# HELP podtrail_records podtrail's "
	    "records (see podtrail(8))\n# TYPE podtrail_records untyped\n"));
	/* every line is a HELP or TYPE comment or a sample */
	ck_assert_int_eq(regcomp(&re, "^(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* untyped|"
	    "# HELP [a-zA-Z_:][a-zA-Z0-9_:]* podtrail's [a-zA-Z0-9_]+ "
	    "\\(see podtrail\\(8\\)\\)|"
	    "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-z]+=\"[a-zA-Z0-9_]*\"\\})? "
	    "-?[0-9.e+]+)$", REG_EXTENDED | REG_NOSUB), 0);
	for (line = b.data; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "bad line '%s'", line);
		lines++;
	}
	ck_assert_int_gt(lines, 10);
	regfree(&re);
	buf_free(&b);
	cJSON_Delete(o);
}
END_TEST

/* the nats:// output's losses are the same series as the HTTPS ones */
START_TEST(test_nats_losses)
{
	cJSON *o = cJSON_Parse("{\"nats_lost_events\":4,"
	    "\"nats_dead_events\":1,\"nats_acked\":9}");
	struct buf b = BUF_INIT;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(metrics_format(&b, o), 0);
	ck_assert_ptr_nonnull(strstr(b.data,
	    "podtrail_lost_events{cause=\"spool_full\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "podtrail_lost_events{cause=\"rejected\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "podtrail_nats_acked 9\n"));
	buf_free(&b);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_write_atomic)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", path[128], tmp[140];
	struct stat st;
	FILE *fp;
	char got[64] = "";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/podtrail.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(metrics_write_file(path, "a 1\n", 4), 0);
	ck_assert_int_eq(metrics_write_file(path, "b 2\n", 4), 0);
	ck_assert_int_eq(stat(tmp, &st), -1);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(got, sizeof(got), fp));
	fclose(fp);
	ck_assert_str_eq(got, "b 2\n");
	unlink(path);
	ck_assert_int_eq(metrics_write_file("/nonexistent/dir/x.prom", "", 0), -1);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_nats_losses);
	tcase_add_test(tc, test_write_atomic);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
