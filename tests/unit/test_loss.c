/* test_loss.c - the shape every podtrail_loss report shares, and spool's. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "loss.h"
#include "spool.h"
#include "unit.h"

/* The keys of ev in order, comma-separated, into out. */
static void
keys(const cJSON *ev, char *out, size_t len)
{
	const cJSON *c;
	size_t n = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(c, ev) {
		int w = snprintf(out + n, len - n, "%s%s", n ? "," : "",
		    c->string);

		ck_assert(w > 0 && (size_t)w < len - n);
		n += (size_t)w;
	}
}

START_TEST(cause_and_count_come_first)
{
	cJSON *ev = loss_event("n1", "kernel_lost", 7);
	char k[256];

	ck_assert_ptr_nonnull(ev);
	keys(ev, k, sizeof(k));
	ck_assert_str_eq(k, "type,time,node,cause,count");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring,
	    "podtrail_loss");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "node")->valuestring, "n1");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "cause")->valuestring,
	    "kernel_lost");
	ck_assert_int_eq((int)cJSON_GetObjectItem(ev, "count")->valuedouble, 7);
	cJSON_Delete(ev);
}
END_TEST

START_TEST(spool_reports_every_loss_not_yet_told)
{
	struct spool_loss u = { 0 };
	struct spool_loss a = { .events = 10, .bytes = 1000, .segments = 1,
	    .first_seq = 50, .last_seq = 59 };
	struct spool_loss b = { .events = 5, .bytes = 400, .segments = 2,
	    .first_seq = 20, .last_seq = 24 };
	char *s;
	cJSON *ev;

	loss_spool_add(&u, &a);
	loss_spool_add(&u, &b);
	ck_assert_uint_eq(u.events, 15);
	ck_assert_uint_eq(u.bytes, 1400);
	ck_assert_uint_eq(u.segments, 3);
	ck_assert_uint_eq(u.first_seq, 20);
	ck_assert_uint_eq(u.last_seq, 59);
	ck_assert_ptr_nonnull(ev = loss_spool_event(&u, "n2"));
	cJSON_DeleteItemFromObject(ev, "time");
	s = cJSON_PrintUnformatted(ev);
	ck_assert_str_eq(s, "{\"type\":\"podtrail_loss\",\"node\":\"n2\","
	    "\"cause\":\"spool_full\",\"count\":15,\"lost_events\":15,"
	    "\"lost_batches\":3,\"lost_bytes\":1400,\"lost_first_seq\":20,"
	    "\"lost_last_seq\":59}");
	free(s);
	cJSON_Delete(ev);
}
END_TEST

START_TEST(seqs_beyond_a_double_stay_exact)
{
	struct spool_loss l = { .events = 1, .segments = 1,
	    .first_seq = 18446744073709551614ULL,
	    .last_seq = 18446744073709551615ULL };
	cJSON *ev = loss_spool_event(&l, "n");
	char *s;

	ck_assert_ptr_nonnull(ev);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "lost_last_seq"));
	ck_assert_str_eq(s, "18446744073709551615");
	free(s);
	cJSON_Delete(ev);
}
END_TEST

START_TEST(take_clears_pending_and_reports_all_untold)
{
	struct spool_loss pending = { 0 }, untold = { 0 };
	struct spool_loss first = { .events = 3, .segments = 1,
	    .first_seq = 7, .last_seq = 9 };
	cJSON *ev;

	ck_assert_ptr_null(loss_spool_take(&pending, &untold, "n"));
	pending = first;
	ck_assert_ptr_nonnull(ev = loss_spool_take(&pending, &untold, "n"));
	ck_assert_uint_eq(pending.events, 0);
	ck_assert_uint_eq(pending.segments, 0);
	cJSON_Delete(ev);
	/* the first report was not delivered: the next one tells both */
	pending = (struct spool_loss){ .events = 2, .segments = 1,
	    .first_seq = 10, .last_seq = 11 };
	ck_assert_ptr_nonnull(ev = loss_spool_take(&pending, &untold, "n"));
	ck_assert_int_eq((int)cJSON_GetObjectItem(ev, "count")->valuedouble, 5);
	/* seqs are raw numbers: their text is the value */
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "lost_first_seq")->valuestring,
	    "7");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "lost_last_seq")->valuestring,
	    "11");
	cJSON_Delete(ev);
	ck_assert_ptr_null(loss_spool_take(&pending, &untold, "n"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("loss");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cause_and_count_come_first);
	tcase_add_test(tc, spool_reports_every_loss_not_yet_told);
	tcase_add_test(tc, seqs_beyond_a_double_stay_exact);
	tcase_add_test(tc, take_clears_pending_and_reports_all_untold);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
