/*
 * cgroup.h - who a process is, from the text of /proc/<pid>/cgroup.
 *
 * A pure parser (no I/O) so every runtime's line shape can be tested
 * from a table. It knows containerd, CRI-O, Docker and podman under
 * both cgroup drivers, kubelet's pod slices for every QoS class, cgroup
 * v1, v2 and hybrid, and nested setups (kind, Docker-in-Docker), where
 * the innermost container wins.
 */
#ifndef PODTRAIL_CGROUP_H
#define PODTRAIL_CGROUP_H

#include <stddef.h>

#define CG_ID_LEN 64
#define CG_UID_LEN 36

/* What a cgroup path says; empty strings mean "not known". */
struct cg_info {
	char id[CG_ID_LEN + 1];		/* container id, 64 hex */
	char runtime[16];		/* containerd, cri-o, docker, podman, cri */
	char pod_uid[CG_UID_LEN + 1];	/* kubelet pod UID, with '-' */
	char qos[16];			/* guaranteed, burstable, besteffort */
};

/*
 * Parse one cgroup path ("/kubepods/burstable/pod.../<id>") into out.
 * Returns 1 if it names a container, 0 if not (out is then cleared of
 * the container id but may still carry a pod).
 */
int cg_parse_path(const char *path, size_t len, struct cg_info *out);
/*
 * Parse the whole text of /proc/<pid>/cgroup (v1, v2 or hybrid). The
 * v2 line is preferred, then the v1 lines in order. Returns 1 with out
 * filled if the process is in a container, 0 for a host process (out
 * cleared), -1 if no line could be parsed.
 */
int cg_parse(const char *text, size_t len, struct cg_info *out);

#endif
