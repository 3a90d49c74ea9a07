/*
 * procinfo.h - what podtrail knows about processes, kept past their
 * exit so late events still resolve.
 *
 * Entries are keyed by pid and birth time (pids are reused): a lookup
 * for an event at time t matches only a process of that pid that was
 * alive at t. Each entry holds the container attribution read from
 * /proc/<pid>/cgroup and a reference to its mount namespace's table,
 * which is cached per namespace (by the inode of /proc/<pid>/ns/mnt).
 */
#ifndef PODTRAIL_PROCINFO_H
#define PODTRAIL_PROCINFO_H

#include <sys/types.h>

#include <cjson/cJSON.h>

#include "cgroup.h"

struct pinfo;
struct mi_table;

/* How a lookup was answered. */
enum pinfo_how { PINFO_UNKNOWN, PINFO_PROC, PINFO_CACHE, PINFO_CONNECTOR };

/* The answer to a lookup; pointers stay valid until the next pinfo call. */
struct pinfo_view {
	enum pinfo_how how;
	int in_container;		/* cg is meaningful */
	struct cg_info cg;
	const struct mi_table *mounts;	/* the process's namespace, or NULL */
	int host_ns;			/* mounts is the host's own table */
	unsigned long long mntns;	/* inode, 0 if unknown */
};

/* New cache. proc_root is "/proc" except in tests. NULL on ENOMEM (logged). */
struct pinfo *pinfo_new(const char *proc_root);
void pinfo_free(struct pinfo *pi);

/*
 * Learn a process now (fork or exec seen by the connector). If
 * /proc/<pid> is already gone, a forked child inherits what is known
 * of parent (the kernel gives a child its parent's cgroup and mount
 * namespace). when_ms is the realtime of the kernel's notification.
 */
void pinfo_learn(struct pinfo *pi, pid_t pid, pid_t parent, long long when_ms,
    int is_exec);
/* The process exited at when_ms; keep the entry for the grace period. */
void pinfo_exit(struct pinfo *pi, pid_t pid, long long when_ms);
/*
 * The connector lost notifications: stop trusting "still alive" for
 * entries it tracked (their exit may have been missed).
 */
void pinfo_lost_track(struct pinfo *pi, long long now_ms);
/* The connector is tracking processes from now on. */
void pinfo_set_tracking(struct pinfo *pi, int on);

/*
 * Who was pid at realtime t_ms? Fills v and returns 0, or returns -1
 * with v->how == PINFO_UNKNOWN when no answer is certain.
 */
int pinfo_lookup(struct pinfo *pi, pid_t pid, long long t_ms,
    struct pinfo_view *v);
/* A mount happened in namespace mntns: re-read its table when next possible. */
void pinfo_ns_changed(struct pinfo *pi, unsigned long long mntns);
/* The host's mount table (refreshed at most once a second on demand). */
const struct mi_table *pinfo_host_mounts(struct pinfo *pi, int refresh);
/*
 * Call cb whenever the mount table of a process's namespace (not the
 * host's) has been read anew (after an exec, a mount, or its age), with
 * the host's table beside it; once per read. cg is the container of the
 * process that was read, NULL for a host process (namespace inodes are
 * reused: a host process there means it is no container's any more).
 * cb NULL: none.
 */
void pinfo_set_ns_hook(struct pinfo *pi,
    void (*cb)(void *arg, const struct cg_info *cg, unsigned long long mntns,
    const struct mi_table *t, const struct mi_table *host), void *arg);
/* Is namespace mntns still cached (a member alive or in grace)? pi is a struct pinfo. */
int pinfo_ns_known(void *pi, unsigned long long mntns);
/* Drop entries past their grace period; call periodically. */
void pinfo_expire(struct pinfo *pi, long long now_ms);
/* Add counters to obj. */
void pinfo_stats(struct pinfo *pi, cJSON *obj);

/*
 * The prefix through which podtrail reaches the host's files: "" when
 * it shares pid 1's mount namespace (or cannot see pid 1's),
 * "/proc/1/root" in a container (a hostPID DaemonSet). Static storage.
 */
const char *pinfo_host_root(void);

/* Realtime now in ms. */
long long pinfo_now_ms(void);

#endif
