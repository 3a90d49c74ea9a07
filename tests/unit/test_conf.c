/* test_conf.c - the option table and the config file parser. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "conf.h"
#include "source.h"
#include "thread_plan.h"
#include "worker.h"
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

/*
 * Load text as a config file, then check it (conf_check): the error
 * of whichever fails, "" if both pass. *rc: 0, or -1.
 */
static char *
load_check(const char *text, char **path, int *rc)
{
	static char err[1024];
	struct conf c;

	err[0] = '\0';
	*path = write_tmp(text);
	ck_assert_int_eq(conf_defaults(&c), 0);
	*rc = conf_load_err(&c, *path, 1, err, sizeof(err));
	if (*rc == 0)
		*rc = conf_check(&c, NULL, err, sizeof(err));
	conf_free(&c);
	unlink(*path);
	return err;
}

/* want, with its "%s" replaced by path, is in got */
static void
assert_has(const char *got, const char *want, const char *path)
{
	const char *at = strstr(want, "%s");
	char w[1024];

	if (at)
		snprintf(w, sizeof(w), "%.*s%s%s", (int)(at - want), want, path,
		    at + 2);
	else
		snprintf(w, sizeof(w), "%s", want);
	ck_assert_msg(strstr(got, w) != NULL, "want '%s' in '%s'", w, got);
}

/* A config text and (a part of) the error it must get. */
struct refused {
	const char *text, *want;
};

/* Each of the n texts is refused with its message. */
static void
assert_refused(const struct refused *r, size_t n)
{
	char *path, *msg;
	int rc;

	for (size_t i = 0; i < n; i++) {
		msg = load_check(r[i].text, &path, &rc);
		ck_assert_int_eq(rc, -1);
		assert_has(msg, r[i].want, path);
	}
}

/* A secret file others can read is refused with file:line. */
START_TEST(test_file_secret_mode)
{
	char key[64], text[256], want[256], *path, *msg;
	int rc, fd;

	snprintf(key, sizeof(key), "/tmp/test_conf.key.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(key), 0);
	close(fd);
	snprintf(text, sizeof(text), "# secrets\nhmac_key_file = %s\n", key);
	ck_assert_int_eq(chmod(key, 0644), 0);
	msg = load_check(text, &path, &rc);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%%s:2: hmac_key_file: %s is readable by "
	    "group or others", key);	/* "%s" stays for assert_has */
	assert_has(msg, want, path);
	ck_assert_int_eq(chmod(key, 0600), 0);
	msg = load_check(text, &path, &rc);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(rc, 0);
	unlink(key);
	/* a secret that is not there is named too */
	msg = load_check("token_file = /nonexistent/token\n", &path, &rc);
	ck_assert_int_eq(rc, -1);
	assert_has(msg, "%s:1: token_file: /nonexistent/token: No such file", path);
}
END_TEST

/* Enum-like values are checked as they are read: file:line. */
START_TEST(test_enum_values)
{
	static const struct refused bad[] = {
		{ "node = n\nlog_level = loud\n",
		  "%s:2: log_level: 'loud' is not error, warning, info or debug" },
		{ "helper_threads = maybe\n",
		  "%s:1: helper_threads: 'maybe' is not auto, yes or no" },
		{ "format = xml\n",
		  "%s:1: format: 'xml' is not ndjson, elasticsearch, splunk-hec, loki or otlp" },
		{ "source = netlink-multicast\n",
		  "%s:1: source: 'netlink-multicast' is not stdin, file:PATH, "
		  "netlink or netlink-unicast" },
		{ "source = file:\n", "%s:1: source: 'file:' needs a path" },
		{ "output = ftp://x/\n",
		  "%s:1: output: 'ftp://x/' is not -, file:PATH, https://..., "
		  "http://... or nats://..." },
	};
	static const char *const sources[] = { "stdin", "file:/x", "netlink",
	    "netlink-unicast" };
	struct conf c;
	char err[256];

	assert_refused(bad, sizeof(bad) / sizeof(bad[0]));
	ck_assert_int_eq(conf_defaults(&c), 0);
	/* the table's sources are the ones source.c opens */
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		ck_assert_int_eq(conf_set(&c, "source", sources[i], err,
		    sizeof(err)), 0);
		ck_assert_int_eq(source_known(sources[i]), 1);
	}
	ck_assert_int_eq(conf_set(&c, "log-level", "debug", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&c, "log-level", "DEBUG", err, sizeof(err)), -1);
	conf_free(&c);
}
END_TEST

/* A key given twice: the last wins, with a warning naming both lines. */
START_TEST(test_duplicate_key)
{
	struct conf c;
	char *path, *msg, want[256];
	int rc;

	ck_assert_int_eq(conf_defaults(&c), 0);
	path = write_tmp("output = -\nnode = a\n\noutput = file:/tmp/x\n"
	    "eoe_timeout = 3\neoe-timeout = 4\nhostpath = /a\nhostpath = /b, /c\n");
	msg = load_err(&c, path, &rc);
	ck_assert_int_eq(rc, 0);
	snprintf(want, sizeof(want), "%s:4: output given again (first at "
	    "line 1); this value is used", path);
	ck_assert_msg(strstr(msg, want) != NULL, "no '%s' in '%s'", want, msg);
	snprintf(want, sizeof(want), "%s:6: eoe_timeout given again (first at "
	    "line 5)", path);
	ck_assert_msg(strstr(msg, want) != NULL, "no '%s' in '%s'", want, msg);
	ck_assert_ptr_null(strstr(msg, "hostpath"));
	ck_assert_str_eq(c.output, "file:/tmp/x");
	ck_assert_int_eq(c.eoe_timeout, 4);
	ck_assert_int_eq(c.hostpath.n, 3);
	unlink(path);
	conf_free(&c);
}
END_TEST

/* What the settings name is checked without starting, with file:line. */
START_TEST(test_check_resources)
{
	static const struct refused bad[] = {
		{ "user = nosuchuser\n", "%s:1: user: no user 'nosuchuser'" },
		{ "node = x\nca_file = /nonexistent/ca.pem\n",
		  "%s:2: ca_file: /nonexistent/ca.pem: No such file" },
		{ "client_cert = /tmp\n", "%s:1: client_cert: /tmp: is a directory" },
		{ "source = file:/nonexistent/audit.log\n",
		  "%s:1: source: /nonexistent/audit.log: No such file" },
		{ "output = file:/nonexistent/dir/out.ndjson\n",
		  "%s:1: output: /nonexistent/dir/out.ndjson: /nonexistent/dir: No such file" },
		{ "metrics_file = /nonexistent/podtrail.prom\n",
		  "%s:1: metrics_file: /nonexistent/podtrail.prom: /nonexistent: No such file" },
		{ "state_dir = /dev/null/state\n",
		  "%s:1: state_dir: /dev/null/state: /dev/null is not a directory" },
	};
	struct conf c, running;
	char err[1024], *path, *msg;
	int rc;

	assert_refused(bad, sizeof(bad) / sizeof(bad[0]));
	/* what exists, or can be created, passes */
	msg = load_check("user = nobody\nca_file = /dev/null\n"
	    "state_dir = /tmp/test_conf.none/a/b\nsource = file:/dev/null\n"
	    "output = file:/tmp/test_conf.out\nmetrics_file = /tmp/x.prom\n",
	    &path, &rc);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(rc, 0);

	/* a flag is named as one; a reload checks only what changed */
	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_int_eq(conf_defaults(&running), 0);
	ck_assert_int_eq(conf_set(&c, "ca-file", "/nonexistent/ca", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_check(&c, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "podtrail: --ca_file: /nonexistent/ca: No such "
	    "file or directory");
	ck_assert_int_eq(conf_set(&running, "ca-file", "/nonexistent/ca", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_check(&c, &running, err, sizeof(err)), 0);
	/* and cli_check adds the output URL's */
	ck_assert_int_eq(conf_set(&c, "ca-file", "", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set(&c, "output", "http://example.com/x", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cli_check(&c, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "podtrail: --output: plain http:// is refused"));
	ck_assert_int_eq(conf_set(&c, "output", "https://[::1/x", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cli_check(&c, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a valid URL"));
	conf_free(&running);
	conf_free(&c);
}
END_TEST

START_TEST(test_helper_threads)
{
	struct conf c;

	ck_assert_int_eq(conf_defaults(&c), 0);
	/* auto: helpers only to catch up on a replayed file */
	ck_assert_int_eq(conf_set(&c, "source", "file:/x", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build, 1);
	ck_assert_int_eq(thread_plan(&c).build_behind, 0);
	ck_assert_int_eq(conf_set(&c, "source", "netlink", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build, 0);
	/* auto on netlink: builder and parser only while the ring is behind */
	ck_assert_int_eq(thread_plan(&c).build_behind, 1);
	ck_assert_int_eq(thread_plan_builder(&c), WORKER_WHEN_ASKED);
	ck_assert_int_eq(thread_plan(&c).parse, 0);
	ck_assert_int_eq(thread_plan(&c).parse_behind, 1);
	ck_assert_int_eq(conf_set(&c, "ring_bytes", "0", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build_behind, 0);
	ck_assert_int_eq(thread_plan(&c).parse_behind, 0);
	ck_assert_int_eq(conf_set(&c, "ring_bytes", "64M", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "no", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build_behind, 0);
	ck_assert_int_eq(thread_plan(&c).parse_behind, 0);
	ck_assert_int_eq(thread_plan_builder(&c), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "yes", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build, 1);
	ck_assert_int_eq(thread_plan(&c).build_behind, 0);
	ck_assert_int_eq(thread_plan_builder(&c), 1);
	/* netlink records are cheaper parsed in place while it keeps up */
	ck_assert_int_eq(thread_plan(&c).parse, 0);
	ck_assert_int_eq(thread_plan(&c).parse_behind, 1);
	ck_assert_int_eq(conf_set(&c, "source", "file:/x", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "no", NULL, 0), 0);
	ck_assert_int_eq(thread_plan(&c).build, 0);
	/* a value not in the table is refused as it is set */
	ck_assert_int_eq(conf_set(&c, "helper_threads", "maybe", NULL, 0), -1);
	ck_assert_int_eq(thread_plan(&c).build, 0);
	conf_free(&c);
}
END_TEST

/* the rest of the plan: parse off netlink only, drain with a ring */
START_TEST(test_thread_plan)
{
	struct conf c;
	struct thread_plan tp;

	ck_assert_int_eq(conf_defaults(&c), 0);
	ck_assert_int_eq(conf_set(&c, "source", "netlink", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "yes", NULL, 0), 0);
	tp = thread_plan(&c);
	ck_assert(!tp.parse && tp.build && tp.drain && !tp.witness);
	ck_assert_int_eq(conf_set(&c, "ring_bytes", "0", NULL, 0), 0);
	ck_assert(!thread_plan(&c).drain);
	ck_assert_int_eq(conf_set(&c, "source", "stdin", NULL, 0), 0);
	ck_assert_int_eq(conf_set(&c, "ring_bytes", "64M", NULL, 0), 0);
	tp = thread_plan(&c);
	ck_assert(tp.parse && tp.build && !tp.drain);
	ck_assert_int_eq(conf_set(&c, "helper_threads", "auto", NULL, 0), 0);
	ck_assert(!thread_plan(&c).parse);
	ck_assert_int_eq(conf_set(&c, "checkpoint_output", "file:/w", NULL,
	    0), 0);
	ck_assert(!thread_plan(&c).witness);
	ck_assert_int_eq(conf_set(&c, "checkpoint_output",
	    "https://127.0.0.1/w", NULL, 0), 0);
	ck_assert(thread_plan(&c).witness);
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
	tcase_add_test(tc, test_thread_plan);
	tcase_add_test(tc, test_enum_values);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_check_resources);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
