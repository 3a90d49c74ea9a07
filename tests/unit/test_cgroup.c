/* test_cgroup.c - /proc/<pid>/cgroup shapes from every runtime and driver. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "cgroup.h"
#include "unit.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID  "3f2b1c4d-5e6f-4a1b-9c2d-8e7f6a5b4c3d"
#define UIDS "3f2b1c4d_5e6f_4a1b_9c2d_8e7f6a5b4c3d"
#define UID2  "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define UID2S "aaaaaaaa_bbbb_4ccc_8ddd_eeeeeeeeeeee"

struct row {
	const char *what;
	const char *text;
	int rc;
	const char *id, *runtime, *pod, *qos;
};

static const struct row rows[] = {
	/* host processes */
	{ "v2 root", "0::/\n", 0, "", "", "", "" },
	{ "v2 user slice", "0::/user.slice/user-1000.slice/session-3.scope\n", 0, "", "", "", "" },
	{ "v1 host", "12:memory:/\n11:pids:/system.slice/ssh.service\n0::/\n", 0, "", "", "", "" },
	{ "kubelet itself", "0::/system.slice/kubelet.service\n", 0, "", "", "", "" },
	/* containerd, systemd driver, every QoS */
	{ "containerd systemd burstable",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS ".slice/cri-containerd-" ID ".scope\n",
	  1, ID, "containerd", UID, "burstable" },
	{ "containerd systemd besteffort",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS ".slice/cri-containerd-" ID ".scope\n",
	  1, ID, "containerd", UID, "besteffort" },
	{ "containerd systemd guaranteed",
	  "0::/kubepods.slice/kubepods-pod" UIDS ".slice/cri-containerd-" ID ".scope\n",
	  1, ID, "containerd", UID, "guaranteed" },
	/* containerd, cgroupfs driver */
	{ "cgroupfs burstable", "0::/kubepods/burstable/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "burstable" },
	{ "cgroupfs besteffort v1",
	  "11:memory:/kubepods/besteffort/pod" UID "/" ID "\n10:cpu,cpuacct:/kubepods/besteffort/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "besteffort" },
	{ "cgroupfs guaranteed", "0::/kubepods/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "guaranteed" },
	/* the systemd cgroupsPath text given literally */
	{ "literal slice:prefix:id",
	  "0::/kubepods-burstable-pod" UIDS ".slice:cri-containerd:" ID "\n",
	  1, ID, "containerd", UID, "burstable" },
	{ "literal crio", "0::/kubepods-pod" UIDS ".slice:crio:" ID "\n",
	  1, ID, "cri-o", UID, "guaranteed" },
	/* CRI-O */
	{ "crio systemd",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS ".slice/crio-" ID ".scope\n",
	  1, ID, "cri-o", UID, "burstable" },
	{ "crio conmon is not a container",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS ".slice/crio-conmon-" ID ".scope\n",
	  0, "", "", UID, "burstable" },
	{ "crio cgroupfs", "0::/kubepods/besteffort/pod" UID "/crio-" ID "\n",
	  1, ID, "cri-o", UID, "besteffort" },
	{ "crio v2 with container subgroup",
	  "0::/kubepods.slice/kubepods-pod" UIDS ".slice/crio-" ID ".scope/container\n",
	  1, ID, "cri-o", UID, "guaranteed" },
	/* Docker */
	{ "docker systemd", "0::/system.slice/docker-" ID ".scope\n", 1, ID, "docker", "", "" },
	{ "docker cgroupfs v1",
	  "12:pids:/docker/" ID "\n11:memory:/docker/" ID "\n1:name=systemd:/docker/" ID "\n0::/\n",
	  1, ID, "docker", "", "" },
	/* podman */
	{ "podman scope", "0::/machine.slice/libpod-" ID ".scope\n", 1, ID, "podman", "", "" },
	{ "podman scope/container", "0::/machine.slice/libpod-" ID ".scope/container\n", 1, ID, "podman", "", "" },
	{ "podman rootless",
	  "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container\n",
	  1, ID, "podman", "", "" },
	{ "podman cgroupfs", "0::/libpod_parent/libpod-" ID "\n", 1, ID, "podman", "", "" },
	{ "podman cgroupfs v1", "3:memory:/libpod_parent/" ID "\n", 1, ID, "podman", "", "" },
	{ "podman conmon", "0::/machine.slice/libpod-conmon-" ID ".scope\n", 0, "", "", "", "" },
	/* nesting: innermost wins */
	{ "kind node, systemd inside",
	  "0::/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UIDS ".slice/cri-containerd-" ID ".scope\n",
	  1, ID, "containerd", UID, "besteffort" },
	{ "kind node's own processes",
	  "0::/system.slice/docker-" ID2 ".scope/system.slice/containerd.service\n",
	  1, ID2, "docker", "", "" },
	{ "docker in docker", "0::/docker/" ID2 "/docker/" ID "\n", 1, ID, "docker", "", "" },
	{ "cgroupfs kind", "4:memory:/docker/" ID2 "/kubepods/burstable/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "burstable" },
	/* cgroup namespaces: paths relative to the reader's root */
	{ "relative ../", "0::/../../kubepods-burstable-pod" UIDS ".slice/cri-containerd-" ID ".scope\n",
	  1, ID, "containerd", UID, "burstable" },
	{ "inside own cgroupns", "0::/\n", 0, "", "", "", "" },
	/* a private cgroup namespace: another pod seen from a DaemonSet pod */
	{ "private cgroupns, cgroupfs", "0::/../../../besteffort/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "besteffort" },
	{ "private cgroupns, QoS above us", "0::/../../../pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "" },
	{ "private cgroupns, host process",
	  "0::/../../../../system.slice/containerd.service\n", 0, "", "", "", "" },
	/* a container names its own sub-cgroups: they stay its own */
	{ "child named like another pod (cgroupfs)",
	  "0::/kubepods/besteffort/pod" UID "/" ID "/kubepods/pod" UID2 "/" ID2 "\n",
	  1, ID, "cri", UID, "besteffort" },
	{ "child named like another pod (systemd)",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS ".slice/cri-containerd-" ID ".scope/kubepods-pod" UID2S ".slice/cri-containerd-" ID2 ".scope\n",
	  1, ID, "containerd", UID, "besteffort" },
	{ "child named like a monitor",
	  "0::/kubepods/besteffort/pod" UID "/" ID "/crio-conmon-" ID2 "\n",
	  1, ID, "cri", UID, "besteffort" },
	{ "child named like docker",
	  "0::/kubepods/besteffort/pod" UID "/" ID "/docker/" ID2 "\n",
	  1, ID, "cri", UID, "besteffort" },
	{ "v1 child named like another pod",
	  "4:memory:/kubepods/burstable/pod" UID "/" ID "/kubepods/burstable/pod" UID2 "/" ID2 "\n0::/kubepods/burstable/pod" UID "/" ID "\n",
	  1, ID, "cri", UID, "burstable" },
	/* containerd without kubelet: /<namespace>/<id>, nerdctl scopes */
	{ "ctr default namespace", "0::/default/" ID "\n", 1, ID, "containerd", "", "" },
	{ "ctr k8s.io namespace", "0::/k8s.io/" ID "\n", 1, ID, "containerd", "", "" },
	{ "nerdctl systemd", "0::/system.slice/nerdctl-" ID ".scope\n", 1, ID, "containerd", "", "" },
	/* hybrid: v2 line empty, v1 lines tell */
	{ "hybrid", "9:name=systemd:/kubepods/burstable/pod" UID "/" ID "\n4:memory:/kubepods/burstable/pod" UID "/" ID "\n0::/\n",
	  1, ID, "cri", UID, "burstable" },
	/* look-alikes that must not match */
	{ "short id", "0::/docker/0123456789ab\n", 0, "", "", "", "" },
	{ "uppercase id", "0::/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n", 0, "", "", "", "" },
	{ "hex id with no runtime parent", "0::/system.slice/" ID "\n", 0, "", "", "", "" },
	{ "bad pod uid", "0::/kubepods/burstable/podxyz/" ID "\n", 0, "", "", "", "" },
};

START_TEST(test_table)
{
	const struct row *r = &rows[_i];
	struct cg_info ci;
	int rc = cg_parse(r->text, strlen(r->text), &ci);

	ck_assert_msg(rc == r->rc, "%s: rc %d", r->what, rc);
	ck_assert_msg(strcmp(ci.id, r->id) == 0, "%s: id '%s'", r->what, ci.id);
	ck_assert_msg(strcmp(ci.runtime, r->runtime) == 0, "%s: runtime '%s'",
	    r->what, ci.runtime);
	if (rc == 1) {
		ck_assert_msg(strcmp(ci.pod_uid, r->pod) == 0, "%s: pod '%s'",
		    r->what, ci.pod_uid);
		ck_assert_msg(strcmp(ci.qos, r->qos) == 0, "%s: qos '%s'",
		    r->what, ci.qos);
	}
}
END_TEST

START_TEST(test_path_keeps_pod_of_conmon)
{
	const char *p = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS ".slice/crio-conmon-" ID ".scope";
	struct cg_info ci;

	ck_assert_int_eq(cg_parse_path(p, strlen(p), &ci), 0);
	ck_assert_str_eq(ci.pod_uid, UID);
	ck_assert_str_eq(ci.id, "");
}
END_TEST

START_TEST(test_garbage)
{
	struct cg_info ci;

	ck_assert_int_eq(cg_parse("", 0, &ci), -1);
	ck_assert_int_eq(cg_parse("nonsense\n", 9, &ci), -1);
	ck_assert_int_eq(cg_parse("0::", 3, &ci), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_path_keeps_pod_of_conmon);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
