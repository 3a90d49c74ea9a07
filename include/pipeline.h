/*
 * pipeline.h - the data flow: source bytes -> parse -> enrich -> chain
 * -> output. Sources hand records to the pipeline; everything after
 * that is wired here so main.c only builds and runs it.
 */
#ifndef PODTRAIL_PIPELINE_H
#define PODTRAIL_PIPELINE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct conf;
struct loop;
struct pipeline;

/*
 * Build every stage from the configuration, starting no thread. NULL
 * on failure (logged).
 */
struct pipeline *pipeline_new(const struct conf *c, struct loop *loop);
/*
 * Start the pipeline's helper threads as thread_plan(c) says: the
 * witness's sender, the parse worker. Only once the process's identity
 * is final (thread.h). 0, or -1 (logged).
 */
int pipeline_start_helpers(struct pipeline *pl, const struct conf *c);
/* Bytes of audit text lines, in any chunking. 0 or -1. */
int pipeline_feed(struct pipeline *pl, const char *data, size_t len);
/* One record without its newline (e.g. from netlink). 0 or -1. */
int pipeline_feed_record(struct pipeline *pl, const char *line, size_t len);
/*
 * A live source read what it feeds next by us (loop_now_us(), taken
 * after the read): every event emitted from then on carries it as its
 * rx_us, a bound on when its records arrived.
 */
void pipeline_received(struct pipeline *pl, long long us);
/*
 * Events were force-closed (eoe.h): let the parser shed the slots they
 * used, if it can now. 1 done, 0 not now (events pending), -1 error.
 */
int pipeline_compact(struct pipeline *pl);
/* An event made by podtrail itself (loss, heartbeat); takes ownership. */
void pipeline_emit(struct pipeline *pl, cJSON *ev);
/* The source has ended: flush pending events and stop the loop. */
void pipeline_eof(struct pipeline *pl);
/* Flush everything and release; 0, or -1 if output could not be saved. */
int pipeline_close(struct pipeline *pl);
/* podtrail is stopping on a signal: outputs may give up on a stalled reader. */
void pipeline_stop(struct pipeline *pl);
/* Called with every event before enrichment; it must not keep ev. */
typedef void (*pipeline_tap_cb)(const cJSON *ev, void *arg);
/* Set the one tap (NULL to clear). */
void pipeline_set_tap(struct pipeline *pl, pipeline_tap_cb cb, void *arg);
/* Host name used in events. */
const char *pipeline_node(const struct pipeline *pl);
/* The node name events carry (c->node, or the host name) into buf; returns buf. */
const char *pipeline_node_name(const struct conf *c, char *buf, size_t len);
/* Apply live settings (batching, timeouts) to the output. */
void pipeline_reconfigure(struct pipeline *pl, const struct conf *c);
/* The source fell behind (on 1) or caught up (0): the output is told. */
void pipeline_behind(struct pipeline *pl, int on);
/* Add the pipeline's counters to obj (heartbeats, metrics). */
void pipeline_stats(struct pipeline *pl, cJSON *obj);

#endif
