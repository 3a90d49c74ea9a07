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
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "parse.h"

/*
 * A line longer than this is dropped: the kernel's records are at most
 * ~9 KiB (long EXECVE arguments are split), so this only bounds the
 * memory garbage input can take.
 */
#define PARSE_MAX_LINE (1024 * 1024)
/* Collected records are handed over once this many bytes are waiting. */
#define PARSE_BATCH (32 * 1024)

struct parse {
	auparse_state_t *au;
	char *node;
	parse_emit_cb emit;
	void *arg;
	struct buf partial;	/* a line still waiting for its newline */
	int overlong;		/* dropping the rest of an overlong line */
	struct buf batch;	/* records not yet given to libauparse */
	int feeding;		/* inside auparse_feed: its callbacks run */
	unsigned long long records, events, malformed, resets;
};

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
	static struct log_rl rl;

	p->malformed++;
	log_warnx_rl(&rl, "dropped an audit input line: %s (%llu so far)", why,
	    p->malformed);
}

/* Feed whole lines data[0..len) (each ending in '\n'), checking each. */
static int
feed_lines(struct parse *p, const char *data, size_t len)
{
	const char *run = data, *q = data, *end = data + len, *nl, *why;
	int rc = 0;

	/* runs of good lines go to auparse in one call; bad ones are cut out */
	for (; q < end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if ((why = line_bad(q, (size_t)(nl - q))) == NULL) {
			p->records++;
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
	return rc;
}

int
parse_feed(struct parse *p, const char *data, size_t len)
{
	const char *end = data + len, *nl, *last;
	size_t n;
	int rc = parse_commit(p);

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
	if (p->batch.len == 0 || p->feeding)
		return 0;
	p->feeding = 1;
	rc = auparse_feed(p->au, p->batch.data, p->batch.len);
	p->feeding = 0;
	buf_reset(&p->batch);
	return rc;
}

int
parse_age(struct parse *p)
{
	parse_commit(p);
	if (!auparse_feed_has_data(p->au))
		return 0;
	auparse_feed_age_events(p->au);
	return auparse_feed_has_data(p->au);
}

int
parse_compact(struct parse *p)
{
	auparse_state_t *au;

	if (parse_commit(p) == -1 || p->feeding ||
	    auparse_feed_has_data(p->au))
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

void
parse_flush(struct parse *p)
{
	parse_commit(p);
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
	auparse_destroy(p->au);
	arena_free();
	buf_free(&p->partial);
	buf_free(&p->batch);
	free(p->node);
	free(p);
}
