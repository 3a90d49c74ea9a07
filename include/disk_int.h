/*
 * disk_int.h - what the files of the disk watcher share, and nothing
 * else includes: its state (struct disk, the loop's) and the functions
 * they call in each other. disk.c holds the thresholds, the reports
 * and set-up; disk_files.c the tracked files and their writers;
 * disk_fs.c the file systems behind pod volumes; disk_event.c what
 * audit events tell (writes, ENOSPC).
 */
#ifndef PODTRAIL_DISK_INT_H
#define PODTRAIL_DISK_INT_H

#include <limits.h>
#include <sys/types.h>

#include "disk.h"
#include "loop.h"

#define FILE_BUCKETS 4096
#define WRITER_BUCKETS 1024
#define FS_MAX 256

struct dwriter {
	struct dwriter *next;
	char pod_uid[40];	/* the writing container's pod, "" for the host */
	char ctr[65];		/* container id, "" for a host process */
	char volume[512];	/* volume name, or the hostPath directory */
	char vtype[16];		/* pod-volume, subpath, host-path */
	char vpod[40];		/* the pod owning the volume ("" for hostPaths) */
	dev_t dev;
	long long window;	/* net bytes since its file system's last report */
	unsigned long long added;	/* growth ever seen (metrics) */
	unsigned refs;
};

struct dfile {
	struct dfile *hnext, *prev, *next;	/* hash chain; LRU list */
	char *path;
	dev_t dev;
	ino_t ino;
	long long bytes;
	struct dwriter *w;
	pid_t pid;
	int fd;
};

struct dfs {
	dev_t dev;
	char mount[PATH_MAX];
	char fstype[32];
	int mark;
	int level;		/* thresholds crossed and reported */
	int floor;		/* below disk_min_free, reported */
	int reported;
	int held;		/* samples a report waited for late events */
	unsigned long long report_seq;
	char since[40];		/* time of the last report, or of the start */
	unsigned long long used_since;	/* used bytes then */
	unsigned long long total, avail, used;
	double used_pct;
	long long forced_ms;
};

struct disk {
	struct loop *loop;
	struct loop_timer *timer;
	long interval_ms;
	char node[256];
	disk_emit_cb emit;
	void *arg;
	int thr[DISK_THRESHOLDS_MAX];
	int nthr;
	unsigned long long min_free;
	size_t max_files, top, metrics_top;
	char pods[PATH_MAX];		/* KUBELET_ROOT/pods */
	char **hostpaths;
	int nhost;
	char started[40];
	struct dfile *fb[FILE_BUCKETS];
	struct dfile *lru_head, *lru_tail;	/* head: most recently written */
	size_t nfiles;
	struct dwriter *wb[WRITER_BUCKETS];
	size_t nwriters;
	struct dfs fs[FS_MAX];
	size_t nfs;
	long long scan_ms;		/* last fs_scan() */
	/* the last ENOSPC's answer, for a process retrying in a loop */
	pid_t last_pid;
	int last_fd;
	int last_rc;		/* 0: last_dev, -1: not known */
	dev_t last_dev;
	unsigned long long reports, tracked, evicted, writers_full, linked,
	    unlinked, samples, stat_gone;
};

/* Make and emit a podtrail_disk report for f now (reason: its cause). */
void disk_report(struct disk *d, struct dfs *f, const char *reason);

/*
 * A file written by ctr of pod (pid's fd, on volume vol of type vtype,
 * owned by pod vpod): track its growth, credited to that writer.
 * created: the event made it, so all its bytes are new.
 */
void disk_files_track(struct disk *d, const char *path, int created,
    const char *ctr, const char *pod, const char *vol, const char *vtype,
    const char *vpod, pid_t pid, int fd);
/* Sample the tracked files on dev (all: on every file system). */
void disk_files_sample(struct disk *d, dev_t dev, int all);
/* Stop tracking f (its writer keeps what it added) and free it. */
void disk_files_drop(struct disk *d, struct dfile *f);
/* Writers with no file left and nothing to report go. */
void disk_files_prune(struct disk *d);

/* The watched file system on dev, or NULL. */
struct dfs *disk_fs_by_dev(struct disk *d, dev_t dev);
/* Is path dir or below it? */
int disk_fs_under(const char *dir, const char *path);
/* Which file systems back pod volumes now (from our mount table). */
void disk_fs_scan(struct disk *d);
/* Read f's usage (statvfs). 0, or -1 (it is gone, or not readable). */
int disk_fs_statvfs(struct dfs *f);

#endif
