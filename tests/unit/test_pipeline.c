/*
 * test_pipeline.c - the wired data flow through its public interface:
 * audit text in any chunking comes out as chained NDJSON, one line per
 * event, seq 1..N in input order, with podtrail's own events chained in
 * their place; the tap sees every event before enrichment; the parse
 * worker (helper threads) gives the same lines as the loop's thread; a
 * restart on the same state continues the stream.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "conf.h"
#include "event.h"
#include "loop.h"
#include "pipeline.h"
#include "unit.h"

static char dir[64];

/* three events (SYSCALL + PATH/CWD/PROCTITLE), as auditd logs them */
static const char AUDIT_TEXT[] =
    "type=SYSCALL msg=audit(1795966091.103:296): arch=c000003e syscall=165 "
    "success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=5933 "
    "auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
    "fsgid=0 tty=(none) ses=4294967295 comm=\"mount\" exe=\"/bin/mount\" "
    "key=\"k\"\n"
    "type=CWD msg=audit(1795966091.103:296): cwd=\"/\"\n"
    "type=PATH msg=audit(1795966091.103:296): item=0 name=\"/mnt\" "
    "inode=2 dev=00:1f mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL "
    "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
    "type=PROCTITLE msg=audit(1795966091.103:296): proctitle=6D6F756E74\n"
    "type=EOE msg=audit(1795966091.103:296): \n"
    "type=SYSCALL msg=audit(1795966091.111:297): arch=c000003e syscall=166 "
    "success=yes exit=0 a0=1 a1=0 a2=0 a3=0 items=1 ppid=1 pid=5934 "
    "auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
    "fsgid=0 tty=(none) ses=4294967295 comm=\"umount\" exe=\"/bin/umount\" "
    "key=\"k\"\n"
    "type=PATH msg=audit(1795966091.111:297): item=0 name=\"/mnt\" "
    "inode=2 dev=00:1f mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL "
    "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
    "type=EOE msg=audit(1795966091.111:297): \n"
    "type=CONFIG_CHANGE msg=audit(1795966091.120:298): auid=4294967295 "
    "ses=4294967295 op=add_rule key=\"k\" list=4 res=1\n";

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_pipeline");
}

static void
teardown(void)
{
	unit_rmtree(dir);
}

static void
set(struct conf *c, const char *name, const char *value)
{
	ck_assert_msg(conf_set(c, name, value, NULL, 0) == 0, "%s=%s", name,
	    value);
}

static void
conf_for(struct conf *c, const char *helpers, const char *out)
{
	char state[96];

	snprintf(state, sizeof(state), "%s/state", dir);
	ck_assert_int_eq(conf_defaults(c), 0);
	set(c, "source", "file:/dev/null");
	set(c, "output", out);
	set(c, "state_dir", state);
	set(c, "node", "unit");
	set(c, "enrich", "no");
	set(c, "heartbeat_interval", "0");
	set(c, "helper_threads", helpers);
}

static void
count_tap(const cJSON *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
}

/*
 * Run text through a pipeline in chunks of `chunk` bytes, emitting one
 * podtrail event after the first `emit_after` bytes; return the output.
 */
static char *
run(const char *helpers, size_t chunk, size_t emit_after, int *tapped)
{
	char out[128], *text;
	struct conf c;
	struct loop *l = loop_new();
	struct pipeline *pl;
	size_t off = 0, len = strlen(AUDIT_TEXT);
	FILE *f;
	long n;

	snprintf(out, sizeof(out), "file:%s/out.%s.%zu", dir, helpers, chunk);
	conf_for(&c, helpers, out);
	ck_assert_ptr_nonnull(l);
	pl = pipeline_new(&c, l);
	ck_assert_ptr_nonnull(pl);
	pipeline_set_tap(pl, count_tap, tapped);
	while (off < len) {
		size_t n2 = len - off < chunk ? len - off : chunk;

		if (off < emit_after && off + n2 >= emit_after) {
			n2 = emit_after - off;
			ck_assert_int_eq(pipeline_feed(pl, AUDIT_TEXT + off,
			    n2), 0);
			pipeline_emit(pl, event_new_internal("podtrail_test",
			    pipeline_node(pl)));
		} else {
			ck_assert_int_eq(pipeline_feed(pl, AUDIT_TEXT + off,
			    n2), 0);
		}
		off += n2;
	}
	pipeline_eof(pl);
	ck_assert_int_eq(pipeline_close(pl), 0);
	loop_free(l);
	conf_free(&c);

	f = fopen(out + 5, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

struct line {
	char type[32];
	long long seq;
	char stream[64];
	char prev[72], hash[72];
	long long serial;
};

/* Split NDJSON into at most max parsed lines; returns how many. */
static int
lines_of(char *text, struct line *ls, int max)
{
	int n = 0;

	for (char *p = text, *nl; *p != '\0' && n < max; p = nl + 1) {
		cJSON *ev, *x;

		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);	/* every line is complete */
		*nl = '\0';
		ev = cJSON_Parse(p);
		ck_assert_msg(ev != NULL, "bad line: %s", p);
		memset(&ls[n], 0, sizeof(ls[n]));
		snprintf(ls[n].type, sizeof(ls[n].type), "%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type")));
		ls[n].seq = (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItem(ev, "seq"));
		snprintf(ls[n].stream, sizeof(ls[n].stream), "%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(ev, "stream")));
		snprintf(ls[n].prev, sizeof(ls[n].prev), "%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(ev, "prev")));
		snprintf(ls[n].hash, sizeof(ls[n].hash), "%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(ev, "hash")));
		if ((x = cJSON_GetObjectItem(ev, "serial")) != NULL)
			ls[n].serial = (long long)cJSON_GetNumberValue(x);
		cJSON_Delete(ev);
		n++;
	}
	return n;
}

static void
check_stream(struct line *ls, int n, long long first_seq)
{
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(ls[i].seq, first_seq + i);
		ck_assert_str_eq(ls[i].stream, ls[0].stream);
		ck_assert_int_eq(strncmp(ls[i].stream, "unit/", 5), 0);
		ck_assert_uint_eq(strlen(ls[i].hash), 64);
		if (i > 0)
			ck_assert_str_eq(ls[i].prev, ls[i - 1].hash);
	}
}

/*
 * The lines of a run without the signing events around them: the first
 * is the run's podtrail_key, the last the checkpoint of a clean stop.
 */
static int
unsigned_lines(struct line *ls, int n)
{
	ck_assert_int_ge(n, 2);
	ck_assert_str_eq(ls[0].type, "podtrail_key");
	ck_assert_str_eq(ls[n - 1].type, "podtrail_checkpoint");
	memmove(ls, ls + 1, (size_t)(n - 2) * sizeof(*ls));
	return n - 2;
}

START_TEST(events_in_order_with_own_events_chained)
{
	static const size_t chunks[] = { 1, 7, 100, 4096 };
	const char *helpers = _i < 4 ? "no" : "yes";
	size_t chunk = chunks[_i % 4];
	/* after the first event's EOE line */
	size_t emit_after = (size_t)(strstr(AUDIT_TEXT, ":296): \n") -
	    AUDIT_TEXT) + 8;
	struct line ls[10];
	int tapped = 0, n;
	char *text;

	text = run(helpers, chunk, emit_after, &tapped);
	n = lines_of(text, ls, 10);
	free(text);
	check_stream(ls, n, 1);
	n = unsigned_lines(ls, n);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(ls[0].serial, 296);
	ck_assert_str_eq(ls[1].type, "podtrail_test");
	ck_assert_int_eq(ls[2].serial, 297);
	/* the last event had no EOE: it leaves at end of input */
	ck_assert_int_eq(ls[3].serial, 298);
	/* the tap sees every event, podtrail's own included */
	ck_assert_int_ge(tapped, 4);
}
END_TEST

START_TEST(restart_continues_the_stream)
{
	struct line a[10], b[10];
	int tapped = 0, na, nb;
	char *t1, *t2;

	t1 = run("no", 4096, 0, &tapped);
	t2 = run("no", 333, 0, &tapped);
	na = lines_of(t1, a, 10);
	nb = lines_of(t2, b, 10);
	/* same stream, seq and prev continue across a clean restart */
	ck_assert_str_eq(a[0].stream, b[0].stream);
	ck_assert_int_eq(b[0].seq, a[na - 1].seq + 1);
	ck_assert_str_eq(b[0].prev, a[na - 1].hash);
	ck_assert_int_eq(unsigned_lines(a, na), 3);
	ck_assert_int_eq(unsigned_lines(b, nb), 3);
	free(t1);
	free(t2);
}
END_TEST

static Suite *
pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, events_in_order_with_own_events_chained, 0, 8);
	tcase_add_test(tc, restart_continues_the_stream);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pipeline_suite());
}
