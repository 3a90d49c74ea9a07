/*
 * fwd.c - the https output (fwd_https_ops, output.h: "https://..." or,
 * for loopback tests with allow_http, "http://..."): batches -> gzip ->
 * spool -> HTTPS, one request at a time, oldest batch first. Each
 * batch is compressed once and spooled (fwd_body.h), sent by fwd_curl.h
 * inside the main loop, and its answer judged by fwd_retry.h. The
 * compression and body building run on a helper (worker.h) when the
 * thread plan has one, one job at a time.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "event.h"
#include "fwd_body.h"
#include "fwd_curl.h"
#include "fwd_format.h"
#include "fwd_retry.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "loss.h"
#include "output.h"
#include "spool.h"
#include "thread_plan.h"
#include "worker.h"

/* how long close() keeps sending before leaving the rest spooled */
#define CLOSE_DRAIN_MS 5000

struct fwd {
	struct loop *loop;
	char *url;
	struct fwd_format fmt;
	char *es_index;
	char node[256];
	long batch_events;
	size_t batch_bytes;
	long batch_age_ms;
	long timeout_ms;	/* applied to each request as it starts */
	struct fwd_curl *curl;
	struct loop_timer *age_timer, *retry_timer;
	/* the batch being built */
	struct buf batch;
	unsigned long long batch_n, batch_first, batch_last;
	/* bytes of it in the spool's open segment (crash copy), or -1 */
	size_t batch_kept;
	unsigned long long z_open;	/* the sealed batch's open segment */
	/* the sealed batch being compressed (job.zraw -> zgz), then spooled */
	unsigned long long z_n, z_first, z_last;
	int z_report;
	/* the request in flight (busy from its body's build to its answer) */
	int busy;
	struct spool_seg seg;
	/*
	 * The one job (gzip is a tenth of an event's CPU): a sealed batch
	 * to compress, or a request body to build. Its buffers also hold
	 * the request in flight (raw, body, and sel: its lines, for
	 * per-item dead letters). While it is out, only the builder
	 * touches the job's buffers and its (de)compressor.
	 */
	struct fwd_body job;
	struct worker *builder;
	int closing;		/* jobs are waited for from now on */
	/* a batch sent in parts after a 413: lines done, lines per part */
	unsigned long long part_id;
	size_t part_off, part_n, part_total, part_sent;
	unsigned holds;		/* config errors (401/403/404) in a row */
	int held;
	unsigned failures;
	long long retry_at;
	struct spool *spool;
	struct spool_loss loss;		/* not yet reported */
	/* reported, but the report itself is not yet safe in the spool */
	struct spool_loss unreported;	/* losses no delivered report told */
	unsigned long long report_seq;	/* last seq of the newest report's batch */
	int report_in_batch;
	output_emit_cb emit;
	void *emit_arg;
	/* counters */
	unsigned long long sent_batches, sent_events, retries, dead_batches,
	    dead_events, lost_events, http_bytes, config_errors,
	    split_requests, dead_items, retried_items;
};

static void kick(struct fwd *f);
static void send_raw(struct fwd *f);

/* ---- sending -------------------------------------------------------- */

static void
on_retry_timer(void *arg)
{
	kick(arg);
}

static void
schedule_retry(struct fwd *f, long ms)
{
	f->retries++;
	f->retry_at = loop_now_ms() + ms;
	loop_timer_arm(f->retry_timer, ms);
}

/* ": TEXT" from the answer's start, for the log */
static const char *
answer_text(struct fwd *f, char *out, size_t outlen)
{
	return fwd_retry_answer_text(fwd_curl_answer(f->curl), out, outlen);
}

/* Is a batch being sent in parts (after a 413)? */
static int
in_parts(const struct fwd *f)
{
	return f->part_id == f->seg.id && (f->part_n || f->part_off);
}

static void
parts_reset(struct fwd *f)
{
	f->part_id = 0;
	f->part_off = f->part_n = 0;
}

/*
 * Set lines of the request just sent aside as a dead letter: those
 * whose items[i] is FWD_ITEM_DEAD, or all when items is NULL. Returns
 * how many.
 */
static size_t
set_aside(struct fwd *f, const enum fwd_item *items)
{
	struct buf out = BUF_INIT;
	unsigned long long first, last;
	size_t n = fwd_body_pick_lines(&f->job.sel, items, &out, &first, &last);

	if (n)
		spool_dead_add(f->spool, out.data, out.len, first, last, n);
	buf_free(&out);
	f->dead_events += n;
	return n;
}

/* A 200 from _bulk still answers per document (fwd_retry_bulk). */
static enum fwd_retry_verdict
bulk_answer(struct fwd *f)
{
	static struct log_rl rl_dead;
	enum fwd_item *items = NULL;
	size_t n = f->part_sent, retry = 0, dead = 0;
	char why[256] = "";
	enum fwd_retry_verdict v;

	v = fwd_retry_bulk(fwd_curl_answer(f->curl), n, &items, &retry, &dead,
	    why, sizeof(why));
	f->retried_items += retry;
	if (v == FWD_DONE && dead) {
		set_aside(f, items);
		f->dead_items += dead;
		log_warnx_rl(&rl_dead, "_bulk: %zu of %zu items refused%s%s; "
		    "moved to the dead-letter directory, the rest delivered",
		    dead, n, *why ? ": " : "", why);
	}
	free(items);
	return v;
}

/* The request (all or part of f->seg) was delivered: go on. */
static void
delivered(struct fwd *f, size_t dead)
{
	f->failures = 0;
	f->holds = 0;
	f->held = 0;
	f->sent_events += f->part_sent > dead ? f->part_sent - dead : 0;
	if (in_parts(f)) {
		f->part_off += f->part_sent;
		if (f->part_off < f->part_total) {
			/* the next part: the segment is read again */
			spool_unpin(f->spool);
			loop_timer_arm(f->retry_timer, 0);	/* not recursively */
			return;
		}
		parts_reset(f);
	}
	f->sent_batches++;
	/*
	 * Only a delivered report retires the losses it told of: a
	 * spooled one can still be evicted by the cap, oldest first.
	 */
	if (f->report_seq && f->seg.last_seq >= f->report_seq) {
		memset(&f->unreported, 0, sizeof(f->unreported));
		f->report_seq = 0;
	}
	spool_remove(f->spool, f->seg.id);
	kick(f);
}

/* A request finished (fwd_curl.h): act on the verdict. */
static void
finished(void *arg, CURLcode res, long status)
{
	static struct log_rl rl_net, rl_http, rl_dead, rl_hold, rl_split, rl_cert;
	struct fwd *f = arg;
	enum fwd_retry_verdict v;
	long long retry_after;
	char why[256];
	size_t dead = f->dead_events;

	f->busy = 0;
	v = fwd_retry_classify(res, status);
	if (v == FWD_DONE && f->fmt.fmt == FWD_FMT_ES)
		v = bulk_answer(f);
	switch (v) {
	case FWD_DONE:
		delivered(f, (size_t)(f->dead_events - dead));
		return;
	case FWD_SPLIT:
		if (f->part_sent > 1 || (f->part_sent == 0 && f->seg.events > 1)) {
			size_t n = f->part_sent ? f->part_sent :
			    (size_t)f->seg.events;

			f->part_id = f->seg.id;
			f->part_n = (n + 1) / 2;
			f->split_requests++;
			log_warnx_rl(&rl_split, "aggregator answered HTTP 413 "
			    "(%zu events too large)%s; sending them in parts of "
			    "%zu", n, answer_text(f, why, sizeof(why)), f->part_n);
			spool_unpin(f->spool);
			loop_timer_arm(f->retry_timer, 0);
			return;
		}
		/* one event alone is too large: it alone is set aside */
		log_warnx_rl(&rl_dead, "aggregator refused one event as too "
		    "large (HTTP 413)%s; moved to the dead-letter directory",
		    answer_text(f, why, sizeof(why)));
		f->dead_batches++;
		if (in_parts(f) && f->job.sel.len) {
			set_aside(f, NULL);
			delivered(f, 1);
			return;
		}
		f->dead_events += f->seg.events;
		parts_reset(f);
		spool_dead(f->spool, f->seg.id);
		kick(f);
		return;
	case FWD_DEAD:
		log_warnx_rl(&rl_dead, "aggregator refused a batch of %llu "
		    "events (HTTP %ld%s); moved to the dead-letter directory",
		    f->seg.events, status, answer_text(f, why, sizeof(why)));
		f->dead_batches++;
		f->dead_events += f->seg.events;
		parts_reset(f);
		spool_dead(f->spool, f->seg.id);
		kick(f);
		return;
	case FWD_HOLD:
		spool_unpin(f->spool);
		f->holds++;
		f->config_errors++;
		f->held = 1;
		log_errx_rl(&rl_hold, "aggregator answered HTTP %ld%s: check "
		    "the output URL and the credentials; %zu batches (%llu "
		    "bytes) are kept in the spool, retried every few minutes",
		    status, answer_text(f, why, sizeof(why)),
		    spool_segments(f->spool), spool_bytes(f->spool));
		schedule_retry(f, fwd_retry_hold_ms(f->holds));
		return;
	case FWD_RETRY:
		break;
	}
	spool_unpin(f->spool);
	f->failures++;
	if (res != CURLE_OK) {
		log_warnx_rl(&rl_net, "sending to aggregator: %s; will retry",
		    fwd_curl_error(f->curl, res));
		/* a TLS alert does not say that our certificate expired */
		fwd_curl_check_client_cert(f->curl, &rl_cert);
	} else if (status < 200 || status >= 300)	/* else bulk_answer said */
		log_warnx_rl(&rl_http, "aggregator answered HTTP %ld%s; will "
		    "retry", status, answer_text(f, why, sizeof(why)));
	if (status == 429 &&
	    (retry_after = fwd_curl_retry_after(f->curl)) > 0) {
		if (retry_after > FWD_RETRY_AFTER_MAX_S)
			retry_after = FWD_RETRY_AFTER_MAX_S;
		schedule_retry(f, (long)retry_after * 1000);
	} else {
		schedule_retry(f, fwd_retry_backoff_ms(f->failures));
	}
}

/* Start sending the oldest spooled batch, if nothing is in flight. */
static void
kick(struct fwd *f)
{
	int r;

	/* a job out ends in seal_done or body_built, which go on from there */
	if (f->busy || worker_pending(f->builder) ||
	    loop_now_ms() < f->retry_at)
		return;
	while ((r = spool_peek(f->spool, &f->job.raw, &f->seg)) == -1)
		;
	if (r == 0)
		return;
	send_raw(f);
}


/* ---- the builder ---------------------------------------------------- */

static void
run_job(void *job, void *arg)
{
	fwd_body_run(job);
}

static void seal_done(struct fwd *f, int rc);
static void body_built(struct fwd *f, int rc);

static void
job_done(struct fwd *f, struct fwd_body *b)
{
	if (b->kind == FWD_BODY_SEAL) {
		seal_done(f, b->rc);
		return;
	}
	f->part_total = b->part_total;
	f->part_sent = b->part_sent;
	body_built(f, b->rc);
}

/* Act on the finished job, if it has finished. */
static void
collect_jobs(struct fwd *f)
{
	struct fwd_body *b;

	while ((b = worker_collect(f->builder)) != NULL)
		job_done(f, b);
}

static void
on_built(int fd, short revents, void *arg)
{
	collect_jobs(arg);
}

static void
on_job(void *job, void *arg)
{
	job_done(arg, job);
}

/* Wait for the job out, and for the ones its end starts, and act. */
static void
finish_jobs(struct fwd *f)
{
	worker_finish(f->builder, on_job, f);
}

/* f->job as kind: on the builder, or done at once without one or at close. */
static void
start_job(struct fwd *f, enum fwd_body_kind kind)
{
	f->job.kind = kind;
	/* depth 1, and kick and seal start none while one is out */
	if (worker_submit(f->builder, &f->job) == -1) {
		fwd_body_run(&f->job);
		job_done(f, &f->job);
		return;
	}
	if (f->closing || !worker_threaded(f->builder))
		finish_jobs(f);
}

/* Send f->job.raw, the pinned segment f->seg. */
static void
send_raw(struct fwd *f)
{
	f->busy = 1;
	if (f->part_id && f->part_id != f->seg.id)
		parts_reset(f);	/* that batch was dropped for space */
	if (fwd_format_is_plain(&f->fmt) && gzip_is_member(&f->job.raw) &&
	    !in_parts(f)) {
		buf_swap(&f->job.raw, &f->job.body);	/* the segment is the body */
		buf_reset(&f->job.sel);
		f->part_sent = (size_t)f->seg.events;
		body_built(f, 0);
		return;
	}
	f->job.in_parts = in_parts(f);
	f->job.part_off = f->part_off;
	f->job.part_n = f->part_n;
	start_job(f, FWD_BODY_REQUEST);
}

static void
body_built(struct fwd *f, int rc)
{
	static struct log_rl rl, rl_bad;

	if (rc == -2) {
		log_warnx_rl(&rl_bad, "spool segment %llu is not a valid "
		    "batch; moved to the dead-letter directory", f->seg.id);
		f->busy = 0;
		f->dead_batches++;
		f->dead_events += f->seg.events;
		spool_dead(f->spool, f->seg.id);
		loop_timer_arm(f->retry_timer, 0);	/* not recursively */
		return;
	}
	if (rc == -1) {
		log_warnx_rl(&rl, "cannot build a request body; will retry");
		f->busy = 0;
		spool_unpin(f->spool);
		schedule_retry(f, fwd_retry_backoff_ms(++f->failures));
		return;
	}
	f->http_bytes += f->job.body.len;
	if (fwd_curl_send(f->curl, f->job.body.data, f->job.body.len,
	    f->timeout_ms) == -1) {
		log_warnx_rl(&rl, "curl_multi_add_handle failed; will retry");
		f->busy = 0;
		spool_unpin(f->spool);
		schedule_retry(f, fwd_retry_backoff_ms(++f->failures));
		return;
	}
}

/* ---- batching ------------------------------------------------------- */

/* Seal the batch being built: compressed (off the loop if it can be), then spooled. */
static void
seal(struct fwd *f)
{
	if (f->batch_n == 0)
		return;
	loop_timer_disarm(f->age_timer);
	/* one job at a time, and batches reach the spool in order */
	finish_jobs(f);
	spool_seg_keep(f->spool, &f->batch, &f->batch_kept);
	f->z_open = spool_seg_seal(f->spool);
	f->batch_kept = 0;
	buf_swap(&f->job.zraw, &f->batch);
	buf_reset(&f->batch);
	f->z_n = f->batch_n;
	f->z_first = f->batch_first;
	f->z_last = f->batch_last;
	f->z_report = f->report_in_batch;
	f->report_in_batch = 0;
	f->batch_n = f->batch_first = f->batch_last = 0;
	start_job(f, FWD_BODY_SEAL);
}

/* The sealed batch is compressed (rc 0) or not: spool it, then send. */
static void
seal_done(struct fwd *f, int rc)
{
	static struct log_rl rl;
	struct buf *seg = rc == 0 ? &f->job.zgz : &f->job.zraw;
	int kept;

	if (rc != 0)	/* out of memory: spooled as plain text, still sent */
		log_warnx_rl(&rl, "cannot compress a batch of %llu events; "
		    "spooling it uncompressed", f->z_n);
	/* a batch that cannot be kept is in f->loss, reported by flush */
	kept = spool_append_sealed(f->spool, seg, f->z_open, f->z_first,
	    f->z_last, f->z_n, &f->loss) == 0;
	f->z_open = 0;
	if (kept && f->z_report)
		f->report_seq = f->z_last;
	/*
	 * Nothing in flight and this batch is all the spool holds: send it
	 * from memory (it is on disk already) instead of reading it back.
	 */
	if (kept && !f->busy && loop_now_ms() >= f->retry_at &&
	    spool_segments(f->spool) == 1 &&
	    spool_pin_oldest(f->spool, &f->seg) == 1) {
		buf_swap(&f->job.raw, seg);
		buf_reset(&f->job.zraw);
		buf_reset(&f->job.zgz);
		send_raw(f);
		return;
	}
	buf_reset(&f->job.zraw);
	buf_reset(&f->job.zgz);
	kick(f);
}

static void
on_age_timer(void *arg)
{
	seal(arg);
}

static int
fwd_write(void *ctx, const struct sealed *s)
{
	struct fwd *f = ctx;
	unsigned long long seq = s->seq;

	if (buf_add(&f->batch, s->line, s->len) == -1 ||
	    buf_addc(&f->batch, '\n') == -1) {
		log_warn("batch");
		return -1;
	}
	if (f->batch_n++ == 0) {
		f->batch_first = seq;
		loop_timer_arm(f->age_timer, f->batch_age_ms);
	}
	f->batch_last = seq;
	if (f->batch_n >= (unsigned long long)f->batch_events ||
	    f->batch.len >= f->batch_bytes)
		seal(f);
	return 0;
}

/* Before sleeping: report drops (through the chain, so they are seqs too). */
static void
fwd_flush(void *ctx)
{
	struct fwd *f = ctx;
	cJSON *ev;

	/* one plain write per loop turn: a crash loses none of it */
	spool_seg_keep(f->spool, &f->batch, &f->batch_kept);
	f->lost_events += f->loss.events;
	/*
	 * A report that is dropped with its batch (disk full, or evicted
	 * by the cap later) would hide the losses it told of: each report
	 * repeats every loss since the last report that was delivered.
	 */
	if ((ev = loss_spool_take(&f->loss, &f->unreported, f->node)) == NULL)
		return;
	if (f->emit == NULL) {
		cJSON_Delete(ev);
		return;
	}
	/* the report joins the batch being built; seal() learns its fate */
	f->report_in_batch = 1;
	f->emit(ev, f->emit_arg);
}

static void
fwd_set_emit(void *ctx, output_emit_cb cb, void *arg)
{
	struct fwd *f = ctx;

	f->emit = cb;
	f->emit_arg = arg;
}

/* ---- set-up --------------------------------------------------------- */

static int
fwd_match(const char *spec)
{
	return strncmp(spec, "https://", 8) == 0 ||
	    strncmp(spec, "http://", 7) == 0;
}

/* https, or http to loopback when allowed. 0 or -1 (logged). */
static int
check_url(const char *url, int allow_http)
{
	char err[512];

	if (fwd_curl_check_url(url, allow_http, err, sizeof(err)) == -1) {
		log_warnx("output: %s", err);
		return -1;
	}
	return 0;
}

static int fwd_close(void *ctx);

static void *
fwd_open(const char *spec, struct loop *loop, const struct conf *c)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		log_warn("output");
		return NULL;
	}
	f->loop = loop;
	if ((f->job.gz = gzip_new()) == NULL) {
		log_warn("output");
		goto err;
	}
	f->job.fmt = &f->fmt;
	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	f->timeout_ms = (long)c->timeout_ms;
	if (c->node && *c->node)
		snprintf(f->node, sizeof(f->node), "%s", c->node);
	else if (gethostname(f->node, sizeof(f->node) - 1) == -1)
		snprintf(f->node, sizeof(f->node), "unknown");
	{
		char err[256];

		if (fwd_format_init(&f->fmt, c->format, c->schema, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			goto err;
		}
	}
	if (f->fmt.fmt == FWD_FMT_ES && strpbrk(c->es_index, "\"\\ ,*?<>|/#")) {
		log_warnx("es_index: '%s' is not a valid index name", c->es_index);
		goto err;
	}
	if (check_url(spec, c->allow_http) == -1)
		goto err;
	if ((f->url = strdup(spec)) == NULL ||
	    (f->es_index = strdup(c->es_index)) == NULL) {
		log_warn("output");
		goto err;
	}
	f->fmt.es_index = f->es_index;
	f->fmt.node = f->node;
	if ((f->curl = fwd_curl_new(loop, f->url, c, &f->fmt, finished,
	    f)) == NULL)
		goto err;
	if ((f->age_timer = loop_timer_new(loop, on_age_timer, f)) == NULL ||
	    (f->retry_timer = loop_timer_new(loop, on_retry_timer, f)) == NULL) {
		log_warn("timer");
		goto err;
	}
	/* one job at a time: the builder's buffers are f->job's */
	if ((f->builder = worker_new("request builder", 1,
	    thread_plan_builder(c), run_job, NULL)) == NULL)
		goto err;
	if (loop_fd_add(loop, worker_fd(f->builder), POLLIN, on_built,
	    f) == -1) {
		log_warn("loop");
		goto err;
	}
	if ((f->spool = spool_open(c->state_dir, c->spool_max_bytes,
	    c->spool_min_free)) == NULL)
		goto err;
	/* a batch a crash cut short is sent before anything new */
	if (spool_seg_recover(f->spool, fwd_body_line_seq) == -1)
		goto err;
	/* what an earlier run left behind goes first */
	kick(f);
	return f;
err:
	fwd_close(f);
	return NULL;
}

/*
 * Drive curl without the loop (it has stopped) until the spool is
 * empty, a send fails, or the deadline passes.
 */
static void
drain(struct fwd *f, long long deadline)
{
	while (f->busy && loop_now_ms() < deadline) {
		if (fwd_curl_poll(f->curl, deadline) == -1)
			break;
		/* stop at the first failure: the rest stays spooled */
		if (!f->busy && f->failures)
			break;
	}
}

static int
fwd_close(void *ctx)
{
	struct fwd *f = ctx;
	int rc = 0;

	if (f == NULL)
		return 0;
	/* the job out, and every one after it, is waited for */
	f->closing = 1;
	if (f->builder)
		finish_jobs(f);
	if (f->spool) {
		seal(f);
		/* one more try now, bounded: a dead aggregator fails fast */
		f->retry_at = 0;
		kick(f);
		drain(f, loop_now_ms() + CLOSE_DRAIN_MS);
		if (spool_segments(f->spool))
			log_info("%zu batches (%llu bytes) stay spooled for the "
			    "next start", spool_segments(f->spool),
			    spool_bytes(f->spool));
		if (f->loss.events || f->lost_events)
			rc = -1;
	}
	fwd_curl_free(f->curl);
	if (f->builder) {
		loop_fd_del(f->loop, worker_fd(f->builder));
		worker_free(f->builder, NULL);
	}
	loop_timer_free(f->age_timer);
	loop_timer_free(f->retry_timer);
	spool_close(f->spool);
	buf_free(&f->batch);
	gzip_free(f->job.gz);
	fwd_body_free(&f->job);
	free(f->url);
	free(f->es_index);
	free(f);
	return rc;
}

static void
fwd_stats(void *ctx, cJSON *obj)
{
	struct fwd *f = ctx;

	cJSON_AddNumberToObject(obj, "fwd_sent_batches", (double)f->sent_batches);
	cJSON_AddNumberToObject(obj, "fwd_sent_events", (double)f->sent_events);
	cJSON_AddNumberToObject(obj, "fwd_retries", (double)f->retries);
	cJSON_AddNumberToObject(obj, "fwd_dead_batches", (double)f->dead_batches);
	cJSON_AddNumberToObject(obj, "fwd_dead_events", (double)f->dead_events);
	cJSON_AddNumberToObject(obj, "fwd_lost_events", (double)f->lost_events);
	cJSON_AddNumberToObject(obj, "fwd_http_bytes", (double)f->http_bytes);
	cJSON_AddNumberToObject(obj, "fwd_config_errors",
	    (double)f->config_errors);
	cJSON_AddNumberToObject(obj, "fwd_held", (double)f->held);
	cJSON_AddNumberToObject(obj, "fwd_split_requests",
	    (double)f->split_requests);
	cJSON_AddNumberToObject(obj, "fwd_dead_items", (double)f->dead_items);
	cJSON_AddNumberToObject(obj, "fwd_retried_items",
	    (double)f->retried_items);
	cJSON_AddNumberToObject(obj, "spool_batches",
	    (double)spool_segments(f->spool));
	cJSON_AddNumberToObject(obj, "spool_bytes", (double)spool_bytes(f->spool));
}

static void
fwd_reconfigure(void *ctx, const struct conf *c)
{
	struct fwd *f = ctx;

	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	/* the next request uses it; one in flight keeps its own */
	f->timeout_ms = (long)c->timeout_ms;
}

static void
fwd_behind(void *ctx, int on)
{
	struct fwd *f = ctx;

	worker_use_helper(f->builder, on);
}

const struct output_ops fwd_https_ops = {
	.name = "https",
	.match = fwd_match,
	.open = fwd_open,
	.write = fwd_write,
	.flush = fwd_flush,
	.close = fwd_close,
	.stats = fwd_stats,
	.set_emit = fwd_set_emit,
	.reconfigure = fwd_reconfigure,
	.behind = fwd_behind,
};
