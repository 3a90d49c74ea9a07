/*
 * test_output_nats.c - the nats:// output's policy: ack verdicts,
 * subjects, message ids, server lists, the split of an oversized batch.
 * It includes output_nats_pub.c for its static split() and seg_free();
 * the rest of the output is linked from libpodtrail.a, as the daemon is.
 */
#include "../../src/output_nats_pub.c"

#include <check.h>
#include "unit.h"

START_TEST(classify)
{
	ck_assert_int_eq(output_nats_classify(NATS_OK, 0), ONATS_DONE);
	ck_assert_int_eq(output_nats_classify(NATS_TIMEOUT, 0), ONATS_RETRY);
	ck_assert_int_eq(output_nats_classify(NATS_NO_RESPONDERS, 0),
	    ONATS_RETRY);
	ck_assert_int_eq(output_nats_classify(NATS_CONNECTION_CLOSED, 0),
	    ONATS_RETRY);
	ck_assert_int_eq(output_nats_classify(NATS_ERR,
	    JSStreamNotMatchErr), ONATS_RETRY);
	ck_assert_int_eq(output_nats_classify(NATS_ERR,
	    JSStreamMessageExceedsMaximumErr), ONATS_DEAD);
}
END_TEST

START_TEST(subjects)
{
	char s[64];

	ck_assert_int_eq(output_nats_subject("podtrail.NODE", "worker-3", s,
	    sizeof(s)), 0);
	ck_assert_str_eq(s, "podtrail.worker-3");
	/* a node name cannot add tokens or wildcards */
	ck_assert_int_eq(output_nats_subject("podtrail.NODE",
	    "w 1.example.com*>", s, sizeof(s)), 0);
	ck_assert_str_eq(s, "podtrail.w_1_example_com__");
	ck_assert_int_eq(output_nats_subject("audit.NODE.mounts", "n", s,
	    sizeof(s)), 0);
	ck_assert_str_eq(s, "audit.n.mounts");
	ck_assert_int_eq(output_nats_subject("NODEX.a", "n", s, sizeof(s)), 0);
	ck_assert_str_eq(s, "NODEX.a");
	ck_assert_int_eq(output_nats_subject("podtrail.>", "n", s, sizeof(s)),
	    -1);
	ck_assert_int_eq(output_nats_subject("a..b", "n", s, sizeof(s)), -1);
	ck_assert_int_eq(output_nats_subject("a.", "n", s, sizeof(s)), -1);
	ck_assert_int_eq(output_nats_subject("", "n", s, sizeof(s)), -1);
	ck_assert_int_eq(output_nats_subject("NODE", "", s, sizeof(s)), -1);
	ck_assert_int_eq(output_nats_subject("podtrail.NODE",
	    "a-very-long-node-name-that-does-not-fit-in-the-buffer-at-all", s,
	    16), -1);
}
END_TEST

START_TEST(msg_ids)
{
	const char *l = "{\"exit\":0,\"records\":[{\"x\":"
	    "\",\\\"stream\\\":\\\"fake\"}],\"seq\":7,"
	    "\"stream\":\"node/ab12\",\"type\":\"audit\"}\n"
	    "{\"seq\":8,\"stream\":\"node/ab12\"}\n";
	char id[64];

	ck_assert_int_eq(output_nats_msg_id(l, strlen(l), 7, 8, id,
	    sizeof(id)), 0);
	ck_assert_str_eq(id, "node/ab12:7-8");
	ck_assert_uint_eq(output_nats_seq_of(l, (size_t)(strchr(l, '\n') - l)),
	    7);
	ck_assert_int_eq(output_nats_msg_id("{\"seq\":1}\n", 10, 1, 1, id,
	    sizeof(id)), -1);
	ck_assert_int_eq(output_nats_msg_id(l, strlen(l), 7, 8, id, 8), -1);
}
END_TEST

START_TEST(servers)
{
	char **u = NULL;
	int lo, n;

	n = output_nats_servers("nats://127.0.0.1:4222,localhost:4223,"
	    "nats://[::1]:4224", &u, &lo);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(u[0], "nats://127.0.0.1:4222");
	ck_assert_str_eq(u[1], "nats://localhost:4223");
	ck_assert_str_eq(u[2], "nats://[::1]:4224");
	ck_assert_int_eq(lo, 1);
	output_nats_free_servers(u, n);
	n = output_nats_servers("nats://127.0.0.1:4222,nats.example:4222", &u,
	    &lo);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(lo, 0);
	output_nats_free_servers(u, n);
	ck_assert_int_eq(output_nats_servers("nats://h", &u, &lo), -1);
	ck_assert_int_eq(output_nats_servers("nats://h:x", &u, &lo), -1);
	ck_assert_int_eq(output_nats_servers("nats://u:p@h:1", &u, &lo), -1);
	ck_assert_int_eq(output_nats_servers("nats://h:1/x", &u, &lo), -1);
	ck_assert_int_eq(output_nats_servers("nats://", &u, &lo), -1);
	ck_assert_int_eq(output_nats_servers("https://h:1", &u, &lo), -1);
}
END_TEST

/* A batch over the server's limit goes out as messages of whole lines. */
START_TEST(split_oversized)
{
	struct onats f;
	struct nseg *g = calloc(1, sizeof(*g));
	struct buf plain = BUF_INIT, back = BUF_INIT;
	size_t total = 0;

	memset(&f, 0, sizeof(f));
	ck_assert_ptr_nonnull(f.gz = gzip_new());
	for (int i = 1; i <= 40; i++)
		buf_printf(&plain, "{\"pad\":\"%0100d\",\"seq\":%d,"
		    "\"stream\":\"n/1\"}\n", i, i);
	ck_assert_int_eq(split(&f, g, &plain, 1, 1000), 0);
	ck_assert_uint_gt(g->nm, 4);
	ck_assert_str_eq(g->m[0].id, "n/1:1-7");
	for (size_t i = 0; i < g->nm; i++) {
		ck_assert(g->m[i].gz);
		ck_assert_int_eq(gzip_decompress(f.gz, &g->m[i].data, &back), 0);
		ck_assert_uint_le(back.len, 1000);
		ck_assert_int_eq(memcmp(back.data, plain.data + total,
		    back.len), 0);
		total += back.len;
	}
	ck_assert_uint_eq(total, plain.len);
	ck_assert_ptr_nonnull(strstr(g->m[g->nm - 1].id, "-40"));
	/* one line alone over the limit can never be sent */
	seg_free(&f, g);
	g = calloc(1, sizeof(*g));
	ck_assert_int_eq(split(&f, g, &plain, 0, 100), -2);
	seg_free(&f, g);
	gzip_free(f.gz);
	buf_free(&f.zgz);
	buf_free(&f.chunk);
	buf_free(&plain);
	buf_free(&back);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("output_nats");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_test(tc, classify);
	tcase_add_test(tc, subjects);
	tcase_add_test(tc, msg_ids);
	tcase_add_test(tc, servers);
	tcase_add_test(tc, split_oversized);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
