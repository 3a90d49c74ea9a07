/*
 * test_disk.c - disk_thresholds parsing, and the accounting behind
 * podtrail_disk on real files in a temporary kubelet directory: bytes
 * per writer from tracked files (created, grown, deleted), top writers
 * and their shares, the window reset by a report, the cap on tracked
 * files, the ENOSPC link and the bounded per-volume metrics.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "disk.h"
#include "disk_int.h"
#include "event.h"

#include <check.h>

#include "unit.h"

#define POD_A "aaaaaaaa-0000-4000-8000-000000000001"
#define POD_B "bbbbbbbb-0000-4000-8000-000000000002"
#define CTR_A "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define CTR_B "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define MIB (1LL << 20)

static char root[256];
static struct conf conf;
static cJSON *emitted[32];
static int nemitted;

static unsigned long long
take(cJSON *ev, void *arg)
{
	(void)arg;
	ck_assert_int_lt(nemitted, 32);
	emitted[nemitted++] = ev;
	return 100 + (unsigned long long)nemitted;
}

static void
setup(void)
{
	char err[256];

	snprintf(root, sizeof(root), "/tmp/test_disk.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_eq(conf_defaults(&conf), 0);
	ck_assert_int_eq(conf_set(&conf, "kubelet_root", root, err, sizeof(err)), 0);
	nemitted = 0;
}

static void
teardown(void)
{
	char cmd[512];

	for (int i = 0; i < nemitted; i++)
		cJSON_Delete(emitted[i]);
	conf_free(&conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* KR/pods/POD/volumes/kubernetes.io~empty-dir/VOL/FILE, directories made. */
static void
vol_path(char *out, size_t len, const char *pod, const char *vol,
    const char *file)
{
	char cmd[1024];

	snprintf(out, len, "%s/pods/%s/volumes/kubernetes.io~empty-dir/%s",
	    root, pod, vol);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", out);
	ck_assert_int_eq(system(cmd), 0);
	if (file) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, "/%s", file);
	}
}

static void
write_bytes(const char *path, long long n, int append)
{
	FILE *fp = fopen(path, append ? "a" : "w");
	static char block[65536];

	ck_assert_ptr_nonnull(fp);
	for (long long done = 0; done < n; done += (long long)sizeof(block))
		ck_assert_uint_eq(fwrite(block, 1, sizeof(block), fp), sizeof(block));
	ck_assert_int_eq(fsync(fileno(fp)), 0);
	fclose(fp);
}

/* What an enriched openat event looks like to the disk stage. */
static cJSON *
open_event(const char *ctr, const char *pod, const char *vol, const char *hp,
    const char *nametype, int pid, int fd)
{
	cJSON *ev = cJSON_CreateObject(), *paths, *p, *v, *c, *pr;
	char vroot[512];

	snprintf(vroot, sizeof(vroot), "%s", hp);
	*strrchr(vroot, '/') = '\0';
	cJSON_AddStringToObject(ev, "type", "audit");
	cJSON_AddStringToObject(ev, "syscall", "openat");
	cJSON_AddBoolToObject(ev, "success", 1);
	cJSON_AddItemToObject(ev, "exit", cJSON_CreateRaw(fd == 3 ? "3" : "4"));
	pr = cJSON_AddObjectToObject(ev, "process");
	cJSON_AddNumberToObject(pr, "pid", pid);
	c = cJSON_AddObjectToObject(ev, "container");
	cJSON_AddStringToObject(c, "id", ctr);
	cJSON_AddStringToObject(c, "pod_uid", pod);
	paths = cJSON_AddArrayToObject(ev, "paths");
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "name", "/cache/f");
	cJSON_AddStringToObject(p, "nametype", nametype);
	cJSON_AddStringToObject(p, "mode", "0100644");
	cJSON_AddStringToObject(p, "host_path", hp);
	v = cJSON_AddObjectToObject(p, "volume");
	cJSON_AddStringToObject(v, "type", "pod-volume");
	cJSON_AddStringToObject(v, "pod_uid", pod);
	cJSON_AddStringToObject(v, "plugin", "kubernetes.io~empty-dir");
	cJSON_AddStringToObject(v, "name", vol);
	cJSON_AddStringToObject(v, "host_path", vroot);
	cJSON_AddItemToArray(paths, p);
	return ev;
}

/* ev as the pipeline hands it on: its pid typed (no SYSCALL arguments) */
static void
disk_json(struct disk *d, cJSON *ev)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ev, "process"), "pid");
	struct event e = { .json = ev, .pid = -1 };

	if (cJSON_IsRaw(pid))
		e.pid = strtoll(pid->valuestring, NULL, 10);
	else if (cJSON_IsNumber(pid))
		e.pid = (long long)pid->valuedouble;
	disk_event(d, &e);
}

static void
feed(struct disk *d, cJSON *ev)
{
	disk_json(d, ev);
	cJSON_Delete(ev);
}

static long long
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return (long long)v->valuedouble;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

START_TEST(thresholds)
{
	int t[DISK_THRESHOLDS_MAX];
	char err[256];

	ck_assert_int_eq(disk_parse_thresholds("80,90,95", t, 16, err, sizeof(err)), 3);
	ck_assert(t[0] == 80 && t[1] == 90 && t[2] == 95);
	ck_assert_int_eq(disk_parse_thresholds(" 50 , 75 ", t, 16, err, sizeof(err)), 2);
	ck_assert(t[0] == 50 && t[1] == 75);
	ck_assert_int_eq(disk_parse_thresholds("", t, 16, err, sizeof(err)), 0);
	ck_assert_int_eq(disk_parse_thresholds("100", t, 16, err, sizeof(err)), 1);
	ck_assert_int_eq(disk_parse_thresholds("90,80", t, 16, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "disk_thresholds: '90,80': thresholds must ascend");
	ck_assert_int_eq(disk_parse_thresholds("80,80", t, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(disk_parse_thresholds("0", t, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(disk_parse_thresholds("101", t, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(disk_parse_thresholds("80%", t, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(disk_parse_thresholds("80;90", t, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(disk_parse_thresholds("1,2,3", t, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "disk_thresholds: more than 2 thresholds");
}
END_TEST

START_TEST(top_writers)
{
	char a1[1024], b1[1024], pre[1024], err[256];
	struct disk *d;
	cJSON *r, *tw, *w;

	/* a floor nobody can meet: every sample of the disk is below it */
	ck_assert_int_eq(conf_set(&conf, "disk_min_free", "1000G", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(d = disk_open(&conf, NULL, "n1", take, NULL));
	ck_assert_uint_ge(d->nfs, 1);
	vol_path(a1, sizeof(a1), POD_A, "buffer", "a1");
	vol_path(b1, sizeof(b1), POD_B, "cache", "b1");
	vol_path(pre, sizeof(pre), POD_B, "cache", "old");
	/* a file that held 2 MiB before B opened it: only its growth counts */
	write_bytes(pre, 2 * MIB, 0);
	feed(d, open_event(CTR_B, POD_B, "cache", pre, "NORMAL", 20, 3));
	write_bytes(pre, 1 * MIB, 1);
	/* created: all of its bytes are the writer's, even written before we looked */
	write_bytes(a1, 3 * MIB, 0);
	feed(d, open_event(CTR_A, POD_A, "buffer", a1, "CREATE", 10, 3));
	write_bytes(b1, 0, 0);	/* created empty, written after we looked */
	feed(d, open_event(CTR_B, POD_B, "cache", b1, "CREATE", 20, 4));
	write_bytes(b1, 1 * MIB, 1);
	ck_assert_uint_eq(d->nfiles, 3);
	disk_sample(d);
	ck_assert_int_eq(nemitted, 1);
	r = emitted[0];
	ck_assert_str_eq(str(r, "type"), "podtrail_disk");
	ck_assert_str_eq(str(r, "reason"), "floor");
	ck_assert_ptr_nonnull(str(r, "mount"));
	ck_assert_int_eq(num(r, "attributed_bytes"), 5 * MIB);
	tw = cJSON_GetObjectItemCaseSensitive(r, "top_writers");
	ck_assert_int_eq(cJSON_GetArraySize(tw), 2);
	w = cJSON_GetArrayItem(tw, 0);
	ck_assert_str_eq(str(w, "container_id"), CTR_A);
	ck_assert_str_eq(str(w, "pod_uid"), POD_A);
	ck_assert_str_eq(str(w, "volume"), "buffer");
	ck_assert_str_eq(str(w, "volume_type"), "pod-volume");
	ck_assert_int_eq(num(w, "bytes"), 3 * MIB);
	ck_assert_int_eq(num(w, "share_pct"), 60);
	w = cJSON_GetArrayItem(tw, 1);
	ck_assert_str_eq(str(w, "container_id"), CTR_B);
	ck_assert_int_eq(num(w, "bytes"), 2 * MIB);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "previous_report_seq")));

	/* next window: A's file is gone (its bytes given back), B grows */
	ck_assert_int_eq(unlink(a1), 0);
	write_bytes(b1, 1 * MIB, 1);
	disk_sample(d);
	ck_assert_int_eq(nemitted, 1);	/* the floor was reported already */
	disk_report(d, disk_fs_by_dev(d, d->lru_head->dev), "threshold");
	ck_assert_int_eq(nemitted, 2);
	r = emitted[1];
	ck_assert_int_eq(num(r, "previous_report_seq"), 101);
	ck_assert_int_eq(num(r, "attributed_bytes"), 1 * MIB);
	tw = cJSON_GetObjectItemCaseSensitive(r, "top_writers");
	ck_assert_int_eq(cJSON_GetArraySize(tw), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(tw, 0), "container_id"), CTR_B);
	ck_assert_uint_eq(d->nfiles, 2);
	disk_close(d);
}
END_TEST

START_TEST(capped_files)
{
	char p[1024], name[32], err[256];
	struct disk *d;

	ck_assert_int_eq(conf_set(&conf, "disk_tracked_files", "16", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(d = disk_open(&conf, NULL, "n1", take, NULL));
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		vol_path(p, sizeof(p), POD_A, "buffer", name);
		write_bytes(p, 65536, 0);
		feed(d, open_event(CTR_A, POD_A, "buffer", p, "CREATE", 10, 3));
	}
	ck_assert_uint_eq(d->nfiles, 16);
	ck_assert_uint_eq(d->evicted, 4);
	/* the same file again is not a second entry */
	feed(d, open_event(CTR_A, POD_A, "buffer", p, "NORMAL", 10, 3));
	ck_assert_uint_eq(d->nfiles, 16);
	ck_assert_uint_eq(d->nwriters, 1);
	disk_close(d);
}
END_TEST

START_TEST(enospc_link)
{
	char a1[1024], err[256];
	struct disk *d;
	cJSON *ev, *c;

	ck_assert_int_eq(conf_set(&conf, "disk_min_free", "1000G", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(d = disk_open(&conf, NULL, "n1", take, NULL));
	vol_path(a1, sizeof(a1), POD_A, "buffer", "a1");
	write_bytes(a1, 1 * MIB, 0);
	feed(d, open_event(CTR_A, POD_A, "buffer", a1, "CREATE", 10, 3));

	/* a failure before any report: one is made for its file system first */
	ev = open_event(CTR_A, POD_A, "buffer", a1, "CREATE", 999999, 3);
	cJSON_ReplaceItemInObject(ev, "success", cJSON_CreateFalse());
	cJSON_ReplaceItemInObject(ev, "exit", cJSON_CreateRaw("-28"));
	disk_json(d, ev);
	ck_assert_int_eq(nemitted, 1);
	ck_assert_str_eq(str(emitted[0], "reason"), "enospc");
	ck_assert_int_eq(num(ev, "disk_report_seq"), 101);
	ck_assert_str_eq(str(ev, "disk_mount"), str(emitted[0], "mount"));
	cJSON_Delete(ev);

	/* a write(2) of a process gone: no path, no fd to look at; its container writes here */
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "type", "audit");
	cJSON_AddStringToObject(ev, "syscall", "write");
	cJSON_AddBoolToObject(ev, "success", 0);
	cJSON_AddItemToObject(ev, "exit", cJSON_CreateRaw("-28"));
	cJSON_AddItemToObject(cJSON_AddObjectToObject(ev, "process"), "pid",
	    cJSON_CreateRaw("999999"));
	c = cJSON_AddObjectToObject(ev, "container");
	cJSON_AddStringToObject(c, "id", CTR_A);
	disk_json(d, ev);
	ck_assert_int_eq(nemitted, 1);	/* linked to the report there is */
	ck_assert_int_eq(num(ev, "disk_report_seq"), 101);
	/* an unknown container: nothing to link to, said so */
	cJSON_ReplaceItemInObject(c, "id", cJSON_CreateString(CTR_B));
	cJSON_DeleteItemFromObject(ev, "disk_report_seq");
	cJSON_DeleteItemFromObject(ev, "disk_mount");
	disk_json(d, ev);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ev, "disk_report_seq")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ev, "disk_mount")));
	ck_assert_uint_eq(d->linked, 2);
	ck_assert_uint_eq(d->unlinked, 1);
	cJSON_Delete(ev);
	disk_close(d);
}
END_TEST

START_TEST(volume_metrics)
{
	char p[1024], vol[32], err[256];
	struct disk *d;
	cJSON *o, *v;

	ck_assert_int_eq(conf_set(&conf, "volume_metrics_top", "2", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(d = disk_open(&conf, NULL, "n1", take, NULL));
	for (int i = 1; i <= 4; i++) {
		snprintf(vol, sizeof(vol), "v%d", i);
		vol_path(p, sizeof(p), POD_A, vol, "f");
		write_bytes(p, i * MIB, 0);
		feed(d, open_event(CTR_A, POD_A, vol, p, "CREATE", 10, 3));
	}
	disk_sample(d);
	o = cJSON_CreateObject();
	disk_stats(d, o);
	v = cJSON_GetObjectItemCaseSensitive(o, "volume_written_bytes");
	/* the two most written volumes, and the rest as one series */
	ck_assert_int_eq(cJSON_GetArraySize(v), 3);
	ck_assert_int_eq(num(v, POD_A "/v4"), 4 * MIB);
	ck_assert_int_eq(num(v, POD_A "/v3"), 3 * MIB);
	ck_assert_int_eq(num(v, "other"), 3 * MIB);
	ck_assert_int_eq(num(o, "disk_tracked_files"), 4);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "disk_used_pct")));
	cJSON_Delete(o);
	disk_close(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("disk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, thresholds);
	tcase_add_test(tc, top_writers);
	tcase_add_test(tc, capped_files);
	tcase_add_test(tc, enospc_link);
	tcase_add_test(tc, volume_metrics);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
