/*
 * event.c - from auparse's view of an event to podtrail's JSON: the
 * event's envelope (type, serial, time, node), its records, time stamps
 * and podtrail's internal events.
 *
 * Every record and every field the kernel sent goes into "records",
 * decoded (text.h; event_fields.c); the top-level fields (process,
 * paths, key, ...) are conveniences derived from them (event_derive.c).
 * Integers are written verbatim as raw JSON numbers, so 64-bit values
 * (inodes) keep every digit.
 */
#include "config.h"

#include <libaudit.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "event_int.h"
#include "log.h"
#include "text.h"

/*
 * Per-call scratch, kept between events so the hot path does not
 * allocate; per thread, as event_fields.c's and event_derive.c's:
 * events are built on the loop's thread or on the parse worker
 * (parse.h).
 */
static _Thread_local struct {
	struct buf json;	/* the record being written */
	struct buf esc;		/* the node's escaped name */
} E;

/* v in decimal into out (>= 21 bytes); snprintf costs more per event. */
static void
ulong_dec(char *out, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

long long
event_stamp_ms(long long sec, unsigned ms)
{
	/* a forged stamp too far out for ms is the epoch, as in the text */
	if (sec > LLONG_MAX / 1000 - 1 || sec < LLONG_MIN / 1000 + 1)
		sec = 0;
	return sec * 1000 + ms % 1000;
}

void
event_format_time(char *out, size_t outlen, long long sec, unsigned ms)
{
	/* events come many to a second: format each second once (per thread) */
	static _Thread_local long long last = -1;
	static _Thread_local char date[64];
	struct tm tm;
	size_t n;
	time_t t = (time_t)sec;

	if (sec != last) {
		/* a forged stamp can be past what struct tm holds */
		if (gmtime_r(&t, &tm) == NULL) {
			t = 0;
			gmtime_r(&t, &tm);
		}
		snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		last = sec;
	}
	ms %= 1000;
	n = strlen(date);
	if (outlen < n + sizeof(".000Z")) {
		if (outlen)
			*out = '\0';
		return;
	}
	memcpy(out, date, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	memcpy(out + n + 4, "Z", 2);
}

cJSON *
event_new_internal(const char *type, const char *node)
{
	struct timespec ts;
	char tbuf[40];
	cJSON *ev = cJSON_CreateObject();

	if (ev == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(tbuf, sizeof(tbuf), ts.tv_sec,
	    (unsigned)(ts.tv_nsec / 1000000));
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "time", tbuf);
	cJSON_AddStringToObject(ev, "node", node);
	return ev;
}

/*
 * The inverse of event_format_time() for the form it writes (and the
 * epoch for anything else): the time of podtrail's own events, which
 * reach the pipeline as JSON.
 */
static long long
time_of(const char *s)
{
	struct tm tm;
	int ms;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &ms) != 7 || ms < 0 || ms > 999)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return event_stamp_ms(timegm(&tm), (unsigned)ms);
}

void
event_free(struct event *ev)
{
	struct arena *was = arena_current();

	/* a node freed while its arena is current is left to the arena */
	if (ev->arena)
		arena_use(ev->arena);
	cJSON_Delete(ev->json);
	ev->json = NULL;
	if (ev->arena)
		arena_use(was);
}

void
event_own(struct event *ev, cJSON *json)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(json, "time");

	memset(ev, 0, sizeof(*ev));
	ev->json = json;
	ev->pid = -1;
	ev->time_ms = time_of(cJSON_IsString(t) ? t->valuestring : NULL);
}

void
event_thread_done(void)
{
	event_fields_thread_done();
	event_derive_thread_done();
	buf_free(&E.json);
	buf_free(&E.esc);
	memset(&E, 0, sizeof(E));
}

/* "truncated":{"bytes":B,"records":R}: what parse.c dropped of the event. */
static void
add_truncated(cJSON *ev, const struct event_trunc *t)
{
	char num[24];
	cJSON *o = cJSON_CreateObject();

	ulong_dec(num, (unsigned long)t->bytes);
	cJSON_AddItemToObjectCS(o, "bytes", cJSON_CreateRaw(num));
	ulong_dec(num, (unsigned long)t->records);
	cJSON_AddItemToObjectCS(o, "records", cJSON_CreateRaw(num));
	cJSON_AddItemToObjectCS(ev, "truncated", o);
}

/* Where event_build's records come from: libauparse, or parse_fast.c. */
struct src {
	auparse_state_t *au;
	const struct event_recs *r;
	size_t i;
};

static int
src_next(struct src *c)
{
	return c->au ? auparse_next_record(c->au) > 0 : ++c->i < c->r->n;
}

static int
src_type(const struct src *c, const char **tname)
{
	if (c->au) {
		*tname = auparse_get_type_name(c->au);
		return auparse_get_type(c->au);
	}
	*tname = c->r->rec[c->i].tname;
	return c->r->rec[c->i].rtype;
}

static int
src_scan(const struct src *c, int rtype, const char *tname,
    struct event_derive *s)
{
	return c->au ? event_fields_scan(c->au, rtype, tname, s) :
	    event_fields_scan_rec(&c->r->rec[c->i], s);
}

static int
build(struct src *c, long long sec, unsigned milli, unsigned long long sn,
    const char *host, const char *node, const struct event_trunc *t,
    struct event *out)
{
	struct event_derive s = { 0 };
	cJSON *ev, *records = NULL, *paths = NULL;
	char tbuf[40], serial[24];

	arena_open();
	if ((ev = cJSON_CreateObject()) == NULL)
		goto nomem;
	if (event_derive_begin(&s) == -1)
		goto nomem;
	records = cJSON_CreateArray();
	paths = cJSON_CreateArray();

	ulong_dec(serial, sn);
	event_format_time(tbuf, sizeof(tbuf), sec, milli);
	/* literal keys need no copy (...CS): an event has dozens */
	cJSON_AddItemToObjectCS(ev, "type", cJSON_CreateStringReference("audit"));
	cJSON_AddItemToObjectCS(ev, "serial", cJSON_CreateRaw(serial));
	cJSON_AddItemToObjectCS(ev, "time", cJSON_CreateString(tbuf));
	/* node= comes from the input too: escaped like any value */
	if (host && *host) {
		size_t n = strlen(host);

		buf_reset(&E.esc);
		/* plain: the escape would not change it */
		if (event_fields_plain(host, n))
			cJSON_AddItemToObjectCS(ev, "node",
			    cJSON_CreateString(host));
		else if (text_escape(&E.esc, host, n) == -1)
			goto nomem;
		else
			cJSON_AddItemToObjectCS(ev, "node",
			    cJSON_CreateString(E.esc.data));
	} else {
		cJSON_AddItemToObjectCS(ev, "node", cJSON_CreateString(node));
	}

	do {
		const char *tname;
		int rtype = src_type(c, &tname);
		cJSON *rec;

		/* EOE only ends the event; auparse does not always keep it */
		if (rtype == AUDIT_EOE)
			continue;
		/*
		 * Records are most of an event: each is written once, here,
		 * as its canonical JSON, and carried as a raw node.
		 */
		if (src_scan(c, rtype, tname, &s) == -1 ||
		    event_fields_write(&E.json, rtype) == -1 ||
		    (rec = event_fields_span(E.json.data, E.json.len,
		    cJSON_Raw)) == NULL)
			goto nomem;
		/* tagged with its type (libaudit's static name) for lookups */
		rec->string = (char *)(tname ? tname : "UNKNOWN");
		rec->type |= cJSON_StringIsConst;
		if (rtype == AUDIT_EXECVE)
			s.have_execve = 1;
		if (rtype == AUDIT_SYSCALL)
			s.has_syscall = 1;
		if (rtype == AUDIT_PATH)
			cJSON_AddItemToArray(paths, event_fields_path_entry());
		cJSON_AddItemToArray(records, rec);
	} while (src_next(c));
	event_derive_finish(&s, ev);
	cJSON_AddItemToObjectCS(ev, "paths", paths);
	cJSON_AddItemToObjectCS(ev, "records", records);
	if (t != NULL && (t->records || t->bytes))
		add_truncated(ev, t);
	memset(out, 0, sizeof(*out));
	out->json = ev;
	out->arena = arena_current();
	out->time_ms = event_stamp_ms(sec, milli);
	out->serial = sn;
	out->pid = s.pid;
	memcpy(out->arg, s.sysarg, sizeof(out->arg));
	out->args = s.sysargs;
	out->has_syscall = s.has_syscall;
	arena_close();
	event_derive_clear(&s);
	return 0;
nomem:
	log_warnx("out of memory building event");
	cJSON_Delete(records);
	cJSON_Delete(paths);
	cJSON_Delete(ev);
	arena_close();
	event_derive_clear(&s);
	return -1;
}

int
event_build(auparse_state_t *au, const char *node, const struct event_trunc *t,
    struct event *out)
{
	const au_event_t *ts = auparse_get_timestamp(au);
	struct src c = { au, NULL, 0 };

	if (ts == NULL)
		return -1;
	auparse_first_record(au);
	return build(&c, ts->sec, ts->milli, ts->serial, ts->host, node, t,
	    out);
}

int
event_build_recs(const struct event_recs *r, const char *node,
    struct event *out)
{
	struct src c = { NULL, r, 0 };

	if (r->n == 0)
		return -1;
	return build(&c, r->sec, r->ms, r->serial, NULL, node, NULL, out);
}
