/*
 * parse.c - parse.h's interface: parse_au.c on the caller's thread, or
 * as the jobs of a worker (worker.h) when parse_use_worker() is called.
 *
 * With a worker, one job is one piece of input (a chunk of text, the
 * records collected since the last commit) or one command (age,
 * compact, flush). Its run feeds parse_au.c and keeps the events
 * libauparse completes meanwhile, built into the job's own arena
 * (arena.h); the caller's thread collects jobs in order and emits
 * their events there, so they leave in input order.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "parse.h"
#include "parse_au.h"
#include "thread.h"
#include "worker.h"

/*
 * Jobs queued for the worker. The loop reads a chunk (64 KiB) per turn
 * between emitting jobs: with 4 chunks queued the worker ran dry now
 * and then (a replay took ~8% longer); 16 (up to 1 MiB) keep it fed.
 */
#define PARSE_JOBS 16

enum job_op { J_TEXT, J_LINES, J_AGE, J_COMPACT, J_FLUSH, J_DONE };

struct parse_job {
	enum job_op op;
	struct buf data;		/* J_TEXT: text, J_LINES: whole lines */
	struct arena *ar;		/* the events' memory */
	struct event *ev;
	size_t n, cap;
	int result;			/* of J_AGE or J_COMPACT */
	struct parse_au_stats stats;	/* the counters as the job left them */
};

struct parse {
	struct parse_au *au;
	parse_emit_cb emit;
	void *arg;
	unsigned long long events;
	/*
	 * The worker, or NULL. One job more than it queues: the job whose
	 * events are being emitted is out of the queue, not free yet.
	 */
	struct worker *w;
	/*
	 * With a worker made for parse_behind: 1 while parsing on the
	 * caller's thread (no job out), 0 while jobs go to the worker.
	 */
	int direct;
	struct parse_job *job;		/* PARSE_JOBS + 1, used in turn */
	unsigned long long submitted;
	struct parse_job *cur;		/* the job running (worker's side) */
	struct log_rl nomem_rl;		/* on the worker's side too */
	/* the caller's side */
	struct buf batch;		/* records for the next J_LINES */
	int emitting;			/* inside emit: collecting must wait */
	struct parse_au_stats seen;	/* as of the last job collected */
	unsigned long long malformed;	/* lines dropped on this side */
	struct log_rl drop_rl;
};

/* Does input go to the worker as jobs (else to parse_au.c here)? */
static int
jobs(const struct parse *p)
{
	return p->w != NULL && !p->direct;
}

/*
 * parse_au.c hands an event over: to the caller at once, or, inside a
 * job, to the job.
 */
static void
on_built(struct event *ev, void *arg)
{
	struct parse *p = arg;
	struct parse_job *j = p->cur;

	if (j == NULL) {
		p->events++;
		p->emit(ev, p->arg);
		return;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 64;
		struct event *ev2 = realloc(j->ev, cap * sizeof(*ev2));

		if (ev2 == NULL) {
			log_warnx_rl(&p->nomem_rl, "out of memory queueing an "
			    "audit event: dropped");
			event_free(ev);
			return;
		}
		j->ev = ev2;
		j->cap = cap;
	}
	j->ev[j->n++] = *ev;
}

struct parse *
parse_new(const char *node, long eoe_timeout, parse_emit_cb emit, void *arg)
{
	struct parse *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_warn("parse");
		return NULL;
	}
	if ((p->au = parse_au_new(node, eoe_timeout, on_built, p)) == NULL) {
		free(p);
		return NULL;
	}
	p->emit = emit;
	p->arg = arg;
	return p;
}

void
parse_set_limits(struct parse *p, unsigned long long max_records,
    unsigned long long max_bytes)
{
	/* before the first feed: no job has run */
	parse_au_set_limits(p->au, max_records, max_bytes);
}

void
parse_set_fast(struct parse *p, int on)
{
	parse_au_set_fast(p->au, on);
}

/* ---- the worker ------------------------------------------------------ */

/* A job's work, on the worker's thread (or inline, see worker.h). */
static void
run_job(void *job, void *arg)
{
	struct parse *p = arg;
	struct parse_job *j = job;

	/* the events it held before were all emitted: they are dead */
	arena_rewind(j->ar);
	j->n = 0;
	arena_use(j->ar);
	p->cur = j;
	switch (j->op) {
	case J_TEXT:
		(void)parse_au_text(p->au, j->data.data, j->data.len);
		break;
	case J_LINES:	/* whole lines: checked here, as text is */
		(void)parse_au_lines(p->au, j->data.data, j->data.len);
		break;
	case J_AGE:
		j->result = parse_au_age(p->au);
		break;
	case J_COMPACT:
		j->result = parse_au_compact(p->au);
		break;
	case J_FLUSH:
		parse_au_flush(p->au);
		break;
	case J_DONE:	/* the helper's last job: its event_build scratch */
		event_thread_done();
		break;
	}
	p->cur = NULL;
	arena_use(NULL);
	parse_au_stats(p->au, &j->stats);
}

/*
 * Emit the events of up to max finished jobs, oldest first (each names
 * its job's arena); the job is free again afterwards.
 */
static void
deliver(struct parse *p, size_t max)
{
	struct parse_job *j;

	/* an event emitted from here may ask for a sync: it waits its turn */
	if (p->emitting)
		return;
	p->emitting = 1;
	while (max > 0 && (j = worker_collect(p->w)) != NULL) {
		p->seen = j->stats;
		for (size_t i = 0; i < j->n; i++) {
			p->events++;
			p->emit(&j->ev[i], p->arg);
		}
		j->n = 0;
		max--;
	}
	p->emitting = 0;
}

/*
 * Queue a job, waiting for room and emitting what the worker finished
 * meanwhile. The job to *out if not NULL. 0, or -1 (logged).
 */
static int
submit(struct parse *p, enum job_op op, const char *data, size_t len,
    struct parse_job **out)
{
	struct parse_job *j;

	while (worker_pending(p->w) == PARSE_JOBS) {
		if (p->emitting) {
			/* room comes from emitting, which is under way */
			log_warnx("audit input fed while emitting its events, "
			    "with the parse queue full: dropped");
			p->malformed++;
			return -1;
		}
		worker_wait(p->w);
		deliver(p, PARSE_JOBS);
	}
	j = &p->job[p->submitted % (PARSE_JOBS + 1)];
	j->op = op;
	buf_reset(&j->data);
	if (len && buf_add(&j->data, data, len) == -1) {
		log_warnx("out of memory queueing audit input");
		p->malformed++;
		return -1;
	}
	/* cannot fail: there is room */
	(void)worker_submit(p->w, j);
	p->submitted++;
	if (out != NULL)
		*out = j;
	return 0;
}

/* Wait until everything queued is parsed, and emit it. */
static void
sync_all(struct parse *p)
{
	if (p->emitting)
		return;
	worker_sync(p->w);
	deliver(p, SIZE_MAX);
}

static void
jobs_free(struct parse_job *job)
{
	if (job == NULL)
		return;
	for (size_t i = 0; i < PARSE_JOBS + 1; i++) {
		buf_free(&job[i].data);
		arena_delete(job[i].ar);
		free(job[i].ev);
	}
	free(job);
}

static int
use_worker(struct parse *p, int threads)
{
	if (p->w != NULL)
		return 0;
	/* libauparse stays on one thread: the helper from the first job */
	if (!thread_allowed()) {
		errno = EAGAIN;
		log_warn("parse worker");
		return -1;
	}
	if ((p->job = calloc(PARSE_JOBS + 1, sizeof(*p->job))) == NULL) {
		log_warn("parse worker");
		return -1;
	}
	for (size_t i = 0; i < PARSE_JOBS + 1; i++)
		if ((p->job[i].ar = arena_new()) == NULL) {
			log_warn("parse worker");
			goto fail;
		}
	if ((p->w = worker_new("parse worker", PARSE_JOBS, threads, run_job,
	    p)) == NULL)
		goto fail;
	return 0;
fail:
	jobs_free(p->job);
	p->job = NULL;
	return -1;
}

int
parse_use_worker(struct parse *p)
{
	return use_worker(p, 1);
}

int
parse_use_worker_when_behind(struct parse *p)
{
	if (use_worker(p, WORKER_WHEN_ASKED) == -1)
		return -1;
	p->direct = 1;
	return 0;
}

void
parse_behind(struct parse *p, int on)
{
	/* only a worker made for it; never from inside emit */
	if (p->w == NULL || p->emitting || on == !p->direct)
		return;
	if (on) {
		/* parse_au.c's state goes on in the worker's jobs */
		worker_use_helper(p->w, 1);
		p->direct = 0;
		return;
	}
	/* back here once every job is out, in order */
	(void)parse_commit(p);
	sync_all(p);
	worker_use_helper(p->w, 0);
	p->direct = 1;
}

int
parse_notify_fd(const struct parse *p)
{
	return p->w ? worker_fd(p->w) : -1;
}

void
parse_poll(struct parse *p)
{
	if (p->w == NULL)
		return;
	/*
	 * One job a turn, then the loop reads more input: emitting all of
	 * them while the worker ran dry cost a replay ~20% (the worker
	 * waited for input as long as the loop waited for room). The fd
	 * stays readable while finished jobs wait.
	 */
	deliver(p, 1);
}

/* ---- feeding ------------------------------------------------------------ */

/* Count a line dropped before it reached parse_au.c. */
static void
drop(struct parse *p, const char *why)
{
	if (!jobs(p)) {
		parse_au_drop(p->au, why);
		return;
	}
	p->malformed++;
	log_warnx_rl(&p->drop_rl, "dropped an audit input line: %s (%llu so "
	    "far)", why, p->seen.malformed + p->malformed);
}

int
parse_feed(struct parse *p, const char *data, size_t len)
{
	int rc;

	if (jobs(p))
		return len ? submit(p, J_TEXT, data, len, NULL) : 0;
	rc = parse_commit(p);
	if (parse_au_text(p->au, data, len) == -1)
		rc = -1;
	return rc;
}

int
parse_feed_record(struct parse *p, const char *line, size_t len)
{
	if (memchr(line, '\n', len) != NULL) {
		drop(p, "newline inside a record");
		return 0;
	}
	if (!jobs(p))
		return parse_au_record(p->au, line, len);
	/* the job checks them: the open events are the worker's */
	if (buf_reserve(&p->batch, len + 1) == -1) {
		log_warnx("out of memory collecting audit records");
		p->malformed++;
		return -1;
	}
	buf_add(&p->batch, line, len);
	buf_putc(&p->batch, '\n');
	return p->batch.len >= PARSE_AU_BATCH ? parse_commit(p) : 0;
}

int
parse_commit(struct parse *p)
{
	int rc;

	if (!jobs(p))
		return parse_au_commit(p->au);
	/* from inside emit: with the next commit, after the events out */
	if (p->batch.len == 0 || p->emitting)
		return 0;
	rc = submit(p, J_LINES, p->batch.data, p->batch.len, NULL);
	buf_reset(&p->batch);
	return rc;
}

int
parse_sync(struct parse *p)
{
	int rc = parse_commit(p);

	if (jobs(p))
		sync_all(p);
	return rc;
}

int
parse_age(struct parse *p)
{
	struct parse_job *j;

	parse_commit(p);
	if (!jobs(p))
		return parse_au_age(p->au);
	if (p->emitting || submit(p, J_AGE, NULL, 0, &j) == -1)
		return 1;	/* try again later */
	sync_all(p);
	return j->result;
}

int
parse_compact(struct parse *p)
{
	struct parse_job *j;

	if (parse_commit(p) == -1)
		return 0;
	if (!jobs(p))
		return parse_au_compact(p->au);
	if (p->emitting || submit(p, J_COMPACT, NULL, 0, &j) == -1)
		return 0;
	sync_all(p);
	return j->result;
}

void
parse_flush(struct parse *p)
{
	parse_commit(p);
	if (!jobs(p)) {
		parse_au_flush(p->au);
		return;
	}
	if (!p->emitting && submit(p, J_FLUSH, NULL, 0, NULL) == 0)
		sync_all(p);
}

/* The counters, as of the last job collected with a worker. */
static void
stats(const struct parse *p, struct parse_au_stats *s)
{
	if (jobs(p))
		*s = p->seen;
	else
		parse_au_stats(p->au, s);
	s->malformed += p->malformed;
}

unsigned long long
parse_records(const struct parse *p)
{
	struct parse_au_stats s;

	stats(p, &s);
	return s.records;
}

unsigned long long
parse_malformed(const struct parse *p)
{
	struct parse_au_stats s;

	stats(p, &s);
	return s.malformed;
}

unsigned long long
parse_events(const struct parse *p)
{
	return p->events;
}

unsigned long long
parse_resets(const struct parse *p)
{
	struct parse_au_stats s;

	stats(p, &s);
	return s.resets;
}

void
parse_fast_counts(const struct parse *p, unsigned long long *events,
    unsigned long long *fallbacks)
{
	struct parse_au_stats s;

	stats(p, &s);
	*events = s.fast_events;
	*fallbacks = s.fast_fallbacks;
}

void
parse_truncation(const struct parse *p, struct parse_trunc *out)
{
	struct parse_au_stats s;

	stats(p, &s);
	*out = s.trunc;
}

void
parse_free(struct parse *p)
{
	if (p == NULL)
		return;
	if (p->w != NULL) {
		/* events never emitted die with their jobs' arenas */
		worker_sync(p->w);
		while (worker_collect(p->w) != NULL)
			;
		/* a helper started while behind has its scratch to free */
		worker_use_helper(p->w, 1);
		if (worker_threaded(p->w) &&
		    submit(p, J_DONE, NULL, 0, NULL) == 0) {
			worker_sync(p->w);
			(void)worker_collect(p->w);
		}
		worker_free(p->w, NULL);
		jobs_free(p->job);
	}
	parse_au_free(p->au);
	arena_free();
	buf_free(&p->batch);
	free(p);
}
