/* test_json.c - the fast writer agrees with cJSON; canonical form sorts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

START_TEST(test_same_bytes_as_cjson)
{
	unsigned seed = 7;
	struct buf b = BUF_INIT;

	for (int it = 0; it < 20000; it++) {
		char s[80];
		int n = rand_r(&seed) % 79;
		cJSON *o = cJSON_CreateObject();
		char *want;

		for (int i = 0; i < n; i++) {
			int r = rand_r(&seed) % 10;

			s[i] = r < 6 ? (char)('a' + r) : r == 6 ? '"' :
			    r == 7 ? '\\' : r == 8 ? (char)(1 + rand_r(&seed) % 31) :
			    (char)(0x80 + rand_r(&seed) % 127);
		}
		s[n] = '\0';
		cJSON_AddStringToObject(o, s, s);
		cJSON_AddNumberToObject(o, "n", (rand_r(&seed) % 1000) / 7.0);
		cJSON_AddNumberToObject(o, "i", rand_r(&seed) % 100000);
		cJSON_AddNumberToObject(o, "big", 4294967295.0);
		cJSON_AddRawToObject(o, "raw", "18446744073709551615");
		cJSON_AddItemToObject(o, "a", cJSON_CreateArray());
		cJSON_AddNullToObject(o, "z");
		cJSON_AddTrueToObject(o, "t");
		want = cJSON_PrintUnformatted(o);
		buf_reset(&b);
		ck_assert_int_eq(json_write(&b, o, 0, NULL), 0);
		ck_assert_str_eq(b.data, want);
		free(want);
		cJSON_Delete(o);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_sorted_and_skip)
{
	cJSON *o = cJSON_Parse("{\"b\":1,\"a\":{\"y\":[3,{\"d\":1,\"c\":2}],"
	    "\"x\":\"s\"},\"hash\":\"h\",\"B\":null}");
	struct buf b = BUF_INIT;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_write(&b, o, JSON_SORTED, "hash"), 0);
	ck_assert_str_eq(b.data,
	    "{\"B\":null,\"a\":{\"x\":\"s\",\"y\":[3,{\"c\":2,\"d\":1}]},\"b\":1}");
	buf_reset(&b);
	ck_assert_int_eq(json_write(&b, o, 0, NULL), 0);
	ck_assert_str_eq(b.data, "{\"b\":1,\"a\":{\"y\":[3,{\"d\":1,\"c\":2}],"
	    "\"x\":\"s\"},\"hash\":\"h\",\"B\":null}");
	buf_free(&b);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_many_keys_sorted)
{
	cJSON *o = cJSON_CreateObject();
	struct buf b = BUF_INIT;
	char k[8];
	const char *p;

	/* more members than the writer's stack array */
	for (int i = 99; i >= 0; i--) {
		snprintf(k, sizeof(k), "k%02d", i);
		cJSON_AddNumberToObject(o, k, i);
	}
	ck_assert_int_eq(json_write(&b, o, JSON_SORTED, NULL), 0);
	ck_assert(strncmp(b.data, "{\"k00\":0,\"k01\":1,", 17) == 0);
	p = strstr(b.data, "\"k99\":99}");
	ck_assert_ptr_nonnull(p);
	buf_free(&b);
	cJSON_Delete(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_same_bytes_as_cjson);
	tcase_add_test(tc, test_sorted_and_skip);
	tcase_add_test(tc, test_many_keys_sorted);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
