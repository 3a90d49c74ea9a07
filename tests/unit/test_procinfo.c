/* test_procinfo.c - the (pid, birth) cache against a fake /proc. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procinfo.h"
#include "unit.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define POD "3f2b1c4d-5e6f-4a1b-9c2d-8e7f6a5b4c3d"

static char root[64];

static void
put(const char *rel, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ticks since boot for "ago_ms" milliseconds ago */
static unsigned long long
ticks_ago(long ago_ms)
{
	struct timespec bt;
	long hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (unsigned long long)(((long long)bt.tv_sec * 1000 +
	    bt.tv_nsec / 1000000 - ago_ms) * hz / 1000);
}

/* A fake /proc/<pid>: born ago_ms ago, in container id (or host). */
static void
make_proc(int pid, long ago_ms, const char *id, const char *ns)
{
	char rel[256], text[1024], link[64];

	snprintf(rel, sizeof(rel), "%s/%d", root, pid);
	mkdir(rel, 0755);
	snprintf(rel, sizeof(rel), "%s/%d/ns", root, pid);
	mkdir(rel, 0755);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(text, sizeof(text), "%d (a b) c) S 1 1 1 0 -1 4194560 1 0 0 0 "
	    "0 0 0 0 20 0 1 0 %llu 1000 100\n", pid, ticks_ago(ago_ms));
	put(rel, text);
	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	if (id)
		snprintf(text, sizeof(text), "0::/kubepods/burstable/pod" POD "/%s\n", id);
	else
		snprintf(text, sizeof(text), "0::/user.slice\n");
	put(rel, text);
	snprintf(rel, sizeof(rel), "%d/mountinfo", pid);
	put(rel, "1 0 254:0 / / rw - ext4 /dev/vda rw\n");
	snprintf(rel, sizeof(rel), "%s/%d/ns/mnt", root, pid);
	snprintf(link, sizeof(link), "mnt:[%s]", ns);
	unlink(rel);
	ck_assert_int_eq(symlink(link, rel), 0);
}

static void
kill_proc(int pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", root, pid);
	ck_assert_int_eq(system(cmd), 0);
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/podtrail-pinfo.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	make_proc(1, 100000, NULL, "4026531841");
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_live_then_gone)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long t = procinfo_now_ms() - 100;

	make_proc(500, 1000, ID_A, "4026532000");
	ck_assert_int_eq(procinfo_lookup(pi, 500, t, &v), 0);
	ck_assert_int_eq(v.how, PINFO_PROC);
	ck_assert_int_eq(v.in_container, 1);
	ck_assert_str_eq(v.cg.id, ID_A);
	ck_assert_ptr_nonnull(v.mounts);
	ck_assert_int_eq(v.host_ns, 0);
	/* gone: the cache answers for the time it was seen alive */
	kill_proc(500);
	ck_assert_int_eq(procinfo_lookup(pi, 500, t, &v), 0);
	ck_assert_int_eq(v.how, PINFO_CACHE);
	ck_assert_str_eq(v.cg.id, ID_A);
	/* but not for a time after it was last seen (untracked) */
	ck_assert_int_eq(procinfo_lookup(pi, 500, procinfo_now_ms() + 5000, &v),
	    -1);
	ck_assert_int_eq(v.how, PINFO_UNKNOWN);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_pid_reuse)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long t_old = procinfo_now_ms() - 3000;

	/* the old process, seen alive */
	make_proc(600, 10000, ID_A, "4026532000");
	ck_assert_int_eq(procinfo_lookup(pi, 600, t_old, &v), 0);
	ck_assert_str_eq(v.cg.id, ID_A);
	/* the pid now belongs to a process born after t_old */
	kill_proc(600);
	make_proc(600, 1000, ID_B, "4026532001");
	/* an event of the old one still goes to the old one */
	ck_assert_int_eq(procinfo_lookup(pi, 600, t_old, &v), 0);
	ck_assert_str_eq(v.cg.id, ID_A);
	/* an event of the new one goes to the new one */
	ck_assert_int_eq(procinfo_lookup(pi, 600, procinfo_now_ms(), &v), 0);
	ck_assert_str_eq(v.cg.id, ID_B);
	ck_assert_int_eq(v.how, PINFO_PROC);
	procinfo_free(pi);
}
END_TEST

static double
stat_of(struct procinfo *pi, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	double d;

	procinfo_stats(pi, o);
	d = cJSON_GetObjectItem(o, name)->valuedouble;
	cJSON_Delete(o);
	return d;
}

START_TEST(test_old_events_use_a_listing)
{
	/*
	 * Old events (a replay): pids absent from a listing of /proc taken
	 * after them are gone without a failed open each; pids present
	 * are read as before. Recent events never list.
	 */
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long old = procinfo_now_ms() - 5000;

	make_proc(800, 10000, ID_A, "4026532000");
	ck_assert_int_eq(procinfo_lookup(pi, 900, procinfo_now_ms(), &v), -1);
	ck_assert_int_eq(stat_of(pi, "pid_listed_gone"), 0);
	ck_assert_int_eq(procinfo_lookup(pi, 901, old, &v), -1);
	ck_assert_int_eq(procinfo_lookup(pi, 902, old, &v), -1);
	ck_assert_int_eq(stat_of(pi, "pid_listed_gone"), 2);
	ck_assert_int_eq(procinfo_lookup(pi, 800, old, &v), 0);
	ck_assert_int_eq(v.how, PINFO_PROC);
	ck_assert_str_eq(v.cg.id, ID_A);
	ck_assert_int_eq(stat_of(pi, "pid_listed_gone"), 2);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_never_seen_is_unknown)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;

	ck_assert_int_eq(procinfo_lookup(pi, 700, procinfo_now_ms(), &v), -1);
	/* reused pid and no cache: unknown, not the new process */
	make_proc(701, 500, ID_B, "4026532001");
	ck_assert_int_eq(procinfo_lookup(pi, 701, procinfo_now_ms() - 5000, &v),
	    -1);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_fork_inherits_parent)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long now = procinfo_now_ms();

	procinfo_set_tracking(pi, 1);
	make_proc(800, 5000, ID_A, "4026532000");
	procinfo_learn(pi, 800, 1, now - 5000, 0);
	/* the child is gone before the fork notice was read */
	procinfo_learn(pi, 801, 800, now - 2, 0);
	procinfo_exit(pi, 801, now - 1);
	ck_assert_int_eq(procinfo_lookup(pi, 801, now - 1, &v), 0);
	ck_assert_int_eq(v.how, PINFO_CONNECTOR);
	ck_assert_str_eq(v.cg.id, ID_A);
	ck_assert_ptr_nonnull(v.mounts);
	/* long after its exit: unknown */
	ck_assert_int_eq(procinfo_lookup(pi, 801, now + 10000, &v), -1);
	/* expiry drops it */
	procinfo_expire(pi, now + 60000);
	ck_assert_int_eq(procinfo_lookup(pi, 801, now - 1, &v), -1);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_missed_exit_ends_namespace)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long now = procinfo_now_ms();

	procinfo_set_tracking(pi, 1);
	make_proc(900, 5000, ID_A, "4026532900");
	procinfo_learn(pi, 900, 1, now - 5000, 0);
	ck_assert_int_eq(procinfo_lookup(pi, 900, now, &v), 0);
	ck_assert_int_eq(procinfo_ns_known(pi, 4026532900ULL), 1);
	/* alive: still known after any time */
	procinfo_expire(pi, now + 120000);
	ck_assert_int_eq(procinfo_ns_known(pi, 4026532900ULL), 1);
	/* it exits and the connector never says so */
	kill_proc(900);
	ck_assert_int_eq(procinfo_ns_known(pi, 4026532900ULL), 1);
	procinfo_expire(pi, procinfo_now_ms() + 60000);
	ck_assert_int_eq(procinfo_ns_known(pi, 4026532900ULL), 0);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_exec_after_gone_host_is_unknown)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;
	long long now = procinfo_now_ms();

	procinfo_set_tracking(pi, 1);
	/* a host process (a runtime) forks a child ... */
	make_proc(820, 5000, NULL, "4026531841");
	procinfo_learn(pi, 820, 1, now - 5000, 0);
	procinfo_learn(pi, 821, 820, now - 30, 0);
	ck_assert_int_eq(procinfo_lookup(pi, 821, now - 20, &v), 0);
	ck_assert_int_eq(v.in_container, 0);
	/*
	 * ... which is gone when its exec is seen: it may have been moved
	 * into a container first, so it is unknown, not the host.
	 */
	procinfo_learn(pi, 821, 820, now - 10, 1);
	procinfo_exit(pi, 821, now - 1);
	ck_assert_int_eq(procinfo_lookup(pi, 821, now - 5, &v), -1);
	ck_assert_int_eq(v.how, PINFO_UNKNOWN);
	/* a container process's children keep their container */
	make_proc(830, 5000, ID_B, "4026532001");
	procinfo_learn(pi, 830, 1, now - 5000, 0);
	procinfo_learn(pi, 831, 830, now - 30, 0);
	procinfo_learn(pi, 831, 830, now - 10, 1);
	procinfo_exit(pi, 831, now - 1);
	ck_assert_int_eq(procinfo_lookup(pi, 831, now - 5, &v), 0);
	ck_assert_str_eq(v.cg.id, ID_B);
	procinfo_free(pi);
}
END_TEST

START_TEST(test_host_process)
{
	struct procinfo *pi = procinfo_new(root);
	struct procinfo_view v;

	make_proc(900, 1000, NULL, "4026531841");
	ck_assert_int_eq(procinfo_lookup(pi, 900, procinfo_now_ms(), &v), 0);
	ck_assert_int_eq(v.in_container, 0);
	ck_assert_int_eq(v.host_ns, 1);
	procinfo_free(pi);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("procinfo");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_live_then_gone);
	tcase_add_test(tc, test_pid_reuse);
	tcase_add_test(tc, test_never_seen_is_unknown);
	tcase_add_test(tc, test_old_events_use_a_listing);
	tcase_add_test(tc, test_fork_inherits_parent);
	tcase_add_test(tc, test_missed_exit_ends_namespace);
	tcase_add_test(tc, test_host_process);
	tcase_add_test(tc, test_exec_after_gone_host_is_unknown);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
