/*
 * hostpath.h - hostPath directories found by podtrail itself: host
 * directories bind-mounted into containers, read from each container's
 * mount table, each with the containers (and pods) that mount it, and
 * an audit watch kept while anyone does.
 */
#ifndef PODTRAIL_HOSTPATH_H
#define PODTRAIL_HOSTPATH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cgroup.h"

struct conf;
struct mountinfo_table;
struct rt_cache;
struct hostpaths;

/* Loads (1, or 0 if already there) and removes audit watches on dirs. */
struct hp_watch_ops {
	int (*add)(void *arg, const char *dir);	/* 0, or -1 (logged) */
	void (*del)(void *arg, const char *dir);
};

/*
 * New set for c's settings (kubelet_root, hostpath, state_dir,
 * hostpath_discovery_max); rt names the runtime state dirs, never
 * watched, and the users' names (may be NULL). NULL on ENOMEM (logged).
 */
struct hostpaths *hp_new(const struct conf *c, struct rt_cache *rt);
void hp_free(struct hostpaths *hp);
/* Who adds and removes watches (NULL: none, discovery only tags). */
void hp_set_watcher(struct hostpaths *hp, const struct hp_watch_ops *ops,
    void *arg);
/*
 * The mount table t of container cg's mount namespace mntns was read
 * (host: the host's table). Its host directories bound in become that
 * namespace's set, replacing what an older table said. cg NULL: a host
 * process's namespace, which mounts nothing for any container.
 */
void hp_scan(struct hostpaths *hp, const struct cg_info *cg,
    unsigned long long mntns, const struct mountinfo_table *t,
    const struct mountinfo_table *host);
/* Forget namespaces for which alive(arg, mntns) is 0; drop unused dirs. */
void hp_sweep(struct hostpaths *hp,
    int (*alive)(void *arg, unsigned long long mntns), void *arg);
/*
 * The discovered directory holding host_path (longest): its length, or
 * 0 if none.
 */
size_t hp_match(const struct hostpaths *hp, const char *host_path);
/*
 * Append {container_id, pod_uid[, pod_name, pod_namespace,
 * container_name]} for each container that mounts the directory
 * host_path[0..len) to arr (names from the runtime's state); the pod
 * uids differing from my_pod are counted in *others. Returns how many
 * were added.
 */
int hp_users_json(const struct hostpaths *hp, const char *host_path,
    size_t len, cJSON *arr, const char *my_pod, int *others);
/* Directories currently known, and watched. */
int hp_count(const struct hostpaths *hp, int *watched);
void hp_stats(const struct hostpaths *hp, cJSON *obj);

#endif
