/* test_fwd.c - retry classification, backoff, payload formats, gzip. */
#include "../../src/fwd.c"

#include <check.h>

START_TEST(classify)
{
	ck_assert_int_eq(fwd_classify(CURLE_OK, 200), FWD_DONE);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 204), FWD_DONE);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 408), FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 429), FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 500), FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 503), FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 400), FWD_DEAD);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 401), FWD_DEAD);
	ck_assert_int_eq(fwd_classify(CURLE_OK, 413), FWD_DEAD);
	ck_assert_int_eq(fwd_classify(CURLE_COULDNT_CONNECT, 0), FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_PEER_FAILED_VERIFICATION, 0),
	    FWD_RETRY);
	ck_assert_int_eq(fwd_classify(CURLE_OPERATION_TIMEDOUT, 0), FWD_RETRY);
}
END_TEST

START_TEST(backoff_grows_with_jitter_and_caps)
{
	for (unsigned f = 1; f < 40; f++) {
		long d = fwd_backoff_ms(f), full = BACKOFF_MIN_MS;

		for (unsigned i = 1; i < f && full < BACKOFF_MAX_MS; i++)
			full *= 2;
		if (full > BACKOFF_MAX_MS)
			full = BACKOFF_MAX_MS;
		ck_assert_int_ge(d, full / 2);
		ck_assert_int_le(d, full);
	}
}
END_TEST

START_TEST(seq_and_time_from_lines)
{
	const char *l = "{\"type\":\"audit\",\"time\":\"2023-11-14T22:13:20.250Z\","
	    "\"argv\":[\"\\\"seq\\\":9\"],\"stream\":\"n/x\",\"seq\":1234,"
	    "\"prev\":\"00\",\"hash\":\"ff\"}";

	ck_assert_uint_eq(line_seq(l, strlen(l)), 1234);
	ck_assert_uint_eq(line_seq("{}", 2), 0);
	ck_assert(line_time(l) == 1700000000.25);
}
END_TEST

START_TEST(formats)
{
	struct fwd f = { .fmt = FMT_ES, .es_index = (char *)"audit" };
	struct buf raw = BUF_INIT, out = BUF_INIT;

	snprintf(f.node, sizeof(f.node), "n1");
	buf_adds(&raw, "{\"a\":1}\n{\"time\":\"1970-01-01T00:00:01.000Z\"}\n");
	ck_assert_int_eq(format_body(&f, &raw, &out), 0);
	ck_assert_str_eq(out.data, "{\"index\":{\"_index\":\"audit\"}}\n"
	    "{\"a\":1}\n{\"index\":{\"_index\":\"audit\"}}\n"
	    "{\"time\":\"1970-01-01T00:00:01.000Z\"}\n");
	f.fmt = FMT_SPLUNK;
	ck_assert_int_eq(format_body(&f, &raw, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "{\"time\":1.000,\"host\":\"n1\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"event\":{\"a\":1}}\n"));
	f.fmt = FMT_NDJSON;
	ck_assert_int_eq(format_body(&f, &raw, &out), 0);
	ck_assert_str_eq(out.data, raw.data);
	buf_free(&raw);
	buf_free(&out);
}
END_TEST

START_TEST(gzip_round_trip)
{
	struct buf in = BUF_INIT, gz = BUF_INIT;
	char back[8192];
	z_stream z;

	for (int i = 0; i < 100; i++)
		buf_printf(&in, "{\"seq\":%d}\n", i);
	ck_assert_int_eq(gzip_buf(&in, &gz), 0);
	ck_assert_uint_lt(gz.len, in.len);
	ck_assert_int_eq((unsigned char)gz.data[0], 0x1f);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz.data;
	z.avail_in = (uInt)gz.len;
	z.next_out = (Bytef *)back;
	z.avail_out = sizeof(back);
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, in.len);
	ck_assert_int_eq(memcmp(back, in.data, in.len), 0);
	inflateEnd(&z);
	buf_free(&in);
	buf_free(&gz);
}
END_TEST

START_TEST(url_policy)
{
	ck_assert_int_eq(check_url("https://agg.example:8443/ingest", 0), 0);
	ck_assert_int_eq(check_url("http://127.0.0.1:8080/", 0), -1);
	ck_assert_int_eq(check_url("http://127.0.0.1:8080/", 1), 0);
	ck_assert_int_eq(check_url("http://localhost/", 1), 0);
	ck_assert_int_eq(check_url("http://agg.example/", 1), -1);
	ck_assert_int_eq(check_url("ftp://agg.example/", 1), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_test(tc, classify);
	tcase_add_test(tc, backoff_grows_with_jitter_and_caps);
	tcase_add_test(tc, seq_and_time_from_lines);
	tcase_add_test(tc, formats);
	tcase_add_test(tc, gzip_round_trip);
	tcase_add_test(tc, url_policy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
