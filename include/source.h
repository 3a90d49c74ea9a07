/*
 * source.h - where audit records come from. Each source is one ops
 * struct; it registers its fds with the loop and hands records to the
 * pipeline, calling pipeline_eof() when its input ends.
 */
#ifndef PODTRAIL_SOURCE_H
#define PODTRAIL_SOURCE_H

#include <cjson/cJSON.h>

struct conf;
struct loop;
struct pipeline;

struct source_ops {
	const char *name;	/* "stdin", "file", "netlink", ... */
	/* arg is what followed "name:" in the spec, or NULL. */
	void *(*open)(const char *arg, struct loop *loop, struct pipeline *pl,
	    const struct conf *c);
	void (*close)(void *ctx);
	/* Add counters to obj. May be NULL. */
	void (*stats)(void *ctx, cJSON *obj);
	/*
	 * At SIGTERM: feed what the input already holds (a pipe's unread
	 * records), without waiting for more. May be NULL.
	 */
	void (*drain)(void *ctx);
	/*
	 * Start helper threads, once privileges are final (after the uid
	 * switch and priv_drop). 0, or -1 (logged). May be NULL.
	 */
	int (*start)(void *ctx);
};

struct source;

/* Open the source named by spec ("name" or "name:arg"). NULL (logged). */
struct source *source_open(const char *spec, struct loop *loop,
    struct pipeline *pl, const struct conf *c);
/* Is spec a known source? (for -n and option checking) */
int source_known(const char *spec);
void source_stats(struct source *s, cJSON *obj);
/* Start the source's threads (privileges are final). 0, or -1 (logged). */
int source_start(struct source *s);
/* Take in what the input already holds before shutting down. */
void source_drain(struct source *s);
void source_close(struct source *s);

extern const struct source_ops source_stdin_ops;
extern const struct source_ops source_file_ops;
extern const struct source_ops source_netlink_ops;
extern const struct source_ops source_netlink_unicast_ops;

#endif
