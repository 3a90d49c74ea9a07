/* test_runtime.c - config.json annotations and the runtimes' state layouts. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime.h"
#include "unit.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "3f2b1c4d-5e6f-4a1b-9c2d-8e7f6a5b4c3d"

/* What containerd 1.6's CRI plugin writes (pkg/cri/annotations). */
static const char containerd_app[] =
    "{\"ociVersion\":\"1.0.2\",\"annotations\":{"
    "\"io.kubernetes.cri.container-type\":\"container\","
    "\"io.kubernetes.cri.container-name\":\"worker\","
    "\"io.kubernetes.cri.image-name\":\"docker.io/library/busybox:1.35\","
    "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\","
    "\"io.kubernetes.cri.sandbox-name\":\"job-a-x7k2p\","
    "\"io.kubernetes.cri.sandbox-namespace\":\"batch\","
    "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}";
static const char containerd_sandbox[] =
    "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
    "\"io.kubernetes.cri.sandbox-name\":\"job-a-x7k2p\","
    "\"io.kubernetes.cri.sandbox-namespace\":\"batch\","
    "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}";
/* CRI-O: kubelet's labels and its own (pkg/annotations). */
static const char crio_app[] =
    "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
    "\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":\"shop\","
    "\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.container.name\":\"app\","
    "\"io.kubernetes.cri-o.ImageName\":\"quay.io/x/app:1\","
    "\"io.kubernetes.cri-o.ImageRef\":\"quay.io/x/app@sha256:abcd\"}}";

START_TEST(test_parse)
{
	struct rt_info ri;

	ck_assert_int_eq(rt_parse_config(containerd_app, strlen(containerd_app), &ri), 0);
	ck_assert_str_eq(ri.runtime, "containerd");
	ck_assert_int_eq(ri.sandbox, 0);
	ck_assert_str_eq(ri.name, "worker");
	ck_assert_str_eq(ri.pod_name, "job-a-x7k2p");
	ck_assert_str_eq(ri.pod_namespace, "batch");
	ck_assert_str_eq(ri.pod_uid, UID);
	ck_assert_str_eq(ri.sandbox_id, ID2);
	ck_assert_str_eq(ri.image, "docker.io/library/busybox:1.35");
	ck_assert_str_eq(ri.image_digest, "");

	ck_assert_int_eq(rt_parse_config(containerd_sandbox, strlen(containerd_sandbox), &ri), 0);
	ck_assert_int_eq(ri.sandbox, 1);
	ck_assert_str_eq(ri.name, "POD");
	ck_assert_str_eq(ri.pod_name, "job-a-x7k2p");

	ck_assert_int_eq(rt_parse_config(crio_app, strlen(crio_app), &ri), 0);
	ck_assert_str_eq(ri.runtime, "cri-o");
	ck_assert_int_eq(ri.sandbox, 0);
	ck_assert_str_eq(ri.name, "app");
	ck_assert_str_eq(ri.pod_name, "web-0");
	ck_assert_str_eq(ri.pod_namespace, "shop");
	ck_assert_str_eq(ri.image, "quay.io/x/app:1");
	ck_assert_str_eq(ri.image_digest, "sha256:abcd");

	/* a plain ctr container: nothing but the runtime's own fields */
	ck_assert_int_eq(rt_parse_config("{\"ociVersion\":\"1.0\"}", 20, &ri), 0);
	ck_assert_int_eq(ri.sandbox, -1);
	ck_assert_str_eq(ri.name, "");
	ck_assert_int_eq(rt_parse_config("[1]", 3, &ri), -1);
	ck_assert_int_eq(rt_parse_config("{\"annotations\":", 15, &ri), -1);
}
END_TEST

static void
put(const char *dir, const char *rel, const char *text)
{
	char path[1024], cmd[1200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	ck_assert_int_eq(system(cmd), 0);
	if (text == NULL)
		return;
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

START_TEST(test_layouts)
{
	char d1[] = "/tmp/podtrail-rt-XXXXXX", d2[] = "/tmp/podtrail-rt-XXXXXX";
	char *dirs[2], cmd[200], sub[300];
	const struct rt_info *ri;
	struct rt_cache *rc;

	ck_assert_ptr_nonnull(mkdtemp(d1));
	ck_assert_ptr_nonnull(mkdtemp(d2));
	dirs[0] = d1;
	dirs[1] = d2;
	/* containerd: task dir per namespace */
	put(d1, "io.containerd.runtime.v2.task/k8s.io/" ID "/config.json", containerd_app);
	put(d1, "io.containerd.runtime.v2.task/default/" ID2 "/config.json", "{}");
	ck_assert_ptr_nonnull(rc = rt_new(dirs, 2));
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID));
	ck_assert_str_eq(ri->runtime, "containerd");
	ck_assert_str_eq(ri->rt_namespace, "k8s.io");
	ck_assert_str_eq(ri->name, "worker");
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID2));
	ck_assert_str_eq(ri->runtime, "containerd");
	ck_assert_str_eq(ri->rt_namespace, "default");
	ck_assert_int_eq(ri->sandbox, -1);
	rt_free(rc);

	/* CRI-O's containers/storage run root; Docker's containerd and runc */
	put(d2, "overlay-containers/" ID "/userdata/config.json", crio_app);
	put(d2, "containerd/daemon/io.containerd.runtime.v2.task/moby/" ID2 "/config.json", "{}");
	dirs[0] = d2;
	ck_assert_ptr_nonnull(rc = rt_new(dirs, 1));
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID));
	ck_assert_str_eq(ri->runtime, "cri-o");
	ck_assert_str_eq(ri->pod_name, "web-0");
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID2));
	ck_assert_str_eq(ri->runtime, "docker");
	/* unknown ids, malformed ids */
	ck_assert_ptr_null(rt_lookup(rc, "0000000000000000000000000000000000000000000000000000000000000000"));
	ck_assert_ptr_null(rt_lookup(rc, "../../etc"));
	/* a deleted container's record stays for its late events */
	snprintf(sub, sizeof(sub), "rm -rf %s/overlay-containers", d2);
	ck_assert_int_eq(system(sub), 0);
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID));
	ck_assert_str_eq(ri->name, "app");
	ck_assert_int_eq(rt_is_state_path(rc, d2), 1);
	snprintf(sub, sizeof(sub), "%s/x/y", d2);
	ck_assert_int_eq(rt_is_state_path(rc, sub), 1);
	snprintf(sub, sizeof(sub), "%sx", d2);
	ck_assert_int_eq(rt_is_state_path(rc, sub), 0);
	rt_free(rc);
	/* podman: no CRI annotations in the same layout */
	put(d1, "overlay-containers/" ID "/userdata/config.json", "{\"annotations\":{}}");
	dirs[0] = d1;
	rmdir(d1);
	snprintf(sub, sizeof(sub), "rm -rf %s/io.containerd.runtime.v2.task", d1);
	ck_assert_int_eq(system(sub), 0);
	ck_assert_ptr_nonnull(rc = rt_new(dirs, 1));
	ck_assert_ptr_nonnull(ri = rt_lookup(rc, ID));
	ck_assert_str_eq(ri->runtime, "podman");
	rt_free(rc);
	/* defaults when none is configured */
	ck_assert_ptr_nonnull(rc = rt_new(NULL, 0));
	ck_assert_int_eq(rt_is_state_path(rc, "/run/containerd/io.containerd.runtime.v2.task"), 1);
	ck_assert_int_eq(rt_is_state_path(rc, "/run/crio"), 1);
	ck_assert_int_eq(rt_is_state_path(rc, "/run/user"), 0);
	rt_free(rc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", d1, d2);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_layouts);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
