/* test_verify.c - the verifier's verdicts on made-up chains. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "log.h"
#include "unit.h"
#include "verify.h"

#define N 6

static char lines[N][2048];
static char tmpdir[64];

/* A chain of N events, serialized, in lines[0..N). */
static void
make_chain(const unsigned char *key, size_t keylen)
{
	struct chain *ch;
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_verify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ch = chain_open(tmpdir, "node", key, keylen);
	ck_assert_ptr_nonnull(ch);
	for (int i = 0; i < N; i++) {
		cJSON *ev = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(ev, "type", "audit");
		cJSON_AddRawToObject(ev, "inode", "18446744073709551615");
		cJSON_AddNumberToObject(ev, "n", i);
		ck_assert_int_eq(chain_apply(ch, ev), 0);
		s = cJSON_PrintUnformatted(ev);
		snprintf(lines[i], sizeof(lines[i]), "%s", s);
		free(s);
		cJSON_Delete(ev);
	}
	chain_close(ch);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Feed lines in the given order (-1 ends); returns verify's verdict. */
static int
run(const int *order, const unsigned char *key, size_t keylen,
    cJSON **report)
{
	struct verify *v = verify_new(key, keylen);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ok;

	for (int i = 0; order[i] >= 0; i++)
		ck_assert_int_eq(verify_line(v, lines[order[i]],
		    strlen(lines[order[i]]), "t", (unsigned long)i + 1), 0);
	ok = verify_report(v, mem, 1);
	fclose(mem);
	*report = cJSON_Parse(buf);
	free(buf);
	verify_free(v);
	return ok;
}

static double
field(cJSON *r, const char *k)
{
	cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "streams"), 0);

	return cJSON_GetObjectItem(s, k)->valuedouble;
}

START_TEST(any_order_with_duplicates_passes)
{
	int order[] = { 5, 2, 0, 1, 1, 4, 3, 0, -1 };
	cJSON *r;

	make_chain(NULL, 0);
	ck_assert_int_eq(run(order, NULL, 0, &r), 1);
	ck_assert_int_eq((int)field(r, "events"), N);
	ck_assert_int_eq((int)field(r, "duplicates"), 2);
	cJSON_Delete(r);
}
END_TEST

START_TEST(deleted_event_is_a_gap)
{
	int order[] = { 0, 1, 3, 4, 5, -1 };
	cJSON *r;

	make_chain(NULL, 0);
	ck_assert_int_eq(run(order, NULL, 0, &r), 0);
	ck_assert_int_eq((int)field(r, "missing"), 1);
	ck_assert_int_eq((int)field(r, "broken_links"), 0);
	cJSON_Delete(r);
}
END_TEST

START_TEST(edited_event_fails_its_hash)
{
	int order[] = { 0, 1, 2, 3, 4, 5, -1 };
	char *p;
	cJSON *r;

	make_chain(NULL, 0);
	p = strstr(lines[3], "\"n\":3");
	ck_assert_ptr_nonnull(p);
	p[4] = '7';
	ck_assert_int_eq(run(order, NULL, 0, &r), 0);
	ck_assert_int_eq((int)field(r, "hash_failures"), 1);
	cJSON_Delete(r);
}
END_TEST

START_TEST(hmac_needs_the_key)
{
	int order[] = { 0, 1, 2, 3, 4, 5, -1 };
	const unsigned char key[] = "k3y", bad[] = "kez";
	cJSON *r;

	make_chain(key, 3);
	ck_assert_int_eq(run(order, key, 3, &r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(run(order, bad, 3, &r), 0);
	ck_assert_int_eq((int)field(r, "hmac_failures"), N);
	cJSON_Delete(r);
	ck_assert_int_eq(run(order, NULL, 0, &r), 0);
	cJSON_Delete(r);
}
END_TEST

START_TEST(missing_start_is_a_gap_and_junk_is_counted)
{
	int order[] = { 2, 3, -1 };
	cJSON *r;
	struct verify *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	make_chain(NULL, 0);
	ck_assert_int_eq(run(order, NULL, 0, &r), 0);
	ck_assert_int_eq((int)field(r, "missing"), 2);
	cJSON_Delete(r);
	v = verify_new(NULL, 0);
	verify_line(v, "{\"type\":1}", 10, "t", 1);
	verify_line(v, "nonsense", 8, "t", 2);
	mem = open_memstream(&buf, &len);
	ck_assert_int_eq(verify_report(v, mem, 1), 0);
	fclose(mem);
	r = cJSON_Parse(buf);
	ck_assert_int_eq((int)cJSON_GetObjectItem(r, "invalid_lines")->valuedouble,
	    2);
	cJSON_Delete(r);
	free(buf);
	verify_free(v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_test(tc, any_order_with_duplicates_passes);
	tcase_add_test(tc, deleted_event_is_a_gap);
	tcase_add_test(tc, edited_event_fails_its_hash);
	tcase_add_test(tc, hmac_needs_the_key);
	tcase_add_test(tc, missing_start_is_a_gap_and_junk_is_counted);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
