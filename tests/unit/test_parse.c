/*
 * test_parse.c - the audit text stream parser on bad input: malformed
 * lines are dropped and counted, any chunking gives the same events,
 * hostile names come out as escaped strings.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "parse.h"
#include "unit.h"

struct got {
	struct buf out;		/* NDJSON of every event */
	int n;
};

static void
collect(cJSON *ev, void *arg)
{
	struct got *g = arg;

	ck_assert_int_eq(json_write(&g->out, ev, 0, NULL), 0);
	buf_addc(&g->out, '\n');
	g->n++;
	cJSON_Delete(ev);
}

/* Feed text in chunks of size step (0: all at once); returns the parser. */
static struct parse *
run(const char *text, size_t len, size_t step, struct got *g)
{
	struct parse *p = parse_new("n0", 2, collect, g);

	ck_assert_ptr_nonnull(p);
	if (step == 0)
		step = len ? len : 1;
	for (size_t i = 0; i < len; i += step)
		ck_assert_int_eq(parse_feed(p, text + i,
		    len - i < step ? len - i : step), 0);
	parse_flush(p);
	return p;
}

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
	struct got g = { BUF_INIT, 0 };
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
	struct got whole = { BUF_INIT, 0 };
	struct parse *p = run(text, sizeof(text) - 2, 0, &whole);

	ck_assert_int_eq(whole.n, 3);
	parse_free(p);
	for (size_t step = 1; step < 40; step += 3) {
		struct got g = { BUF_INIT, 0 };

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
	struct got g = { BUF_INIT, 0 };
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
	struct got g = { BUF_INIT, 0 };
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
	 * no space even when the path looks like a field.
	 */
	static const char text[] =
	    "type=CWD msg=audit(1700000000.100:50): cwd=\"/a\" cwd=\"/b\"\n"
	    "type=CWD msg=audit(1700000000.100:51): cwd=0 msg='cwd=\"\n"
	    "type=CWD msg=audit(1700000000.100:52): cwd=\"/x'cwd=y\"\n"
	    "type=EOE msg=audit(1700000000.100:52): \n"
	    "type=USER_CMD msg=audit(1700000000.100:53): pid=1 cwd=\"/a\" "
	    "msg='cwd=\"/b\" res=success'\n";
	struct got g = { BUF_INIT, 0 };
	struct parse *p = run(text, sizeof(text) - 1, 0, &g);

	ck_assert_uint_eq(parse_malformed(p), 2);
	ck_assert_int_eq(g.n, 2);
	ck_assert_ptr_nonnull(strstr(g.out.data, "\"cwd\":\"/x'cwd=y\""));
	parse_free(p);
	buf_free(&g.out);
}
END_TEST

START_TEST(test_feed_record_checks)
{
	struct got g = { BUF_INIT, 0 };
	struct parse *p = parse_new("n0", 2, collect, &g);
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

int
main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_malformed_lines_dropped);
	tcase_add_test(tc, test_chunking_invariant);
	tcase_add_test(tc, test_overlong_line);
	tcase_add_test(tc, test_hostile_names_escaped);
	tcase_add_test(tc, test_feed_record_checks);
	tcase_add_test(tc, test_cwd_twice_dropped);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
