/*
 * output.h - where serialized events go. Each output is one ops struct
 * (designated initializers); output_open() picks it from the spec.
 */
#ifndef PODTRAIL_OUTPUT_H
#define PODTRAIL_OUTPUT_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct conf;
struct loop;
struct sealed;

/* How an output hands back an event it made (a loss report); takes it. */
typedef void (*output_emit_cb)(cJSON *ev, void *arg);

struct output_ops {
	const char *name;
	/* Does this output handle spec (e.g. "-", "file:", "https://")? */
	int (*match)(const char *spec);
	/* Open; returns the output's private state, or NULL (logged). */
	void *(*open)(const char *spec, struct loop *loop, const struct conf *c);
	/* Take one sealed line (no newline; copied). 0, or -1 (logged). */
	int (*write)(void *ctx, const struct sealed *s);
	/* Before the loop sleeps: push out what is buffered. May be NULL. */
	void (*flush)(void *ctx);
	/*
	 * podtrail is stopping (SIGTERM): close may give up on a reader
	 * that stopped reading. May be NULL.
	 */
	void (*stop)(void *ctx);
	/* Save or send everything, then release. 0, or -1 if data was lost. */
	int (*close)(void *ctx);
	/* Add counters to obj. May be NULL. */
	void (*stats)(void *ctx, cJSON *obj);
	/*
	 * Where to send events the output makes itself; called only from
	 * flush, never from write. May be NULL.
	 */
	void (*set_emit)(void *ctx, output_emit_cb cb, void *arg);
	/* Take the live settings (batch_*, timeout_ms) of c. May be NULL. */
	void (*reconfigure)(void *ctx, const struct conf *c);
	/*
	 * The source is behind (on 1) or has caught up (0): hand work off
	 * the loop's thread while behind, if the plan allows. May be NULL.
	 */
	void (*behind)(void *ctx, int on);
};

struct output;

/* Open the output that matches spec. NULL on failure (logged). */
struct output *output_open(const char *spec, struct loop *loop,
    const struct conf *c);
int output_write(struct output *o, const struct sealed *s);
void output_flush(struct output *o);
int output_close(struct output *o);
void output_stop(struct output *o);
void output_stats(struct output *o, cJSON *obj);
/* Route events the output makes (loss reports) into the pipeline. */
void output_set_emit(struct output *o, output_emit_cb cb, void *arg);

/* Apply live settings after SIGHUP (outputs that have none ignore it). */
void output_reconfigure(struct output *o, const struct conf *c);
void output_behind(struct output *o, int on);

extern const struct output_ops output_file_ops;
extern const struct output_ops fwd_https_ops;
#ifdef HAVE_NATS
extern const struct output_ops output_nats_ops;
#endif

#endif
