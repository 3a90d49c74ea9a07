/* test_event.c - grouping records into events and the JSON they become. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "jsonread.h"
#include "parse.h"
#include "unit.h"

#define MAXEV 16

static cJSON *evs[MAXEV];
static char *lines[MAXEV];	/* each event's canonical JSON */
static char a0[MAXEV][32];	/* the typed SYSCALL a0 in hex, or "-" */
static struct event typed[MAXEV];	/* as the pipeline got each */
static int nev;

static void
collect(struct event *e, void *arg)
{
	struct buf b = BUF_INIT;
	cJSON *ev = e->json;

	(void)arg;
	ck_assert_int_lt(nev, MAXEV);
	if (e->args & 1u)
		snprintf(a0[nev], sizeof(a0[0]), "%llx", e->arg[0]);
	else
		snprintf(a0[nev], sizeof(a0[0]), "-");
	typed[nev] = *e;
	typed[nev].json = NULL;
	/*
	 * The event lives in the arena until the next one, and records are
	 * raw canonical JSON: keep what a reader of the line would see.
	 */
	ck_assert_int_eq(json_write(&b, ev, JSON_SORTED, NULL), 0);
	evs[nev] = jsonread_parse(b.data, b.len);	/* numbers stay text */
	ck_assert_ptr_nonnull(evs[nev]);
	lines[nev++] = b.data;
	cJSON_Delete(ev);
}

static void
reset(void)
{
	for (int i = 0; i < nev; i++) {
		cJSON_Delete(evs[i]);
		free(lines[i]);
	}
	nev = 0;
}

static void
feed_all(const char *text, size_t chunk)
{
	struct parse *p = parse_new("testnode", 2, collect, NULL);
	size_t len = strlen(text);

	ck_assert_ptr_nonnull(p);
	for (size_t off = 0; off < len; off += chunk)
		parse_feed(p, text + off, off + chunk > len ? len - off : chunk);
	parse_flush(p);
	parse_free(p);
}

static const char *
str(cJSON *o, const char *path)
{
	char name[64];
	cJSON *v = o;

	/* dotted path: "process.pid" */
	while (v && *path) {
		size_t n = strcspn(path, ".");

		snprintf(name, sizeof(name), "%.*s", (int)n, path);
		v = cJSON_GetObjectItemCaseSensitive(v, name);
		path += n + (path[n] == '.');
	}
	ck_assert_msg(v != NULL, "no %s", path);
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsRaw(v))
		return v->valuestring;
	return cJSON_IsNull(v) ? "null" : "?";
}

static const char MOUNT_EVENT[] =
    "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=165 "
    "success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=1000 items=2 ppid=10 "
    "pid=11 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
    "sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"mount\" "
    "exe=\"/usr/bin/mount\" subj=unconfined key=6B31016B32\n"
    "type=CWD msg=audit(1700000000.123:42): cwd=2F726F6F74206469722F\n"
    "type=PATH msg=audit(1700000000.123:42): item=0 name=\"/src\" "
    "inode=18446744073709551615 dev=00:1f mode=040755 ouid=0 ogid=0 "
    "rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n"
    "type=PATH msg=audit(1700000000.123:42): item=1 name=2F6D6E742FFF0A "
    "inode=7 dev=00:1f mode=040755 nametype=NORMAL\n"
    "type=PROCTITLE msg=audit(1700000000.123:42): "
    "proctitle=6D6F756E74002D2D62696E64002F737263\n"
    "type=EOE msg=audit(1700000000.123:42): \n";

START_TEST(test_mount_event_fields)
{
	cJSON *ev, *paths, *records, *keys;

	feed_all(MOUNT_EVENT, strlen(MOUNT_EVENT));
	ck_assert_int_eq(nev, 1);
	ev = evs[0];
	ck_assert_str_eq(str(ev, "type"), "audit");
	ck_assert_str_eq(str(ev, "serial"), "42");
	ck_assert_str_eq(str(ev, "time"), "2023-11-14T22:13:20.123Z");
	ck_assert_str_eq(str(ev, "node"), "testnode");
	ck_assert_str_eq(str(ev, "syscall"), "mount");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(ev, "success")));
	ck_assert_str_eq(str(ev, "exit"), "0");
	ck_assert_str_eq(str(ev, "process.pid"), "11");
	ck_assert_str_eq(str(ev, "process.ppid"), "10");
	ck_assert_str_eq(str(ev, "process.auid"), "4294967295");
	ck_assert_str_eq(str(ev, "process.comm"), "mount");
	ck_assert_str_eq(str(ev, "process.exe"), "/usr/bin/mount");
	ck_assert_str_eq(str(ev, "process.cwd"), "/root dir/");
	keys = cJSON_GetObjectItem(ev, "key");
	ck_assert(cJSON_IsArray(keys));
	ck_assert_int_eq(cJSON_GetArraySize(keys), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(keys, 1)->valuestring, "k2");
	paths = cJSON_GetObjectItem(ev, "paths");
	ck_assert_int_eq(cJSON_GetArraySize(paths), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(paths, 0), "inode"),
	    "18446744073709551615");
	ck_assert_str_eq(str(cJSON_GetArrayItem(paths, 1), "name"),
	    "/mnt/\\xff\n");
	ck_assert_str_eq(str(cJSON_GetArrayItem(paths, 1), "mode"), "040755");
	/* argv from PROCTITLE when there is no EXECVE */
	ck_assert_str_eq(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ev,
	    "process"), "argv"), 2)->valuestring, "/src");
	/* every record but EOE, every field */
	records = cJSON_GetObjectItem(ev, "records");
	ck_assert_int_eq(cJSON_GetArraySize(records), 5);
	ck_assert_str_eq(str(cJSON_GetArrayItem(records, 0), "subj"),
	    "unconfined");
	ck_assert_str_eq(str(cJSON_GetArrayItem(records, 2), "cap_fver"), "0");
	ck_assert_str_eq(str(cJSON_GetArrayItem(records, 4), "proctitle"),
	    "mount\\x00--bind\\x00/src");
	reset();
}
END_TEST

START_TEST(test_chunking_does_not_matter)
{
	char *one, *bytewise;

	feed_all(MOUNT_EVENT, strlen(MOUNT_EVENT));
	ck_assert_int_eq(nev, 1);
	one = cJSON_PrintUnformatted(evs[0]);
	reset();
	feed_all(MOUNT_EVENT, 1);
	ck_assert_int_eq(nev, 1);
	bytewise = cJSON_PrintUnformatted(evs[0]);
	ck_assert_str_eq(one, bytewise);
	free(one);
	free(bytewise);
	reset();
}
END_TEST

START_TEST(test_execve_split_arguments)
{
	const char *log =
	    "type=SYSCALL msg=audit(1700000001.000:50): arch=c000003e "
	    "syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 comm=\"echo\" "
	    "key=(null)\n"
	    "type=EXECVE msg=audit(1700000001.000:50): argc=4 a0=\"echo\" "
	    "a1_len=6 a1[0]=616263 a1[1]=646566\n"
	    "type=EXECVE msg=audit(1700000001.000:50):  a1[2]=676869 a2=\"\" "
	    "a3=6C696E65310A6C696E6532\n"
	    "type=EOE msg=audit(1700000001.000:50): \n";
	cJSON *argv;

	feed_all(log, strlen(log));
	ck_assert_int_eq(nev, 1);
	ck_assert_str_eq(str(evs[0], "key"), "null");
	ck_assert_str_eq(str(evs[0], "syscall"), "execve");
	argv = cJSON_GetObjectItem(cJSON_GetObjectItem(evs[0], "process"),
	    "argv");
	ck_assert_int_eq(cJSON_GetArraySize(argv), 4);
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 1)->valuestring, "abcdefghi");
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 2)->valuestring, "");
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 3)->valuestring,
	    "line1\nline2");
	reset();
}
END_TEST

START_TEST(test_interleaved_and_no_eoe)
{
	/* two events whose records interleave, neither with an EOE */
	const char *log =
	    "type=SYSCALL msg=audit(1700000002.000:60): arch=c000003e "
	    "syscall=2 success=no exit=-13 items=1 ppid=1 pid=3 comm=\"a\"\n"
	    "type=SYSCALL msg=audit(1700000002.000:61): arch=c000003e "
	    "syscall=2 success=yes exit=3 items=1 ppid=1 pid=4 comm=\"b\"\n"
	    "type=PATH msg=audit(1700000002.000:60): item=0 name=\"/x\" "
	    "nametype=NORMAL\n"
	    "type=PATH msg=audit(1700000002.000:61): item=0 name=\"/y\" "
	    "nametype=CREATE\n";

	feed_all(log, strlen(log));
	ck_assert_int_eq(nev, 2);
	for (int i = 0; i < 2; i++) {
		const char *serial = str(evs[i], "serial");
		cJSON *paths = cJSON_GetObjectItem(evs[i], "paths");

		ck_assert_int_eq(cJSON_GetArraySize(paths), 1);
		ck_assert_str_eq(str(cJSON_GetArrayItem(paths, 0), "name"),
		    strcmp(serial, "60") == 0 ? "/x" : "/y");
		if (strcmp(serial, "60") == 0) {
			ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(evs[i],
			    "success")));
			ck_assert_str_eq(str(evs[i], "exit"), "-13");
		}
	}
	reset();
}
END_TEST

START_TEST(test_age_emits_without_eoe)
{
	/* an event with no EOE and no successor leaves on the idle timeout */
	struct parse *p = parse_new("n", 1, collect, NULL);
	char line[256];
	long then = (long)time(NULL) - 30;

	snprintf(line, sizeof(line),
	    "type=SYSCALL msg=audit(%ld.000:70): arch=c000003e syscall=2 "
	    "success=yes exit=3 items=0 ppid=1 pid=5 comm=\"c\"\n", then);
	parse_feed(p, line, strlen(line));
	ck_assert_int_eq(nev, 0);
	parse_age(p);
	ck_assert_int_eq(nev, 1);
	ck_assert_str_eq(str(evs[0], "serial"), "70");
	parse_free(p);
	reset();
}
END_TEST

START_TEST(test_long_record_and_node_prefix)
{
	size_t n = 20000;
	char *log = malloc(n + 512), *p;
	cJSON *argv;

	p = log + snprintf(log, 512,
	    "node=worker-3 type=SYSCALL msg=audit(1700000003.000:80): "
	    "arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=6 "
	    "comm=\"x\"\nnode=worker-3 type=EXECVE "
	    "msg=audit(1700000003.000:80): argc=1 a0=");
	for (size_t i = 0; i < n; i += 2) {
		*p++ = '4';
		*p++ = '1';
	}
	p += snprintf(p, 128, "\nnode=worker-3 type=EOE "
	    "msg=audit(1700000003.000:80): \n");
	*p = '\0';
	feed_all(log, 4096);
	ck_assert_int_eq(nev, 1);
	ck_assert_str_eq(str(evs[0], "node"), "worker-3");
	argv = cJSON_GetObjectItem(cJSON_GetObjectItem(evs[0], "process"),
	    "argv");
	ck_assert_uint_eq(strlen(cJSON_GetArrayItem(argv, 0)->valuestring),
	    n / 2);
	free(log);
	reset();
}
END_TEST

START_TEST(test_garbage_is_survived)
{
	const char *log = "this is not audit\n\x01\x02\xff\n"
	    "type=SYSCALL msg=audit(garbage): x\n"
	    "type=SYSCALL msg=audit(1700000004.000:90): arch=c000003e "
	    "syscall=2 success=yes exit=3 pid=7 comm=\"ok\"\n";

	feed_all(log, 7);
	ck_assert_int_ge(nev, 1);
	ck_assert_str_eq(str(evs[nev - 1], "process.comm"), "ok");
	reset();
}
END_TEST

START_TEST(test_record_canonical)
{
	/* repeated names become arrays in arrival order; keys sorted */
	const char *log =
	    "type=SYSCALL msg=audit(1700000005.000:91): arch=c000003e "
	    "syscall=2 success=yes exit=3 a0=\"x\",\"a0\":\"y\" pid=7 "
	    "comm=\"q\\\"\"\n"
	    "type=UNKNOWN[1999] msg=audit(1700000005.000:91): zz=1 b=2 zz=3 "
	    "b=4 ab=5\n"
	    "type=EOE msg=audit(1700000005.000:91): \n";
	cJSON *rec;

	feed_all(log, strlen(log));
	ck_assert_int_eq(nev, 1);
	rec = cJSON_GetArrayItem(cJSON_GetObjectItem(evs[0], "records"), 1);
	ck_assert_ptr_nonnull(strstr(lines[0],
	    "{\"ab\":\"5\",\"b\":[\"2\",\"4\"],\"type\":\"UNKNOWN[1999]\","
	    "\"zz\":[\"1\",\"3\"]}"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "zz")), 2);
	/* a quoted value that looks like a member is only a value */
	ck_assert_ptr_nonnull(strstr(lines[0], "\"a0\":\"x\\\",\\\"a0\\\":\\\"y\""));
	/* and not a number: typed, it reads as 0 (not hex) */
	ck_assert_str_eq(a0[0], "0");
	/* the typed values are the JSON's */
	ck_assert_int_eq(typed[0].time_ms, 1700000005000LL);
	ck_assert_uint_eq(typed[0].serial, 91);
	ck_assert_int_eq(typed[0].pid, 7);
	ck_assert_int_eq(typed[0].has_syscall, 1);
	/* a backslash is escaped losslessly (text.h) */
	ck_assert_str_eq(str(evs[0], "process.comm"), "q\\\\\"");
	reset();
}
END_TEST

/*
 * What the kernel sent comes out: a type libaudit has no name for keeps
 * its number, a field with no value stays (as ""), a bare name=(null)
 * is an anonymous path (no name to join to the cwd), a quoted one a
 * file called "(null)".
 */
START_TEST(test_lossless_odd_fields)
{
	const char *log =
	    "type=SYSCALL msg=audit(1700000006.000:92): arch=c000003e "
	    "syscall=165 success=yes exit=0 items=2 pid= comm=\"m\" key=\n"
	    "type=CWD msg=audit(1700000006.000:92): cwd=\"/run\"\n"
	    "type=PATH msg=audit(1700000006.000:92): item=0 name=(null) "
	    "inode=7 nametype=UNKNOWN\n"
	    "type=PATH msg=audit(1700000006.000:92): item=1 name=\"(null)\" "
	    "inode=8 nametype=NORMAL\n"
	    "type=UNKNOWN[9999] msg=audit(1700000006.000:92): x=1 y=\n"
	    "type=EOE msg=audit(1700000006.000:92): \n";
	cJSON *paths, *p0, *p1;

	feed_all(log, strlen(log));
	ck_assert_int_eq(nev, 1);
	ck_assert_ptr_nonnull(strstr(lines[0],
	    "{\"type\":\"UNKNOWN[9999]\",\"x\":\"1\",\"y\":\"\"}"));
	ck_assert_ptr_nonnull(strstr(lines[0], "\"key\":\"\""));
	ck_assert_ptr_nonnull(strstr(lines[0], "\"pid\":\"\""));
	paths = cJSON_GetObjectItem(evs[0], "paths");
	p0 = cJSON_GetArrayItem(paths, 0);
	p1 = cJSON_GetArrayItem(paths, 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(p0, "name")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p0, "anonymous")));
	ck_assert_str_eq(cJSON_GetObjectItem(p1, "name")->valuestring,
	    "(null)");
	ck_assert_ptr_null(cJSON_GetObjectItem(p1, "anonymous"));
	/* the record keeps the kernel's text */
	ck_assert_ptr_nonnull(strstr(lines[0], "\"name\":\"(null)\",\"nametype\""
	    ":\"UNKNOWN\""));
	reset();
}
END_TEST

START_TEST(test_same_shape_records)
{
	/*
	 * The second and third SYSCALL records have the first one's shape
	 * (the remembered sort order applies); the fourth does not.
	 */
	static const char *const tail[] = {
	    "a0=1 a1=2 pid=5 comm=\"a\"", "a0=3 a1=4 pid=6 comm=\"b\"",
	    "a0=5 a1=6 pid=7 comm=\"c\"", "pid=8 a1=8 a0=7 zzz=1 comm=\"d\"",
	};
	char log[2048];
	size_t off = 0;

	for (int i = 0; i < 4; i++)
		off += (size_t)snprintf(log + off, sizeof(log) - off,
		    "type=SYSCALL msg=audit(1700000006.000:%d): arch=c000003e "
		    "syscall=2 success=yes exit=0 %s\n"
		    "type=EOE msg=audit(1700000006.000:%d): \n", 100 + i,
		    tail[i], 100 + i);
	feed_all(log, off);
	ck_assert_int_eq(nev, 4);
	ck_assert_ptr_nonnull(strstr(lines[2], "[{\"a0\":\"5\",\"a1\":\"6\","
	    "\"arch\":\"c000003e\",\"comm\":\"c\",\"exit\":\"0\","
	    "\"pid\":\"7\",\"success\":\"yes\",\"syscall\":\"2\","
	    "\"type\":\"SYSCALL\"}]"));
	ck_assert_ptr_nonnull(strstr(lines[3], "[{\"a0\":\"7\",\"a1\":\"8\","
	    "\"arch\":\"c000003e\",\"comm\":\"d\",\"exit\":\"0\","
	    "\"pid\":\"8\",\"success\":\"yes\",\"syscall\":\"2\","
	    "\"type\":\"SYSCALL\",\"zzz\":\"1\"}]"));
	ck_assert_str_eq(a0[1], "3");
	ck_assert_str_eq(a0[3], "7");
	reset();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mount_event_fields);
	tcase_add_test(tc, test_chunking_does_not_matter);
	tcase_add_test(tc, test_execve_split_arguments);
	tcase_add_test(tc, test_interleaved_and_no_eoe);
	tcase_add_test(tc, test_age_emits_without_eoe);
	tcase_add_test(tc, test_long_record_and_node_prefix);
	tcase_add_test(tc, test_garbage_is_survived);
	tcase_add_test(tc, test_record_canonical);
	tcase_add_test(tc, test_same_shape_records);
	tcase_add_test(tc, test_lossless_odd_fields);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
