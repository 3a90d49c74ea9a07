/*
 * procinfo_int.h - what the files of the process cache share, and
 * nothing else includes: its state (struct procinfo and its entries).
 * procinfo.c is the cache, procinfo_proc.c what it reads from /proc.
 */
#ifndef PODTRAIL_PROCINFO_INT_H
#define PODTRAIL_PROCINFO_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"
#include "mountinfo.h"

#define NBUCKETS 4096
/* pids recently found absent from /proc (direct-mapped, see procinfo_lookup) */
#define NGONE 1024

struct ns {
	struct ns *next;
	unsigned long long ino;
	struct mountinfo_table *t;
	long long read_ms;
	int stale;
	int announced;		/* ns_hook saw this table */
	int refs;
};

struct entry {
	struct entry *next;
	pid_t pid;
	unsigned long long start_ticks;	/* 0: not read (inherited) */
	long long born_ms;
	long long end_ms;	/* exit, last seen alive, or ALIVE (tracked) */
	int from_connector;
	int have_cg;		/* cg was read (or inherited) */
	int moved;		/* may have moved since cg was known */
	long long cg_read_ms;	/* when cg and ns were read from /proc */
	int in_container;
	struct cg_info cg;
	struct ns *ns;
};

/* A pid whose /proc directory was absent at at_ms (realtime, just before). */
struct gone {
	pid_t pid;
	long long at_ms;
};

struct procinfo {
	char proc[64];
	struct entry *b[NBUCKETS];
	struct gone gone[NGONE];
	pid_t *listed;		/* pids in /proc at listed_ms, sorted */
	size_t nlisted, listcap;
	long long listed_ms, list_tried_ms;
	struct ns *nss;
	struct mountinfo_table *host;
	unsigned long long host_ino;
	long long host_read_ms;
	long ticks_per_s;
	int tracking;
	void (*ns_hook)(void *, const struct cg_info *, unsigned long long,
	    const struct mountinfo_table *, const struct mountinfo_table *);
	void *ns_hook_arg;
	size_t nentries, nns;
	unsigned long long learned, inherited, exits, proc_hits, cache_hits,
	    connector_hits, unknown, ambiguous, reused, expired, exits_missed, moved,
	    listed_gone;
};

#endif
