/*
 * metrics.h - counters in Prometheus text format for node_exporter's
 * textfile collector, rewritten atomically on a timer of the loop.
 */
#ifndef PODTRAIL_METRICS_H
#define PODTRAIL_METRICS_H

#include <cjson/cJSON.h>

#include "buf.h"

struct loop;
struct metrics;

/* Fills obj with the current counters (pipeline_stats, source_stats). */
typedef void (*metrics_collect_cb)(cJSON *obj, void *arg);

/*
 * Render flat counters as Prometheus text: each number becomes
 * podtrail_NAME, each object of numbers one metric with a label, and
 * the loss counters also podtrail_lost_events{cause=...}. 0, or -1 (ENOMEM).
 */
int metrics_format(struct buf *out, const cJSON *counters);
/* Write text to path atomically (path.tmp, fsync, rename). 0, or -1 (logged). */
int metrics_write_file(const char *path, const char *text, size_t len);
/* A disarmed writer; configure it to start. NULL on ENOMEM (logged). */
struct metrics *metrics_new(struct loop *loop, metrics_collect_cb cb,
    void *arg);
/*
 * (Re)start writing path every interval_s seconds, now first; an empty
 * path stops. Safe to call again on SIGHUP. 0, or -1 (ENOMEM, logged).
 */
int metrics_configure(struct metrics *m, const char *path, long interval_s);
/* Write once more (so the file shows the final counters) and release. */
void metrics_free(struct metrics *m);

#endif
