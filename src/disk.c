/*
 * disk.c - file systems behind pod volumes, the bytes each writer added
 * to them, podtrail_disk reports and the ENOSPC link (see disk.h).
 *
 * Bytes are allocated bytes (st_blocks * 512): what fills a disk, for
 * sparse files too. A file's growth is credited to the container that
 * last opened it for writing; a file that is gone gives its bytes back,
 * so a writer's figure is what it added net.
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
#include "event.h"
#include "evfield.h"
#include "log.h"
#include "loop.h"
#include "mountinfo.h"

#define FILE_BUCKETS 4096
#define WRITER_BUCKETS 1024
#define WRITERS_MAX 4096
#define FS_MAX 256
/* a level drops again once usage is this many points below its threshold */
#define HYSTERESIS_PCT 5.0
/* samples a report may wait for events that trail the disk */
#define HOLD_SAMPLES 3
#define EMPTYDIR "/volumes/kubernetes.io~empty-dir/"
#define ENOSPC_EXIT (-28)

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

static void
now_text(char *out, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(out, len, ts.tv_sec, (unsigned)(ts.tv_nsec / 1000000));
}

int
disk_parse_thresholds(const char *s, int *out, int max, char *err,
    size_t errlen)
{
	const char *p = s;
	int n = 0;

	while (*p) {
		char *end;
		long v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v < 1 || v > 100) {
			snprintf(err, errlen, "disk_thresholds: '%s': each "
			    "threshold is a percentage from 1 to 100", s);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "disk_thresholds: more than %d "
			    "thresholds", max);
			return -1;
		}
		if (n > 0 && v <= out[n - 1]) {
			snprintf(err, errlen, "disk_thresholds: '%s': "
			    "thresholds must ascend", s);
			return -1;
		}
		out[n++] = (int)v;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',')
			p++;
		else if (*p) {
			snprintf(err, errlen, "disk_thresholds: '%s': expected "
			    "comma-separated percentages", s);
			return -1;
		}
	}
	return n;
}

/* ---- writers ---------------------------------------------------------- */

static unsigned
writer_hash(const char *ctr, const char *pod, const char *vol, dev_t dev)
{
	unsigned h = evf_hash(vol, evf_hash(pod, evf_hash(ctr, EVF_HASH_INIT)));

	return (h ^ (unsigned)dev) % WRITER_BUCKETS;
}

static struct dwriter *
writer_get(struct disk *d, const char *ctr, const char *pod, const char *vol,
    const char *vtype, const char *vpod, dev_t dev)
{
	unsigned h = writer_hash(ctr, pod, vol, dev);
	struct dwriter *w;

	for (w = d->wb[h]; w; w = w->next)
		if (w->dev == dev && !strcmp(w->ctr, ctr) &&
		    !strcmp(w->pod_uid, pod) && !strcmp(w->volume, vol))
			return w;
	if (d->nwriters >= WRITERS_MAX) {
		d->writers_full++;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	snprintf(w->ctr, sizeof(w->ctr), "%s", ctr);
	snprintf(w->pod_uid, sizeof(w->pod_uid), "%s", pod);
	snprintf(w->volume, sizeof(w->volume), "%s", vol);
	snprintf(w->vtype, sizeof(w->vtype), "%s", vtype);
	snprintf(w->vpod, sizeof(w->vpod), "%s", vpod);
	w->dev = dev;
	w->next = d->wb[h];
	d->wb[h] = w;
	d->nwriters++;
	return w;
}

/* Writers with no file left and nothing to report go (their metric too). */
static void
writers_prune(struct disk *d)
{
	for (size_t i = 0; i < WRITER_BUCKETS; i++) {
		struct dwriter **pp = &d->wb[i];

		while (*pp) {
			struct dwriter *w = *pp;

			if (w->refs == 0 && w->window <= 0) {
				*pp = w->next;
				free(w);
				d->nwriters--;
				continue;
			}
			pp = &w->next;
		}
	}
}

static void
credit(struct dwriter *w, long long delta)
{
	if (w == NULL || delta == 0)
		return;
	w->window += delta;
	if (delta > 0)
		w->added += (unsigned long long)delta;
}

/* ---- tracked files ---------------------------------------------------- */

static void
lru_unlink(struct disk *d, struct dfile *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		d->lru_head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		d->lru_tail = f->prev;
	f->prev = f->next = NULL;
}

static void
lru_front(struct disk *d, struct dfile *f)
{
	if (d->lru_head == f)
		return;
	if (f->prev || f->next || d->lru_tail == f)
		lru_unlink(d, f);
	f->next = d->lru_head;
	if (d->lru_head)
		d->lru_head->prev = f;
	d->lru_head = f;
	if (d->lru_tail == NULL)
		d->lru_tail = f;
}

static void
file_drop(struct disk *d, struct dfile *f)
{
	struct dfile **pp = &d->fb[evf_hash(f->path, EVF_HASH_INIT) % FILE_BUCKETS];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	lru_unlink(d, f);
	if (f->w)
		f->w->refs--;
	free(f->path);
	free(f);
	d->nfiles--;
}

static void
file_set_writer(struct dfile *f, struct dwriter *w)
{
	if (f->w == w)
		return;
	if (f->w)
		f->w->refs--;
	f->w = w;
	if (w)
		w->refs++;
}

static long long
alloc_bytes(const struct stat *st)
{
	return (long long)st->st_blocks * 512;
}

/*
 * A file written by w: track it. created: the event made it, so all
 * its bytes are new; otherwise what it held when first seen is not.
 */
static void
file_track(struct disk *d, const char *path, int created, const char *ctr,
    const char *pod, const char *vol, const char *vtype, const char *vpod,
    pid_t pid, int fd)
{
	unsigned h = evf_hash(path, EVF_HASH_INIT) % FILE_BUCKETS;
	struct dfile *f;
	struct stat st;

	for (f = d->fb[h]; f; f = f->hnext)
		if (strcmp(f->path, path) == 0)
			break;
	if (f == NULL) {
		if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			return;
		if (d->nfiles >= d->max_files && d->lru_tail) {
			d->evicted++;
			file_drop(d, d->lru_tail);
		}
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->path = strdup(path)) == NULL) {
			free(f);
			return;
		}
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->bytes = created ? 0 : alloc_bytes(&st);
		f->hnext = d->fb[h];
		d->fb[h] = f;
		d->nfiles++;
		d->tracked++;
	}
	file_set_writer(f, writer_get(d, ctr, pod, vol, vtype, vpod, f->dev));
	f->pid = pid;
	f->fd = fd;
	lru_front(d, f);
}

/* Sample one file: credit its growth; 0, or -1 when it is gone (dropped). */
static int
file_sample(struct disk *d, struct dfile *f)
{
	struct stat st;
	long long b;

	d->samples++;
	if (fstatat(AT_FDCWD, f->path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_ino != f->ino || st.st_dev != f->dev) {
		/* deleted or replaced: the bytes it held are freed */
		credit(f->w, -f->bytes);
		d->stat_gone++;
		file_drop(d, f);
		return -1;
	}
	b = alloc_bytes(&st);
	if (b != f->bytes) {
		credit(f->w, b - f->bytes);
		f->bytes = b;
		lru_front(d, f);
	}
	return 0;
}

/* Sample every tracked file (on dev only, unless dev is 0). */
static void
files_sample(struct disk *d, dev_t dev, int all)
{
	struct dfile *f = d->lru_head, *next;

	for (; f; f = next) {
		next = f->next;
		if (all || f->dev == dev)
			(void)file_sample(d, f);
	}
}

/* ---- file systems ----------------------------------------------------- */

static struct dfs *
fs_by_dev(struct disk *d, dev_t dev)
{
	for (size_t i = 0; i < d->nfs; i++)
		if (d->fs[i].dev == dev)
			return &d->fs[i];
	return NULL;
}

static int
under(const char *dir, const char *path)
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
	if ((old = fs_by_dev(d, dev)) != NULL && strcmp(old->mount, point) == 0) {
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
holder(const struct mi_table *t, const char *dir)
{
	size_t best = 0, n = mi_count(t);
	long idx = -1;

	for (size_t i = 0; i < n; i++) {
		struct mi_entry m;
		size_t l;

		if (mi_mount_at(t, i, &m) == -1 || !under(m.point, dir))
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
keep_at(struct disk *d, const struct mi_table *t, long i, struct dfs *next,
    size_t *n)
{
	struct mi_entry m;

	if (i >= 0 && mi_mount_at(t, (size_t)i, &m) == 0)
		fs_keep(d, next, n, makedev(m.major, m.minor), m.point,
		    m.fstype);
}

/* Which file systems back pod volumes now (from our mount table). */
static void
fs_scan(struct disk *d)
{
	static struct log_rl rl;
	struct mi_table *t = mi_load("/proc/self/mountinfo");
	struct dfs *next;
	size_t n = 0, cnt;

	d->scan_ms = loop_now_ms();
	if (t == NULL) {
		log_warnx_rl(&rl, "disk: cannot read /proc/self/mountinfo");
		return;
	}
	if ((next = calloc(FS_MAX, sizeof(*next))) == NULL) {
		mi_free(t);
		return;
	}
	cnt = mi_count(t);
	keep_at(d, t, holder(t, d->pods), next, &n);
	for (int h = 0; h < d->nhost; h++)
		keep_at(d, t, holder(t, d->hostpaths[h]), next, &n);
	for (size_t i = 0; i < cnt; i++) {
		struct mi_entry m;
		const char *pt;
		int want = 0;

		if (mi_mount_at(t, i, &m) == -1)
			continue;
		pt = m.point;
		/* memory-backed emptyDirs; secrets and projections are not written by pods */
		if (under(d->pods, pt) && strstr(pt + strlen(d->pods), EMPTYDIR))
			want = 1;
		for (int h = 0; h < d->nhost && !want; h++)
			want = under(d->hostpaths[h], pt) &&
			    strcmp(d->hostpaths[h], pt) != 0;
		if (want)
			fs_keep(d, next, &n, makedev(m.major, m.minor), pt,
			    m.fstype);
	}
	memcpy(d->fs, next, n * sizeof(*next));
	d->nfs = n;
	free(next);
	mi_free(t);
}

static int
fs_statvfs(struct dfs *f)
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

/* ---- reports ---------------------------------------------------------- */

static int
cmp_window(const void *a, const void *b)
{
	const struct dwriter *x = *(struct dwriter *const *)a;
	const struct dwriter *y = *(struct dwriter *const *)b;

	return x->window < y->window ? 1 : x->window > y->window ? -1 : 0;
}

/* The report for f; windows on f are reset. */
static void
report(struct disk *d, struct dfs *f, const char *reason)
{
	cJSON *ev = event_new_internal("podtrail_disk", d->node), *tw;
	struct dwriter **top = NULL;
	size_t ntop = 0, cap = 0;
	long long attributed = 0;
	char dev[48];
	unsigned long long seq;

	if (ev == NULL)
		return;
	for (size_t i = 0; i < WRITER_BUCKETS; i++)
		for (struct dwriter *w = d->wb[i]; w; w = w->next) {
			if (w->dev != f->dev || w->window <= 0)
				continue;
			attributed += w->window;
			if (ntop == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct dwriter **nt = realloc(top, nc * sizeof(*nt));

				if (nt == NULL)
					continue;
				top = nt;
				cap = nc;
			}
			top[ntop++] = w;
		}
	if (ntop)
		qsort(top, ntop, sizeof(*top), cmp_window);
	cJSON_AddStringToObject(ev, "reason", reason);
	cJSON_AddStringToObject(ev, "mount", f->mount);
	cJSON_AddStringToObject(ev, "fs_type", f->fstype);
	snprintf(dev, sizeof(dev), "%u:%u", major(f->dev), minor(f->dev));
	cJSON_AddStringToObject(ev, "device", dev);
	cJSON_AddNumberToObject(ev, "used_pct",
	    (double)(long long)(f->used_pct * 10 + 0.5) / 10);
	cJSON_AddNumberToObject(ev, "free_bytes", (double)f->avail);
	cJSON_AddNumberToObject(ev, "used_bytes", (double)f->used);
	cJSON_AddNumberToObject(ev, "total_bytes", (double)f->total);
	if (f->level > 0)
		cJSON_AddNumberToObject(ev, "threshold", d->thr[f->level - 1]);
	else
		cJSON_AddNullToObject(ev, "threshold");
	if (d->min_free)
		cJSON_AddNumberToObject(ev, "min_free_bytes", (double)d->min_free);
	else
		cJSON_AddNullToObject(ev, "min_free_bytes");
	cJSON_AddStringToObject(ev, "since", f->since);
	if (f->reported)
		cJSON_AddNumberToObject(ev, "previous_report_seq",
		    (double)f->report_seq);
	else
		cJSON_AddNullToObject(ev, "previous_report_seq");
	cJSON_AddNumberToObject(ev, "used_change_bytes",
	    (double)((long long)f->used - (long long)f->used_since));
	cJSON_AddNumberToObject(ev, "attributed_bytes", (double)attributed);
	tw = cJSON_AddArrayToObject(ev, "top_writers");
	for (size_t i = 0; tw && i < ntop && i < d->top; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			break;
		evf_add_str_or_null(o, "pod_uid", top[i]->pod_uid);
		evf_add_str_or_null(o, "container_id", top[i]->ctr);
		cJSON_AddStringToObject(o, "volume", top[i]->volume);
		cJSON_AddStringToObject(o, "volume_type", top[i]->vtype);
		evf_add_str_or_null(o, "volume_pod_uid", top[i]->vpod);
		cJSON_AddNumberToObject(o, "bytes", (double)top[i]->window);
		cJSON_AddNumberToObject(o, "share_pct",
		    (double)(long long)(1000.0 * (double)top[i]->window /
		    (double)attributed + 0.5) / 10);
		cJSON_AddItemToArray(tw, o);
	}
	free(top);
	seq = d->emit(ev, d->arg);
	d->reports++;
	/* the window starts again, sealed or not: its bytes were reported */
	for (size_t i = 0; i < WRITER_BUCKETS; i++)
		for (struct dwriter *w = d->wb[i]; w; w = w->next)
			if (w->dev == f->dev)
				w->window = 0;
	if (seq) {
		f->report_seq = seq;
		f->reported = 1;
	}
	now_text(f->since, sizeof(f->since));
	f->used_since = f->used;
}

/* Net bytes the writers on f added since its last report (positive ones). */
static long long
fs_attributed(struct disk *d, const struct dfs *f)
{
	long long sum = 0;

	for (size_t i = 0; i < WRITER_BUCKETS; i++)
		for (struct dwriter *w = d->wb[i]; w; w = w->next)
			if (w->dev == f->dev && w->window > 0)
				sum += w->window;
	return sum;
}

/* Thresholds and the floor for one sampled file system. */
static void
fs_check(struct disk *d, struct dfs *f)
{
	int level = 0, up, fl;

	while (level < d->nthr && f->used_pct >= d->thr[level])
		level++;
	up = level > f->level;
	fl = d->min_free && f->avail < d->min_free && !f->floor;
	/*
	 * Most of the growth not yet seen in events (they can trail the
	 * disk by a second or two under load): wait up to HOLD_SAMPLES
	 * samples for them.
	 */
	if ((up || fl) && f->held < HOLD_SAMPLES && 2 * fs_attributed(d, f) <
	    (long long)f->used - (long long)f->used_since) {
		f->held++;
		return;
	}
	f->held = 0;
	if (up || fl) {
		if (up)
			f->level = level;
		if (fl)
			f->floor = 1;
		report(d, f, up ? "threshold" : "floor");
		return;
	}
	/* re-arm once clearly below, so flapping around a line reports once */
	while (f->level > 0 &&
	    f->used_pct < d->thr[f->level - 1] - HYSTERESIS_PCT)
		f->level--;
	if (f->floor && f->avail >= d->min_free + d->min_free / 10)
		f->floor = 0;
}

void
disk_sample(struct disk *d)
{
	fs_scan(d);
	files_sample(d, 0, 1);
	for (size_t i = 0; i < d->nfs; i++)
		if (fs_statvfs(&d->fs[i]) == 0)
			fs_check(d, &d->fs[i]);
	writers_prune(d);
}

static void
tick(void *arg)
{
	struct disk *d = arg;

	disk_sample(d);
	loop_timer_arm(d->timer, d->interval_ms);
}

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
		file_track(d, hp, !strcmp(nt, "CREATE"), cid ? cid : "",
		    pod ? pod : "", vn, vt, evf_str(vol, "pod_uid") ?
		    evf_str(vol, "pod_uid") : "", (pid_t)evf_int(proc, "pid", -1),
		    open ? (int)evf_int(ev, "exit", -1) : -1);
	}
}

/* The fd argument of a failed write-like call, or -1. */
static int
fd_arg(const cJSON *ev, const char *sc)
{
	static const struct {
		const char *name, *arg;
	} calls[] = {
		{ "write", "a0" }, { "pwrite", "a0" }, { "pwrite64", "a0" },
		{ "writev", "a0" }, { "pwritev", "a0" }, { "pwritev2", "a0" },
		{ "fallocate", "a0" }, { "ftruncate", "a0" },
		{ "sendfile", "a0" }, { "sendfile64", "a0" },
		{ "copy_file_range", "a2" }, { "splice", "a2" },
	};
	char hex[24];

	for (size_t i = 0; sc && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(sc, calls[i].name)) {
			if (event_record_str(ev, "SYSCALL", calls[i].arg, hex,
			    sizeof(hex)) == -1)
				return -1;
			return (int)strtol(hex, NULL, 16);
		}
	return -1;
}

/* Which file system did a failed call write to? 0 and *dev, or -1. */
static int
enospc_dev(struct disk *d, const cJSON *ev, const char *sc, dev_t *dev)
{
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(ev, "process");
	const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(ev, "container");
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(ev, "paths"), *p;
	pid_t pid = (pid_t)evf_int(proc, "pid", -1);
	int fd = fd_arg(ev, sc), found = 0, rc = 0;
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
enospc_event(struct disk *d, cJSON *ev, const char *sc)
{
	struct dfs *f = NULL;
	dev_t dev;
	long long t;

	if (enospc_dev(d, ev, sc, &dev) == 0 && (f = fs_by_dev(d, dev)) == NULL &&
	    loop_now_ms() - d->scan_ms >= 1000) {
		/* mounted since the last scan? (not per event: a full overlay repeats) */
		fs_scan(d);
		f = fs_by_dev(d, dev);
	}
	/* no report yet for it: make one now, at most once an interval */
	if (f && !f->reported && (t = loop_now_ms()) - f->forced_ms >= d->interval_ms) {
		f->forced_ms = t;
		files_sample(d, f->dev, 0);
		if (fs_statvfs(f) == 0) {
			while (f->level < d->nthr && f->used_pct >= d->thr[f->level])
				f->level++;
			report(d, f, "enospc");
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
disk_event(struct disk *d, cJSON *ev)
{
	const char *type = evf_str(ev, "type"), *sc;
	const cJSON *ok;

	if (type == NULL || strcmp(type, "audit") != 0)
		return;
	sc = evf_str(ev, "syscall");
	ok = cJSON_GetObjectItemCaseSensitive(ev, "success");
	if (cJSON_IsFalse(ok)) {
		if (evf_int(ev, "exit", 0) == ENOSPC_EXIT)
			enospc_event(d, ev, sc);
		return;
	}
	if (cJSON_IsTrue(ok) && (is_open_call(sc) || is_path_write(sc)))
		track_event(d, ev, sc);
}

/* ---- set-up ----------------------------------------------------------- */

static char *
canon(const char *dir)
{
	char *r = realpath(dir, NULL);

	return r ? r : strdup(dir);
}

struct disk *
disk_open(const struct conf *c, struct loop *loop, const char *node,
    disk_emit_cb emit, void *arg)
{
	struct disk *d = calloc(1, sizeof(*d));
	char err[256], path[PATH_MAX];
	char *kr = NULL;

	if (d == NULL) {
		log_warn("disk");
		return NULL;
	}
	d->loop = loop;
	d->emit = emit;
	d->arg = arg;
	snprintf(d->node, sizeof(d->node), "%s", node);
	if ((d->nthr = disk_parse_thresholds(c->disk_thresholds, d->thr,
	    DISK_THRESHOLDS_MAX, err, sizeof(err))) == -1) {
		log_warnx("%s", err);
		goto err;
	}
	d->interval_ms = (long)c->disk_interval * 1000;
	d->min_free = (unsigned long long)c->disk_min_free;
	d->max_files = (size_t)c->disk_tracked_files;
	d->top = (size_t)c->disk_top_writers;
	d->metrics_top = (size_t)c->volume_metrics_top;
	d->last_pid = -1;
	snprintf(path, sizeof(path), "%s/pods", c->kubelet_root);
	if ((kr = canon(path)) == NULL)
		goto nomem;
	snprintf(d->pods, sizeof(d->pods), "%s", kr);
	free(kr);
	if (c->hostpath.n > 0 &&
	    (d->hostpaths = calloc((size_t)c->hostpath.n, sizeof(char *))) == NULL)
		goto nomem;
	for (int i = 0; i < c->hostpath.n; i++) {
		if ((d->hostpaths[i] = canon(c->hostpath.v[i])) == NULL)
			goto nomem;
		d->nhost++;
	}
	now_text(d->started, sizeof(d->started));
	if (loop) {
		if ((d->timer = loop_timer_new(loop, tick, d)) == NULL)
			goto nomem;
		/* the first look soon after start: a disk already full is news */
		loop_timer_arm(d->timer, 1000);
	}
	fs_scan(d);
	return d;
nomem:
	log_warn("disk");
err:
	disk_close(d);
	return NULL;
}

static int
cmp_added(const void *a, const void *b)
{
	const struct dwriter *x = *(struct dwriter *const *)a;
	const struct dwriter *y = *(struct dwriter *const *)b;

	return x->added < y->added ? 1 : x->added > y->added ? -1 : 0;
}

void
disk_stats(struct disk *d, cJSON *obj)
{
	struct dwriter **all = NULL;
	size_t n = 0;
	cJSON *vol, *pct, *fre;

	cJSON_AddNumberToObject(obj, "disk_filesystems", (double)d->nfs);
	cJSON_AddNumberToObject(obj, "disk_reports", (double)d->reports);
	cJSON_AddNumberToObject(obj, "disk_tracked_files", (double)d->nfiles);
	cJSON_AddNumberToObject(obj, "disk_files_tracked_total", (double)d->tracked);
	cJSON_AddNumberToObject(obj, "disk_files_evicted", (double)d->evicted);
	cJSON_AddNumberToObject(obj, "disk_writers", (double)d->nwriters);
	cJSON_AddNumberToObject(obj, "disk_writers_full", (double)d->writers_full);
	cJSON_AddNumberToObject(obj, "disk_file_samples", (double)d->samples);
	cJSON_AddNumberToObject(obj, "enospc_linked", (double)d->linked);
	cJSON_AddNumberToObject(obj, "enospc_unlinked", (double)d->unlinked);
	if ((pct = cJSON_AddObjectToObject(obj, "disk_used_pct")) == NULL ||
	    (fre = cJSON_AddObjectToObject(obj, "disk_free_bytes")) == NULL)
		return;
	for (size_t i = 0; i < d->nfs; i++) {
		cJSON_AddNumberToObject(pct, d->fs[i].mount, d->fs[i].used_pct);
		cJSON_AddNumberToObject(fre, d->fs[i].mount, (double)d->fs[i].avail);
	}
	/* the top volumes by bytes added, the rest as one: bounded labels */
	if (d->metrics_top == 0 ||
	    (all = calloc(d->nwriters + 1, sizeof(*all))) == NULL)
		return;
	for (size_t i = 0; i < WRITER_BUCKETS; i++)
		for (struct dwriter *w = d->wb[i]; w; w = w->next)
			if (w->added && n < d->nwriters)
				all[n++] = w;
	qsort(all, n, sizeof(*all), cmp_added);
	if ((vol = cJSON_AddObjectToObject(obj, "volume_written_bytes")) != NULL) {
		double other = 0;

		for (size_t i = 0; i < n; i++) {
			char key[1200];
			cJSON *it;

			if (i >= d->metrics_top) {
				other += (double)all[i]->added;
				continue;
			}
			/* POD_UID/VOLUME: a pod's volume, whoever wrote it */
			snprintf(key, sizeof(key), "%s/%s", all[i]->vpod,
			    all[i]->volume);
			if ((it = cJSON_GetObjectItemCaseSensitive(vol, key)) != NULL)
				cJSON_SetNumberValue(it, it->valuedouble +
				    (double)all[i]->added);
			else
				cJSON_AddNumberToObject(vol, key,
				    (double)all[i]->added);
		}
		if (n > d->metrics_top)
			cJSON_AddNumberToObject(vol, "other", other);
	}
	free(all);
}

void
disk_close(struct disk *d)
{
	if (d == NULL)
		return;
	while (d->lru_head)
		file_drop(d, d->lru_head);
	for (size_t i = 0; i < WRITER_BUCKETS; i++)
		while (d->wb[i]) {
			struct dwriter *w = d->wb[i];

			d->wb[i] = w->next;
			free(w);
		}
	for (int i = 0; i < d->nhost; i++)
		free(d->hostpaths[i]);
	free(d->hostpaths);
	loop_timer_free(d->timer);
	free(d);
}
