/*
 * test_output_file.c - NDJSON to a file or a pipe: lines in order and
 * appended, a pipe whose reader stalls never blocks a write below the
 * cap, what waited is delivered once the reader reads, and after a stop
 * the last flush gives up on a reader that never comes back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "event.h"
#include "loop.h"
#include "output.h"
#include "unit.h"

static char dir[64];

/* A line as the chain hands it on (the file output reads only the bytes). */
static int
put(struct output *o, const char *line, size_t len)
{
	struct sealed s = { .line = line, .len = len };

	return output_write(o, &s);
}

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_output_file");
}

static void
teardown(void)
{
	unit_rmtree(dir);
}

static double
stat_of(struct output *o, const char *name)
{
	cJSON *obj = cJSON_CreateObject();
	double v;

	output_stats(o, obj);
	v = cJSON_GetObjectItem(obj, name)->valuedouble;
	cJSON_Delete(obj);
	return v;
}

static size_t
slurp(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	return n;
}

START_TEST(file_lines_in_order_and_appended)
{
	char spec[96], got[64];
	struct output *o;

	snprintf(spec, sizeof(spec), "file:%s/out", dir);
	o = output_open(spec, NULL, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(put(o, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(put(o, "{\"b\":2}", 7), 0);
	ck_assert_double_eq(stat_of(o, "output_events"), 2);
	ck_assert_double_eq(stat_of(o, "output_bytes"), 16);
	ck_assert_int_eq(output_close(o), 0);
	/* a restart appends: what the previous run wrote stays */
	o = output_open(spec, NULL, NULL);
	ck_assert_int_eq(put(o, "{\"c\":3}", 7), 0);
	ck_assert_int_eq(output_close(o), 0);
	slurp(spec + 5, got, sizeof(got));
	ck_assert_str_eq(got, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
}
END_TEST

START_TEST(missing_directory_fails_cleanly)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "file:%s/no/such/dir/out", dir);
	ck_assert_ptr_null(output_open(spec, NULL, NULL));
}
END_TEST

/* line i: a JSON object padded to ~1 KiB, numbered so order is checked */
static size_t
line_of(unsigned i, char *out, size_t len)
{
	int n = snprintf(out, len, "{\"i\":%u,\"pad\":\"%0900u\"}", i, i);

	ck_assert(n > 0 && (size_t)n < len);
	return (size_t)n;
}

#define LINES 1500	/* ~1.4 MiB: far more than a pipe holds, under the cap */

struct reader {
	int fd;
	unsigned lines, bad;
};

static void *
read_all(void *arg)
{
	struct reader *r = arg;
	char want[1024], buf[65536], line[2048];
	size_t have = 0;
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (have < sizeof(line) - 1)
					line[have++] = buf[i];
				continue;
			}
			line[have] = '\0';
			line_of(r->lines, want, sizeof(want));
			if (strcmp(line, want) != 0)
				r->bad++;
			r->lines++;
			have = 0;
		}
	}
	return NULL;
}

static struct output *
open_pipe_output(int p[2], struct loop **lp)
{
	char spec[64];
	struct output *o;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	*lp = loop_new();
	ck_assert_ptr_nonnull(*lp);
	snprintf(spec, sizeof(spec), "file:/proc/self/fd/%d", p[1]);
	o = output_open(spec, *lp, NULL);
	ck_assert_ptr_nonnull(o);
	/* the output opened its own description of the pipe */
	close(p[1]);
	return o;
}

START_TEST(stalled_pipe_never_blocks_below_the_cap)
{
	struct reader r = { 0 };
	struct loop *l;
	struct output *o;
	pthread_t t;
	char line[1024];
	int p[2];

	o = open_pipe_output(p, &l);
	/* nobody reads: a blocking write would hang here (Check times out) */
	for (unsigned i = 0; i < LINES; i++) {
		size_t n = line_of(i, line, sizeof(line));

		ck_assert_int_eq(put(o, line, n), 0);
	}
	output_flush(o);
	ck_assert_double_gt(stat_of(o, "output_buffered"), 0);
	ck_assert_double_eq(stat_of(o, "output_stalls"), 0);
	/* the reader comes back: close delivers all of it, in order */
	r.fd = p[0];
	ck_assert_int_eq(pthread_create(&t, NULL, read_all, &r), 0);
	ck_assert_int_eq(output_close(o), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(r.lines, LINES);
	ck_assert_uint_eq(r.bad, 0);
	close(p[0]);
	loop_free(l);
}
END_TEST

START_TEST(stop_gives_up_on_a_reader_that_never_comes)
{
	struct unit_capture cap;
	char line[1024], said[512];
	struct loop *l;
	struct output *o;
	int p[2];

	o = open_pipe_output(p, &l);
	for (unsigned i = 0; i < 200; i++) {
		size_t n = line_of(i, line, sizeof(line));

		ck_assert_int_eq(put(o, line, n), 0);
	}
	output_flush(o);
	output_stop(o);
	unit_capture_begin(&cap);
	/* gives up after the stop's grace period: data lost, said so */
	ck_assert_int_eq(output_close(o), -1);
	unit_capture_end(&cap, said, sizeof(said));
	ck_assert_ptr_nonnull(strstr(said, "output stalled"));
	close(p[0]);
	loop_free(l);
}
END_TEST

static Suite *
output_file_suite(void)
{
	Suite *s = suite_create("output_file");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* the stop's grace period is 5 s */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, file_lines_in_order_and_appended);
	tcase_add_test(tc, missing_directory_fails_cleanly);
	tcase_add_test(tc, stalled_pipe_never_blocks_below_the_cap);
	tcase_add_test(tc, stop_gives_up_on_a_reader_that_never_comes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(output_file_suite());
}
