/*
 * disk.c - file systems behind pod volumes, the bytes each writer added
 * to them, podtrail_disk reports and the ENOSPC link (see disk.h).
 *
 * Bytes are allocated bytes (st_blocks * 512): what fills a disk, for
 * sparse files too. A file's growth is credited to the container that
 * last opened it for writing; a file that is gone gives its bytes back,
 * so a writer's figure is what it added net.
 *
 * This file holds the thresholds, the reports and set-up; tracked
 * files are in disk_files.c, file systems in disk_fs.c, what events
 * tell in disk_event.c (disk_int.h is what they share).
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

/* a level drops again once usage is this many points below its threshold */
#define HYSTERESIS_PCT 5.0
/* samples a report may wait for events that trail the disk */
#define HOLD_SAMPLES 3

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

/* ---- reports ---------------------------------------------------------- */

static int
cmp_window(const void *a, const void *b)
{
	const struct dwriter *x = *(struct dwriter *const *)a;
	const struct dwriter *y = *(struct dwriter *const *)b;

	return x->window < y->window ? 1 : x->window > y->window ? -1 : 0;
}

/* The report for f; windows on f are reset. */
void
disk_report(struct disk *d, struct dfs *f, const char *reason)
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
		disk_report(d, f, up ? "threshold" : "floor");
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
	disk_fs_scan(d);
	disk_files_sample(d, 0, 1);
	for (size_t i = 0; i < d->nfs; i++)
		if (disk_fs_statvfs(&d->fs[i]) == 0)
			fs_check(d, &d->fs[i]);
	disk_files_prune(d);
}

static void
tick(void *arg)
{
	struct disk *d = arg;

	disk_sample(d);
	loop_timer_arm(d->timer, d->interval_ms);
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
	disk_fs_scan(d);
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
		disk_files_drop(d, d->lru_head);
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

