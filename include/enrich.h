/*
 * enrich.h - stages that add attribution to events (container, pod,
 * volume). Each is one ops struct; the pipeline runs them in order.
 */
#ifndef PODTRAIL_ENRICH_H
#define PODTRAIL_ENRICH_H

#include <cjson/cJSON.h>

struct conf;
struct loop;

struct enrich_ops {
	const char *name;
	/* Private state, or NULL on failure (logged). */
	void *(*open)(const struct conf *c, struct loop *loop);
	/* Add fields to ev. Must not fail the event: on trouble, add less. */
	void (*event)(void *ctx, cJSON *ev);
	void (*close)(void *ctx);
	void (*stats)(void *ctx, cJSON *obj);	/* may be NULL */
};

#endif
