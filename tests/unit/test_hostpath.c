/* test_hostpath.c - which host dirs a container binds in, and the watches kept. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "buf.h"
#include "conf.h"
#include "hostpath.h"
#include "mountinfo.h"
#include "runtime.h"
#include "unit.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define UID_A "11111111-1111-4111-8111-111111111111"
#define UID_B "22222222-2222-4222-8222-222222222222"

static char d[] = "/tmp/podtrail-hp-XXXXXX";
static unsigned maj, mnr;
static char added[16][512], removed[16][512];
static int nadded, nremoved;

static int
add(void *arg, const char *dir)
{
	(void)arg;
	snprintf(added[nadded++ % 16], 512, "%s", dir);
	return 0;
}

static void
del(void *arg, const char *dir)
{
	(void)arg;
	snprintf(removed[nremoved++ % 16], 512, "%s", dir);
}

static const struct hp_watch_ops ops = { .add = add, .del = del };

static void
mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", d, rel);
	ck_assert_int_eq(mkdir(p, 0700), 0);
}

/* A container table: root D/root-X, then "ROOT POINT FSTYPE" lines below D. */
static struct mountinfo_table *
table(const char *rootdir, const char *const *m, size_t n)
{
	struct buf b = BUF_INIT;
	struct mountinfo_table *t;

	ck_assert_int_eq(buf_printf(&b, "1 0 %u:%u %s/%s / rw - ext4 /dev/x rw\n",
	    maj, mnr, d, rootdir), 0);
	for (size_t i = 0; i < n; i += 3) {
		const char *root = m[i], *fs = m[i + 2];
		int below = root[0] != '/';

		ck_assert_int_eq(buf_printf(&b, "%zu 1 %u:%u %s%s%s %s rw - %s x rw\n",
		    i + 2, strcmp(fs, "ext4") ? 0 : maj, strcmp(fs, "ext4") ? 99 : mnr,
		    below ? d : "", below ? "/" : "", root, m[i + 1], fs), 0);
	}
	ck_assert_ptr_nonnull(t = mountinfo_parse(b.data, b.len));
	buf_free(&b);
	return t;
}

static int alive_a = 1, alive_b = 1;

static int
alive(void *arg, unsigned long long ns)
{
	(void)arg;
	return ns == 1001 ? alive_a : ns == 1002 ? alive_b : 0;
}

START_TEST(test_discovery)
{
	struct conf c;
	struct hostpaths *hp;
	struct rt_cache *rt;
	struct mountinfo_table *host, *ta, *tb;
	struct cg_info ca, cb;
	struct stat sb;
	char line[512], path[600], *sdir[1], state[600];
	cJSON *arr;
	int w, others;
	/* root (below d unless absolute), mount point, fs type */
	const char *const ma[] = {
		"cache", "/cache", "ext4",		/* the shared hostPath */
		"cache/sub", "/sub", "ext4",		/* inside it: no watch of its own */
		"kubelet/pods/p/volumes/e/x", "/kp", "ext4",	/* a pod volume */
		"state/task", "/st", "ext4",		/* runtime state */
		"/", "/host", "ext4",			/* the host's root */
		"/", "/tmp", "tmpfs",
		"/", "/proc", "proc",
		"hostsfile", "/etc/hosts", "ext4",	/* a file, not a volume */
		"root-a/inner", "/inner", "ext4",	/* its own rootfs */
		"cache", "/cache2", "ext4",		/* same dir twice */
	};
	const char *const mb[] = {
		"cache", "/data", "ext4",
		"other", "/other", "ext4",
	};

	ck_assert_ptr_nonnull(mkdtemp(d));
	ck_assert_int_eq(stat(d, &sb), 0);
	maj = major(sb.st_dev);
	mnr = minor(sb.st_dev);
	mk("root-a"); mk("root-a/inner"); mk("root-b"); mk("cache");
	mk("cache/sub"); mk("other"); mk("state"); mk("state/task");
	mk("kubelet"); mk("kubelet/pods"); mk("kubelet/pods/p");
	mk("kubelet/pods/p/volumes"); mk("kubelet/pods/p/volumes/e");
	mk("kubelet/pods/p/volumes/e/x");
	snprintf(path, sizeof(path), "%s/hostsfile", d);
	fclose(fopen(path, "w"));

	ck_assert_int_eq(conf_defaults(&c), 0);
	snprintf(path, sizeof(path), "%s/kubelet", d);
	ck_assert_int_eq(conf_set(&c, "kubelet_root", path, line, sizeof(line)), 0);
	snprintf(state, sizeof(state), "%s/state", d);
	sdir[0] = state;
	ck_assert_ptr_nonnull(rt = rt_new(sdir, 1));
	ck_assert_ptr_nonnull(hp = hp_new(&c, rt));
	hp_set_watcher(hp, &ops, NULL);
	snprintf(line, sizeof(line), "1 0 %u:%u / / rw - ext4 /dev/x rw\n", maj, mnr);
	ck_assert_ptr_nonnull(host = mountinfo_parse(line, strlen(line)));
	ta = table("root-a", ma, sizeof(ma) / sizeof(ma[0]));
	tb = table("root-b", mb, sizeof(mb) / sizeof(mb[0]));
	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	memcpy(ca.id, ID_A, 65);
	memcpy(ca.pod_uid, UID_A, 37);
	memcpy(cb.id, ID_B, 65);
	memcpy(cb.pod_uid, UID_B, 37);

	/* a table copied before set-up (root is the host's) is not read */
	hp_scan(hp, &ca, 1001, host, host);
	ck_assert_int_eq(hp_count(hp, NULL), 0);

	hp_scan(hp, &ca, 1001, ta, host);
	ck_assert_int_eq(hp_count(hp, &w), 2);	/* cache and cache/sub */
	ck_assert_int_eq(w, 1);
	ck_assert_int_eq(nadded, 1);
	snprintf(path, sizeof(path), "%s/cache", d);
	ck_assert_str_eq(added[0], path);
	snprintf(line, sizeof(line), "%s/cache/sub/f", d);
	ck_assert_uint_eq(hp_match(hp, line), strlen(d) + 10);
	snprintf(line, sizeof(line), "%s/cachex", d);
	ck_assert_uint_eq(hp_match(hp, line), 0);

	/* pod B mounts the same dir and another */
	hp_scan(hp, &cb, 1002, tb, host);
	ck_assert_int_eq(hp_count(hp, &w), 3);
	ck_assert_int_eq(w, 2);
	arr = cJSON_CreateArray();
	others = 0;
	ck_assert_int_eq(hp_users_json(hp, path, strlen(path), arr, UID_A, &others), 2);
	ck_assert_int_eq(others, 1);
	cJSON_Delete(arr);

	/* a host process in B's namespace: the inode was reused, B's set goes */
	hp_scan(hp, NULL, 1002, tb, host);
	ck_assert_int_eq(hp_count(hp, &w), 2);	/* A's cache and sub */
	ck_assert_int_eq(nremoved, 1);		/* B's "other" */
	nremoved = 0;
	hp_scan(hp, &cb, 1002, tb, host);
	ck_assert_int_eq(hp_count(hp, &w), 3);
	/* A goes: cache stays (B), sub has no user left */
	alive_a = 0;
	hp_sweep(hp, alive, NULL);
	ck_assert_int_eq(hp_count(hp, &w), 2);
	ck_assert_int_eq(nremoved, 0);
	/* B goes: both watches removed */
	alive_b = 0;
	hp_sweep(hp, alive, NULL);
	ck_assert_int_eq(hp_count(hp, &w), 0);
	ck_assert_int_eq(nremoved, 2);

	/* only sub left: it then needs a watch of its own */
	{
		const char *const ms[] = { "cache/sub", "/sub", "ext4" };
		struct mountinfo_table *ts = table("root-a", ms, 3);

		alive_a = 1;
		nadded = 0;
		hp_scan(hp, &ca, 1001, ta, host);
		hp_scan(hp, &ca, 1001, ts, host);	/* re-read: a new set */
		ck_assert_int_eq(hp_count(hp, &w), 1);
		ck_assert_int_eq(w, 1);
		snprintf(path, sizeof(path), "%s/cache/sub", d);
		ck_assert_str_eq(added[nadded - 1], path);
		mountinfo_free(ts);
	}
	hp_free(hp);

	/* bounded: one dir at most */
	ck_assert_int_eq(conf_set(&c, "hostpath_discovery_max", "1", line, sizeof(line)), 0);
	ck_assert_ptr_nonnull(hp = hp_new(&c, rt));
	hp_scan(hp, &cb, 1002, tb, host);
	ck_assert_int_eq(hp_count(hp, NULL), 1);
	hp_free(hp);

	mountinfo_free(ta);
	mountinfo_free(tb);
	mountinfo_free(host);
	rt_free(rt);
	conf_free(&c);
	snprintf(path, sizeof(path), "rm -rf '%s'", d);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hostpath");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_discovery);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
