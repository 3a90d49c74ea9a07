/*
 * disk.h - who fills the disks behind pod volumes.
 *
 * The file systems holding KUBELET_ROOT/pods, memory-backed emptyDirs
 * mounted below it and the configured hostPath directories are sampled
 * with statvfs every disk_interval seconds. Files that events show a
 * container creating or opening for writing in a volume are tracked
 * (at most disk_tracked_files, least recently written dropped first)
 * and their allocated size sampled with fstatat, so the bytes each
 * pod/container/volume added are known without walking directories.
 * Crossing one of disk_thresholds (percent used), or falling below
 * disk_min_free, makes a chained podtrail_disk event with the top
 * writers since the file system's previous report; an ENOSPC failure
 * gets disk_report_seq, the seq of its file system's latest report.
 */
#ifndef PODTRAIL_DISK_H
#define PODTRAIL_DISK_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct conf;
struct disk;
struct event;
struct loop;

#define DISK_THRESHOLDS_MAX 16

/*
 * Hand an event podtrail made to the pipeline (it takes ownership);
 * returns the seq the chain gave it, 0 if it could not be sealed.
 */
typedef unsigned long long (*disk_emit_cb)(cJSON *ev, void *arg);

/*
 * Parse disk_thresholds ("80,90,95": percentages 1-100, ascending)
 * into out[0..max). Returns the count, or -1 with a reason in err.
 */
int disk_parse_thresholds(const char *s, int *out, int max, char *err,
    size_t errlen);
/* New watcher sampling on loop's timer. NULL on failure (logged). */
struct disk *disk_open(const struct conf *c, struct loop *loop,
    const char *node, disk_emit_cb emit, void *arg);
/*
 * Look at one enriched event, with the event arena closed: files
 * written in volumes are tracked; an ENOSPC failure gets
 * disk_report_seq and disk_mount (null when its file system is not
 * known), after a report is made for a file system that had none.
 */
void disk_event(struct disk *d, struct event *e);
/* Sample now (what the timer does). */
void disk_sample(struct disk *d);
/* Counters, and per-volume bytes for the top volumes only, into obj. */
void disk_stats(struct disk *d, cJSON *obj);
void disk_close(struct disk *d);

#endif
