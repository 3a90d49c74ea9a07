/*
 * context.h - podtrail_container events: what the kernel enforces on
 * each container (secctx.h), read from /proc when podtrail first sees
 * the container in an event and again whenever one of its processes
 * has a wider context than recorded, checked against policy_file.
 * No audit rule of its own: the container's events are the trigger.
 */
#ifndef PODTRAIL_CONTEXT_H
#define PODTRAIL_CONTEXT_H

#include <cjson/cJSON.h>

struct conf;
struct context;

/*
 * Hand an event podtrail made to the pipeline (it takes ownership);
 * returns the seq the chain gave it, 0 if it could not be sealed.
 */
typedef unsigned long long (*context_emit_cb)(cJSON *ev, void *arg);

/*
 * New watcher; proc_root is "/proc" except in tests. Loads policy_file
 * if set. NULL on failure (logged: a bad policy file names FILE:LINE).
 */
struct context *context_open(const struct conf *c, const char *proc_root,
    const char *node, context_emit_cb emit, void *arg);
/*
 * Look at one enriched event (must be called with the event arena
 * closed: what it emits is heap memory). Cheap for a known container
 * and process: a hash lookup and a scan of a few pids.
 */
void context_event(struct context *cx, const cJSON *ev);
/* Add counters to obj. */
void context_stats(struct context *cx, cJSON *obj);
void context_close(struct context *cx);

#endif
