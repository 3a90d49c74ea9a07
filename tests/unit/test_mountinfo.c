/* test_mountinfo.c - mountinfo shapes, path translation, volume classes. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mountinfo.h"
#include "volume.h"
#include "unit.h"

#define POD "3f2b1c4d-5e6f-4a1b-9c2d-8e7f6a5b4c3d"
#define KR "/var/lib/kubelet"

/* The host: root on vda, kubelet on its own disk, a pod's tmpfs secret. */
static const char host_mi[] =
    "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "31 27 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "40 27 254:16 / /var/lib/kubelet rw,relatime shared:7 - xfs /dev/vdb rw\n"
    "41 40 0:55 / " KR "/pods/" POD "/volumes/kubernetes.io~secret/tok rw - tmpfs tmpfs rw\n"
    "42 27 0:60 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    "43 27 254:0 /srv/My\\040Data /mnt/my\\040data rw - ext4 /dev/vda rw\n";

/* A container of that pod: overlay root, emptyDir, secret, a hostPath. */
static const char ctr_mi[] =
    "700 650 0:60 / / rw,relatime - overlay overlay rw,lowerdir=/l\n"
    "701 700 0:61 / /proc rw,nosuid - proc proc rw\n"
    "702 700 254:16 /pods/" POD "/volumes/kubernetes.io~empty-dir/cache /cache rw,relatime - xfs /dev/vdb rw\n"
    "703 700 0:55 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw\n"
    "704 700 254:0 /srv/My\\040Data /data rw - ext4 /dev/vda rw\n"
    "705 700 254:0 /etc/hosts\\011x /etc/hosts rw - ext4 /dev/vda rw\n"
    "706 702 254:16 /pods/" POD "/volume-subpaths/cfg/app/0 /cache/sub rw - xfs /dev/vdb rw\n"
    "this line is broken\n"
    "707 700 0:99 / /weird rw - fuse.sshfs host:/x rw\n";

static struct mountinfo_table *host, *ctr;

static void
setup(void)
{
	host = mountinfo_parse(host_mi, strlen(host_mi));
	ctr = mountinfo_parse(ctr_mi, strlen(ctr_mi));
	ck_assert_ptr_nonnull(host);
	ck_assert_ptr_nonnull(ctr);
}

static void
teardown(void)
{
	mountinfo_free(host);
	mountinfo_free(ctr);
}

START_TEST(test_parse_counts)
{
	ck_assert_uint_eq(mountinfo_count(host), 6);
	ck_assert_uint_eq(mountinfo_count(ctr), 8);
	ck_assert_uint_eq(mountinfo_skipped(ctr), 1);
}
END_TEST

START_TEST(test_escapes)
{
	const char *mp, *root, *fs;

	ck_assert_int_eq(mountinfo_lookup(host, "/mnt/my data/f", &mp, &root,
	    &fs), 0);
	ck_assert_str_eq(mp, "/mnt/my data");
	ck_assert_str_eq(root, "/srv/My Data");
	ck_assert_int_eq(mountinfo_lookup(ctr, "/etc/hosts", &mp, &root, &fs),
	    0);
	ck_assert_str_eq(root, "/etc/hosts\tx");
	ck_assert_str_eq(fs, "ext4");
}
END_TEST

static const struct {
	const char *in;
	const char *out;	/* NULL: no host counterpart */
} xl[] = {
	{ "/cache/f", KR "/pods/" POD "/volumes/kubernetes.io~empty-dir/cache/f" },
	{ "/cache", KR "/pods/" POD "/volumes/kubernetes.io~empty-dir/cache" },
	{ "/cache/sub/x", KR "/pods/" POD "/volume-subpaths/cfg/app/0/x" },
	{ "/var/run/secrets/kubernetes.io/serviceaccount/token",
	  KR "/pods/" POD "/volumes/kubernetes.io~secret/tok/token" },
	{ "/data/a b", "/mnt/my data/a b" },
	{ "/etc/passwd", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs/etc/passwd" },
	{ "/", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs" },
	{ "/proc/1/status", NULL },
	{ "/weird/x", NULL },
};

START_TEST(test_translate)
{
	struct buf out = BUF_INIT;
	int rc = mountinfo_translate(ctr, host, xl[_i].in, &out);

	if (xl[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out.data, xl[_i].out);
	}
	buf_free(&out);
}
END_TEST

START_TEST(test_translate_host_is_identity)
{
	struct buf out = BUF_INIT;

	ck_assert_int_eq(mountinfo_translate(host, host, "/etc/x", &out), 0);
	ck_assert_str_eq(out.data, "/etc/x");
	buf_free(&out);
}
END_TEST

static const struct {
	const char *cwd, *path, *out;
} norm[] = {
	{ NULL, "/a/b", "/a/b" },
	{ NULL, "//a///b/", "/a/b" },
	{ NULL, "/a/./b/../c", "/a/c" },
	{ NULL, "/../../x", "/x" },
	{ NULL, "/", "/" },
	{ "/cache", "f", "/cache/f" },
	{ "/cache/d", "../f", "/cache/f" },
	{ "/", ".", "/" },
	{ NULL, "rel", NULL },
};

START_TEST(test_normalize)
{
	struct buf out = BUF_INIT;
	int rc = mountinfo_normalize(&out, norm[_i].cwd, norm[_i].path);

	if (norm[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out.data, norm[_i].out);
	}
	buf_free(&out);
}
END_TEST

static const struct {
	const char *path;
	enum vol_type type;
	const char *pod, *plugin, *name, *root;
} vols[] = {
	{ KR "/pods/" POD "/volumes/kubernetes.io~empty-dir/cache/f", VOL_POD, POD,
	  "kubernetes.io~empty-dir", "cache", KR "/pods/" POD "/volumes/kubernetes.io~empty-dir/cache" },
	{ KR "/pods/" POD "/volumes/kubernetes.io~configmap/cfg/..data/k", VOL_POD, POD,
	  "kubernetes.io~configmap", "cfg", KR "/pods/" POD "/volumes/kubernetes.io~configmap/cfg" },
	{ KR "/pods/" POD "/volumes/kubernetes.io~secret/tok", VOL_POD, POD,
	  "kubernetes.io~secret", "tok", KR "/pods/" POD "/volumes/kubernetes.io~secret/tok" },
	{ KR "/pods/" POD "/volumes/kubernetes.io~projected/kube-api-access-x/token", VOL_POD, POD,
	  "kubernetes.io~projected", "kube-api-access-x", KR "/pods/" POD "/volumes/kubernetes.io~projected/kube-api-access-x" },
	{ KR "/pods/" POD "/volumes/kubernetes.io~csi/pvc-123/mount/db", VOL_POD, POD,
	  "kubernetes.io~csi", "pvc-123", KR "/pods/" POD "/volumes/kubernetes.io~csi/pvc-123" },
	{ KR "/pods/" POD "/volume-subpaths/cfg/app/0/x", VOL_SUBPATH, POD,
	  "", "cfg", KR "/pods/" POD "/volume-subpaths/cfg/app/0" },
	{ KR "/pods/" POD "/etc-hosts", VOL_NONE, "", "", "", "" },
	{ KR "/pods/" POD "/volumes/kubernetes.io~empty-dir", VOL_NONE, "", "", "", "" },
	{ KR "/podsx/" POD "/volumes/a/b", VOL_NONE, "", "", "", "" },
	{ "/srv/shared/x", VOL_HOSTPATH, "", "", "", "/srv/shared" },
	{ "/srv/shared", VOL_HOSTPATH, "", "", "", "/srv/shared" },
	{ "/srv/sharedx", VOL_NONE, "", "", "", "" },
	{ "/etc/passwd", VOL_NONE, "", "", "", "" },
};

START_TEST(test_classify)
{
	char *hp[] = { "/data/hp", "/srv/shared/" };
	struct vol_info vi;
	enum vol_type t = vol_classify(vols[_i].path, KR, hp, 2, &vi);

	ck_assert_msg(t == vols[_i].type, "%s: type %d", vols[_i].path, (int)t);
	ck_assert_str_eq(vi.pod_uid, vols[_i].pod);
	ck_assert_str_eq(vi.plugin, vols[_i].plugin);
	ck_assert_str_eq(vi.name, vols[_i].name);
	ck_assert_uint_eq(vi.root_len, strlen(vols[_i].root));
	ck_assert(strncmp(vols[_i].path, vols[_i].root, vi.root_len) == 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mountinfo");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_counts);
	tcase_add_test(tc, test_escapes);
	tcase_add_loop_test(tc, test_translate, 0, (int)(sizeof(xl) / sizeof(xl[0])));
	tcase_add_test(tc, test_translate_host_is_identity);
	tcase_add_loop_test(tc, test_normalize, 0, (int)(sizeof(norm) / sizeof(norm[0])));
	tcase_add_loop_test(tc, test_classify, 0, (int)(sizeof(vols) / sizeof(vols[0])));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
