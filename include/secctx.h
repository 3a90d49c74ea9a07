/*
 * secctx.h - what the kernel enforces on a process: real and effective
 * ids, the four capability sets, no_new_privs, seccomp, its LSM label,
 * whether its root mount is read-only and which namespaces it shares
 * with the host (PID 1).
 *
 * The parsers take text, so real /proc shapes are tested from fixtures;
 * sctx_read() is the only function that reads /proc.
 */
#ifndef PODTRAIL_SECCTX_H
#define PODTRAIL_SECCTX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* Namespaces compared with the host's, as bits of host_ns. */
enum { SCTX_NS_PID, SCTX_NS_NET, SCTX_NS_IPC, SCTX_NS_UTS, SCTX_NS_USER,
    SCTX_NS_CGROUP, SCTX_NNS };

enum sctx_seccomp { SCTX_SECCOMP_UNKNOWN = -1, SCTX_SECCOMP_DISABLED = 0,
    SCTX_SECCOMP_STRICT = 1, SCTX_SECCOMP_FILTER = 2 };

/* One process's context; -1 (or "") where it could not be read. */
struct sctx {
	long long uid, euid, gid, egid;
	uint64_t cap_eff, cap_prm, cap_bnd, cap_amb;
	int no_new_privs;		/* 0, 1 */
	int seccomp;			/* enum sctx_seccomp */
	int seccomp_filters;
	char lsm[256];			/* attr/current, "" if none */
	int root_read_only;		/* 0, 1 */
	unsigned host_ns;		/* 1 << SCTX_NS_*: shared with PID 1 */
	unsigned ns_known;		/* namespaces that could be compared */
	char comm[32];			/* status Name: */
};

/* Every field unknown. */
void sctx_clear(struct sctx *c);
/*
 * Parse the text of /proc/<pid>/status into c (other fields untouched).
 * 0, or -1 if it holds no Uid/Gid/Cap lines (not a status file).
 */
int sctx_parse_status(const char *text, size_t len, struct sctx *c);
/*
 * Is the root mount in this /proc/<pid>/mountinfo text read-only (its
 * per-mount options hold "ro")? The last mount on "/" counts, as mounts
 * stack. 1, 0, or -1 when no mount is on "/".
 */
int sctx_root_read_only(const char *text, size_t len);

/* Lower-case name of capability bit ("sys_admin"), or NULL past the table. */
const char *sctx_cap_name(int bit);
/* Bit of a name as sctx_cap_name spells it (a "cap_" prefix and any case allowed); -1 if unknown. */
int sctx_cap_bit(const char *name);
/* JSON array of the names in mask ("unknown_N" for bits past the table); NULL on ENOMEM. */
cJSON *sctx_caps_json(uint64_t mask);
/* "pid", "net", ... for SCTX_NS_*. */
const char *sctx_ns_name(int ns);
/* "disabled", "strict", "filter", or NULL when unknown. */
const char *sctx_seccomp_name(int mode);

/* The host's namespaces, read once from PID 1. */
struct sctx_host {
	unsigned long long ino[SCTX_NNS];
	unsigned long long dev[SCTX_NNS];
	unsigned known;
};
/*
 * Read PID 1's namespaces under proc_root ("/proc"), podtrail's own
 * for those PID 1's cannot be read. 0, or -1 if none could be read.
 */
int sctx_host_read(const char *proc_root, struct sctx_host *h);
/* 1 if PID 1's namespaces are readable, 0 if our own stand in for them. */
int sctx_host_is_pid1(const char *proc_root);
/*
 * Everything about pid under proc_root. only_status: just the status
 * file (the cheap check for a wider context). 0, or -1 when the
 * status cannot be read (the process is gone); other parts that cannot
 * be read stay unknown. errno is not meaningful.
 */
int sctx_read(const char *proc_root, pid_t pid, const struct sctx_host *h,
    int only_status, struct sctx *c);
/*
 * Does now allow anything rec does not (a lower uid to root, a
 * capability, no_new_privs off, weaker seccomp, fewer filters, a
 * writable root, another host namespace, another LSM label)? Only
 * fields known in both are compared. 1 or 0.
 */
int sctx_wider(const struct sctx *rec, const struct sctx *now);
/* Widen rec to cover now as well (so the same widening is reported once). */
void sctx_merge(struct sctx *rec, const struct sctx *now);

#endif
