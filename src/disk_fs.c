/*
 * disk_fs.c - the file systems behind pod volumes (emptyDirs below
 * KUBELET_ROOT/pods) and hostPaths, from mountinfo, and their usage.
 */
#include "config.h"


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "conf.h"
#include "disk.h"
#include "disk_int.h"
#include "event.h"
#include "evfield.h"
#include "log.h"
#include "loop.h"
#include "mountinfo.h"

#define EMPTYDIR "/volumes/kubernetes.io~empty-dir/"

/* ---- file systems ----------------------------------------------------- */

struct dfs *
disk_fs_by_dev(struct disk *d, dev_t dev)
{
	for (size_t i = 0; i < d->nfs; i++)
		if (d->fs[i].dev == dev)
			return &d->fs[i];
	return NULL;
}

int
disk_fs_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	return strncmp(dir, path, n) == 0 && (path[n] == '/' || path[n] == '\0' ||
	    (n == 1 && dir[0] == '/'));
}

static void
fs_keep(struct disk *d, struct dfs *next, size_t *n, dev_t dev,
    const char *point, const char *fstype)
{
	struct dfs *old, *f;

	for (size_t i = 0; i < *n; i++)
		if (next[i].dev == dev)
			return;
	if (*n == FS_MAX)
		return;
	f = &next[(*n)++];
	if ((old = disk_fs_by_dev(d, dev)) != NULL && strcmp(old->mount, point) == 0) {
		*f = *old;
		return;
	}
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	snprintf(f->mount, sizeof(f->mount), "%s", point);
	snprintf(f->fstype, sizeof(f->fstype), "%s", fstype ? fstype : "");
	snprintf(f->since, sizeof(f->since), "%s", d->started);
	f->used_since = ULLONG_MAX;
}

/* The mount holding dir: its index in t, or -1. */
static long
holder(const struct mountinfo_table *t, const char *dir)
{
	size_t best = 0, n = mountinfo_count(t);
	long idx = -1;

	for (size_t i = 0; i < n; i++) {
		struct mountinfo_entry m;
		size_t l;

		if (mountinfo_mount_at(t, i, &m) == -1 ||
		    !disk_fs_under(m.point, dir))
			continue;
		/* the later of two mounts on one point is the visible one */
		if ((l = strlen(m.point)) >= best) {
			best = l;
			idx = (long)i;
		}
	}
	return idx;
}

static void
keep_at(struct disk *d, const struct mountinfo_table *t, long i,
    struct dfs *next, size_t *n)
{
	struct mountinfo_entry m;

	if (i >= 0 && mountinfo_mount_at(t, (size_t)i, &m) == 0)
		fs_keep(d, next, n, makedev(m.major, m.minor), m.point,
		    m.fstype);
}

/* Which file systems back pod volumes now (from our mount table). */
void
disk_fs_scan(struct disk *d)
{
	static struct log_rl rl;
	struct mountinfo_table *t = mountinfo_load("/proc/self/mountinfo");
	struct dfs *next;
	size_t n = 0, cnt;

	d->scan_ms = loop_now_ms();
	if (t == NULL) {
		log_warnx_rl(&rl, "disk: cannot read /proc/self/mountinfo");
		return;
	}
	if ((next = calloc(FS_MAX, sizeof(*next))) == NULL) {
		mountinfo_free(t);
		return;
	}
	cnt = mountinfo_count(t);
	keep_at(d, t, holder(t, d->pods), next, &n);
	for (int h = 0; h < d->nhost; h++)
		keep_at(d, t, holder(t, d->hostpaths[h]), next, &n);
	for (size_t i = 0; i < cnt; i++) {
		struct mountinfo_entry m;
		const char *pt;
		int want = 0;

		if (mountinfo_mount_at(t, i, &m) == -1)
			continue;
		pt = m.point;
		/* memory-backed emptyDirs; secrets and projections are not written by pods */
		if (disk_fs_under(d->pods, pt) && strstr(pt + strlen(d->pods), EMPTYDIR))
			want = 1;
		for (int h = 0; h < d->nhost && !want; h++)
			want = disk_fs_under(d->hostpaths[h], pt) &&
			    strcmp(d->hostpaths[h], pt) != 0;
		if (want)
			fs_keep(d, next, &n, makedev(m.major, m.minor), pt,
			    m.fstype);
	}
	memcpy(d->fs, next, n * sizeof(*next));
	d->nfs = n;
	free(next);
	mountinfo_free(t);
}

int
disk_fs_statvfs(struct dfs *f)
{
	struct statvfs sv;
	unsigned long long used, denom;

	if (statvfs(f->mount, &sv) == -1 || sv.f_blocks == 0)
		return -1;
	f->total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	f->avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	used = (unsigned long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	f->used = used;
	/* as df: the root reserve is not space the pods can use */
	denom = used + f->avail;
	f->used_pct = denom ? 100.0 * (double)used / (double)denom : 0;
	if (f->used_since == ULLONG_MAX)
		f->used_since = used;
	return 0;
}

