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

struct procinfo;
struct mountinfo_table;

/* How a lookup was answered. */
enum procinfo_how { PINFO_UNKNOWN, PINFO_PROC, PINFO_CACHE, PINFO_CONNECTOR };

/* The answer to a lookup; pointers stay valid until the next procinfo call. */
struct procinfo_view {
	enum procinfo_how how;
	int in_container;		/* cg is meaningful */
	struct cg_info cg;
	/* the process's mount namespace, or NULL */
	const struct mountinfo_table *mounts;
	int host_ns;			/* mounts is the host's own table */
	unsigned long long mntns;	/* inode, 0 if unknown */
};

/* New cache. proc_root is "/proc" except in tests. NULL on ENOMEM (logged). */
struct procinfo *procinfo_new(const char *proc_root);
void procinfo_free(struct procinfo *pi);

/*
 * Learn a process now (fork or exec seen by the connector). If
 * /proc/<pid> is already gone, a forked child inherits what is known
 * of parent (the kernel gives a child its parent's cgroup and mount
 * namespace). when_ms is the realtime of the kernel's notification.
 */
void procinfo_learn(struct procinfo *pi, pid_t pid, pid_t parent,
    long long when_ms, int is_exec);
/* The process exited at when_ms; keep the entry for the grace period. */
void procinfo_exit(struct procinfo *pi, pid_t pid, long long when_ms);
/*
 * The connector lost notifications: stop trusting "still alive" for
 * entries it tracked (their exit may have been missed).
 */
void procinfo_lost_track(struct procinfo *pi, long long now_ms);
/* The connector is tracking processes from now on. */
void procinfo_set_tracking(struct procinfo *pi, int on);

/*
 * Who was pid at realtime t_ms? Fills v and returns 0, or returns -1
 * with v->how == PINFO_UNKNOWN when no answer is certain.
 */
int procinfo_lookup(struct procinfo *pi, pid_t pid, long long t_ms,
    struct procinfo_view *v);
/* A mount happened in namespace mntns: re-read its table when next possible. */
void procinfo_ns_changed(struct procinfo *pi, unsigned long long mntns);
/* The host's mount table (refreshed at most once a second on demand). */
const struct mountinfo_table *procinfo_host_mounts(struct procinfo *pi,
    int refresh);
/*
 * Call cb whenever the mount table of a process's namespace (not the
 * host's) has been read anew (after an exec, a mount, or its age), with
 * the host's table beside it; once per read. cg is the container of the
 * process that was read, NULL for a host process (namespace inodes are
 * reused: a host process there means it is no container's any more).
 * cb NULL: none.
 */
void procinfo_set_ns_hook(struct procinfo *pi,
    void (*cb)(void *arg, const struct cg_info *cg, unsigned long long mntns,
    const struct mountinfo_table *t, const struct mountinfo_table *host),
    void *arg);
/* Is mntns still cached (a member alive or in grace)? pi: struct procinfo. */
int procinfo_ns_known(void *pi, unsigned long long mntns);
/* Drop entries past their grace period; call periodically. */
void procinfo_expire(struct procinfo *pi, long long now_ms);
/* Add counters to obj. */
void procinfo_stats(struct procinfo *pi, cJSON *obj);

/*
 * The prefix through which podtrail reaches the host's files: "" when
 * it shares pid 1's mount namespace (or cannot see pid 1's),
 * "/proc/1/root" in a container (a hostPID DaemonSet). Static storage.
 */
const char *procinfo_host_root(void);

/* Realtime now in ms. */
long long procinfo_now_ms(void);

#endif
