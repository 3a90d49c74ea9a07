/*
 * test_enrich_volume.c - mount flag decoding, CWD rules, symlinks.
 * It includes enrich_volume.c for its static relative_ok(), add_flags(),
 * volume_json(), resolve() and follows_last(): through enrich_volume_ops
 * they are reached only for a live process whose mount namespace holds
 * these mounts; the rest is linked from libpodtrail.a, as the daemon is.
 */
#include "../../src/enrich_volume.c"

#include <check.h>
#include <sys/sysmacros.h>
#include "unit.h"

/* An event with a SYSCALL record's arguments as event_build() types them. */
static struct event
event(const char *sc, const char *a0, const char *a2)
{
	struct event e = { .pid = -1 };

	e.json = cJSON_CreateObject();
	cJSON_AddStringToObject(e.json, "syscall", sc);
	e.has_syscall = 1;
	e.arg[0] = strtoull(a0, NULL, 16);
	e.arg[1] = 0xffffff9c;
	e.arg[2] = strtoull(a2, NULL, 16);
	e.args = 7;
	return e;
}

START_TEST(test_relative)
{
	static const struct {
		const char *sc, *a0, *a2;
		int ok;
	} t[] = {
		{ "open", "7ffd0000", "0", 1 },
		{ "mkdir", "7ffd0000", "0", 1 },
		{ "openat", "ffffff9c", "0", 1 },
		{ "openat", "ffffffffffffff9c", "0", 1 },
		{ "openat", "3", "0", 0 },
		{ "renameat2", "ffffff9c", "ffffff9c", 1 },
		{ "renameat2", "ffffff9c", "5", 0 },
		{ "linkat", "4", "ffffff9c", 0 },
		{ "symlinkat", "7ffd", "0", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct event e = event(t[i].sc, t[i].a0, t[i].a2);

		ck_assert_msg(relative_ok(&e) == t[i].ok, "%s a0=%s", t[i].sc, t[i].a0);
		cJSON_Delete(e.json);
	}
}
END_TEST

START_TEST(test_flags)
{
	cJSON *m = cJSON_CreateObject();
	char *s;

	/* MS_MGC_VAL | MS_BIND | MS_REC | MS_RDONLY */
	add_flags(m, 0xc0ed0000UL | 0x1000 | 0x4000 | 0x1);
	s = cJSON_PrintUnformatted(m);
	ck_assert_str_eq(s, "{\"flags\":[\"MS_RDONLY\",\"MS_BIND\",\"MS_REC\"],\"flags_raw\":20481}");
	free(s);
	cJSON_Delete(m);
}
END_TEST

START_TEST(test_volume_json)
{
	struct vol_info vi;
	char *hp[] = { "/srv/hp" };
	const char *p = "/k/pods/u1/volumes/kubernetes.io~secret/tok/x";
	cJSON *o;
	char *s;

	ck_assert_int_eq(vol_classify(p, "/k", hp, 1, &vi), VOL_POD);
	o = volume_json(&vi, p);
	s = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(s, "{\"type\":\"pod-volume\",\"pod_uid\":\"u1\",\"plugin\":"
	    "\"kubernetes.io~secret\",\"name\":\"tok\",\"host_path\":"
	    "\"/k/pods/u1/volumes/kubernetes.io~secret/tok\"}");
	free(s);
	cJSON_Delete(o);
	ck_assert_int_eq(vol_classify("/srv/hp/a", "/k", hp, 1, &vi), VOL_HOSTPATH);
	o = volume_json(&vi, "/srv/hp/a");
	s = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(s, "{\"type\":\"host-path\",\"host_path\":\"/srv/hp\"}");
	free(s);
	cJSON_Delete(o);
}
END_TEST

/*
 * A container whose root is D/root and whose /cache is D/vol, on the
 * host's one file system; links inside the volume lead elsewhere.
 */
START_TEST(test_symlinks)
{
	char d[] = "/tmp/podtrail-symlink-XXXXXX", path[512], line[2048];
	struct vol_stage st;
	struct mountinfo_table *t, *host;
	struct stat sb;
	struct buf out = BUF_INIT;
	static const struct {
		const char *name;
		int follow_last, rc;
		const char *want;	/* below d */
	} cases[] = {
		{ "/cache/file", 1, 0, "/vol/file" },
		{ "/cache/abs/f", 1, 1, "/root/data/f" },	/* abs -> /data */
		{ "/cache/rel/f", 1, 1, "/vol/sub/f" },		/* rel -> sub */
		{ "/cache/up/f", 1, 1, "/root/etc/f" },		/* up -> ../../etc */
		{ "/cache/abs", 0, 0, "/vol/abs" },		/* unlink: the link */
		{ "/cache/abs", 1, 1, "/root/data" },
		{ "/cache/new/x/y", 1, 0, "/vol/new/x/y" },	/* not there yet */
		{ "/cache/loop/f", 1, -1, NULL },		/* loop -> loop */
	};

	ck_assert_ptr_nonnull(mkdtemp(d));
	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/root", d);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vol", d);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vol/sub", d);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vol/abs", d);
	ck_assert_int_eq(symlink("/data", path), 0);
	snprintf(path, sizeof(path), "%s/vol/rel", d);
	ck_assert_int_eq(symlink("sub", path), 0);
	snprintf(path, sizeof(path), "%s/vol/up", d);
	ck_assert_int_eq(symlink("../../etc", path), 0);
	snprintf(path, sizeof(path), "%s/vol/loop", d);
	ck_assert_int_eq(symlink("loop", path), 0);
	ck_assert_int_eq(stat(d, &sb), 0);
	snprintf(line, sizeof(line),
	    "1 0 %u:%u %s/root / rw - ext4 /dev/x rw\n"
	    "2 1 %u:%u %s/vol /cache rw - ext4 /dev/x rw\n",
	    major(sb.st_dev), minor(sb.st_dev), d,
	    major(sb.st_dev), minor(sb.st_dev), d);
	ck_assert_ptr_nonnull(t = mountinfo_parse(line, strlen(line)));
	snprintf(line, sizeof(line), "1 0 %u:%u / / rw - ext4 /dev/x rw\n",
	    major(sb.st_dev), minor(sb.st_dev));
	ck_assert_ptr_nonnull(host = mountinfo_parse(line, strlen(line)));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		buf_reset(&out);
		rc = resolve(&st, t, host, cases[i].name, cases[i].follow_last, &out);
		ck_assert_msg(rc == cases[i].rc, "%s: rc %d", cases[i].name, rc);
		if (cases[i].want == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s", d, cases[i].want);
		ck_assert_msg(out.data && !strcmp(out.data, path), "%s: %s",
		    cases[i].name, out.data ? out.data : "(null)");
	}
	ck_assert_int_eq(follows_last("unlink", "DELETE"), 0);
	ck_assert_int_eq(follows_last("mkdir", "CREATE"), 0);
	ck_assert_int_eq(follows_last("openat", "CREATE"), 1);
	ck_assert_int_eq(follows_last("openat", "NORMAL"), 1);
	buf_free(&out);
	mountinfo_free(t);
	mountinfo_free(host);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enrich_volume");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_relative);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_volume_json);
	tcase_add_test(tc, test_symlinks);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
