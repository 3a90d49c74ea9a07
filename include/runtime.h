/*
 * runtime.h - what the container runtime itself recorded about a
 * container: the OCI config.json it keeps under its state directory
 * for the container's whole life, and which runtime that is.
 *
 * Layouts read (each under every runtime_state_dirs entry):
 *   io.containerd.runtime.v2.task/<namespace>/<id>/config.json
 *       containerd 1.6 (namespace moby: Docker's containerd)
 *   containerd/daemon/io.containerd.runtime.v2.task/<ns>/<id>/config.json
 *       dockerd's own containerd under /run/docker
 *   overlay-containers/<id>/userdata/config.json
 *       containers/storage's run root: CRI-O and podman
 *   runtime-runc/moby/<id>/          Docker's runc state (runtime only)
 */
#ifndef PODTRAIL_RUNTIME_H
#define PODTRAIL_RUNTIME_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cgroup.h"

/* The standard places, used when runtime_state_dirs is empty. */
#define RT_DEFAULT_DIRS \
	"/run/containerd", "/run/crio", "/run/containers/storage", \
	"/run/docker", "/run/libpod"

/* What config.json's annotations say; "" (or -1) when they do not. */
struct rt_info {
	char runtime[16];	/* containerd, cri-o, docker, podman */
	char rt_namespace[64];	/* containerd namespace (k8s.io, default) */
	char pod_name[256], pod_namespace[128], pod_uid[CG_UID_LEN + 1];
	char name[256];		/* container name; "POD" for a sandbox */
	int sandbox;		/* 1 sandbox, 0 app container, -1 unknown */
	char sandbox_id[CG_ID_LEN + 1];
	char image[512];	/* reference as the user gave it */
	char image_digest[160];	/* sha256:..., where the runtime has it */
};

struct rt_cache;

/*
 * Parse a config.json's annotations (containerd's io.kubernetes.cri.*,
 * CRI-O's io.kubernetes.pod.* / io.kubernetes.cri-o.*) into out, which
 * is cleared first. 0, or -1 if the text is not a JSON object.
 */
int rt_parse_config(const char *json, size_t len, struct rt_info *out);

/*
 * A cache over dirs[0..n) (copied; n == 0: RT_DEFAULT_DIRS). NULL on
 * ENOMEM (logged).
 */
struct rt_cache *rt_new(char *const *dirs, int n);
void rt_free(struct rt_cache *rc);
/*
 * What the runtime keeps for container id (64 hex). The answer stays
 * valid until the next rt_lookup; NULL if no runtime knows it (checked
 * again after 2 s). A found container is remembered: its config.json
 * does not change, and late events of a deleted one still resolve.
 */
const struct rt_info *rt_lookup(struct rt_cache *rc, const char *id);
/* Is path one of the state dirs or below one? (never watched) */
int rt_is_state_path(const struct rt_cache *rc, const char *path);
/* Add counters to obj. */
void rt_stats(const struct rt_cache *rc, cJSON *obj);

#endif
