/*
 * enrich.h - stages that add attribution to events (container, pod,
 * volume). Each is one ops struct; the pipeline runs them in order.
 */
#ifndef PODTRAIL_ENRICH_H
#define PODTRAIL_ENRICH_H

#include <cjson/cJSON.h>

struct conf;
struct event;
struct loop;

struct enrich_ops {
	const char *name;
	/* Private state, or NULL on failure (logged). */
	void *(*open)(const struct conf *c, struct loop *loop);
	/* Add fields to ev->json. Must not fail the event: on trouble, add less. */
	void (*event)(void *ctx, struct event *ev);
	void (*close)(void *ctx);
	void (*stats)(void *ctx, cJSON *obj);	/* may be NULL */
};

extern const struct enrich_ops enrich_container_ops;
extern const struct enrich_ops enrich_volume_ops;

/*
 * The container and volume stages share one process cache and one
 * process connector. acquire() makes them on first use (NULL on ENOMEM,
 * logged); release() frees them with the last user.
 */
struct enrich_procs;
struct procinfo_view;
struct enrich_procs *enrich_procs_acquire(const struct conf *c,
    struct loop *loop);
void enrich_procs_release(struct enrich_procs *ep);
/*
 * Who made ev (its pid at its time)? Answered once per event and
 * remembered for the next stage. 0, or -1 if unknown (v cleared).
 */
int enrich_procs_lookup(struct enrich_procs *ep, const struct event *ev,
    struct procinfo_view *v);
/* The shared cache (for the host mount table and namespace updates). */
struct procinfo *enrich_procs_cache(struct enrich_procs *ep);
/* The runtimes' state (config.json annotations) the stages share. */
struct rt_cache *enrich_procs_runtime(struct enrich_procs *ep);
/* hostPath directories found in containers' mount tables, or NULL (off). */
struct hostpaths *enrich_procs_hostpaths(struct enrich_procs *ep);
/*
 * Who loads and removes audit watches on discovered hostPaths (the
 * rule pack's owner); NULL before it goes. No-op without enrichment.
 */
struct hp_watch_ops;
void enrich_set_watcher(const struct hp_watch_ops *ops, void *arg);
/* Add the cache's and connector's counters to obj. */
void enrich_procs_stats(struct enrich_procs *ep, cJSON *obj);

#endif
