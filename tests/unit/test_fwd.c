/*
 * test_fwd.c - retry classification, backoff, header and URL policy,
 * loss reports, compressed spool segments and the bodies made from
 * them. Links the modules as the daemon does; the output is driven
 * through fwd_https_ops.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

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
#include "output.h"
#include "spool.h"
#include "unit.h"


START_TEST(classify)
{
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 200), FWD_DONE);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 204), FWD_DONE);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 408), FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 429), FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 500), FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 503), FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 400), FWD_DEAD);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 409), FWD_DEAD);
	/* config errors hold the spool; too large is split */
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 401), FWD_HOLD);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 403), FWD_HOLD);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 404), FWD_HOLD);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OK, 413), FWD_SPLIT);
	ck_assert_int_eq(fwd_retry_classify(CURLE_COULDNT_CONNECT, 0), FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_PEER_FAILED_VERIFICATION, 0),
	    FWD_RETRY);
	ck_assert_int_eq(fwd_retry_classify(CURLE_OPERATION_TIMEDOUT, 0), FWD_RETRY);
}
END_TEST

START_TEST(backoff_grows_with_jitter_and_caps)
{
	for (unsigned f = 1; f < 40; f++) {
		long d = fwd_retry_backoff_ms(f), full = FWD_RETRY_BACKOFF_MIN_MS;

		for (unsigned i = 1; i < f && full < FWD_RETRY_BACKOFF_MAX_MS; i++)
			full *= 2;
		if (full > FWD_RETRY_BACKOFF_MAX_MS)
			full = FWD_RETRY_BACKOFF_MAX_MS;
		ck_assert_int_ge(d, full / 2);
		ck_assert_int_le(d, full);
	}
	/* held batches: 5 s doubling to 5 min */
	ck_assert_int_ge(fwd_retry_hold_ms(1), FWD_RETRY_HOLD_MIN_MS / 2);
	ck_assert_int_le(fwd_retry_hold_ms(1), FWD_RETRY_HOLD_MIN_MS);
	ck_assert_int_ge(fwd_retry_hold_ms(30), FWD_RETRY_HOLD_MAX_MS / 2);
	ck_assert_int_le(fwd_retry_hold_ms(30), FWD_RETRY_HOLD_MAX_MS);
}
END_TEST

START_TEST(seq_from_lines)
{
	const char *l = "{\"type\":\"audit\",\"time\":\"2023-11-14T22:13:20.250Z\","
	    "\"argv\":[\"\\\"seq\\\":9\"],\"stream\":\"n/x\",\"seq\":1234,"
	    "\"prev\":\"00\",\"hash\":\"ff\"}";

	ck_assert_uint_eq(fwd_body_line_seq(l, strlen(l)), 1234);
	ck_assert_uint_eq(fwd_body_line_seq("{}", 2), 0);
}
END_TEST

/* After a 413, lines [off, off + n) of the batch go in one request. */
START_TEST(parts_select_lines)
{
	struct buf nd = BUF_INIT, out = BUF_INIT;

	buf_adds(&nd, "{\"seq\":1}\n{\"seq\":2}\n\n{\"seq\":3}\n{\"seq\":4}");
	ck_assert_uint_eq(fwd_body_count_lines(&nd), 4);
	ck_assert_int_eq(fwd_body_select_lines(&nd, 1, 2, &out), 0);
	ck_assert_str_eq(out.data, "{\"seq\":2}\n{\"seq\":3}\n");
	ck_assert_int_eq(fwd_body_select_lines(&nd, 3, 2, &out), 0);
	ck_assert_str_eq(out.data, "{\"seq\":4}\n");
	ck_assert_int_eq(fwd_body_select_lines(&nd, 2, 0, &out), 0);
	ck_assert_str_eq(out.data, "{\"seq\":3}\n{\"seq\":4}\n");
	buf_free(&nd);
	buf_free(&out);
}
END_TEST

START_TEST(header_policy)
{
	ck_assert_int_eq(fwd_curl_check_header("X-Scope-OrgID: tenant-1", 0), 0);
	ck_assert_int_eq(fwd_curl_check_header("Accept: a, b", 0), 0);
	ck_assert_int_eq(fwd_curl_check_header("Authorization: Custom x", 0), 0);
	ck_assert_int_eq(fwd_curl_check_header("Authorization: Custom x", 1), -1);
	ck_assert_int_eq(fwd_curl_check_header("content-type: text/plain", 0), -1);
	ck_assert_int_eq(fwd_curl_check_header("Content-Encoding:", 0), -1);
	ck_assert_int_eq(fwd_curl_check_header("X-Empty:  ", 0), -1);
	ck_assert_int_eq(fwd_curl_check_header("Bad Name: x", 0), -1);
	ck_assert_int_eq(fwd_curl_check_header("NoColon", 0), -1);
	ck_assert_int_eq(fwd_curl_check_header("X-A: b\r\nX-Evil: c", 0), -1);
}
END_TEST

START_TEST(url_policy)
{
	char e[256];

	ck_assert_int_eq(fwd_curl_check_url("https://agg.example:8443/ingest", 0,
	    e, sizeof(e)), 0);
	ck_assert_int_eq(fwd_curl_check_url("http://127.0.0.1:8080/", 0, e,
	    sizeof(e)), -1);
	ck_assert_ptr_nonnull(strstr(e, "allow_http"));
	ck_assert_int_eq(fwd_curl_check_url("http://127.0.0.1:8080/", 1, e,
	    sizeof(e)), 0);
	ck_assert_int_eq(fwd_curl_check_url("http://localhost/", 1, e,
	    sizeof(e)), 0);
	ck_assert_int_eq(fwd_curl_check_url("http://agg.example/", 1, e,
	    sizeof(e)), -1);
	ck_assert_int_eq(fwd_curl_check_url("ftp://agg.example/", 1, e,
	    sizeof(e)), -1);
	ck_assert_str_eq(e, "scheme ftp is not https");
}
END_TEST

/*
 * A loss report dropped with its batch (the spool cannot take it) must
 * not hide the losses it told of: the next report repeats them.
 */
struct report_ctx {
	void *f;
	int big;			/* the report's own line cannot be kept */
	unsigned long long seq;
	unsigned long long lost, first, last;
};

/* A line of pad bytes that gzip cannot shrink much (batches are gzip'd). */
static void
write_line(void *f, unsigned long long seq, size_t pad)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct buf b = BUF_INIT;
	unsigned x = (unsigned)seq * 2654435761u + 1;

	ck_assert_int_eq(buf_printf(&b, "{\"pad\":\""), 0);
	for (size_t i = 0; i < pad; i++) {
		x = x * 1103515245u + 12345u;
		ck_assert_int_eq(buf_addc(&b, a[(x >> 16) % 62]), 0);
	}
	ck_assert_int_eq(buf_printf(&b, "\",\"seq\":%llu}", seq), 0);
	ck_assert_int_eq(fwd_https_ops.write(f, &(struct sealed){ .line = b.data,
	    .len = b.len, .seq = seq }), 0);
	buf_free(&b);
}

static void
on_report(cJSON *ev, void *arg)
{
	struct report_ctx *r = arg;

	r->lost = (unsigned long long)cJSON_GetNumberValue(
	    cJSON_GetObjectItem(ev, "lost_events"));
	r->first = strtoull(cJSON_GetObjectItem(ev, "lost_first_seq")->valuestring,
	    NULL, 10);
	r->last = strtoull(cJSON_GetObjectItem(ev, "lost_last_seq")->valuestring,
	    NULL, 10);
	cJSON_Delete(ev);
	/* the pipeline would chain the report and hand it back to us */
	write_line(r->f, ++r->seq, r->big ? 120000 : 10);
}

START_TEST(lost_report_is_repeated)
{
	struct report_ctx r = { 0 };
	struct loop *loop;
	struct conf c;
	char dir[] = "/tmp/test_fwd.XXXXXX", cmd[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(conf_defaults(&c), 0);
	free(c.state_dir);
	c.state_dir = strdup(dir);
	c.batch_events = 1;		/* every line is its own batch */
	c.spool_max_bytes = 65536;	/* a 120 kB batch (~90 kB gzip'd) can never be kept */
	c.spool_min_free = 0;
	ck_assert_ptr_nonnull(loop = loop_new());
	ck_assert_ptr_nonnull(r.f = fwd_https_ops.open("https://127.0.0.1:1/x", loop, &c));
	fwd_https_ops.set_emit(r.f, on_report, &r);

	write_line(r.f, r.seq = 1, 120000);	/* lost */
	r.big = 1;
	fwd_https_ops.flush(r.f);				/* report 2 is lost too */
	ck_assert_uint_eq(r.lost, 1);
	r.big = 0;
	fwd_https_ops.flush(r.f);				/* report 3 is kept */
	ck_assert_uint_eq(r.lost, 2);
	ck_assert_uint_eq(r.first, 1);
	ck_assert_uint_eq(r.last, 2);
	write_line(r.f, ++r.seq, 120000);	/* seq 4, lost */
	/*
	 * report 3 is only spooled, not delivered (the cap may still evict
	 * it): the next report repeats everything since the last delivered
	 */
	fwd_https_ops.flush(r.f);
	ck_assert_uint_eq(r.lost, 3);
	ck_assert_uint_eq(r.first, 1);
	ck_assert_uint_eq(r.last, 4);

	fwd_https_ops.close(r.f);
	loop_free(loop);
	conf_free(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * Sealed batches are spooled as one gzip member of their NDJSON lines;
 * bodies are made from those and from plain segments of older versions;
 * a segment that is neither is refused (-2: dead letter, not retried).
 */
/* A counter from the output's stats. */
static double
stat(void *f, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	double v;

	fwd_https_ops.stats(f, o);
	v = cJSON_GetNumberValue(cJSON_GetObjectItem(o, name));
	cJSON_Delete(o);
	return v;
}

START_TEST(compressed_segments)
{
	void *f;
	struct loop *loop;
	struct conf c;
	struct spool *sp;
	struct spool_seg seg;
	struct fwd_format fmt;
	struct fwd_body b = { .kind = FWD_BODY_REQUEST, .fmt = &fmt };
	struct buf plain = BUF_INIT, lines = BUF_INIT;
	char dir[] = "/tmp/test_fwd.XXXXXX", cmd[64], err[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(conf_defaults(&c), 0);
	free(c.state_dir);
	c.state_dir = strdup(dir);
	c.batch_events = 3;
	ck_assert_ptr_nonnull(loop = loop_new());
	/* port 1: nothing answers, so batches stay spooled */
	ck_assert_ptr_nonnull(f = fwd_https_ops.open("https://127.0.0.1:1/x", loop, &c));
	for (int i = 1; i <= 3; i++)
		write_line(f, (unsigned long long)i + 10, 20);
	ck_assert(stat(f, "fwd_sent_batches") == 0);
	ck_assert(stat(f, "spool_batches") == 1);
	fwd_https_ops.close(f);
	loop_free(loop);
	/* what was spooled: gzip, and the lines come back */
	ck_assert_ptr_nonnull(sp = spool_open(dir, LLONG_MAX, 0));
	ck_assert_int_eq(spool_peek(sp, &b.raw, &seg), 1);
	ck_assert_uint_eq(seg.events, 3);
	ck_assert_uint_eq(seg.first_seq, 11);
	ck_assert_uint_eq(seg.last_seq, 13);
	spool_close(sp);
	ck_assert_ptr_nonnull(b.gz = gzip_new());
	ck_assert(gzip_is_member(&b.raw));
	ck_assert_int_eq(gzip_decompress(b.gz, &b.raw, &plain), 0);
	ck_assert_uint_eq(plain.len, 3 * strlen("{\"pad\":\"01234567890123456789\",\"seq\":11}\n"));
	ck_assert_ptr_nonnull(strstr(plain.data, "\"seq\":13}\n"));

	/* a gzip segment -> an ES body; a plain one too; the same text */
	ck_assert_int_eq(fwd_format_init(&fmt, "elasticsearch", "native", err,
	    sizeof(err)), 0);
	fmt.es_index = "i";
	fmt.node = "n";
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_uint_eq(b.part_total, 3);
	ck_assert_uint_eq(b.part_sent, 3);
	ck_assert_int_eq(gzip_decompress(b.gz, &b.body, &lines), 0);
	ck_assert_ptr_nonnull(strstr(lines.data, "{\"create\":{\"_index\":\"i\"}}\n{\"pad\""));
	buf_reset(&b.raw);
	buf_add(&b.raw, plain.data, plain.len);
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(gzip_decompress(b.gz, &b.body, &plain), 0);
	ck_assert_str_eq(plain.data, lines.data);
	/* after a 413: only the part asked for, and sel holds its lines */
	b.in_parts = 1;
	b.part_off = 1;
	b.part_n = 1;
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_uint_eq(b.part_total, 3);
	ck_assert_uint_eq(b.part_sent, 1);
	ck_assert_ptr_nonnull(strstr(b.sel.data, "\"seq\":12}\n"));
	b.in_parts = 0;
	/* NDJSON from a plain segment: gzip'd as it is */
	fmt.fmt = FWD_FMT_NDJSON;
	buf_reset(&b.raw);
	buf_adds(&b.raw, "{\"seq\":1}\n");
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(gzip_decompress(b.gz, &b.body, &plain), 0);
	ck_assert_str_eq(plain.data, "{\"seq\":1}\n");
	/* damaged: a cut member, and a trailer that claims too much */
	buf_reset(&b.raw);
	buf_add(&b.raw, b.body.data, b.body.len - 6);
	fmt.fmt = FWD_FMT_SPLUNK;
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, -2);
	buf_reset(&b.raw);
	buf_add(&b.raw, b.body.data, b.body.len);
	b.raw.data[b.raw.len - 1] = (char)0xff;
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, -2);
	/* a sealed batch: one gzip member of its lines */
	b.kind = FWD_BODY_SEAL;
	buf_adds(&b.zraw, "{\"seq\":5}\n");
	fwd_body_run(&b);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(gzip_decompress(b.gz, &b.zgz, &plain), 0);
	ck_assert_str_eq(plain.data, "{\"seq\":5}\n");

	gzip_free(b.gz);
	fwd_body_free(&b);
	conf_free(&c);
	buf_free(&plain);
	buf_free(&lines);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Lines refused item by item are picked with their seq range. */
START_TEST(dead_lines_picked)
{
	struct buf sel = BUF_INIT, out = BUF_INIT;
	enum fwd_item it[3] = { FWD_ITEM_OK, FWD_ITEM_DEAD, FWD_ITEM_DEAD };
	unsigned long long first, last;

	buf_adds(&sel, "{\"seq\":7}\n{\"seq\":9}\n{\"seq\":8}\n");
	ck_assert_uint_eq(fwd_body_pick_lines(&sel, it, &out, &first, &last), 2);
	ck_assert_str_eq(out.data, "{\"seq\":9}\n{\"seq\":8}\n");
	ck_assert_uint_eq(first, 8);
	ck_assert_uint_eq(last, 9);
	ck_assert_uint_eq(fwd_body_pick_lines(&sel, NULL, &out, &first, &last), 3);
	ck_assert_uint_eq(first, 7);
	buf_free(&sel);
	buf_free(&out);
}
END_TEST

/* A _bulk answer: no errors, a refusal, a retry, nonsense. */
START_TEST(bulk_verdicts)
{
	struct buf r = BUF_INIT;
	enum fwd_item *items;
	size_t retry, dead;
	char why[256];

	buf_adds(&r, "{\"errors\":false,\"items\":[]}");
	ck_assert_int_eq(fwd_retry_bulk(&r, 2, &items, &retry, &dead, why,
	    sizeof(why)), FWD_DONE);
	ck_assert_ptr_null(items);
	buf_reset(&r);
	buf_adds(&r, "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
	    "{\"create\":{\"status\":400,\"error\":{\"type\":\"x\","
	    "\"reason\":\"y\"}}}]}");
	ck_assert_int_eq(fwd_retry_bulk(&r, 2, &items, &retry, &dead, why,
	    sizeof(why)), FWD_DONE);
	ck_assert_ptr_nonnull(items);
	ck_assert_uint_eq(dead, 1);
	ck_assert_int_eq(items[1], FWD_ITEM_DEAD);
	free(items);
	buf_reset(&r);
	buf_adds(&r, "{\"errors\":true,\"items\":[{\"create\":{\"status\":429}},"
	    "{\"create\":{\"status\":201}}]}");
	ck_assert_int_eq(fwd_retry_bulk(&r, 2, &items, &retry, &dead, why,
	    sizeof(why)), FWD_RETRY);
	ck_assert_uint_eq(retry, 1);
	ck_assert_ptr_null(items);
	buf_reset(&r);
	buf_adds(&r, "oops");
	ck_assert_int_eq(fwd_retry_bulk(&r, 2, &items, &retry, &dead, why,
	    sizeof(why)), FWD_RETRY);
	buf_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_test(tc, classify);
	tcase_add_test(tc, backoff_grows_with_jitter_and_caps);
	tcase_add_test(tc, seq_from_lines);
	tcase_add_test(tc, parts_select_lines);
	tcase_add_test(tc, url_policy);
	tcase_add_test(tc, header_policy);
	tcase_add_test(tc, lost_report_is_repeated);
	tcase_add_test(tc, compressed_segments);
	tcase_add_test(tc, dead_lines_picked);
	tcase_add_test(tc, bulk_verdicts);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
