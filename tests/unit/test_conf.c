/* test_conf.c - the option table and the config file parser. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "conf.h"
#include "unit.h"

static char *
write_tmp(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Run conf_load with stderr captured; return what it printed. */
static char *
load_err(struct conf *c, const char *path, int *rc)
{
	static char out[512];
	struct unit_capture cap;

	unit_capture_begin(&cap);
	*rc = conf_load(c, path, 1);
	unit_capture_end(&cap, out, sizeof(out));
	return out;
}

START_TEST(test_defaults)
{
	struct conf c;

	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_str_eq(c.source, "stdin");
	ck_assert_str_eq(c.output, "-");
	ck_assert_int_eq(c.eoe_timeout, 2);
	ck_assert_int_eq(c.batch_bytes, 1 << 20);
	ck_assert_int_eq(c.enrich, 1);
	ck_assert_int_eq(c.hostpath.n, 0);
	conf_free(&c);
}
END_TEST

START_TEST(test_set_values)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_set(&c, "eoe-timeout", "5", err, sizeof(err)), 0);
	ck_assert_int_eq(c.eoe_timeout, 5);
	ck_assert_int_eq(conf_set(&c, "rcvbuf", "16M", err, sizeof(err)), 0);
	ck_assert_int_eq(c.rcvbuf, 16 << 20);
	ck_assert_int_eq(conf_set(&c, "force", "yes", err, sizeof(err)), 0);
	ck_assert_int_eq(c.force, 1);
	ck_assert_int_eq(conf_set(&c, "hostpath", "/a,/b", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&c, "hostpath", "/c", err, sizeof(err)), 0);
	ck_assert_int_eq(c.hostpath.n, 3);
	ck_assert_str_eq(c.hostpath.v[2], "/c");
	ck_assert_int_eq(conf_is_bool("keep-rules"), 1);
	ck_assert_int_eq(conf_is_bool("output"), 0);
	ck_assert_int_eq(conf_is_bool("nope"), -1);
	conf_free(&c);
}
END_TEST

START_TEST(test_bad_values)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_set(&c, "eoe_timeout", "0", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "between 1 and 600"));
	ck_assert_int_eq(conf_set(&c, "eoe_timeout", "2x", err, sizeof(err)), -1);
	ck_assert_int_eq(conf_set(&c, "rcvbuf", "9Q", err, sizeof(err)), -1);
	ck_assert_int_eq(conf_set(&c, "force", "maybe", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "yes or no"));
	ck_assert_int_eq(conf_set(&c, "colour", "red", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown option 'colour'"));
	/* found by fuzz_conf: a negative size times its unit overflowed */
	ck_assert_int_eq(conf_set(&c, "batch_bytes", "-9999999998G", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(conf_set(&c, "batch_bytes", "9999999999999G", err,
	    sizeof(err)), -1);
	conf_free(&c);
}
END_TEST

START_TEST(test_file)
{
	struct conf c;
	char *path, *msg;
	int rc;

	conf_defaults(&c);
	path = write_tmp("# podtrail\n\n  output = file:/tmp/x  \n"
	    "eoe_timeout=7\nhostpath = /srv/a, /srv/b\n");
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(msg, "");
	ck_assert_str_eq(c.output, "file:/tmp/x");
	ck_assert_int_eq(c.eoe_timeout, 7);
	ck_assert_int_eq(c.hostpath.n, 2);
	ck_assert_str_eq(c.hostpath.v[1], "/srv/b");
	unlink(path);
	conf_free(&c);
}
END_TEST

START_TEST(test_file_errors_name_line)
{
	struct conf c;
	char *path, *msg, want[128];
	int rc;

	conf_defaults(&c);
	path = write_tmp("output = -\n\nno_such_key = 1\n");
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%s:3: unknown option 'no_such_key'",
	    path);
	ck_assert_ptr_nonnull(strstr(msg, want));
	unlink(path);

	path = write_tmp("just words\n");
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%s:1: expected 'key = value'", path);
	ck_assert_ptr_nonnull(strstr(msg, want));
	unlink(path);

	/* a NUL used to cut "stdin\0x" to "stdin" without a word */
	path = write_tmp("output = -\n");
	{
		FILE *fp = fopen(path, "a");

		ck_assert_ptr_nonnull(fp);
		fwrite("source = stdin\0x\n", 1, 17, fp);
		fclose(fp);
	}
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_ptr_nonnull(strstr(msg, want));
	unlink(path);

	msg = load_err(&c, "/nonexistent/podtrail.conf", &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(msg, "No such file"));
	ck_assert_int_eq(conf_load(&c, "/nonexistent/podtrail.conf", 0), 0);
	conf_free(&c);
}
END_TEST

static int nlive, nrestart;
static char restart_name[64];

static void
on_change(const char *name, int live, void *arg)
{
	if (live) {
		nlive++;
	} else {
		nrestart++;
		snprintf(restart_name, sizeof(restart_name), "%s", name);
	}
}

/* SIGHUP: live options move into the running conf, others stay. */
START_TEST(test_apply_live)
{
	struct conf cur, next;
	char err[256];

	ck_assert_int_eq(conf_defaults(&cur), 0);
	ck_assert_int_eq(conf_defaults(&next), 0);
	ck_assert_int_eq(conf_set(&next, "log_level", "debug", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&next, "batch_events", "7", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&next, "metrics_file", "/x.prom", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&next, "state_dir", "/elsewhere", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&next, "hostpath", "/a,/b", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_apply_live(&cur, &next, on_change, NULL), 3);
	ck_assert_int_eq(nlive, 3);
	ck_assert_int_eq(nrestart, 2);
	ck_assert_str_eq(cur.log_level, "debug");
	ck_assert_int_eq(cur.batch_events, 7);
	ck_assert_str_eq(cur.metrics_file, "/x.prom");
	ck_assert_str_eq(cur.state_dir, "/var/lib/podtrail");
	ck_assert_int_eq(cur.hostpath.n, 0);
	/* next holds the old values now; both free cleanly */
	ck_assert_str_eq(next.log_level, "info");
	ck_assert_int_eq(conf_apply_live(&cur, &cur, NULL, NULL), 0);
	conf_free(&next);
	conf_free(&cur);
}
END_TEST

START_TEST(test_load_err_buffer)
{
	struct conf c;
	char err[256];
	char *path = write_tmp("log_level = info\nmetrics_interval = 0\n");

	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_int_eq(conf_load_err(&c, path, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: metrics_interval: '0'"));
	unlink(path);
	conf_free(&c);
}
END_TEST

/* Devices, FIFOs and directories are refused at once, not read forever. */
START_TEST(test_file_not_regular)
{
	static const char *const paths[] = { "/dev/zero", "/tmp" };
	struct conf c;
	char fifo[64], *msg, want[128], *long_line, *path;
	int rc;

	conf_defaults(&c);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		msg = load_err(&c, paths[i], &rc);
		ck_assert_int_eq(rc, -1);
		snprintf(want, sizeof(want), "%s: not a regular file", paths[i]);
		ck_assert_ptr_nonnull(strstr(msg, want));
	}
	/* a FIFO without a writer: opening it used to block */
	snprintf(fifo, sizeof(fifo), "/tmp/test_conf.fifo.%d", (int)getpid());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	msg = load_err(&c, fifo, &rc);
	unlink(fifo);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(msg, "not a regular file"));

	/* an endless line is cut off with file:line */
	ck_assert_ptr_nonnull(long_line = malloc(20000));
	memset(long_line, 'a', 19998);
	memcpy(long_line, "node = ", 7);
	long_line[19998] = '\n';
	long_line[19999] = '\0';
	path = write_tmp(long_line);
	msg = load_err(&c, path, &rc);
	unlink(path);
	free(long_line);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(msg, ":1: line longer than"));
	conf_free(&c);
}
END_TEST

/* A secret file others can read is refused at load time, with file:line. */
START_TEST(test_file_secret_mode)
{
	struct conf c;
	char key[64], text[256], want[256], *path, *msg;
	int rc, fd;

	snprintf(key, sizeof(key), "/tmp/test_conf.key.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(key), 0);
	close(fd);
	conf_defaults(&c);
	snprintf(text, sizeof(text), "# secrets\nhmac_key_file = %s\n", key);
	ck_assert_int_eq(chmod(key, 0644), 0);
	path = write_tmp(text);
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%s:2: hmac_key_file: %s is readable by "
	    "group or others", path, key);
	ck_assert_ptr_nonnull(strstr(msg, want));
	ck_assert_int_eq(chmod(key, 0600), 0);
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, 0);
	unlink(path);
	unlink(key);
	/* a secret that is not there is named too */
	path = write_tmp("token_file = /nonexistent/token\n");
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(msg, ":1: token_file: /nonexistent/token: No such file"));
	unlink(path);
	conf_free(&c);
}
END_TEST

START_TEST(test_helper_threads)
{
	struct conf c;

	ck_assert_int_eq(conf_defaults(&c), 0);
	/* auto: helpers only to catch up on a replayed file */
	ck_assert_int_eq(conf_set(&c, "source", "file:/x", NULL, 0), 0);
	ck_assert_int_eq(conf_helper_threads(&c), 1);
	ck_assert_int_eq(conf_set(&c, "source", "netlink", NULL, 0), 0);
	ck_assert_int_eq(conf_helper_threads(&c), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "yes", NULL, 0), 0);
	ck_assert_int_eq(conf_helper_threads(&c), 1);
	ck_assert_int_eq(conf_set(&c, "source", "file:/x", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "no", NULL, 0), 0);
	ck_assert_int_eq(conf_helper_threads(&c), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "maybe", NULL, 0), 0);
	ck_assert_int_eq(conf_helper_threads(&c), -1);
	conf_free(&c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_set_values);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_file_errors_name_line);
	tcase_add_test(tc, test_apply_live);
	tcase_add_test(tc, test_load_err_buffer);
	tcase_add_test(tc, test_file_not_regular);
	tcase_add_test(tc, test_file_secret_mode);
	tcase_add_test(tc, test_helper_threads);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
