/* pipeline.c - wires parse -> enrich -> output for every event. */
#include "config.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "chain.h"
#include "ckpt.h"
#include "conf.h"
#include "context.h"
#include "disk.h"
#include "enrich.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "parse.h"
#include "pipeline.h"
#include "secret.h"
#include "sign.h"
#include "thread_plan.h"

/* How often to look for events that will never see their EOE. */
#define AGE_TICK_MS 250
#define PL_MAX_TYPES 16

struct stage {
	const struct enrich_ops *ops;
	void *ctx;
};

static const struct enrich_ops *const enrichers[] = {
	&enrich_container_ops,	/* container first: volume reads its pod */
	&enrich_volume_ops,
};
#define NENRICH (sizeof(enrichers) / sizeof(enrichers[0]))

struct pipeline {
	struct loop *loop;
	struct parse *parse;
	struct output *out;
	struct chain *chain;
	struct stage stages[NENRICH];
	size_t nstages;
	struct disk *disk;		/* podtrail_disk, ENOSPC links */
	struct context *ctx;		/* podtrail_container */
	int in_hooks;			/* their own events come from in there */
	struct loop_timer *age_timer;
	struct ckpt *ckpt;
	struct loop_timer *ckpt_timer;
	long ckpt_ms;
	char node[256];
	int fed;		/* input arrived since the last age tick */
	long long rx_us;	/* pipeline_received's newest */
	pipeline_tap_cb tap;
	void *tap_arg;
	struct buf line;	/* the event being sealed and written */
	unsigned long long emitted, write_errors;
	/* events by their "type" (audit, podtrail_loss, ...); few kinds */
	struct {
		char name[32];
		unsigned long long n;
	} types[PL_MAX_TYPES];
	size_t ntypes;
};

static void
count_type(struct pipeline *pl, const cJSON *ev)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");
	size_t i;

	if (!cJSON_IsString(t))
		return;
	for (i = 0; i < pl->ntypes; i++)
		if (strcmp(pl->types[i].name, t->valuestring) == 0)
			break;
	if (i == pl->ntypes) {
		if (i == PL_MAX_TYPES)
			return;
		snprintf(pl->types[i].name, sizeof(pl->types[i].name), "%s",
		    t->valuestring);
		pl->ntypes++;
	}
	pl->types[i].n++;
}

/* Seal ev and write its line (the witness's leaf too). */
static void
seal_write(struct pipeline *pl, struct event *ev)
{
	struct sealed s;

	if (chain_seal(pl->chain, ev, &pl->line) == -1) {
		pl->write_errors++;
		return;
	}
	if (pl->ckpt)
		ckpt_leaf(pl->ckpt, chain_digest(pl->chain), pl->line.data,
		    pl->line.len);
	s.line = pl->line.data;
	s.len = pl->line.len;
	s.seq = ev->seq;
	s.time_ms = ev->time_ms;
	if (output_write(pl->out, &s) == -1)
		pl->write_errors++;
	else
		pl->emitted++;
}

/*
 * Enrich, chain and write one event. A parsed event's tree is made of
 * its arena (ev->arena, arena.h), and so are the nodes enrichers and
 * the chain add to it: the whole tree is recycled with the arena,
 * unless something made a heap node meanwhile. The line is sealed and
 * written from in here: output_write makes no cJSON node (outputs emit
 * only from flush), so none lands in the arena. podtrail's own events
 * are heap trees, freed here.
 */
static void
emit_event(struct pipeline *pl, struct event *ev)
{
	struct arena *a = ev->arena;

	count_type(pl, ev->json);
	ev->rx_us = pl->rx_us;
	if (pl->tap)
		pl->tap(ev->json, pl->tap_arg);
	if (a) {
		arena_enter(a);
		arena_resume();
	}
	for (size_t i = 0; i < pl->nstages; i++)
		pl->stages[i].ops->event(pl->stages[i].ctx, ev);
	/*
	 * The disk and context watchers read the enriched event and may
	 * emit their own (heap) events before it: the arena is closed
	 * for them.
	 */
	if (a && (pl->disk || pl->ctx)) {
		arena_close();
		pl->in_hooks++;
		if (pl->disk)
			disk_event(pl->disk, ev);
		if (pl->ctx)
			context_event(pl->ctx, ev->json);
		pl->in_hooks--;
		arena_resume();
	}
	seal_write(pl, ev);
	if (a) {
		arena_close();
		if (!arena_pure())
			cJSON_Delete(ev->json);
		arena_use(NULL);
	} else {
		cJSON_Delete(ev->json);
	}
	ev->json = NULL;
}

/* podtrail's own event (a heap tree, taken); its seq. */
static unsigned long long
emit_json(struct pipeline *pl, cJSON *json)
{
	struct event ev;

	event_own(&ev, json);
	emit_event(pl, &ev);
	return ev.seq;
}

/* A watcher's event; its seq, for the ENOSPC link. */
static unsigned long long
emit_own(cJSON *ev, void *arg)
{
	struct pipeline *pl = arg;

	/* from a timer: after the records that came before it */
	if (pl->in_hooks == 0)
		parse_sync(pl->parse);
	return emit_json(pl, ev);
}

static void
emit(struct event *ev, void *arg)
{
	emit_event(arg, ev);
}

void
pipeline_emit(struct pipeline *pl, cJSON *ev)
{
	/* after the records that came before it */
	parse_sync(pl->parse);
	(void)emit_json(pl, ev);
}

static void
age_tick(void *arg)
{
	struct pipeline *pl = arg;

	/* only while idle: mid-stream, auparse groups by itself */
	if (!pl->fed)
		parse_age(pl->parse);
	pl->fed = 0;
	loop_timer_arm(pl->age_timer, AGE_TICK_MS);
}

static void
on_parsed(int fd, short revents, void *arg)
{
	struct pipeline *pl = arg;

	parse_poll(pl->parse);
}

static void
before_sleep(void *arg)
{
	struct pipeline *pl = arg;

	/* records collected this round become events before we wait */
	parse_commit(pl->parse);
	output_flush(pl->out);
}

/*
 * An event the output made (a loss report): chain it like any other,
 * and hand it back before the output goes on.
 */
static void
output_emitted(cJSON *ev, void *arg)
{
	struct pipeline *pl = arg;

	(void)emit_json(pl, ev);
}

/*
 * podtrail's signed events (key announcements, checkpoints) are chained
 * at once, so the lines they sign for are the ones before them, and
 * their own lines also go to the witness.
 */
static void
emit_signed(struct pipeline *pl, cJSON *ev)
{
	if (ev == NULL)
		return;
	ckpt_witness_next(pl->ckpt, 1);
	(void)emit_json(pl, ev);
	ckpt_witness_next(pl->ckpt, 0);
}

/* A checkpoint over what was chained since the last; then a new key if due. */
static void
checkpoint(struct pipeline *pl)
{
	long long now = ckpt_now_ms();

	parse_sync(pl->parse);
	emit_signed(pl, ckpt_make(pl->ckpt, pl->node,
	    chain_next_seq(pl->chain), chain_head(pl->chain), now));
	if (ckpt_epoch_due(pl->ckpt, now))
		emit_signed(pl, ckpt_rotate(pl->ckpt, pl->node,
		    chain_next_seq(pl->chain), now));
}

static void
checkpoint_tick(void *arg)
{
	struct pipeline *pl = arg;

	checkpoint(pl);
	loop_timer_arm(pl->ckpt_timer, pl->ckpt_ms);
}

static int
open_chain(struct pipeline *pl, const struct conf *c)
{
	unsigned char *key = NULL;
	size_t keylen = 0;
	char hmac_id[SIGN_ID_HEX + 1];

	if (c->hmac_key_file && *c->hmac_key_file &&
	    (key = secret_read(c->hmac_key_file, &keylen)) == NULL)
		return -1;
	if (key)
		ckpt_hmac_key_id(key, keylen, hmac_id);
	pl->chain = chain_open(c->state_dir, pl->node, key, keylen);
	if (key) {
		memset(key, 0, keylen);
		free(key);
	}
	if (pl->chain == NULL)
		return -1;
	pl->ckpt = ckpt_open(c, chain_stream(pl->chain),
	    chain_clean_start(pl->chain), chain_next_seq(pl->chain),
	    key ? hmac_id : NULL);
	return pl->ckpt ? 0 : -1;
}

const char *
pipeline_node_name(const struct conf *c, char *buf, size_t len)
{
	if (c->node && *c->node)
		snprintf(buf, len, "%s", c->node);
	else if (gethostname(buf, len - 1) == -1)
		snprintf(buf, len, "unknown");
	else
		buf[len - 1] = '\0';
	return buf;
}

struct pipeline *
pipeline_new(const struct conf *c, struct loop *loop)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	int live;

	if (pl == NULL) {
		log_warn("pipeline");
		return NULL;
	}
	pl->loop = loop;
	pipeline_node_name(c, pl->node, sizeof(pl->node));
	pl->parse = parse_new(pl->node, (long)c->eoe_timeout, emit, pl);
	if (pl->parse == NULL)
		goto err;
	parse_set_limits(pl->parse, (unsigned long long)c->event_max_records,
	    (unsigned long long)c->event_max_bytes);
	if (open_chain(pl, c) == -1)
		goto err;
	if ((pl->out = output_open(c->output, loop, c)) == NULL)
		goto err;
	output_set_emit(pl->out, output_emitted, pl);
	for (size_t i = 0; i < NENRICH && c->enrich; i++) {
		struct stage *st = &pl->stages[pl->nstages];

		if (enrichers[i] == NULL)
			continue;
		st->ops = enrichers[i];
		if ((st->ctx = st->ops->open(c, loop)) == NULL)
			goto err;
		pl->nstages++;
	}
	/* what /proc and statvfs say now means nothing for a replayed file */
	live = strncmp(c->source, "file:", 5) != 0;
	if (c->enrich && live && c->disk_interval > 0 &&
	    (pl->disk = disk_open(c, loop, pl->node, emit_own, pl)) == NULL)
		goto err;
	if (c->enrich && live && c->container_context &&
	    (pl->ctx = context_open(c, "/proc", pl->node, emit_own, pl)) == NULL)
		goto err;
	if ((pl->age_timer = loop_timer_new(loop, age_tick, pl)) == NULL) {
		log_warn("timer");
		goto err;
	}
	loop_timer_arm(pl->age_timer, AGE_TICK_MS);
	if (loop_add_before_sleep(loop, before_sleep, pl) == -1) {
		log_warn("loop hook");
		goto err;
	}
	if ((pl->ckpt_timer = loop_timer_new(loop, checkpoint_tick, pl))
	    == NULL) {
		log_warn("timer");
		goto err;
	}
	pl->ckpt_ms = (long)c->checkpoint_interval * 1000;
	loop_timer_arm(pl->ckpt_timer, pl->ckpt_ms);
	/* the run opens with its key (and what an unclean stop skipped) */
	emit_signed(pl, ckpt_start_event(pl->ckpt, pl->node,
	    chain_next_seq(pl->chain), ckpt_now_ms()));
	return pl;
err:
	pipeline_close(pl);
	return NULL;
}

int
pipeline_start_helpers(struct pipeline *pl, const struct conf *c)
{
	struct thread_plan tp = thread_plan(c);

	if (ckpt_start(pl->ckpt) == -1)
		return -1;
	if (!tp.parse && !tp.parse_behind)
		return 0;
	if ((tp.parse ? parse_use_worker(pl->parse) :
	    parse_use_worker_when_behind(pl->parse)) == 0 &&
	    loop_fd_add(pl->loop, parse_notify_fd(pl->parse), POLLIN,
	    on_parsed, pl) == -1) {
		log_warn("loop fd");
		return -1;
	}
	return 0;
}

int
pipeline_feed(struct pipeline *pl, const char *data, size_t len)
{
	pl->fed = 1;
	return parse_feed(pl->parse, data, len);
}

int
pipeline_feed_record(struct pipeline *pl, const char *line, size_t len)
{
	pl->fed = 1;
	return parse_feed_record(pl->parse, line, len);
}

void
pipeline_received(struct pipeline *pl, long long us)
{
	if (us > pl->rx_us)
		pl->rx_us = us;
}

int
pipeline_compact(struct pipeline *pl)
{
	return parse_compact(pl->parse);
}

void
pipeline_eof(struct pipeline *pl)
{
	parse_flush(pl->parse);
	loop_stop(pl->loop);
}

void
pipeline_set_tap(struct pipeline *pl, pipeline_tap_cb cb, void *arg)
{
	pl->tap = cb;
	pl->tap_arg = arg;
}

const char *
pipeline_node(const struct pipeline *pl)
{
	return pl->node;
}

void
pipeline_stats(struct pipeline *pl, cJSON *obj)
{
	struct parse_trunc tr;
	unsigned long long fast, fallbacks;
	cJSON *by;

	cJSON_AddNumberToObject(obj, "records",
	    (double)parse_records(pl->parse));
	cJSON_AddNumberToObject(obj, "events", (double)parse_events(pl->parse));
	cJSON_AddNumberToObject(obj, "malformed_lines",
	    (double)parse_malformed(pl->parse));
	cJSON_AddNumberToObject(obj, "emitted", (double)pl->emitted);
	cJSON_AddNumberToObject(obj, "parser_resets",
	    (double)parse_resets(pl->parse));
	parse_fast_counts(pl->parse, &fast, &fallbacks);
	cJSON_AddNumberToObject(obj, "events_parsed_fast", (double)fast);
	cJSON_AddNumberToObject(obj, "events_parsed_fast_fallbacks",
	    (double)fallbacks);
	parse_truncation(pl->parse, &tr);
	cJSON_AddNumberToObject(obj, "events_truncated", (double)tr.events);
	cJSON_AddNumberToObject(obj, "records_truncated", (double)tr.records);
	cJSON_AddNumberToObject(obj, "bytes_truncated", (double)tr.bytes);
	cJSON_AddNumberToObject(obj, "events_cut_open", (double)tr.cut);
	cJSON_AddNumberToObject(obj, "write_errors", (double)pl->write_errors);
	if (pl->ntypes && (by = cJSON_AddObjectToObject(obj,
	    "events_by_type")) != NULL)
		for (size_t i = 0; i < pl->ntypes; i++)
			cJSON_AddNumberToObject(by, pl->types[i].name,
			    (double)pl->types[i].n);
	for (size_t i = 0; i < pl->nstages; i++)
		if (pl->stages[i].ops->stats)
			pl->stages[i].ops->stats(pl->stages[i].ctx, obj);
	if (pl->disk)
		disk_stats(pl->disk, obj);
	if (pl->ctx)
		context_stats(pl->ctx, obj);
	output_stats(pl->out, obj);
	chain_stats(pl->chain, obj);
	ckpt_stats(pl->ckpt, obj);
}

void
pipeline_reconfigure(struct pipeline *pl, const struct conf *c)
{
	output_reconfigure(pl->out, c);
}

void
pipeline_behind(struct pipeline *pl, int on)
{
	parse_behind(pl->parse, on);
	output_behind(pl->out, on);
}

void
pipeline_stop(struct pipeline *pl)
{
	output_stop(pl->out);
}

int
pipeline_close(struct pipeline *pl)
{
	int rc = 0;

	if (pl == NULL)
		return 0;
	if (pl->parse && pl->out && pl->chain) {
		parse_flush(pl->parse);
		/* a clean stop ends with a checkpoint: the tail is signed */
		if (pl->ckpt)
			checkpoint(pl);
	}
	context_close(pl->ctx);
	disk_close(pl->disk);
	for (size_t i = 0; i < pl->nstages; i++)
		pl->stages[i].ops->close(pl->stages[i].ctx);
	if (pl->out && output_close(pl->out) == -1)
		rc = -1;
	/* after the output: what it saved is what the chain records */
	if (pl->parse && parse_notify_fd(pl->parse) != -1)
		loop_fd_del(pl->loop, parse_notify_fd(pl->parse));
	if (chain_close(pl->chain) == -1)
		rc = -1;
	if (ckpt_close(pl->ckpt) == -1)
		rc = -1;
	loop_timer_free(pl->ckpt_timer);
	loop_timer_free(pl->age_timer);
	parse_free(pl->parse);
	buf_free(&pl->line);
	free(pl);
	return rc;
}
