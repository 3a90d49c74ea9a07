/*
 * procinfo_proc.h - what the process cache reads from /proc (pi->proc,
 * the host's or ours): a process's start time, cgroup and mount
 * namespace. None logs: a process may be gone at any time.
 */
#ifndef PODTRAIL_PROCINFO_PROC_H
#define PODTRAIL_PROCINFO_PROC_H

#include <sys/types.h>

#include "cgroup.h"
#include "procinfo_int.h"

/* Field 22 of /proc/<pid>/stat. 0, or -1 if the process is gone. */
int procinfo_proc_read_start(struct procinfo *pi, pid_t pid,
    unsigned long long *ticks);
/* Clock ticks since boot (a start time) as realtime ms. */
long long procinfo_proc_ticks_to_ms(struct procinfo *pi,
    unsigned long long ticks);
/*
 * /proc/<pid>/cgroup parsed into cg; *in_ctr says whether it is a
 * container's (cg_parse). 0, or -1 if gone or unparsable.
 */
int procinfo_proc_read_cgroup(struct procinfo *pi, pid_t pid,
    struct cg_info *cg, int *in_ctr);
/* The mount namespace inode of who ("1", "self", a pid), or 0. */
unsigned long long procinfo_proc_read_ns_ino(struct procinfo *pi,
    const char *who);

#endif
