/*
 * test_source_stream.c - audit text from a file or a pipe: a replayed
 * file is read to its end and every event comes out once, the loop
 * stopping at end of input; a missing file or a path-less spec fails
 * cleanly; at SIGTERM (source_drain) a pipe's unread records are taken
 * in without waiting for more, while a regular file is left alone.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "conf.h"
#include "loop.h"
#include "pipeline.h"
#include "source.h"
#include "unit.h"

static char dir[64];

#define EV(serial)                                                          \
	"type=SYSCALL msg=audit(1700000000.100:" serial "): arch=c000003e " \
	"syscall=2 success=yes exit=3 items=0 pid=7 comm=\"c\"\n"           \
	"type=EOE msg=audit(1700000000.100:" serial "): \n"

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_source_stream");
}

static void
teardown(void)
{
	unit_rmtree(dir);
}

struct rig {
	struct conf c;
	struct loop *l;
	struct pipeline *pl;
	int events;
};

static void
tap(const cJSON *ev, void *arg)
{
	(void)ev;
	((struct rig *)arg)->events++;
}

static void
rig_open(struct rig *r, const char *source)
{
	char state[96], out[96];

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(out, sizeof(out), "file:%s/out", dir);
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(conf_defaults(&r->c), 0);
	ck_assert_int_eq(conf_set(&r->c, "source", source, NULL, 0), 0);
	ck_assert_int_eq(conf_set(&r->c, "output", out, NULL, 0), 0);
	ck_assert_int_eq(conf_set(&r->c, "state_dir", state, NULL, 0), 0);
	ck_assert_int_eq(conf_set(&r->c, "enrich", "no", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&r->c, "helper_threads", "no", NULL, 0), 0);
	r->l = loop_new();
	ck_assert_ptr_nonnull(r->l);
	r->pl = pipeline_new(&r->c, r->l);
	ck_assert_ptr_nonnull(r->pl);
	pipeline_set_tap(r->pl, tap, r);
}

static void
rig_close(struct rig *r)
{
	ck_assert_int_eq(pipeline_close(r->pl), 0);
	loop_free(r->l);
	conf_free(&r->c);
}

START_TEST(file_is_read_to_its_end)
{
	char path[96], spec[112];
	struct source *s;
	struct rig r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	/* more than one read's worth, so the source needs several turns */
	for (int i = 1; i <= 2000; i++)
		fprintf(f, "type=SYSCALL msg=audit(1700000000.100:%d): "
		    "arch=c000003e syscall=2 success=yes exit=3 items=0 pid=7 "
		    "comm=\"c\"\ntype=EOE msg=audit(1700000000.100:%d): \n",
		    i, i);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(spec, sizeof(spec), "file:%s", path);
	rig_open(&r, spec);
	s = source_open(spec, r.l, r.pl, &r.c);
	ck_assert_ptr_nonnull(s);
	/* returns when the source's end stops the loop */
	ck_assert_int_eq(loop_run(r.l, NULL), 0);
	ck_assert_int_eq(r.events, 2000);
	source_close(s);
	rig_close(&r);
}
END_TEST

START_TEST(bad_specs_fail_cleanly)
{
	char spec[112];
	struct rig r;

	snprintf(spec, sizeof(spec), "file:%s/none", dir);
	rig_open(&r, "file:/dev/null");
	ck_assert_ptr_null(source_open(spec, r.l, r.pl, &r.c));
	ck_assert_ptr_null(source_open("file:", r.l, r.pl, &r.c));
	ck_assert_ptr_null(source_open("stdin:x", r.l, r.pl, &r.c));
	ck_assert_ptr_null(source_open("nosuch", r.l, r.pl, &r.c));
	rig_close(&r);
}
END_TEST

START_TEST(drain_takes_what_a_pipe_holds)
{
	static const char text[] = EV("1") EV("2") EV("3");
	struct source *s;
	struct rig r;
	int p[2], saved = dup(STDIN_FILENO);

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	rig_open(&r, "stdin");
	s = source_open("stdin", r.l, r.pl, &r.c);
	ck_assert_ptr_nonnull(s);
	/* written, never read by the loop; the writer stays open */
	ck_assert_int_eq(write(p[1], text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	/* takes the records in and returns without waiting for more */
	source_drain(s);
	pipeline_eof(r.pl);
	ck_assert_int_eq(r.events, 3);
	source_close(s);
	rig_close(&r);
	close(p[1]);
	dup2(saved, STDIN_FILENO);
	close(saved);
}
END_TEST

static Suite *
source_stream_suite(void)
{
	Suite *s = suite_create("source_stream");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, file_is_read_to_its_end);
	tcase_add_test(tc, bad_specs_fail_cleanly);
	tcase_add_test(tc, drain_takes_what_a_pipe_holds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(source_stream_suite());
}
