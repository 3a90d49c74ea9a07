/*
 * test_parse.c - the audit text stream parser on bad input: malformed
 * lines are dropped and counted, any chunking gives the same events,
 * hostile names come out as escaped strings. Loop tests run twice:
 * _i = 0 parses on the caller's thread, _i = 1 on the parse worker.
 * The worker's own tests: same events in the same order, sync, the
 * notify fd, waiting for room, ageing and compaction through it, and
 * no worker while helpers are held back.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "parse.h"
#include "parse_fast.h"
#include "thread.h"
#include "unit.h"

struct got {
	struct buf out;		/* NDJSON of every event */
	int n;
	struct parse *p;	/* for callbacks that call back in */
};

static void
collect(struct event *ev, void *arg)
{
	struct got *g = arg;

	ck_assert_int_eq(json_write(&g->out, ev->json, 0, NULL), 0);
	buf_addc(&g->out, '\n');
	g->n++;
	event_free(ev);
}

/* Long outputs: name the first line that differs, not both texts. */
static void
same_text(const struct buf *a, const struct buf *b)
{
	size_t i = 0, line = 1;

	while (i < a->len && i < b->len && a->data[i] == b->data[i])
		if (a->data[i++] == '\n')
			line++;
	ck_assert_msg(a->len == b->len && i == a->len,
	    "outputs differ at line %zu (%zu and %zu bytes)", line, a->len,
	    b->len);
}

/* A new parser, on the worker if worker is set. */
static struct parse *
new_parser(struct got *g, parse_emit_cb cb, int worker)
{
	struct parse *p = parse_new("n0", 2, cb, g);

	ck_assert_ptr_nonnull(p);
	if (worker) {
		ck_assert_int_eq(parse_use_worker(p), 0);
		ck_assert_int_ge(parse_notify_fd(p), 0);
	} else {
		ck_assert_int_eq(parse_notify_fd(p), -1);
	}
	g->p = p;
	return p;
}

/* Feed text in chunks of size step (0: all at once). */
static void
feed(struct parse *p, const char *text, size_t len, size_t step)
{
	if (step == 0)
		step = len ? len : 1;
	for (size_t i = 0; i < len; i += step)
		ck_assert_int_eq(parse_feed(p, text + i,
		    len - i < step ? len - i : step), 0);
}

/*
 * A new parser (on the worker if worker is set) fed text in chunks of
 * size step, then flushed.
 */
static struct parse *
run_on(const char *text, size_t len, size_t step, struct got *g, int worker)
{
	struct parse *p = new_parser(g, collect, worker);

	feed(p, text, len, step);
	parse_flush(p);
	return p;
}

#define run(text, len, step, g) run_on(text, len, step, g, _i)

#define EV(serial, extra)                                                    \
	"type=SYSCALL msg=audit(1700000000.100:" serial "): arch=c000003e "  \
	"syscall=2 success=yes exit=3 items=0 pid=7 comm=\"c\"" extra "\n"   \
	"type=EOE msg=audit(1700000000.100:" serial "): \n"

START_TEST(test_malformed_lines_dropped)
{
	static const char text[] =
	    EV("1", "")
	    "garbage\n"
	    "tOE msg=audit(1795966093.359:439): \n"	/* libauparse leaked */
	    "type=\x1d" "EOE msg=audit(1795966091.183:361): \n"
	    "type=CWD msg=audit(1795966091.171:34X): cwd=\"/\"\n"
	    "\n"
	    EV("2", "")
	    "\xff\xfe\x00\x01binary\n"
	    EV("3", "");
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = run(text, sizeof(text) - 1, 0, &g);

	ck_assert_int_eq(g.n, 3);
	ck_assert_uint_eq(parse_events(p), 3);
	ck_assert_uint_eq(parse_malformed(p), 5);
	ck_assert_uint_eq(parse_records(p), 6);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_chunking_invariant)
{
	static const char text[] =
	    EV("10", " key=6B31016B32")
	    "junk line\n"
	    "node=h1 " EV("11", "")
	    EV("12", "");	/* the last line ends without a newline below */
	struct got whole = { BUF_INIT, 0, NULL };
	struct parse *p = run(text, sizeof(text) - 2, 0, &whole);

	ck_assert_int_eq(whole.n, 3);
	parse_free(p);
	for (size_t step = 1; step < 40; step += 3) {
		struct got g = { BUF_INIT, 0, NULL };

		p = run(text, sizeof(text) - 2, step, &g);
		ck_assert_int_eq(g.n, whole.n);
		ck_assert_str_eq(g.out.data, whole.out.data);
		ck_assert_uint_eq(parse_malformed(p), 1);
		parse_free(p);
		buf_free(&g.out);
	}
	buf_free(&whole.out);
}
END_TEST

START_TEST(test_overlong_line)
{
	struct buf text = BUF_INIT;
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p;

	buf_adds(&text, EV("20", ""));
	buf_adds(&text, "type=PATH msg=audit(1700000000.100:21): name=\"");
	for (int i = 0; i < 1100 * 1024; i++)
		buf_addc(&text, 'a');
	buf_adds(&text, "\"\n");
	buf_adds(&text, EV("22", ""));
	p = run(text.data, text.len, 4096, &g);
	ck_assert_int_eq(g.n, 2);
	ck_assert_uint_eq(parse_malformed(p), 1);
	parse_free(p);
	buf_free(&g.out);
	buf_free(&text);
}
END_TEST

START_TEST(test_hostile_names_escaped)
{
	/* a field name and a node name that are not UTF-8 (fuzz_stream) */
	static const char text[] =
	    "node=h\xb3 type=SYSCALL msg=audit(1700000000.100:30): au\xb3id=1 "
	    "exit=\xff comm=227D7B2274797065223A2266616B65227D0A pid=1\n"
	    "node=h\xb3 type=EOE msg=audit(1700000000.100:30): \n";
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = run(text, sizeof(text) - 1, 0, &g);
	cJSON *ev, *rec;

	ck_assert_int_eq(g.n, 1);
	ev = cJSON_Parse(g.out.data);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "node")->valuestring, "h\\xb3");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "exit")->valuestring, "\\xff");
	/* JSON in comm is a plain string value, not structure */
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "process"),
	    "comm")->valuestring, "\"}{\"type\":\"fake\"}\n");
	rec = cJSON_GetArrayItem(cJSON_GetObjectItem(ev, "records"), 0);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rec, "au\\xb3id"));
	cJSON_Delete(ev);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_cwd_twice_dropped)
{
	/*
	 * libauparse leaks on a CWD record with a second cwd field (also
	 * one nested in msg='...'); the kernel writes one, whose value has
	 * no space even when the path looks like a field. libaudit reads
	 * type names in any case.
	 */
	static const char text[] =
	    "type=CWD msg=audit(1700000000.100:50): cwd=\"/a\" cwd=\"/b\"\n"
	    "type=CWD msg=audit(1700000000.100:51): cwd=0 msg='cwd=\"\n"
	    "type=CwD msg=audit(1700000000.100:54): cwd=) cwd=6\n"
	    "type=cwd msg=audit(1700000000.100:55): cwd=\"/a\" cwd=\"/b\"\n"
	    "type=CWD msg=audit(1700000000.100:52): cwd=\"/x'cwd=y\"\n"
	    "type=EOE msg=audit(1700000000.100:52): \n"
	    "type=USER_CMD msg=audit(1700000000.100:53): pid=1 cwd=\"/a\" "
	    "msg='cwd=\"/b\" res=success'\n";
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = run(text, sizeof(text) - 1, 0, &g);

	ck_assert_uint_eq(parse_malformed(p), 4);
	ck_assert_int_eq(g.n, 2);
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"cwd\":\"/x'cwd=y\""));
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_feed_record_checks)
{
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, _i);
	static const char ok[] =
	    "type=SYSCALL msg=audit(1700000000.100:40): syscall=2 pid=1";
	static const char nl[] =
	    "type=SYSCALL msg=audit(1700000000.100:41): comm=\"a\nb\"";

	ck_assert_int_eq(parse_feed_record(p, ok, strlen(ok)), 0);
	ck_assert_int_eq(parse_feed_record(p, nl, strlen(nl)), 0);
	ck_assert_int_eq(parse_feed_record(p, "audit(1.000:1): x=1", 19), 0);
	parse_flush(p);
	ck_assert_int_eq(g.n, 1);
	ck_assert_uint_eq(parse_malformed(p), 2);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

/*
 * Records split by podtrail (parse_fast.h) must give the events
 * libauparse gives, byte for byte and in order, fed record by record
 * (netlink) or as text in chunks that cut lines anywhere (stdin, files):
 * the outputs and counters of four runs compared with libauparse fed
 * record by record. *fast_events: of the fast runs, the fewest.
 */
enum { BY_RECORD, BY_RECORD_FAST, BY_TEXT, BY_TEXT_FAST, ROUTES };

static void
fast_vs_auparse(const char *text, size_t len, unsigned long long max_records,
    unsigned long long *fast_events)
{
	struct got g[ROUTES];
	unsigned long long rec[ROUTES], bad[ROUTES], fast, fallbacks;

	if (fast_events)
		*fast_events = ~0ULL;
	for (int route = 0; route < ROUTES; route++) {
		struct parse *p;
		const char *q = text, *end = text + len, *nl;
		int on = route == BY_RECORD_FAST || route == BY_TEXT_FAST;

		g[route] = (struct got){ BUF_INIT, 0, NULL };
		p = new_parser(&g[route], collect, 0);
		parse_set_fast(p, on);
		if (max_records)
			parse_set_limits(p, max_records, 1 << 20);
		for (; route >= BY_TEXT && q < end; q = nl) {
			size_t n = 1 + ((size_t)(q - text) * 2654435761u) % 700;

			nl = (size_t)(end - q) < n ? end : q + n;
			ck_assert_int_eq(parse_feed(p, q, (size_t)(nl - q)), 0);
		}
		for (; route < BY_TEXT && q < end; q = nl + 1) {
			if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
				nl = end;
			ck_assert_int_eq(parse_feed_record(p, q,
			    (size_t)(nl - q)), 0);
			/* commits at random points, as the loop's turns do */
			if (((size_t)(q - text) * 2654435761u) % 7 == 0)
				ck_assert_int_eq(parse_commit(p), 0);
		}
		parse_flush(p);
		rec[route] = parse_records(p);
		bad[route] = parse_malformed(p);
		parse_fast_counts(p, &fast, &fallbacks);
		if (on && fast_events && fast < *fast_events)
			*fast_events = fast;
		parse_free(p);
	}
	for (int route = 1; route < ROUTES; route++) {
		same_text(&g[BY_RECORD].out, &g[route].out);
		ck_assert_int_eq(g[BY_RECORD].n, g[route].n);
		ck_assert_uint_eq(rec[BY_RECORD], rec[route]);
		ck_assert_uint_eq(bad[BY_RECORD], bad[route]);
	}
	for (int route = 0; route < ROUTES; route++)
		buf_free(&g[route].out);
}

/*
 * A recorded kernel stream into b: tests/fixtures/recorded/raw.log, or
 * with PODTRAIL_FAST_CORPUS=FILE a bigger one (bench/corpus.sh).
 */
static void
read_recorded(struct buf *b)
{
	const char *top = getenv("top_srcdir");
	char path[4096], chunk[65536];
	size_t r;
	FILE *fp;

	if (getenv("PODTRAIL_FAST_CORPUS"))
		snprintf(path, sizeof(path), "%s",
		    getenv("PODTRAIL_FAST_CORPUS"));
	else
		snprintf(path, sizeof(path),
		    "%s/tests/fixtures/recorded/raw.log", top ? top : ".");
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((r = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(b, chunk, r);
	fclose(fp);
}

START_TEST(test_fast_same_as_auparse_recorded)
{
	unsigned long long fast = 0;
	struct buf b = BUF_INIT;

	read_recorded(&b);
	fast_vs_auparse(b.data, b.len, 0, &fast);
	/* most of a real stream goes the fast way */
	ck_assert_uint_gt(fast, 100);
	buf_free(&b);
}
END_TEST

/* What the split must do as libauparse does, and what it must refuse. */
START_TEST(test_fast_same_as_auparse_edges)
{
	static const char text[] =
	    /* trailing ':' ',' '\'' ')' cut once each; (none)/(null) kept */
	    "type=SYSCALL msg=audit(1700000000.100:1): arch=c000003e "
	    "syscall=2 a=x: b=y, c=z' d=w) e=(none) f=(null) g=v), "
	    "h=v):,' tty=(none) key=(null) comm=\"a\" exe=2F62696E "
	    "(par=1 =nameless  double=space noequals x= y=\n"
	    "type=CWD msg=audit(1700000000.100:1): cwd=2F746D7020782079\n"
	    "type=PATH msg=audit(1700000000.100:1): item=0 name=(null) "
	    "inode=5 nametype=UNKNOWN\n"
	    "type=PATH msg=audit(1700000000.100:1): item=1 name=\"(null)\" "
	    "nametype=NORMAL\n"
	    "type=PROCTITLE msg=audit(1700000000.100:1): "
	    "proctitle=6C73002D6C61\n"
	    "type=EOE msg=audit(1700000000.100:1): \n"
	    /* an EOE alone, and one with no event */
	    "type=EOE msg=audit(1700000000.100:2): \n"
	    /* a key list (unquoted): libauparse splits it */
	    "type=SYSCALL msg=audit(1700000000.100:3): syscall=2 "
	    "key=6B310161320163\n"
	    "type=EOE msg=audit(1700000000.100:3): \n"
	    /* quoted key; an event that ends without EOE or PROCTITLE */
	    "type=SYSCALL msg=audit(1700000000.100:4): syscall=2 key=\"k\"\n"
	    "type=PATH msg=audit(1700000000.100:4): item=0 name=\"/a\"\n"
	    /* interleaved with event 4, then both end */
	    "type=SYSCALL msg=audit(1700000000.100:5): syscall=87\n"
	    "type=PATH msg=audit(1700000000.100:4): item=1 name=\"/b\"\n"
	    "type=EOE msg=audit(1700000000.100:5): \n"
	    "type=EOE msg=audit(1700000000.100:4): \n"
	    /* one-record events: they end at once */
	    "type=CONFIG_CHANGE msg=audit(1700000000.200:6): auid=0 "
	    "op=add_rule key=\"x\" list=4 res=1\n"
	    "type=LOGIN msg=audit(1700000000.200:7): pid=1 uid=0 "
	    "old-auid=4294967295 auid=0 tty=(none) old-ses=1 ses=2 res=1\n"
	    /* userspace records: msg='...' nests fields */
	    "type=USER_CMD msg=audit(1700000000.300:8): pid=1 uid=0 "
	    "msg='cwd=\"/\" cmd=6C73 terminal=pts/0 res=success'\n"
	    "type=AVC msg=audit(1700000000.300:9): avc:  denied  { read } "
	    "for pid=1 comm=\"x\" scontext=a tcontext=b tclass=file\n"
	    /* node= prefix, an interpretation separator */
	    "node=h1 type=SYSCALL msg=audit(1700000000.400:10): syscall=2\n"
	    "node=h1 type=EOE msg=audit(1700000000.400:10): \n"
	    "type=SYSCALL msg=audit(1700000000.400:11): syscall=2 "
	    "uid=0\x1dUID=\"root\"\n"
	    "type=EOE msg=audit(1700000000.400:11): \n"
	    /* unknown types, EXECVE's hex arguments, malformed lines */
	    "type=UNKNOWN[1999] msg=audit(1700000000.500:12): x=1\n"
	    "type=SYSCALL msg=audit(1700000000.500:13): syscall=59\n"
	    "type=EXECVE msg=audit(1700000000.500:13): argc=2 a0=6C73 "
	    "a1=\"-l\" a2_len=4 a2[0]=6162\n"
	    "garbage\n"
	    /* a type name past rec_type's 64-byte bound */
	    "type=ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "ABCDEFGHIJKLMNOP msg=audit(1700000000.500:16): x=1\n"
	    "type=SYSCALL msg=audit(0.500:14): syscall=2\n"
	    "type=EOE msg=audit(1700000000.500:13): \n"
	    /* a stamp that goes back, and the same serial again later */
	    "type=SYSCALL msg=audit(1699999990.000:15): syscall=2\n"
	    "type=PROCTITLE msg=audit(1699999990.000:15): proctitle=6C73\n"
	    "type=SYSCALL msg=audit(1700000000.600:15): syscall=2\n"
	    "type=PROCTITLE msg=audit(1700000000.600:15): proctitle=6C73\n"
	    "type=PATH msg=audit(1700000000.600:15): item=0 name=\"/late\"\n"
	    "type=EOE msg=audit(1700000000.600:15): \n";
	unsigned long long fast = 0;

	fast_vs_auparse(text, sizeof(text) - 1, 0, &fast);
	ck_assert_uint_ge(fast, 1);
	/* at the event limit libauparse's path cuts the same records */
	fast_vs_auparse(text, sizeof(text) - 1, 2, NULL);
}
END_TEST

/* Many records in one event: past the fast path's own bound. */
START_TEST(test_fast_same_as_auparse_long_event)
{
	struct buf b = BUF_INIT;
	char line[200];

	buf_adds(&b, "type=SYSCALL msg=audit(1700000000.100:1): syscall=2\n");
	for (int i = 0; i < PARSE_FAST_MAX_RECORDS + 8; i++) {
		snprintf(line, sizeof(line), "type=PATH msg=audit(1700000000"
		    ".100:1): item=%d name=\"/p%d\" nametype=NORMAL\n", i, i);
		buf_adds(&b, line);
	}
	buf_adds(&b, "type=PROCTITLE msg=audit(1700000000.100:1): "
	    "proctitle=6C73\n");
	fast_vs_auparse(b.data, b.len, 0, NULL);
	fast_vs_auparse(b.data, b.len, 10, NULL);
	buf_free(&b);
}
END_TEST

/* Each event of g's NDJSON as cJSON, in order; n of them. */
static cJSON **
events_of(const struct got *g, int *n)
{
	cJSON **ev = calloc((size_t)g->n + 1, sizeof(*ev));
	const char *q = g->out.data;

	ck_assert_ptr_nonnull(ev);
	for (*n = 0; q && *q; (*n)++) {
		const char *nl = strchr(q, '\n');

		ck_assert_ptr_nonnull(nl);
		ev[*n] = cJSON_ParseWithLength(q, (size_t)(nl - q));
		ck_assert_ptr_nonnull(ev[*n]);
		q = nl + 1;
	}
	return ev;
}

static void
events_free(cJSON **ev, int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(ev[i]);
	free(ev);
}

#define PATHREC(serial)                                                     \
	"type=PATH msg=audit(1700000000.100:" serial "): item=0 name=\"/x\" " \
	"inode=5 nametype=NORMAL\n"

/*
 * One event that never ends (a SYSCALL, then PATH records of its
 * serial, no EOE): it keeps max_records records, the rest are counted
 * on it and it is emitted as soon as another event's record comes.
 */
START_TEST(test_event_limits)
{
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, _i);
	struct buf text = BUF_INIT;
	size_t pathlen = strlen(PATHREC("50"));
	struct parse_trunc tc;
	cJSON **ev, *tr;
	int n;

	parse_set_limits(p, 100, PARSE_MAX_BYTES);
	buf_adds(&text, "type=SYSCALL msg=audit(1700000000.100:50): syscall=2 "
	    "pid=1 items=5000\n");
	for (int i = 0; i < 5000; i++)
		buf_adds(&text, PATHREC("50"));
	buf_adds(&text, EV("51", ""));
	feed(p, text.data, text.len, _i ? 4096 : 0);
	parse_sync(p);
	/* both out before the end of input: 51 has its EOE */
	ck_assert_int_eq(g.n, 2);
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"serial\":50,"));
	parse_flush(p);
	ck_assert_int_eq(g.n, 2);
	parse_truncation(p, &tc);
	ck_assert_uint_eq(tc.events, 1);
	ck_assert_uint_eq(tc.records, 4901);
	ck_assert_uint_eq(tc.bytes, 4901 * (pathlen - 1));
	ev = events_of(&g, &n);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ev[0],
	    "records")), 100);
	tr = cJSON_GetObjectItem(ev[0], "truncated");
	ck_assert_ptr_nonnull(tr);
	ck_assert_int_eq(cJSON_GetObjectItem(tr, "records")->valueint, 4901);
	ck_assert_int_eq((int)cJSON_GetObjectItem(tr, "bytes")->valuedouble,
	    (int)(4901 * (pathlen - 1)));
	/* the event after it is whole and untouched */
	ck_assert_int_eq(cJSON_GetObjectItem(ev[1], "serial")->valueint, 51);
	ck_assert_ptr_null(cJSON_GetObjectItem(ev[1], "truncated"));
	events_free(ev, n);
	parse_free(p);

	/* a byte limit: the SYSCALL (76 bytes) and 2 PATHs (77) fit in 250 */
	buf_reset(&g.out);
	g.n = 0;
	p = new_parser(&g, collect, _i);
	parse_set_limits(p, PARSE_MAX_RECORDS, 250);
	feed(p, text.data, text.len, 0);
	parse_flush(p);
	ev = events_of(&g, &n);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ev[0],
	    "records")), 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev[0],
	    "truncated"), "records")->valueint, 4998);
	events_free(ev, n);
	parse_free(p);
	buf_free(&g.out);
	buf_free(&text);
}
END_TEST

/*
 * Events that never end, each of its own serial: libauparse would keep
 * them all open (and scan them all for each record); past
 * PARSE_MAX_OPEN the oldest is ended, and every one comes out whole.
 */
START_TEST(test_many_open_events)
{
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, _i);
	struct buf text = BUF_INIT;
	struct parse_trunc tc;

	for (int i = 1; i <= 3000; i++) {
		buf_printf(&text, "type=SYSCALL msg=audit(1700000000.100:%d): "
		    "syscall=2 pid=1\n", i);
		buf_printf(&text, "type=CWD msg=audit(1700000000.100:%d): "
		    "cwd=\"/\"\n", i);
	}
	feed(p, text.data, text.len, 0);
	parse_sync(p);
	/* all but the newest PARSE_MAX_OPEN are out before the end */
	ck_assert_int_ge(g.n, 3000 - PARSE_MAX_OPEN);
	parse_truncation(p, &tc);
	ck_assert_uint_ge(tc.cut, 3000 - PARSE_MAX_OPEN);
	parse_flush(p);
	ck_assert_int_eq(g.n, 3000);
	ck_assert_uint_eq(parse_records(p), 6000);
	ck_assert_ptr_null(strstr(g.out.data, "\"truncated\""));
	/* each has its two records */
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"serial\":1,"));
	ck_assert_ptr_null(strstr(g.out.data, "\"records\":[{\"syscall\""));
	parse_free(p);
	buf_free(&g.out);
	buf_free(&text);
}
END_TEST

/*
 * Stamps libauparse reads differently or drops: every record is in an
 * event or counted as malformed, never lost quietly.
 */
START_TEST(test_stamps_as_libauparse_reads)
{
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p;
	static const char text[] =
	    /* kept: the first second, the largest serial, year 9999 */
	    "type=SYSCALL msg=audit(1.000:77): syscall=2 pid=1\n"
	    "type=SYSCALL msg=audit(1700000000.100:18446744073709551615): "
	    "syscall=2 pid=2\n"
	    "type=SYSCALL msg=audit(253402300799.999:3): syscall=2 pid=3\n"
	    "node=" "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    " type=SYSCALL msg=audit(1700000000.100:4): syscall=2 pid=4\n"
	    /* malformed: libauparse would drop or misread them */
	    "type=SYSCALL msg=audit(0.000:76): syscall=2 pid=1\n"
	    "type=SYSCALL msg=audit(18446744073709551616.000:78): syscall=2\n"
	    "type=SYSCALL msg=audit(99999999999999999999.000:79): syscall=2\n"
	    "type=SYSCALL msg=audit(1700000000.100:18446744073709551616): x=1\n"
	    "type=SYSCALL msg=audit(253402300800.000:80): syscall=2\n"
	    "type=SYSCALLSYSCALLSYSCALLSYSCALLSYSCALLSYSCALLSYSCALL "
	    "msg=audit(1700000000.100:81): syscall=2\n"
	    "type=SYSCALL msg=audit(1700000000.100:8): syscall=2 comm=\"a\0b\" "
	    "pid=8\n";
	cJSON **ev;
	int n;

	p = run(text, sizeof(text) - 1, 0, &g);
	ev = events_of(&g, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(parse_records(p), 4);
	ck_assert_uint_eq(parse_malformed(p), 7);
	/* libauparse emits them in stamp order */
	ck_assert_str_eq(cJSON_GetObjectItem(ev[0], "time")->valuestring,
	    "1970-01-01T00:00:01.000Z");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev[0],
	    "process"), "pid")->valueint, 1);
	ck_assert_ptr_nonnull(strstr(g.out.data,
	    "\"serial\":18446744073709551615,"));
	ck_assert_str_eq(cJSON_GetObjectItem(ev[3], "time")->valuestring,
	    "9999-12-31T23:59:59.999Z");
	for (int i = 0; i < n; i++)
		if (cJSON_GetObjectItem(ev[i], "serial")->valueint == 4)
			ck_assert_int_eq((int)strlen(cJSON_GetObjectItem(ev[i],
			    "node")->valuestring), 125);
	events_free(ev, n);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

/* A NUL inside a record through parse_feed_record (a netlink payload). */
START_TEST(test_feed_record_nul)
{
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, _i);
	static const char nul[] =
	    "type=SYSCALL msg=audit(1700000000.100:42): comm=\"a\0b\" pid=1";

	ck_assert_int_eq(parse_feed_record(p, nul, sizeof(nul) - 1), 0);
	parse_flush(p);
	ck_assert_int_eq(g.n, 0);
	ck_assert_uint_eq(parse_malformed(p), 1);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

/*
 * n events from serial base on, a malformed line every 97th; unless
 * all_eoe, every fifth has no EOE (it ends when libauparse decides).
 */
static void
make_events(struct buf *b, int n, int base, int all_eoe)
{
	char line[512], stamp[32];

	for (int i = 0; i < n; i++) {
		snprintf(stamp, sizeof(stamp), "%d.%03d:%d", 1700000000 + i / 1000,
		    i % 1000, base + i);
		snprintf(line, sizeof(line),
		    "type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 "
		    "success=yes exit=3 items=1 pid=%d comm=\"c%d\"\n"
		    "type=PATH msg=audit(%s): item=0 name=\"/v/%d\" inode=%d "
		    "nametype=CREATE\n", stamp, 10 + i % 7, i, stamp, i, i);
		buf_adds(b, line);
		if (all_eoe || i % 5 != 4) {
			snprintf(line, sizeof(line),
			    "type=EOE msg=audit(%s): \n", stamp);
			buf_adds(b, line);
		}
		if (i % 97 == 0)
			buf_adds(b, "not an audit record\n");
	}
}

START_TEST(test_worker_same_events)
{
	static const size_t steps[] = { 5, 333, 4096, 65536 };
	struct buf text = BUF_INIT;
	struct got a = { BUF_INIT, 0, NULL }, b = { BUF_INIT, 0, NULL };
	struct parse *p, *q;

	make_events(&text, 2000, 100, 0);
	p = run_on(text.data, text.len, 4096, &a, 0);
	q = run_on(text.data, text.len, steps[_i], &b, 1);
	ck_assert_int_eq(a.n, 2000);
	ck_assert_int_eq(b.n, a.n);
	same_text(&b.out, &a.out);
	ck_assert_uint_eq(parse_events(q), parse_events(p));
	ck_assert_uint_eq(parse_records(q), parse_records(p));
	ck_assert_uint_eq(parse_malformed(q), parse_malformed(p));
	ck_assert_uint_eq(parse_malformed(q), 21);
	parse_free(p);
	parse_free(q);
	buf_free(&a.out);
	buf_free(&b.out);
	buf_free(&text);
}
END_TEST

START_TEST(test_worker_sync)
{
	/*
	 * After a sync, the worker has emitted every event libauparse
	 * completed: as many as a parser on this thread had at that point
	 * (events without EOE hold back those after them). The reference runs
	 * first: libauparse has process-wide state, one parser at a time.
	 */
	struct buf text[5] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	struct got g = { BUF_INIT, 0, NULL }, ref = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&ref, collect, 0);
	int want[5];

	for (int r = 0; r < 5; r++) {
		make_events(&text[r], 100 * (r + 1), 10000 * (r + 1), r % 2 == 0);
		ck_assert_int_eq(parse_feed(p, text[r].data, text[r].len), 0);
		want[r] = ref.n;
	}
	ck_assert_int_ge(want[0], 99);
	parse_flush(p);
	parse_free(p);
	p = new_parser(&g, collect, 1);
	for (int r = 0; r < 5; r++) {
		ck_assert_int_eq(parse_feed(p, text[r].data, text[r].len), 0);
		ck_assert_int_eq(parse_sync(p), 0);
		ck_assert_int_eq(g.n, want[r]);
	}
	parse_flush(p);
	ck_assert_int_eq(g.n, 1500);
	same_text(&g.out, &ref.out);
	parse_free(p);
	buf_free(&g.out);
	buf_free(&ref.out);
	for (int r = 0; r < 5; r++)
		buf_free(&text[r]);
}
END_TEST

static void
collect_and_call_back(struct event *ev, void *arg)
{
	struct got *g = arg;

	/* an own event emitted from in here syncs first: must not wait */
	ck_assert_int_eq(parse_sync(g->p), 0);
	ck_assert_int_eq(parse_commit(g->p), 0);
	parse_poll(g->p);
	collect(ev, arg);
}

START_TEST(test_worker_nested_calls)
{
	struct buf text = BUF_INIT;
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect_and_call_back, 1);

	make_events(&text, 500, 100, 0);
	feed(p, text.data, text.len, 1000);
	parse_flush(p);
	ck_assert_int_eq(g.n, 500);
	parse_free(p);
	buf_free(&g.out);
	buf_free(&text);
}
END_TEST

START_TEST(test_worker_notify_fd)
{
	/*
	 * A live stream: events come out with no flush, through the fd,
	 * the newest too (libauparse holds it until its next feed call).
	 */
	static const char text[] = EV("7", "") EV("8", "") EV("9", "");
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, 1);
	struct pollfd pfd = { .fd = parse_notify_fd(p), .events = POLLIN };
	time_t deadline = time(NULL) + 20;

	ck_assert_int_eq(parse_feed(p, text, sizeof(text) - 1), 0);
	while (g.n < 3 && time(NULL) < deadline) {
		ck_assert_int_ge(poll(&pfd, 1, 1000), 0);
		parse_poll(p);
	}
	ck_assert_int_eq(g.n, 3);
	/* nothing new: the fd goes quiet and a poll emits nothing */
	parse_poll(p);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(g.n, 3);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_worker_waits_for_room)
{
	/* never polled: feeding waits for room, emitting meanwhile */
	struct buf text = BUF_INIT;
	struct got g = { BUF_INIT, 0, NULL }, ref = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, 1), *q;

	make_events(&text, 5000, 100, 1);
	feed(p, text.data, text.len, 4096);
	/* the queues hold far fewer than 5,000 events */
	ck_assert_int_gt(g.n, 0);
	parse_flush(p);
	ck_assert_int_eq(g.n, 5000);
	q = run_on(text.data, text.len, 0, &ref, 0);
	same_text(&g.out, &ref.out);
	parse_free(p);
	parse_free(q);
	buf_free(&g.out);
	buf_free(&ref.out);
	buf_free(&text);
}
END_TEST

/*
 * A worker used only while behind (a netlink source whose ring fills):
 * records are parsed in place until parse_behind(p, 1), then by jobs,
 * then in place again once those are out. Switched at random points
 * through a recorded stream, the events and counters are libauparse's
 * fed in place.
 */
START_TEST(test_worker_when_behind)
{
	static const char one[] = EV("1", ""), two[] = EV("2", "");
	struct got g = { BUF_INIT, 0, NULL }, ref = { BUF_INIT, 0, NULL };
	struct buf b = BUF_INIT;
	struct parse *p, *q;
	size_t k = 0;
	int on = 0, switches = 0;

	/* in place: emitted by the commit; behind: by the jobs, later */
	p = parse_new("n0", 2, collect, &g);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(parse_use_worker_when_behind(p), 0);
	ck_assert_int_ge(parse_notify_fd(p), 0);
	parse_behind(p, 1);
	for (const char *l = one; *l; l = strchr(l, '\n') + 1)
		ck_assert_int_eq(parse_feed_record(p, l,
		    (size_t)(strchr(l, '\n') - l)), 0);
	ck_assert_int_eq(parse_commit(p), 0);
	ck_assert_int_eq(g.n, 0);
	parse_behind(p, 0);	/* waits for the job: its event is out */
	ck_assert_int_eq(g.n, 1);
	for (const char *l = two; *l; l = strchr(l, '\n') + 1)
		ck_assert_int_eq(parse_feed_record(p, l,
		    (size_t)(strchr(l, '\n') - l)), 0);
	ck_assert_int_eq(parse_commit(p), 0);
	ck_assert_int_eq(g.n, 2);
	parse_free(p);
	buf_reset(&g.out);
	g.n = 0;

	read_recorded(&b);
	p = parse_new("n0", 2, collect, &g);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(parse_use_worker_when_behind(p), 0);
	q = parse_new("n0", 2, collect, &ref);
	ck_assert_ptr_nonnull(q);
	for (const char *l = b.data, *end = b.data + b.len, *nl; l < end;
	    l = nl + 1, k++) {
		if ((nl = memchr(l, '\n', (size_t)(end - l))) == NULL)
			nl = end;
		ck_assert_int_eq(parse_feed_record(p, l, (size_t)(nl - l)), 0);
		ck_assert_int_eq(parse_feed_record(q, l, (size_t)(nl - l)), 0);
		/* the loop's turns: commits, finished jobs, the ring's state */
		if ((k * 2654435761u) % 5 == 0) {
			ck_assert_int_eq(parse_commit(p), 0);
			ck_assert_int_eq(parse_commit(q), 0);
			parse_poll(p);
		}
		if ((k * 2654435761u) % 97 == 0) {
			on = !on;
			switches++;
			parse_behind(p, on);
		}
	}
	parse_behind(p, 0);
	parse_flush(p);
	parse_flush(q);
	ck_assert_int_gt(switches, 4);
	same_text(&ref.out, &g.out);
	ck_assert_int_eq(ref.n, g.n);
	ck_assert_uint_eq(parse_records(p), parse_records(q));
	ck_assert_uint_eq(parse_malformed(p), parse_malformed(q));
	parse_free(p);
	parse_free(q);
	buf_free(&g.out);
	buf_free(&ref.out);
	buf_free(&b);
}
END_TEST

START_TEST(test_worker_age_and_compact)
{
	/* an event with no EOE and no successor leaves on the idle timeout */
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, 1);
	static const char later[] = EV("72", "");
	char line[256];

	snprintf(line, sizeof(line),
	    "type=SYSCALL msg=audit(%ld.000:71): arch=c000003e syscall=2 "
	    "success=yes exit=3 items=0 ppid=1 pid=5 comm=\"c\"\n",
	    (long)time(NULL) - 30);
	ck_assert_int_eq(parse_feed(p, line, strlen(line)), 0);
	ck_assert_int_eq(parse_sync(p), 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_eq(parse_compact(p), 0);	/* an event is pending */
	ck_assert_int_eq(parse_age(p), 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"serial\":71"));
	/* idle now: a fresh libauparse state, which parses on */
	ck_assert_int_eq(parse_compact(p), 1);
	ck_assert_uint_eq(parse_resets(p), 1);
	ck_assert_int_eq(parse_feed(p, later, sizeof(later) - 1), 0);
	parse_flush(p);
	ck_assert_int_eq(g.n, 2);
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"serial\":72"));
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_worker_free_with_input_queued)
{
	/* stopping with input queued and batches out: no hang, no leak */
	struct buf text = BUF_INIT;
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = new_parser(&g, collect, 1);

	make_events(&text, 3000, 100, 0);
	feed(p, text.data, text.len, 65536);
	parse_free(p);
	ck_assert_int_lt(g.n, 3000);
	buf_free(&g.out);
	buf_free(&text);
}
END_TEST

START_TEST(test_worker_refused_while_held)
{
	/*
	 * Helpers held back (until privileges are dropped): no worker, so
	 * libauparse never changes threads; the parser works on here.
	 */
	static const char text[] = EV("60", "") EV("61", "");
	struct got g = { BUF_INIT, 0, NULL };
	struct parse *p = parse_new("n0", 2, collect, &g);

	ck_assert_ptr_nonnull(p);
	thread_hold();
	ck_assert_int_eq(parse_use_worker(p), -1);
	thread_release();
	ck_assert_int_eq(parse_notify_fd(p), -1);
	feed(p, text, sizeof(text) - 1, 7);
	parse_flush(p);
	ck_assert_int_eq(g.n, 2);
	ck_assert_uint_eq(parse_events(p), 2);
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_malformed_lines_dropped, 0, 2);
	tcase_add_loop_test(tc, test_chunking_invariant, 0, 2);
	tcase_add_loop_test(tc, test_overlong_line, 0, 2);
	tcase_add_loop_test(tc, test_hostile_names_escaped, 0, 2);
	tcase_add_loop_test(tc, test_feed_record_checks, 0, 2);
	tcase_add_loop_test(tc, test_cwd_twice_dropped, 0, 2);
	tcase_add_loop_test(tc, test_event_limits, 0, 2);
	tcase_add_loop_test(tc, test_many_open_events, 0, 2);
	tcase_add_loop_test(tc, test_stamps_as_libauparse_reads, 0, 2);
	tcase_add_loop_test(tc, test_feed_record_nul, 0, 2);
	tcase_add_loop_test(tc, test_worker_same_events, 0, 4);
	tcase_add_test(tc, test_fast_same_as_auparse_recorded);
	tcase_add_test(tc, test_fast_same_as_auparse_edges);
	tcase_add_test(tc, test_fast_same_as_auparse_long_event);
	tcase_add_test(tc, test_worker_sync);
	tcase_add_test(tc, test_worker_nested_calls);
	tcase_add_test(tc, test_worker_notify_fd);
	tcase_add_test(tc, test_worker_waits_for_room);
	tcase_add_test(tc, test_worker_age_and_compact);
	tcase_add_test(tc, test_worker_when_behind);
	tcase_add_test(tc, test_worker_free_with_input_queued);
	tcase_add_test(tc, test_worker_refused_while_held);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
