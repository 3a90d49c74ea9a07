/*
 * parse_au.c - libauparse's feed interface, fed checked lines.
 *
 * Lines that fail parse_line_check() are dropped here, counted and
 * reported, instead of being leaked on or dropped quietly by
 * libauparse: what passes the check is in an event.
 *
 * The check also bounds what libauparse holds. It appends each record
 * by walking its event's list from the head, and scans every open
 * event for each record: one event of 10^6 records, or 10^5 events
 * that never end, take minutes and gigabytes. So the events it holds
 * open are mirrored here (struct open_ev): an event past its limits
 * drops further records (counted on the event), and is ended with a
 * synthetic EOE when another event's record comes; past PARSE_MAX_OPEN
 * open events the oldest is ended the same way.
 */
#include "config.h"

#include <auparse.h>
#include <libaudit.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "parse_au.h"
#include "parse_fast.h"
#include "parse_line.h"

/*
 * A line longer than this is dropped: the kernel's records are at most
 * ~9 KiB (long EXECVE arguments are split), so this only bounds the
 * memory garbage input can take.
 */
#define PARSE_MAX_LINE (1024 * 1024)
#define OPEN_HASH 2048		/* open events' buckets, by serial */

enum { O_FREE, O_BUILDING, O_HELD, O_DONE };

/*
 * An event libauparse holds: BUILDING, HELD (past a limit: its further
 * records are dropped) or DONE (ended, waiting for on_event: libauparse
 * emits events in stamp order).
 */
struct open_ev {
	unsigned long long serial, seq;	/* seq: arrival order */
	long long sec;
	unsigned ms;
	int state;
	char *node;
	size_t nodelen;
	unsigned long long records, bytes;
	struct event_trunc drop;
	int hnext;			/* bucket chain */
};

struct open_tab {
	struct open_ev ev[PARSE_MAX_OPEN];
	int bucket[OPEN_HASH];		/* index + 1; 0: empty */
	size_t n, held;
	unsigned long long seq;
	int last;			/* index + 1 of the last record's event */
	long long max_sec;		/* newest stamp fed: ages events */
};

struct parse_au {
	auparse_state_t *au;
	char *node;
	parse_au_emit_fn *emit;
	void *arg;
	struct buf partial;	/* a line still waiting for its newline */
	int overlong;		/* dropping the rest of an overlong line */
	struct buf batch;	/* records not yet given to libauparse */
	int feeding;		/* inside auparse_feed: its callbacks run */
	/* what one event may hold, and the events libauparse holds open */
	unsigned long long max_records, max_bytes;
	long eoe_timeout;
	struct open_tab *open;
	struct buf cuts;	/* synthetic EOEs to feed before the next record */
	unsigned long long records, malformed, resets;
	struct parse_trunc trunc;
	struct log_rl drop_rl, trunc_rl;
	struct parse_fast *fast;	/* NULL: every record to libauparse */
	unsigned long long fast_events, fast_fallbacks;
	/*
	 * The kept event has ended, but libauparse hands out an event a
	 * record ended only once it reads on (or is fed again): until then
	 * a record of an older stamp would still go out before it.
	 */
	int fast_done;
};

static void open_done(struct parse_au *p, auparse_state_t *au,
    struct event_trunc *tr);

static void
on_event(auparse_state_t *au, auparse_cb_event_t type, void *arg)
{
	struct parse_au *p = arg;
	struct event_trunc tr = { 0, 0 };
	struct event ev;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	/* a synthetic EOE (eoe.h) for an event auparse had already ended */
	if (auparse_get_num_records(au) == 1 &&
	    auparse_get_type(au) == AUDIT_EOE)
		return;
	open_done(p, au, &tr);
	if (event_build(au, p->node, &tr, &ev) == -1)
		return;
	p->emit(&ev, p->arg);
}

struct parse_au *
parse_au_new(const char *node, long eoe_timeout, parse_au_emit_fn *emit,
    void *arg)
{
	struct parse_au *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->node = strdup(node)) == NULL ||
	    (p->open = calloc(1, sizeof(*p->open))) == NULL)
		goto err;
	p->max_records = PARSE_MAX_RECORDS;
	p->max_bytes = PARSE_MAX_BYTES;
	p->eoe_timeout = eoe_timeout;
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
#ifdef HAVE_AUPARSE_INTERP_ADJUST_TYPE
	p->fast = parse_fast_new();	/* NULL (ENOMEM): libauparse only */
#endif
	return p;
err:
	if (p) {
		free(p->node);
		free(p->open);
	}
	free(p);
	return NULL;
}

void
parse_au_set_limits(struct parse_au *p, unsigned long long max_records,
    unsigned long long max_bytes)
{
	p->max_records = max_records;
	p->max_bytes = max_bytes;
}

/* Count a line dropped and log why (rate-limited). */
void
parse_au_drop(struct parse_au *p, const char *why)
{
	p->malformed++;
	log_warnx_rl(&p->drop_rl, "dropped an audit input line: %s (%llu so "
	    "far)", why, p->malformed);
}

/* ---- the events libauparse holds open --------------------------------- */

static unsigned
open_hash(unsigned long long serial)
{
	return (unsigned)((serial ^ serial >> 13) % OPEN_HASH);
}

static int
open_match(const struct open_ev *o, long long sec, unsigned ms,
    unsigned long long serial, const char *node, size_t nodelen)
{
	return o->serial == serial && o->sec == sec && o->ms == ms &&
	    o->nodelen == nodelen &&
	    (nodelen == 0 || memcmp(o->node, node, nodelen) == 0);
}

/* The open event of this stamp still taking records (live), or the oldest. */
static struct open_ev *
open_find(struct open_tab *t, long long sec, unsigned ms,
    unsigned long long serial, const char *node, size_t nodelen, int live)
{
	struct open_ev *best = NULL;

	for (int i = t->bucket[open_hash(serial)]; i; i = t->ev[i - 1].hnext) {
		struct open_ev *o = &t->ev[i - 1];

		if (!open_match(o, sec, ms, serial, node, nodelen))
			continue;
		if (live && o->state != O_DONE)
			return o;
		if (!live && (best == NULL || o->seq < best->seq))
			best = o;
	}
	return best;
}

static void
open_del(struct open_tab *t, struct open_ev *o)
{
	int idx = (int)(o - t->ev) + 1;
	int *pp = &t->bucket[open_hash(o->serial)];

	while (*pp != idx)
		pp = &t->ev[*pp - 1].hnext;
	*pp = o->hnext;
	if (o->state == O_HELD)
		t->held--;
	if (t->last == idx)
		t->last = 0;
	free(o->node);
	memset(o, 0, sizeof(*o));
	t->n--;
}

static struct open_ev *
open_add(struct open_tab *t, const struct parse_line_stamp *st)
{
	struct open_ev *o = NULL;
	unsigned h = open_hash(st->serial);

	for (size_t i = 0; i < PARSE_MAX_OPEN && o == NULL; i++)
		if (t->ev[(t->seq + i) % PARSE_MAX_OPEN].state == O_FREE)
			o = &t->ev[(t->seq + i) % PARSE_MAX_OPEN];
	if (o == NULL)
		return NULL;
	if (st->nodelen && (o->node = malloc(st->nodelen)) == NULL)
		return NULL;
	if (st->nodelen)
		memcpy(o->node, st->node, st->nodelen);
	o->nodelen = st->nodelen;
	o->serial = st->serial;
	o->sec = st->sec;
	o->ms = st->ms;
	o->seq = ++t->seq;
	o->state = O_BUILDING;
	o->hnext = t->bucket[h];
	t->bucket[h] = (int)(o - t->ev) + 1;
	t->n++;
	return o;
}

static void
open_clear(struct open_tab *t)
{
	for (size_t i = 0; i < PARSE_MAX_OPEN; i++)
		free(t->ev[i].node);
	memset(t, 0, sizeof(*t));
}

/* End o in libauparse: a synthetic EOE goes out before the next record. */
static void
open_cut(struct parse_au *p, struct open_ev *o)
{
	if (o->state == O_HELD)
		p->open->held--;
	o->state = O_DONE;
	if (o->nodelen)
		(void)buf_printf(&p->cuts, "node=%.*s ", (int)o->nodelen,
		    o->node);
	(void)buf_printf(&p->cuts, "type=EOE msg=audit(%lld.%03u:%llu): \n",
	    o->sec, o->ms, o->serial);
}

/* End the oldest event still open in libauparse. 0 if there is none. */
static int
open_cut_oldest(struct parse_au *p)
{
	struct open_ev *old = NULL;

	for (size_t i = 0; i < PARSE_MAX_OPEN; i++) {
		struct open_ev *o = &p->open->ev[i];

		if ((o->state == O_BUILDING || o->state == O_HELD) &&
		    (old == NULL || o->seq < old->seq))
			old = o;
	}
	if (old == NULL)
		return 0;
	p->trunc.cut++;
	open_cut(p, old);
	return 1;
}

/* Forget the oldest ended event (libauparse no longer has it). */
static void
open_evict(struct open_tab *t)
{
	struct open_ev *old = NULL;

	for (size_t i = 0; i < PARSE_MAX_OPEN; i++) {
		struct open_ev *o = &t->ev[i];

		if (o->state == O_DONE && (old == NULL || o->seq < old->seq))
			old = o;
	}
	if (old != NULL)
		open_del(t, old);
}

enum { B_FEED, B_DROP, B_FLUSH };

/*
 * Account a good record (stamp st, n bytes of text) to the event it
 * joins in libauparse, as libauparse would: a stamp with no event
 * taking records starts one; a record of a type that ends events, or
 * one eoe_timeout newer than an event, ends it. B_FEED, or B_DROP for
 * a record past its event's limits, or B_FLUSH: feed what is pending,
 * then call again with try + 1. Synthetic EOEs that must go before the
 * record are left in p->cuts.
 */
static int
bound_record(struct parse_au *p, const struct parse_line_stamp *st, size_t n,
    int try)
{
	struct open_tab *t = p->open;
	struct open_ev *o = t->last ? &t->ev[t->last - 1] : NULL;

	if (o == NULL || o->state == O_DONE || !open_match(o, st->sec, st->ms,
	    st->serial, st->node, st->nodelen))
		o = open_find(t, st->sec, st->ms, st->serial, st->node,
		    st->nodelen, 1);
	if (o != NULL && o->sec + p->eoe_timeout <= t->max_sec) {
		if (o->state == O_HELD)
			t->held--;
		o->state = O_DONE;
		o = NULL;
	}
	if (st->sec > t->max_sec)
		t->max_sec = st->sec;
	/* a held event blocks libauparse's queue: end it once others come */
	if (t->held > (o != NULL && o->state == O_HELD))
		for (size_t i = 0; i < PARSE_MAX_OPEN; i++)
			if (t->ev[i].state == O_HELD && &t->ev[i] != o)
				open_cut(p, &t->ev[i]);
	if (st->eoe) {
		if (o != NULL && o->state == O_HELD)
			t->held--;
		if (o != NULL)
			o->state = O_DONE;
		return B_FEED;
	}
	if (o == NULL && t->n == PARSE_MAX_OPEN) {
		/* what is pending may end some; else end the oldest */
		if (try == 0 || (try == 1 && open_cut_oldest(p)))
			return B_FLUSH;
		open_evict(t);
	}
	if (o == NULL && (o = open_add(t, st)) == NULL)
		return B_FEED;	/* out of memory: unbounded, not lost */
	t->last = (int)(o - t->ev) + 1;
	if (o->state == O_HELD || o->records + 1 > p->max_records ||
	    o->bytes + n > p->max_bytes) {
		if (o->state != O_HELD) {
			o->state = O_HELD;
			t->held++;
			p->trunc.events++;
			log_warnx_rl(&p->trunc_rl, "event audit(%lld.%03u:%llu) "
			    "holds %llu records, %llu bytes: dropping the rest "
			    "of it (event_max_records, event_max_bytes; %llu "
			    "events so far)", o->sec, o->ms, o->serial, o->records,
			    o->bytes, p->trunc.events);
		}
		o->drop.records++;
		o->drop.bytes += n;
		p->trunc.records++;
		p->trunc.bytes += n;
		return B_DROP;
	}
	o->records++;
	o->bytes += n;
	if (st->ends)
		o->state = O_DONE;
	return B_FEED;
}

/*
 * Check one line q[0..n) (nul: it may hold a NUL byte) and account it
 * to its event: B_FEED, B_DROP (malformed, counted, or past its event's
 * limits) or B_FLUSH (see bound_record).
 */
static int
take_line(struct parse_au *p, const char *q, size_t n, int nul, int try)
{
	struct parse_line_stamp st;
	const char *why;

	/* libauparse would read a NUL as the end of the record */
	why = nul && memchr(q, '\0', n) != NULL ? "NUL byte inside a record" :
	    parse_line_check(q, n, &st);
	if (why != NULL) {
		if (n > 0)	/* empty lines are harmless: not counted */
			parse_au_drop(p, why);
		return B_DROP;
	}
	return bound_record(p, &st, n, try);
}

/*
 * libauparse hands out an event whose end it has seen only at its next
 * feed call: an empty one after each feed lets what is complete leave
 * now, instead of waiting for more input (or the EOE timeout), and
 * keeps podtrail's own events behind the audit events fed before them.
 */
static void
au_push(struct parse_au *p)
{
	(void)auparse_feed(p->au, "", 0);
}

/* Feed run[0..end) and then the synthetic EOEs waiting in p->cuts. */
static int
feed_run(struct parse_au *p, const char *run, const char *end)
{
	int rc = 0;

	if (end == run && p->cuts.len == 0)
		return 0;
	if (end > run && auparse_feed(p->au, run, (size_t)(end - run)) == -1)
		rc = -1;
	if (p->cuts.len && auparse_feed(p->au, p->cuts.data, p->cuts.len) == -1)
		rc = -1;
	buf_reset(&p->cuts);
	au_push(p);
	return rc;
}

/*
 * Whole lines record by record, so that most events go the fast way as
 * on netlink; what goes to libauparse is fed before returning, as a
 * run of lines would have been.
 */
static int
fast_lines(struct parse_au *p, const char *data, size_t len)
{
	const char *q = data, *end = data + len, *nl;
	int rc = 0;

	for (; q < end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if (parse_au_record(p, q, (size_t)(nl - q)) == -1)
			rc = -1;
	}
	if (parse_au_commit(p) == -1)
		rc = -1;
	return rc;
}

int
parse_au_lines(struct parse_au *p, const char *data, size_t len)
{
	const char *run = data, *q = data, *end = data + len, *nl;
	int nul, rc = 0;
	unsigned long long good = 0;

	if (p->fast != NULL && !p->feeding)
		return fast_lines(p, data, len);
	nul = memchr(data, '\0', len) != NULL;	/* rare: then per line */
	/* runs of good lines go to auparse in one call; bad ones are cut out */
	for (; q < end; q = nl + 1) {
		int act, try = 0;

		nl = memchr(q, '\n', (size_t)(end - q));
		do {
			act = take_line(p, q, (size_t)(nl - q), nul, try++);
			if (act == B_FLUSH || p->cuts.len) {
				if (feed_run(p, run, q) == -1)
					rc = -1;
				run = q;
			}
		} while (act == B_FLUSH);
		if (act == B_FEED) {
			good++;
			continue;
		}
		if (feed_run(p, run, q) == -1)
			rc = -1;
		run = nl + 1;
	}
	if (feed_run(p, run, end) == -1)
		rc = -1;
	p->records += good;
	return rc;
}

/* libauparse emits an event: forget it, taking what it dropped to tr. */
static void
open_done(struct parse_au *p, auparse_state_t *au, struct event_trunc *tr)
{
	const au_event_t *e = auparse_get_timestamp(au);
	struct open_ev *o;

	if (e == NULL)
		return;
	o = open_find(p->open, (long long)e->sec, e->milli, e->serial, e->host,
	    e->host ? strlen(e->host) : 0, 0);
	if (o != NULL) {
		*tr = o->drop;
		open_del(p->open, o);
	}
}

int
parse_au_text(struct parse_au *p, const char *data, size_t len)
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
			parse_au_drop(p, "longer than 1 MiB");
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
		else if (parse_au_lines(p, p->partial.data,
		    p->partial.len) == -1)
			rc = -1;
		buf_reset(&p->partial);
	}
	/* whole lines now, the unterminated tail waits for more */
	for (last = end; last > data && last[-1] != '\n'; last--)
		;
	if (last > data && parse_au_lines(p, data, (size_t)(last - data)) == -1)
		rc = -1;
	if (last < end) {
		n = (size_t)(end - last);
		if (n > PARSE_MAX_LINE) {
			parse_au_drop(p, "longer than 1 MiB");
			p->overlong = 1;
		} else if (buf_add(&p->partial, last, n) == -1) {
			log_warnx("out of memory buffering audit input");
			p->overlong = 1;
			p->malformed++;
		}
	}
	return rc;
}

static int
slow_record(struct parse_au *p, const char *line, size_t len)
{
	int act, try = 0;

	for (;;) {
		act = take_line(p, line, len, 1, try++);
		if (p->cuts.len && buf_add(&p->batch, p->cuts.data,
		    p->cuts.len) == -1)
			p->malformed++;
		buf_reset(&p->cuts);
		if (act != B_FLUSH)
			break;
		(void)parse_au_commit(p);
	}
	if (act == B_DROP)
		return 0;
	p->records++;
	if (buf_reserve(&p->batch, len + 1) == -1) {
		log_warnx("out of memory collecting audit records");
		p->malformed++;
		return -1;
	}
	buf_add(&p->batch, line, len);
	buf_putc(&p->batch, '\n');
	return p->batch.len >= PARSE_AU_BATCH ? parse_au_commit(p) : 0;
}

void
parse_au_set_fast(struct parse_au *p, int on)
{
#ifdef HAVE_AUPARSE_INTERP_ADJUST_TYPE
	if (on && p->fast == NULL)
		p->fast = parse_fast_new();
#endif
	if (!on && p->fast != NULL) {
		parse_au_flush(p);
		parse_fast_free(p->fast);
		p->fast = NULL;
	}
}

/* The kept event, built and emitted as on_event() would. */
static void
fast_emit(struct parse_au *p)
{
	struct event_recs r;
	struct event ev;

	parse_fast_view(p->fast, &r);
	p->feeding = 1;
	if (event_build_recs(&r, p->node, &ev) == 0) {
		p->fast_events++;
		p->emit(&ev, p->arg);
	}
	p->feeding = 0;
	p->fast_done = 0;
	parse_fast_reset(p->fast);
}

/* The kept records to libauparse instead, in order. */
static void
fast_fallback(struct parse_au *p)
{
	size_t n, len;

	if (p->fast == NULL || (n = parse_fast_records(p->fast)) == 0)
		return;
	p->records -= n;	/* counted again as they are fed */
	p->fast_fallbacks++;
	for (size_t i = 0; i < n; i++) {
		const char *line = parse_fast_line(p->fast, i, &len);

		(void)slow_record(p, line, len);
	}
	p->fast_done = 0;
	parse_fast_reset(p->fast);
}

/*
 * Can this record go the fast way? Only while libauparse holds nothing
 * (no record waiting for it, no event open in it), so that events come
 * out in the order and form they would from libauparse.
 */
static int
fast_ready(struct parse_au *p)
{
	if (p->fast == NULL || p->feeding)
		return 0;
	if (parse_fast_records(p->fast))
		return 1;
	return p->batch.len == 0 && p->cuts.len == 0 && p->open->n == 0 &&
	    !auparse_feed_has_data(p->au);
}

int
parse_au_record(struct parse_au *p, const char *line, size_t len)
{
	struct parse_line_stamp st;
	struct parse_fast *f = p->fast;
	const char *why;

	if (!fast_ready(p))
		return slow_record(p, line, len);
	why = memchr(line, '\0', len) != NULL ? "NUL byte inside a record" :
	    parse_line_check(line, len, &st);
	if (why != NULL) {
		/* dropped as slow_record() would: it touches no event */
		if (len > 0)
			parse_au_drop(p, why);
		return 0;
	}
	/* an EOE after the end: libauparse drops it, the event waits */
	if (p->fast_done && st.eoe) {
		p->records++;
		return 0;
	}
	if (st.node != NULL)
		goto slow;
	if (p->fast_done) {
		/* an older stamp would overtake it: libauparse decides */
		if (parse_fast_cmp(f, &st) >= 0)
			goto slow;
		fast_emit(p);
	}
	if (parse_fast_records(f) && parse_fast_cmp(f, &st) != 0)
		goto slow;
	if (st.eoe) {
		/* it ends the event; alone, libauparse drops it too */
		p->records++;
		if (parse_fast_records(f))
			p->fast_done = 1;
		return 0;
	}
	/* past a limit: libauparse's path counts and cuts it */
	if (parse_fast_records(f) + 1 > p->max_records ||
	    parse_fast_bytes(f) + len > p->max_bytes ||
	    parse_fast_add(f, line, len, &st) == -1)
		goto slow;
	p->records++;
	/* an event's first record that ends it goes out at once */
	if (st.ends && parse_fast_records(f) == 1)
		fast_emit(p);
	else if (st.ends)
		p->fast_done = 1;
	return 0;
slow:
	fast_fallback(p);
	return slow_record(p, line, len);
}

int
parse_au_commit(struct parse_au *p)
{
	int rc;

	/* an event made while libauparse runs must not feed it again */
	if (p->feeding)
		return 0;
	/* a feed hands out what has ended: so is the kept event */
	if (p->fast_done)
		fast_emit(p);
	if (p->batch.len == 0)
		return 0;
	p->feeding = 1;
	rc = auparse_feed(p->au, p->batch.data, p->batch.len);
	au_push(p);
	p->feeding = 0;
	buf_reset(&p->batch);
	return rc;
}

int
parse_au_age(struct parse_au *p)
{
	long long now = (long long)time(NULL);

	/* libauparse would end it now (auparse_feed_age_events) */
	if (p->fast && parse_fast_records(p->fast)) {
		if (!p->fast_done &&
		    parse_fast_sec(p->fast) + p->eoe_timeout > now)
			return 1;
		fast_emit(p);
	}
	if (!auparse_feed_has_data(p->au)) {
		open_clear(p->open);
		return 0;
	}
	/* libauparse ends what is eoe_timeout older than now */
	if (now > p->open->max_sec)
		p->open->max_sec = now;
	auparse_feed_age_events(p->au);
	if (auparse_feed_has_data(p->au))
		return 1;
	open_clear(p->open);
	return 0;
}

int
parse_au_compact(struct parse_au *p)
{
	auparse_state_t *au;

	/* an event the split holds is half-built too */
	if (p->feeding || auparse_feed_has_data(p->au) ||
	    (p->fast && parse_fast_records(p->fast)))
		return 0;
	if ((au = auparse_init(AUSOURCE_FEED, NULL)) == NULL) {
		log_warn("auparse_init");
		return -1;
	}
	auparse_add_callback(au, on_event, p, NULL);
	auparse_destroy(p->au);
	p->au = au;
	p->resets++;
	open_clear(p->open);
	return 1;
}

void
parse_au_flush(struct parse_au *p)
{
	/* input that ended without a newline: its last line still counts */
	if (p->partial.len && !p->overlong) {
		if (buf_addc(&p->partial, '\n') == 0)
			parse_au_lines(p, p->partial.data, p->partial.len);
		else
			p->malformed++;
	}
	buf_reset(&p->partial);
	p->overlong = 0;
	if (p->fast_done)
		fast_emit(p);
	fast_fallback(p);
	(void)parse_au_commit(p);
	auparse_flush_feed(p->au);
	open_clear(p->open);
}

void
parse_au_stats(const struct parse_au *p, struct parse_au_stats *out)
{
	out->records = p->records;
	out->malformed = p->malformed;
	out->resets = p->resets;
	out->trunc = p->trunc;
	out->fast_events = p->fast_events;
	out->fast_fallbacks = p->fast_fallbacks;
}

void
parse_au_free(struct parse_au *p)
{
	if (p == NULL)
		return;
	auparse_destroy(p->au);
	parse_fast_free(p->fast);
	buf_free(&p->partial);
	buf_free(&p->batch);
	buf_free(&p->cuts);
	open_clear(p->open);
	free(p->open);
	free(p->node);
	free(p);
}
