/*
 * witness.h - checkpoint_output: a second destination, apart from the
 * event output and its spool, that receives only the signed lines
 * (checkpoints and key announcements). file:PATH appends and fsyncs
 * each line; an https:// URL gets each line POSTed (NDJSON) from a
 * helper thread, retried with backoff, so the loop never waits for it.
 */
#ifndef PODTRAIL_WITNESS_H
#define PODTRAIL_WITNESS_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct conf;
struct witness;

/* Open c->checkpoint_output (must be set). NULL on failure (logged). */
struct witness *witness_open(const struct conf *c);
/* Hand over one line (copied; no newline). 0, or -1 (logged, counted). */
int witness_write(struct witness *w, const char *line, size_t len);
/*
 * Start the https sender thread (after the identity switch, thread.h);
 * lines written before wait for it. 0 (also for a file or none), or -1
 * (logged).
 */
int witness_start(struct witness *w);
/* Add counters to obj. */
void witness_stats(struct witness *w, cJSON *obj);
/*
 * Send what is queued (giving up after the request timeout), release.
 * 0, or -1 if lines were not delivered (logged).
 */
int witness_close(struct witness *w);

#endif
