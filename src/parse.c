/*
 * parse.c - libauparse feed wrapper.
 *
 * Lines are checked before auparse sees them: libauparse 3.0.9 leaks
 * ~1 KiB for every line that has "msg=audit(...)" but no "type=" in
 * front of it (found by tests/fuzz/fuzz_stream), and silently drops a
 * line whose stamp it cannot read, so such lines are dropped here,
 * counted and reported instead: what passes the check is in an event.
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
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
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
#define OPEN_HASH 2048		/* open events' buckets, by serial */
/*
 * The newest stamp let through: past it, sec * 1000 overflows on the
 * way to a date, and RFC 3339 has no year 10000. (The kernel's clock
 * ends in 2262.)
 */
#define STAMP_MAX_SEC 253402300799LL	/* 9999-12-31T23:59:59Z */

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

/* A record's stamp and type, as line_bad() read them. */
struct stamp {
	long long sec;
	unsigned ms;
	unsigned long long serial;
	const char *node;	/* after "node=", or NULL */
	size_t nodelen;
	int eoe;		/* an EOE record */
	int ends;		/* of a type libauparse ends an event with */
};

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
	/* what one event may hold; the open events, on libauparse's thread */
	unsigned long long max_records, max_bytes;
	long eoe_timeout;
	struct open_tab *open;
	struct buf cuts;	/* synthetic EOEs to feed before the next record */
	/* the worker's, read by the loop's thread for its statistics */
	_Atomic unsigned long long records, malformed, resets;
	_Atomic unsigned long long trunc_events, trunc_records, trunc_bytes;
	_Atomic unsigned long long cut_events;
};

static void w_publish(struct worker *w);
static struct w_out *w_filling(struct worker *w);

static void open_done(struct parse *p, auparse_state_t *au,
    struct event_trunc *tr);

static void
on_event(auparse_state_t *au, auparse_cb_event_t type, void *arg)
{
	struct parse *p = arg;
	struct event_trunc tr = { 0, 0 };
	cJSON *ev;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	/* a synthetic EOE (eoe.h) for an event auparse had already ended */
	if (auparse_get_num_records(au) == 1 &&
	    auparse_get_type(au) == AUDIT_EOE)
		return;
	open_done(p, au, &tr);
	if (p->w != NULL) {
		struct w_out *o = w_filling(p->w);

		/* NULL: stopping */
		if (o == NULL || (ev = event_build(au, p->node, &tr)) == NULL)
			return;
		o->ev[o->n++] = ev;
		if (o->n == W_EVENTS) {
			pthread_mutex_lock(&p->w->mu);
			w_publish(p->w);
			pthread_mutex_unlock(&p->w->mu);
		}
		return;
	}
	if ((ev = event_build(au, p->node, &tr)) == NULL)
		return;
	p->events++;
	p->emit(ev, p->arg);
}

struct parse *
parse_new(const char *node, long eoe_timeout, parse_emit_cb emit, void *arg)
{
	struct parse *p = calloc(1, sizeof(*p));

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
parse_set_limits(struct parse *p, unsigned long long max_records,
    unsigned long long max_bytes)
{
	p->max_records = max_records;
	p->max_bytes = max_bytes;
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

/*
 * The decimal at s[0..n) (leading zeros allowed) up to max: its digit
 * count (at most 20), or 0 if there is none or it is past max.
 */
static size_t
decimal(const char *s, size_t n, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n && i < 21 && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return i <= 20 ? i : 0;
}

/*
 * "SEC.MSEC:SERIAL):" as the kernel writes it (auparse leaks on less),
 * with values libauparse reads (its strtoul drops a serial past 2^64-1)
 * and a date can hold (STAMP_MAX_SEC). Fills st; the closing ')' goes
 * to *close. NULL, or why not.
 */
static const char *
stamp_read(const char *s, size_t n, struct stamp *st, const char **close)
{
	unsigned long long v;
	size_t k;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return "not an audit record";
	if ((k = decimal(s, n, (unsigned long long)STAMP_MAX_SEC, &v)) == 0)
		return "timestamp past the year 9999";
	if (k == n || s[k] != '.')
		return "not an audit record";
	/* libauparse takes 0 seconds for "no event": it reads no field */
	if (v == 0)
		return "timestamp of 0 seconds";
	st->sec = (long long)v;
	s += k + 1;
	n -= k + 1;
	if (n < 4 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9' || s[3] != ':')
		return "not an audit record";
	st->ms = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + s[2] - '0');
	s += 4;
	n -= 4;
	if (n > 0 && s[0] >= '0' && s[0] <= '9' &&
	    (k = decimal(s, n, ULLONG_MAX, &st->serial)) == 0)
		return "serial past 2^64-1";
	if (n == 0 || s[0] < '0' || s[0] > '9' || n - k < 2 || s[k] != ')' ||
	    s[k + 1] != ':')
		return "not an audit record";
	*close = s + k;
	return NULL;
}

/*
 * Does a record of type name[0..n) end its event in libauparse
 * (au_check_events: PROCTITLE, EOE, and the types of one-record
 * events)? Bit 1: it does, bit 2: it is an EOE. Cached per name.
 */
#define T_ENDS 1
#define T_EOE 2

static int
type_flags(const char *name, size_t n)
{
	static _Thread_local struct {
		char name[16];
		int flags;
	} cache[64];
	char tmp[512];
	unsigned h = (unsigned)n * 31u + (unsigned char)name[0] * 7u +
	    (unsigned char)name[n - 1];
	int t, flags;

	h %= 64;
	if (n < 16 && cache[h].name[n] == '\0' &&
	    memcmp(cache[h].name, name, n) == 0 && cache[h].flags)
		return cache[h].flags & 3;
	if (n >= sizeof(tmp))
		return T_ENDS;	/* unknown to libaudit: -1 */
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	t = audit_name_to_msg_type(tmp);
	flags = t == AUDIT_EOE ? T_EOE | T_ENDS : 0;
	if (t == AUDIT_PROCTITLE || t < AUDIT_FIRST_EVENT ||
	    t >= AUDIT_FIRST_ANOM_MSG || t == AUDIT_KERNEL ||
	    (t >= AUDIT_MAC_UNLBL_ALLOW && t <= AUDIT_MAC_CALIPSO_DEL))
		flags |= T_ENDS;
	if (n < 16) {
		memcpy(cache[h].name, tmp, n + 1);
		cache[h].flags = flags | 4;	/* 4: the slot is filled */
	}
	return flags;
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
 * in a type). NULL if the line may go to libauparse (st then holds its
 * stamp and type), else why not.
 */
static const char *
line_bad(const char *s, size_t n, struct stamp *st)
{
	const char *line = s, *type, *close, *why;
	size_t k, window = 80;

	st->node = NULL;
	st->nodelen = 0;
	if (n > 5 && memcmp(s, "node=", 5) == 0) {
		k = name_len(s + 5, n - 5, 0);
		if (k == 0 || 5 + k == n || s[5 + k] != ' ')
			return "not an audit record";
		st->node = s + 5;
		st->nodelen = k;
		window = 340;
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
	if (n < 10 || memcmp(s, "msg=audit(", 10) != 0)
		return "not an audit record";
	if ((why = stamp_read(s + 10, n - 10, st, &close)) != NULL)
		return why;
	/*
	 * libauparse reads the stamp from the line's first 80 bytes (340
	 * after node=) and wants 19 of them for "msg=audit(...":
	 * extract_timestamp() drops the line, or misreads the serial, else.
	 */
	if ((size_t)(close - line) > window || (size_t)(s - line) + 19 > window)
		return "stamp too far into the line";
	st->ends = type_flags(type, k);
	st->eoe = (st->ends & T_EOE) != 0;
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
open_add(struct open_tab *t, const struct stamp *st)
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
open_cut(struct parse *p, struct open_ev *o)
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
open_cut_oldest(struct parse *p)
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
	p->cut_events++;
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
bound_record(struct parse *p, const struct stamp *st, size_t n, int try)
{
	static _Thread_local struct log_rl rl;
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
			p->trunc_events++;
			log_warnx_rl(&rl, "event audit(%lld.%03u:%llu) holds "
			    "%llu records, %llu bytes: dropping the rest of it "
			    "(event_max_records, event_max_bytes; %llu events "
			    "so far)", o->sec, o->ms, o->serial, o->records,
			    o->bytes, (unsigned long long)p->trunc_events);
		}
		o->drop.records++;
		o->drop.bytes += n;
		p->trunc_records++;
		p->trunc_bytes += n;
		return B_DROP;
	}
	o->records++;
	o->bytes += n;
	if (st->ends & T_ENDS)
		o->state = O_DONE;
	return B_FEED;
}

/*
 * Check one line q[0..n) (nul: it may hold a NUL byte) and account it
 * to its event: B_FEED, B_DROP (malformed, counted, or past its event's
 * limits) or B_FLUSH (see bound_record).
 */
static int
take_line(struct parse *p, const char *q, size_t n, int nul, int try)
{
	struct stamp st;
	const char *why;

	/* libauparse would read a NUL as the end of the record */
	why = nul && memchr(q, '\0', n) != NULL ? "NUL byte inside a record" :
	    line_bad(q, n, &st);
	if (why != NULL) {
		if (n > 0)	/* empty lines are harmless: not counted */
			drop_line(p, why);
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
au_push(struct parse *p)
{
	(void)auparse_feed(p->au, "", 0);
}

/* Feed run[0..end) and then the synthetic EOEs waiting in p->cuts. */
static int
feed_run(struct parse *p, const char *run, const char *end)
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

/* Feed whole lines data[0..len) (each ending in '\n'), checking each. */
static int
feed_lines(struct parse *p, const char *data, size_t len)
{
	const char *run = data, *q = data, *end = data + len, *nl;
	int nul = memchr(data, '\0', len) != NULL;	/* rare: then per line */
	unsigned long long good = 0;
	int rc = 0;

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
open_done(struct parse *p, auparse_state_t *au, struct event_trunc *tr)
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
		case W_RECORDS:	/* whole lines: checked here, as text is */
			(void)feed_lines(p, it->data.data, it->data.len);
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
	int act, try = 0;

	if (memchr(line, '\n', len) != NULL) {
		drop_line(p, "newline inside a record");
		return 0;
	}
	/* with a worker, it checks them: the open events are its own */
	act = B_FEED;
	while (p->w == NULL) {
		act = take_line(p, line, len, 1, try++);
		if (p->cuts.len && buf_add(&p->batch, p->cuts.data,
		    p->cuts.len) == -1)
			p->malformed++;
		buf_reset(&p->cuts);
		if (act != B_FLUSH)
			break;
		(void)parse_commit(p);
	}
	if (act == B_DROP)
		return 0;
	if (p->w == NULL)
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
	au_push(p);
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
	long long now = (long long)time(NULL);

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
	open_clear(p->open);
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
	open_clear(p->open);
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
parse_truncation(const struct parse *p, struct parse_trunc *out)
{
	out->events = p->trunc_events;
	out->records = p->trunc_records;
	out->bytes = p->trunc_bytes;
	out->cut = p->cut_events;
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
	buf_free(&p->cuts);
	open_clear(p->open);
	free(p->open);
	free(p->node);
	free(p);
}
