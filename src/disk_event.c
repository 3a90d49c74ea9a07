/*
 * disk_event.c - what audit events tell the disk watcher: files opened
 * for writing or created are tracked, and an ENOSPC is linked to its
 * file system's report.
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
#include "event.h"
#include "evfield.h"
#include "log.h"
#include "loop.h"
#include "mountinfo.h"

#define ENOSPC_EXIT (-28)

/* ---- events ----------------------------------------------------------- */

static int
is_open_call(const char *sc)
{
	return sc && (!strcmp(sc, "open") || !strcmp(sc, "openat") ||
	    !strcmp(sc, "openat2") || !strcmp(sc, "creat"));
}

/* Calls whose target file the PATH records name (besides opens). */
static int
is_path_write(const char *sc)
{
	static const char *const calls[] = { "truncate", "rename", "renameat",
	    "renameat2", "link", "linkat", "mknod", "mknodat" };

	for (size_t i = 0; sc && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(sc, calls[i]))
			return 1;
	return 0;
}

static void
track_event(struct disk *d, cJSON *ev, const char *sc)
{
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(ev, "paths");
	const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(ev, "container");
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(ev, "process");
	const char *cid = evf_str(ctr, "id"), *pod = evf_str(ctr, "pod_uid");
	int open = is_open_call(sc);
	const cJSON *p;

	if (!cJSON_IsArray(paths))
		return;
	cJSON_ArrayForEach(p, paths) {
		const cJSON *vol = cJSON_GetObjectItemCaseSensitive(p, "volume");
		const char *hp = evf_str(p, "host_path"), *nt = evf_str(p,
		    "nametype"), *mode = evf_str(p, "mode"), *vt, *vn;

		if (!cJSON_IsObject(vol) || hp == NULL || nt == NULL ||
		    (strcmp(nt, "CREATE") && strcmp(nt, "NORMAL")))
			continue;
		/* regular files only: a directory's size is not data */
		if (mode && strncmp(mode, "0100", 4) != 0)
			continue;
		vt = evf_str(vol, "type");
		vn = vt && !strcmp(vt, "host-path") ? evf_str(vol, "host_path") :
		    evf_str(vol, "name");
		if (vt == NULL || vn == NULL)
			continue;
		disk_files_track(d, hp, !strcmp(nt, "CREATE"), cid ? cid : "",
		    pod ? pod : "", vn, vt, evf_str(vol, "pod_uid") ?
		    evf_str(vol, "pod_uid") : "", (pid_t)evf_int(proc, "pid", -1),
		    open ? (int)evf_int(ev, "exit", -1) : -1);
	}
}

/* The fd argument of a failed write-like call, or -1. */
static int
fd_arg(const struct event *e, const char *sc)
{
	static const struct {
		const char *name;
		unsigned arg;
	} calls[] = {
		{ "write", 0 }, { "pwrite", 0 }, { "pwrite64", 0 },
		{ "writev", 0 }, { "pwritev", 0 }, { "pwritev2", 0 },
		{ "fallocate", 0 }, { "ftruncate", 0 },
		{ "sendfile", 0 }, { "sendfile64", 0 },
		{ "copy_file_range", 2 }, { "splice", 2 },
	};

	for (size_t i = 0; sc && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(sc, calls[i].name)) {
			if (!(e->args & 1u << calls[i].arg))
				return -1;
			return (int)e->arg[calls[i].arg];
		}
	return -1;
}

/* Which file system did a failed call write to? 0 and *dev, or -1. */
static int
enospc_dev(struct disk *d, const struct event *e, const char *sc, dev_t *dev)
{
	const cJSON *ev = e->json;
	const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(ev, "container");
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(ev, "paths"), *p;
	pid_t pid = (pid_t)e->pid;
	int fd = fd_arg(e, sc), found = 0, rc = 0;
	const char *cid = evf_str(ctr, "id");
	struct stat st;
	char path[64];

	if (fd >= 0 && pid > 0) {
		if (pid == d->last_pid && fd == d->last_fd) {
			*dev = d->last_dev;
			return d->last_rc;
		}
		/* the fd it opened, as its open event told us */
		for (struct dfile *f = d->lru_head; f; f = f->next)
			if (f->pid == pid && f->fd == fd) {
				*dev = f->dev;
				goto cache;
			}
	}
	cJSON_ArrayForEach(p, paths) {
		const char *hp = evf_str(p, "host_path");
		char dir[PATH_MAX], *slash;

		if (hp == NULL)
			continue;
		if (stat(hp, &st) == 0)
			goto found;
		snprintf(dir, sizeof(dir), "%s", hp);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (stat(dir, &st) == 0)
				goto found;
		}
	}
	/* where this container writes, if that is one file system */
	for (size_t i = 0; cid && i < WRITER_BUCKETS; i++)
		for (struct dwriter *w = d->wb[i]; w; w = w->next) {
			if (strcmp(w->ctr, cid) != 0 || w->refs == 0)
				continue;
			if (found && *dev != w->dev)
				found = -1;
			if (found != -1) {
				*dev = w->dev;
				found = 1;
			}
		}
	if (found == 1)
		goto cache;
	/*
	 * Last, the process's fd now: it may have been closed or reused
	 * since (a shell restores a redirected fd at once), so it comes
	 * after what the events said.
	 */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	if (fd >= 0 && pid > 0 && stat(path, &st) == 0)
		goto found;
	rc = -1;
	goto cache;
found:
	*dev = st.st_dev;
cache:
	/* a process retrying in a loop is answered once */
	if (fd >= 0 && pid > 0) {
		d->last_pid = pid;
		d->last_fd = fd;
		d->last_rc = rc;
		d->last_dev = rc == 0 ? *dev : 0;
	}
	return rc;
}

static void
enospc_event(struct disk *d, struct event *e, const char *sc)
{
	cJSON *ev = e->json;
	struct dfs *f = NULL;
	dev_t dev;
	long long t;

	if (enospc_dev(d, e, sc, &dev) == 0 && (f = disk_fs_by_dev(d, dev)) == NULL &&
	    loop_now_ms() - d->scan_ms >= 1000) {
		/* mounted since the last scan? (not per event: a full overlay repeats) */
		disk_fs_scan(d);
		f = disk_fs_by_dev(d, dev);
	}
	/* no report yet for it: make one now, at most once an interval */
	if (f && !f->reported && (t = loop_now_ms()) - f->forced_ms >= d->interval_ms) {
		f->forced_ms = t;
		disk_files_sample(d, f->dev, 0);
		if (disk_fs_statvfs(f) == 0) {
			while (f->level < d->nthr && f->used_pct >= d->thr[f->level])
				f->level++;
			disk_report(d, f, "enospc");
		}
	}
	if (f && f->reported) {
		d->linked++;
		cJSON_AddNumberToObject(ev, "disk_report_seq", (double)f->report_seq);
		cJSON_AddStringToObject(ev, "disk_mount", f->mount);
	} else {
		d->unlinked++;
		cJSON_AddNullToObject(ev, "disk_report_seq");
		if (f)
			cJSON_AddStringToObject(ev, "disk_mount", f->mount);
		else
			cJSON_AddNullToObject(ev, "disk_mount");
	}
}

void
disk_event(struct disk *d, struct event *e)
{
	cJSON *ev = e->json;
	const char *type = evf_str(ev, "type"), *sc;
	const cJSON *ok;

	if (type == NULL || strcmp(type, "audit") != 0)
		return;
	sc = evf_str(ev, "syscall");
	ok = cJSON_GetObjectItemCaseSensitive(ev, "success");
	if (cJSON_IsFalse(ok)) {
		if (evf_int(ev, "exit", 0) == ENOSPC_EXIT)
			enospc_event(d, e, sc);
		return;
	}
	if (cJSON_IsTrue(ok) && (is_open_call(sc) || is_path_write(sc)))
		track_event(d, ev, sc);
}

