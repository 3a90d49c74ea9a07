/*
 * parse.c - libauparse feed wrapper.
 *
 * Lines are checked before auparse sees them: libauparse 3.0.9 leaks
 * ~1 KiB for every line that has "msg=audit(...)" but no "type=" in
 * front of it (found by tests/fuzz/fuzz_stream), so malformed lines
 * are dropped here, counted and reported instead.
 */
#include "config.h"

#include <auparse.h>
#include <libaudit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "parse.h"
#include "thread.h"

/*
 * A line longer than this is dropped: the kernel's records are at most
 * ~9 KiB (long EXECVE arguments are split), so this only bounds the
 * memory garbage input can take.
 */
#define PARSE_MAX_LINE (1024 * 1024)
/* Collected records are handed over once this many bytes are waiting. */
#define PARSE_BATCH (32 * 1024)

/*
 * The parse worker (parse_use_worker): input waits in W_IN chunks, and
 * events come back W_EVENTS to a batch, in W_OUT batches, each built
 * into an arena of its own that the loop's thread finishes them in.
 * The loop reads a chunk per turn, between emitting batches: with 4
 * chunks queued the worker ran dry now and then (a replay took ~8%
 * longer); 16 (up to 1 MiB) keep it fed.
 */
#define W_IN 16
#define W_OUT 8
#define W_EVENTS 32
#define W_POLL 2	/* batches emitted per parse_poll() */

enum w_op { W_FEED, W_RECORDS, W_AGE, W_FLUSH, W_COMPACT };

struct w_in {
	enum w_op op;
	struct buf data;
};

struct w_out {
	struct arena *ar;
	size_t n;
	cJSON *ev[W_EVENTS];
};

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t to_worker;	/* input queued, a batch back, stop */
	pthread_cond_t to_owner;	/* input taken, a batch out, idle */
	int efd;			/* a batch is out (for the loop) */
	struct w_in in[W_IN];
	struct w_out out[W_OUT];
	/*
	 * Under mu; a slot belongs to its side between the counters, and
	 * in_tail moves past an item only once the worker is done with it.
	 */
	unsigned long long in_head, in_tail, out_head, out_tail;
	int stop;
	int result;			/* of the last W_AGE or W_COMPACT */
	struct w_out *filling;		/* the worker's own */
};

struct parse {
	auparse_state_t *au;
	char *node;
	parse_emit_cb emit;
	void *arg;
	struct buf partial;	/* a line still waiting for its newline */
	int overlong;		/* dropping the rest of an overlong line */
	struct buf batch;	/* records not yet given to libauparse */
	int feeding;		/* inside auparse_feed: its callbacks run */
	struct worker *w;	/* or NULL: libauparse runs on the caller's thread */
	int delivering;		/* the worker's events are being emitted */
	unsigned long long events;
	/* the worker's, read by the loop's thread for its statistics */
	_Atomic unsigned long long records, malformed, resets;
};

static void w_publish(struct worker *w);
static struct w_out *w_filling(struct worker *w);

static void
on_event(auparse_state_t *au, auparse_cb_event_t type, void *arg)
{
	struct parse *p = arg;
	cJSON *ev;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	/* a synthetic EOE (eoe.h) for an event auparse had already ended */
	if (auparse_get_num_records(au) == 1 &&
	    auparse_get_type(au) == AUDIT_EOE)
		return;
	if (p->w != NULL) {
		struct w_out *o = w_filling(p->w);

		/* NULL: stopping */
		if (o == NULL || (ev = event_build(au, p->node)) == NULL)
			return;
		o->ev[o->n++] = ev;
		if (o->n == W_EVENTS) {
			pthread_mutex_lock(&p->w->mu);
			w_publish(p->w);
			pthread_mutex_unlock(&p->w->mu);
		}
		return;
	}
	if ((ev = event_build(au, p->node)) == NULL)
		return;
	p->events++;
	p->emit(ev, p->arg);
}

struct parse *
parse_new(const char *node, long eoe_timeout, parse_emit_cb emit, void *arg)
{
	struct parse *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->node = strdup(node)) == NULL)
		goto err;
	arena_install();
	if ((p->au = auparse_init(AUSOURCE_FEED, NULL)) == NULL) {
		log_warn("auparse_init");
		goto err;
	}
	/* process-wide in libauparse 3.0 */
	auparse_set_eoe_timeout((time_t)eoe_timeout);
	auparse_add_callback(p->au, on_event, p, NULL);
	p->emit = emit;
	p->arg = arg;
	return p;
err:
	if (p)
		free(p->node);
	free(p);
	return NULL;
}

/* Length of the run at s[0..n) of bytes that may appear in a name. */
static size_t
name_len(const char *s, size_t n, int type)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* type names: TYPE or UNKNOWN[NUMBER]; node names: no controls */
		if (type ? !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '[' || c == ']') :
		    (c <= ' ' || c == 0x7f))
			break;
	}
	return i;
}

/* Digits at s[0..n), between min and max of them; their count or 0. */
static size_t
digits(const char *s, size_t n, size_t min, size_t max)
{
	size_t i = 0;

	while (i < n && i <= max && s[i] >= '0' && s[i] <= '9')
		i++;
	return i >= min && i <= max ? i : 0;
}

/* "SEC.MSEC:SERIAL):", as the kernel writes it (auparse leaks on less). */
static int
stamp_ok(const char *s, size_t n)
{
	size_t k;

	if ((k = digits(s, n, 1, 20)) == 0 || k == n || s[k] != '.')
		return 0;
	s += k + 1;
	n -= k + 1;
	if ((k = digits(s, n, 3, 3)) == 0 || k == n || s[k] != ':')
		return 0;
	s += k + 1;
	n -= k + 1;
	if ((k = digits(s, n, 1, 20)) == 0)
		return 0;
	return n - k >= 2 && s[k] == ')' && s[k + 1] == ':';
}

/*
 * How many fields named "cwd" s[0..n) holds as libauparse splits it: at
 * spaces, also inside quotes, and a msg='...' opens nested fields. (A
 * kernel CWD record has one field whose value holds no space.)
 */
static int
cwd_fields(const char *s, size_t n)
{
	const char *end = s + n, *sp;
	int count = 0;

	for (; s < end; s = sp + 1) {
		size_t t;

		if ((sp = memchr(s, ' ', (size_t)(end - s))) == NULL)
			sp = end;
		t = (size_t)(sp - s);
		if ((t >= 4 && memcmp(s, "cwd=", 4) == 0) ||
		    (t >= 9 && memcmp(s, "msg='cwd=", 9) == 0))
			count++;
	}
	return count;
}

/*
 * "[node=NAME ]type=NAME msg=audit(SEC.MSEC:SERIAL):" starts every
 * record, with names of plain bytes (libauparse mishandles a 0x1d, say,
 * in a type). NULL if the line may go to libauparse, else why not.
 */
static const char *
line_bad(const char *s, size_t n)
{
	const char *type;
	size_t k;

	if (n > 5 && memcmp(s, "node=", 5) == 0) {
		k = name_len(s + 5, n - 5, 0);
		if (k == 0 || 5 + k == n || s[5 + k] != ' ')
			return "not an audit record";
		s += 6 + k;
		n -= 6 + k;
	}
	if (n < 5 || memcmp(s, "type=", 5) != 0)
		return "not an audit record";
	k = name_len(s + 5, n - 5, 1);
	if (k == 0 || 5 + k == n || s[5 + k] != ' ')
		return "not an audit record";
	type = s + 5;
	s += 6 + k;
	n -= 6 + k;
	if (n < 10 || memcmp(s, "msg=audit(", 10) != 0 ||
	    !stamp_ok(s + 10, n - 10))
		return "not an audit record";
	/*
	 * libauparse 3.0.9 leaks a copy of the first cwd when a CWD record
	 * has a second one. The kernel never writes that; a forged or
	 * garbled stream must not make podtrail grow.
	 */
	if (k == 3 && memcmp(type, "CWD", 3) == 0 && cwd_fields(s, n) > 1)
		return "CWD record with more than one cwd field";
	return NULL;
}

static void
drop_line(struct parse *p, const char *why)
{
	static _Thread_local struct log_rl rl;	/* worker and owner */

	p->malformed++;
	log_warnx_rl(&rl, "dropped an audit input line: %s (%llu so far)", why,
	    p->malformed);
}

/* Feed whole lines data[0..len) (each ending in '\n'), checking each. */
static int
feed_lines(struct parse *p, const char *data, size_t len)
{
	const char *run = data, *q = data, *end = data + len, *nl, *why;
	unsigned long long good = 0;
	int rc = 0;

	/* runs of good lines go to auparse in one call; bad ones are cut out */
	for (; q < end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if ((why = line_bad(q, (size_t)(nl - q))) == NULL) {
			good++;
			continue;
		}
		if (q > run && auparse_feed(p->au, run, (size_t)(q - run)) == -1)
			rc = -1;
		if (nl > q)	/* empty lines are harmless: not counted */
			drop_line(p, why);
		run = nl + 1;
	}
	if (end > run && auparse_feed(p->au, run, (size_t)(end - run)) == -1)
		rc = -1;
	p->records += good;
	return rc;
}

/* parse_feed's work, on whichever thread runs libauparse. */
static int
feed_text(struct parse *p, const char *data, size_t len)
{
	const char *end = data + len, *nl, *last;
	size_t n;
	int rc = 0;

	/* finish the line left over from the previous call */
	if (p->partial.len || p->overlong) {
		if ((nl = memchr(data, '\n', len)) == NULL)
			n = len;
		else
			n = (size_t)(nl - data) + 1;
		if (!p->overlong && p->partial.len + n > PARSE_MAX_LINE) {
			drop_line(p, "longer than 1 MiB");
			buf_reset(&p->partial);
			p->overlong = 1;
		}
		if (!p->overlong && buf_add(&p->partial, data, n) == -1) {
			log_warnx("out of memory buffering audit input");
			buf_reset(&p->partial);
			p->overlong = 1;
			p->malformed++;
		}
		data += n;
		len -= n;
		if (nl == NULL)
			return 0;
		if (p->overlong)
			p->overlong = 0;
		else if (feed_lines(p, p->partial.data, p->partial.len) == -1)
			rc = -1;
		buf_reset(&p->partial);
	}
	/* whole lines now, the unterminated tail waits for more */
	for (last = end; last > data && last[-1] != '\n'; last--)
		;
	if (last > data && feed_lines(p, data, (size_t)(last - data)) == -1)
		rc = -1;
	if (last < end) {
		n = (size_t)(end - last);
		if (n > PARSE_MAX_LINE) {
			drop_line(p, "longer than 1 MiB");
			p->overlong = 1;
		} else if (buf_add(&p->partial, last, n) == -1) {
			log_warnx("out of memory buffering audit input");
			p->overlong = 1;
			p->malformed++;
		}
	}
	return rc;
}

/* ---- the worker ------------------------------------------------------ */

/*
 * Owner: emit the batches the worker has finished, in order. Each
 * event is finished in its batch's arena (arena.h); a batch goes back
 * to the worker when all of its events have been emitted.
 */
static int
w_deliver(struct parse *p, size_t max)
{
	struct worker *w = p->w;
	int more = 0;

	/* an event emitted from here may ask for a sync: it waits its turn */
	if (p->delivering)
		return 0;
	p->delivering = 1;
	for (;;) {
		struct w_out *o = NULL;

		pthread_mutex_lock(&w->mu);
		if (w->out_tail != w->out_head)
			o = &w->out[w->out_tail % W_OUT];
		pthread_mutex_unlock(&w->mu);
		if (o == NULL)
			break;
		if (max-- == 0) {
			more = 1;
			break;
		}
		for (size_t i = 0; i < o->n; i++) {
			arena_enter(o->ar);
			p->events++;
			p->emit(o->ev[i], p->arg);
		}
		arena_use(NULL);
		o->n = 0;
		pthread_mutex_lock(&w->mu);
		w->out_tail++;
		pthread_cond_signal(&w->to_worker);
		pthread_mutex_unlock(&w->mu);
	}
	p->delivering = 0;
	return more;
}

/*
 * Owner: queue an item for the worker, waiting for a free slot (and
 * emitting what the worker finished meanwhile: it may be waiting for
 * a batch back). 0, or -1 (out of memory, logged).
 */
static int
w_submit(struct parse *p, enum w_op op, const char *data, size_t len)
{
	struct worker *w = p->w;
	struct w_in *it;

	pthread_mutex_lock(&w->mu);
	while (w->in_head - w->in_tail == W_IN) {
		if (w->out_tail != w->out_head && !p->delivering) {
			pthread_mutex_unlock(&w->mu);
			(void)w_deliver(p, W_OUT);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		pthread_cond_wait(&w->to_owner, &w->mu);
	}
	it = &w->in[w->in_head % W_IN];
	pthread_mutex_unlock(&w->mu);
	/* the slot is ours until in_head moves past it */
	it->op = op;
	buf_reset(&it->data);
	if (len && buf_add(&it->data, data, len) == -1) {
		log_warnx("out of memory queueing audit input");
		p->malformed++;
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	w->in_head++;
	pthread_cond_signal(&w->to_worker);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* Owner: wait until everything queued is parsed and emitted. */
static void
w_sync(struct parse *p)
{
	struct worker *w = p->w;

	if (p->delivering)
		return;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->out_tail != w->out_head) {
			pthread_mutex_unlock(&w->mu);
			(void)w_deliver(p, W_OUT);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		if (w->in_head == w->in_tail)
			break;
		pthread_cond_wait(&w->to_owner, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Worker, under mu: hand the batch being filled to the owner. */
static void
w_publish(struct worker *w)
{
	uint64_t one = 1;

	if (w->filling == NULL || w->filling->n == 0)
		return;
	w->filling = NULL;
	arena_use(NULL);
	w->out_head++;
	pthread_cond_signal(&w->to_owner);
	if (write(w->efd, &one, sizeof(one)) == -1) {
		/* EAGAIN: the counter is set anyway */
	}
}

/* Worker: the batch events go into, waiting for one; NULL if stopping. */
static struct w_out *
w_filling(struct worker *w)
{
	if (w->filling != NULL)
		return w->filling;
	pthread_mutex_lock(&w->mu);
	while (w->out_head - w->out_tail == W_OUT && !w->stop)
		pthread_cond_wait(&w->to_worker, &w->mu);
	if (!w->stop)
		w->filling = &w->out[w->out_head % W_OUT];
	pthread_mutex_unlock(&w->mu);
	if (w->filling != NULL) {
		/* its events were all emitted: the owner gave it back */
		arena_rewind(w->filling->ar);
		w->filling->n = 0;
		arena_use(w->filling->ar);
	}
	return w->filling;
}

static int age_now(struct parse *p);
static int compact_now(struct parse *p);
static void flush_now(struct parse *p);

static void *
w_main(void *arg)
{
	struct parse *p = arg;
	struct worker *w = p->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct w_in *it;

		while (w->in_head == w->in_tail && !w->stop)
			pthread_cond_wait(&w->to_worker, &w->mu);
		if (w->stop)
			break;
		it = &w->in[w->in_tail % W_IN];
		pthread_mutex_unlock(&w->mu);
		switch (it->op) {
		case W_FEED:
			(void)feed_text(p, it->data.data, it->data.len);
			break;
		case W_RECORDS:	/* checked by parse_feed_record */
			(void)auparse_feed(p->au, it->data.data, it->data.len);
			break;
		case W_AGE:
			w->result = age_now(p);
			break;
		case W_FLUSH:
			flush_now(p);
			break;
		case W_COMPACT:
			w->result = compact_now(p);
			break;
		}
		pthread_mutex_lock(&w->mu);
		w->in_tail++;
		/* nothing more to read now: out with what there is */
		if (w->in_tail == w->in_head)
			w_publish(w);
		pthread_cond_signal(&w->to_owner);
	}
	pthread_mutex_unlock(&w->mu);
	arena_use(NULL);
	event_thread_done();
	return NULL;
}

static void
w_free(struct worker *w)
{
	for (size_t i = 0; i < W_IN; i++)
		buf_free(&w->in[i].data);
	for (size_t i = 0; i < W_OUT; i++)
		arena_delete(w->out[i].ar);
	if (w->efd != -1)
		close(w->efd);
	pthread_cond_destroy(&w->to_owner);
	pthread_cond_destroy(&w->to_worker);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int
parse_use_worker(struct parse *p)
{
	struct worker *w;

	if (p->w != NULL)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("parse worker");
		return -1;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->to_worker, NULL);
	pthread_cond_init(&w->to_owner, NULL);
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("parse worker: eventfd");
		goto fail;
	}
	for (size_t i = 0; i < W_OUT; i++)
		if ((w->out[i].ar = arena_new()) == NULL) {
			log_warn("parse worker");
			goto fail;
		}
	p->w = w;
	if (thread_start(&w->thread, w_main, p, "parse worker") == -1) {
		p->w = NULL;
		goto fail;
	}
	return 0;
fail:
	w_free(w);
	return -1;
}

int
parse_notify_fd(const struct parse *p)
{
	return p->w ? p->w->efd : -1;
}

void
parse_poll(struct parse *p)
{
	uint64_t n = 1;

	if (p->w == NULL)
		return;
	if (read(p->w->efd, &n, sizeof(n)) == -1) {
		/* EAGAIN: nothing new; looking costs nothing */
	}
	/*
	 * A few batches a turn, then the loop reads more input: emitting
	 * all of them while the worker ran dry cost a replay ~20% (the
	 * worker waited for input as long as the loop waited for room).
	 */
	if (w_deliver(p, W_POLL) && write(p->w->efd, &n, sizeof(n)) == -1) {
		/* EAGAIN: the counter is set anyway */
	}
}

/* ---- feeding ------------------------------------------------------------ */

int
parse_feed(struct parse *p, const char *data, size_t len)
{
	int rc;

	if (p->w != NULL)
		return len ? w_submit(p, W_FEED, data, len) : 0;
	rc = parse_commit(p);
	if (feed_text(p, data, len) == -1)
		rc = -1;
	return rc;
}

int
parse_feed_record(struct parse *p, const char *line, size_t len)
{
	const char *why = memchr(line, '\n', len) != NULL ?
	    "newline inside a record" : line_bad(line, len);

	if (why != NULL) {
		drop_line(p, why);
		return 0;
	}
	p->records++;
	if (buf_reserve(&p->batch, len + 1) == -1) {
		log_warnx("out of memory collecting audit records");
		p->malformed++;
		return -1;
	}
	buf_add(&p->batch, line, len);
	buf_putc(&p->batch, '\n');
	return p->batch.len >= PARSE_BATCH ? parse_commit(p) : 0;
}

int
parse_commit(struct parse *p)
{
	int rc;

	/* an event made while libauparse runs must not feed it again */
	if (p->batch.len == 0 || p->feeding || p->delivering)
		return 0;
	if (p->w != NULL) {
		rc = w_submit(p, W_RECORDS, p->batch.data, p->batch.len);
		buf_reset(&p->batch);
		return rc;
	}
	p->feeding = 1;
	rc = auparse_feed(p->au, p->batch.data, p->batch.len);
	p->feeding = 0;
	buf_reset(&p->batch);
	return rc;
}

int
parse_sync(struct parse *p)
{
	int rc = parse_commit(p);

	if (p->w != NULL)
		w_sync(p);
	return rc;
}

static int
age_now(struct parse *p)
{
	if (!auparse_feed_has_data(p->au))
		return 0;
	auparse_feed_age_events(p->au);
	return auparse_feed_has_data(p->au);
}

int
parse_age(struct parse *p)
{
	parse_commit(p);
	if (p->w == NULL)
		return age_now(p);
	if (p->delivering || w_submit(p, W_AGE, NULL, 0) == -1)
		return 1;	/* try again later */
	w_sync(p);
	return p->w->result;
}

static int
compact_now(struct parse *p)
{
	auparse_state_t *au;

	if (p->feeding || auparse_feed_has_data(p->au))
		return 0;
	if ((au = auparse_init(AUSOURCE_FEED, NULL)) == NULL) {
		log_warn("auparse_init");
		return -1;
	}
	auparse_add_callback(au, on_event, p, NULL);
	auparse_destroy(p->au);
	p->au = au;
	p->resets++;
	return 1;
}

int
parse_compact(struct parse *p)
{
	if (parse_commit(p) == -1)
		return 0;
	if (p->w == NULL)
		return compact_now(p);
	if (p->delivering || w_submit(p, W_COMPACT, NULL, 0) == -1)
		return 0;
	w_sync(p);
	return p->w->result;
}

static void
flush_now(struct parse *p)
{
	/* input that ended without a newline: its last line still counts */
	if (p->partial.len && !p->overlong) {
		if (buf_addc(&p->partial, '\n') == 0)
			feed_lines(p, p->partial.data, p->partial.len);
		else
			p->malformed++;
	}
	buf_reset(&p->partial);
	p->overlong = 0;
	auparse_flush_feed(p->au);
}

void
parse_flush(struct parse *p)
{
	parse_commit(p);
	if (p->w == NULL) {
		flush_now(p);
		return;
	}
	if (!p->delivering && w_submit(p, W_FLUSH, NULL, 0) == 0)
		w_sync(p);
}

unsigned long long
parse_records(const struct parse *p)
{
	return p->records;
}

unsigned long long
parse_malformed(const struct parse *p)
{
	return p->malformed;
}

unsigned long long
parse_events(const struct parse *p)
{
	return p->events;
}

unsigned long long
parse_resets(const struct parse *p)
{
	return p->resets;
}

void
parse_free(struct parse *p)
{
	if (p == NULL)
		return;
	if (p->w != NULL) {
		pthread_mutex_lock(&p->w->mu);
		p->w->stop = 1;
		pthread_cond_broadcast(&p->w->to_worker);
		pthread_mutex_unlock(&p->w->mu);
		pthread_join(p->w->thread, NULL);
		/* events never emitted die with their batches' arenas */
		w_free(p->w);
	}
	auparse_destroy(p->au);
	arena_free();
	buf_free(&p->partial);
	buf_free(&p->batch);
	free(p->node);
	free(p);
}
