/* test_chain.c - canonical JSON, hash vectors, chain continuity. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "chain.h"
#include "event.h"
#include "jsonread.h"
#include "log.h"
#include "secret.h"
#include "unit.h"
#include "verify.h"

static char *
canon_of(const char *json)
{
	cJSON *j = jsonread_parse(json, strlen(json));
	struct buf b = BUF_INIT;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(chain_canonical(j, &b), 0);
	cJSON_Delete(j);
	return b.data;
}

START_TEST(canonical_sorts_and_keeps_numbers)
{
	char *s = canon_of("{ \"b\" : 1, \"a\": [true, null, \"x\\ny\"],\n"
	    "\"c\": {\"z\": \"\\u0001\\/\\\"\", \"y\": -2.50e3},"
	    "\"i\": 18446744073709551615, \"B\": {} , \"e\": []}");

	ck_assert_str_eq(s, "{\"B\":{},\"a\":[true,null,\"x\\ny\"],\"b\":1,"
	    "\"c\":{\"y\":-2.50e3,\"z\":\"\\u0001/\\\"\"},\"e\":[],"
	    "\"i\":18446744073709551615}");
	free(s);
}
END_TEST

START_TEST(canonical_matches_cjson_escaping)
{
	/* what cJSON prints, parsed back, must print the same */
	cJSON *o = cJSON_CreateObject();
	char *printed, *s;

	cJSON_AddStringToObject(o, "s", "tab\there \x7f \xc3\xa9 \x1f \\ \"q\"");
	cJSON_AddNumberToObject(o, "n", 42);
	cJSON_AddNumberToObject(o, "f", 0.1);
	cJSON_AddNumberToObject(o, "big", 3e10);
	printed = cJSON_PrintUnformatted(o);
	s = canon_of(printed);
	{
		struct buf b = BUF_INIT;

		ck_assert_int_eq(chain_canonical(o, &b), 0);
		ck_assert_str_eq(s, b.data);
		buf_free(&b);
	}
	free(s);
	free(printed);
	cJSON_Delete(o);
}
END_TEST

START_TEST(parse_rejects_bad_json)
{
	const char *bad[] = { "{", "{\"a\":}", "[1,]", "\"\\u0000\"", "01",
	    "{\"a\":1} x", "\"\\ud800\"", "tru", "1.", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(jsonread_parse(bad[i], strlen(bad[i])) == NULL,
		    "accepted %s", bad[i]);
}
END_TEST

START_TEST(parse_decodes_unicode)
{
	char *s = canon_of("[\"\\u00e9\\ud83d\\ude00\"]");

	ck_assert_str_eq(s, "[\"\xc3\xa9\xf0\x9f\x98\x80\"]");
	free(s);
}
END_TEST

START_TEST(hash_vectors)
{
	char h[CHAIN_HASH_HEX + 1];

	/* SHA-256("abc") */
	ck_assert_int_eq(chain_hash(NULL, 0, "a", "bc", 2, h), 0);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	ck_assert_int_eq(chain_hash((const unsigned char *)"Jefe", 4,
	    "what do ya ", "want for nothing?", 17, h), 0);
	ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}
END_TEST

static char tmpdir[64];

static void
mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_chain.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static cJSON *
apply_one(struct chain *ch, const char *type)
{
	cJSON *ev = cJSON_CreateObject();

	cJSON_AddStringToObject(ev, "type", type);
	ck_assert_int_eq(chain_apply(ch, ev), 0);
	return ev;
}

/*
 * kill -9 after n events: a child seals them and exits without closing
 * the chain, so nothing is saved beyond the reservation.
 */
static void
crash_after(int n)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct chain *ch = chain_open(tmpdir, "n1", NULL, 0);
		cJSON *ev;

		if (ch == NULL)
			_exit(1);
		for (int i = 0; i < n; i++) {
			ev = cJSON_CreateObject();
			cJSON_AddStringToObject(ev, "type", "x");
			if (chain_apply(ch, ev) == -1)
				_exit(1);
			cJSON_Delete(ev);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "crashing child failed");
}

static const char *
str(cJSON *ev, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(ev, k)->valuestring;
}

START_TEST(chain_links_and_hashes)
{
	struct chain *ch;
	cJSON *a, *b;
	struct buf c = BUF_INIT;
	char h[CHAIN_HASH_HEX + 1];

	mk_tmp();
	ch = chain_open(tmpdir, "n1", NULL, 0);
	ck_assert_ptr_nonnull(ch);
	a = apply_one(ch, "x");
	b = apply_one(ch, "y");
	ck_assert_str_eq(cJSON_GetObjectItem(a, "seq")->valuestring, "1");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "seq")->valuestring, "2");
	ck_assert_str_eq(str(a, "prev"), CHAIN_GENESIS);
	ck_assert_str_eq(str(b, "prev"), str(a, "hash"));
	ck_assert_int_eq(strncmp(str(a, "stream"), "n1/", 3), 0);
	/* hash = H(prev || canonical without hash) */
	cJSON_DeleteItemFromObject(b, "hash");
	chain_canonical(b, &c);
	chain_hash(NULL, 0, str(a, "hash"), c.data, c.len, h);
	ck_assert_str_eq(h, chain_head(ch));
	/* a second podtrail on the same state dir is refused */
	ck_assert_ptr_null(chain_open(tmpdir, "n1", NULL, 0));
	ck_assert_int_eq(chain_close(ch), 0);
	buf_free(&c);
	cJSON_Delete(a);
	cJSON_Delete(b);
	rm_tmp();
}
END_TEST

START_TEST(chain_continues_after_clean_restart)
{
	struct chain *ch;
	cJSON *a, *b;
	char stream[320];

	mk_tmp();
	ch = chain_open(tmpdir, "n1", NULL, 0);
	a = apply_one(ch, "x");
	snprintf(stream, sizeof(stream), "%s", chain_stream(ch));
	ck_assert_int_eq(chain_close(ch), 0);
	ch = chain_open(tmpdir, "n1", NULL, 0);
	ck_assert_ptr_nonnull(ch);
	b = apply_one(ch, "y");
	ck_assert_str_eq(str(b, "stream"), stream);
	ck_assert_str_eq(cJSON_GetObjectItem(b, "seq")->valuestring, "2");
	ck_assert_str_eq(str(b, "prev"), str(a, "hash"));
	chain_close(ch);
	cJSON_Delete(a);
	cJSON_Delete(b);
	rm_tmp();
}
END_TEST

START_TEST(chain_skips_reserved_after_crash)
{
	struct chain *ch;
	cJSON *b;
	char want[24];

	mk_tmp();
	crash_after(2);
	ch = chain_open(tmpdir, "n1", NULL, 0);
	ck_assert_ptr_nonnull(ch);
	b = apply_one(ch, "y");
	snprintf(want, sizeof(want), "%d", CHAIN_RESERVE + 2);
	ck_assert_str_eq(cJSON_GetObjectItem(b, "seq")->valuestring, want);
	chain_close(ch);
	cJSON_Delete(b);
	rm_tmp();
}
END_TEST

START_TEST(chain_reserve_grows_under_load)
{
	struct chain *ch;
	cJSON *b;
	long long seq;

	mk_tmp();
	/* past the first block: the second is reserved at once */
	crash_after(CHAIN_RESERVE + 1);
	ch = chain_open(tmpdir, "n1", NULL, 0);
	ck_assert_ptr_nonnull(ch);
	b = apply_one(ch, "y");
	seq = atoll(cJSON_GetObjectItem(b, "seq")->valuestring);
	/*
	 * The second block is twice the first when it came within a
	 * second (the usual case here), the minimum when the machine was
	 * slower than that; either way no seq is reused.
	 */
	ck_assert_msg(seq == 3 * CHAIN_RESERVE + 2 || seq == 2 * CHAIN_RESERVE + 2,
	    "seq after crash %lld", seq);
	chain_close(ch);
	cJSON_Delete(b);
	rm_tmp();
}
END_TEST

START_TEST(secret_file_permissions)
{
	char path[128];
	size_t n;
	unsigned char *k;
	FILE *fp;

	mk_tmp();
	snprintf(path, sizeof(path), "%s/key", tmpdir);
	fp = fopen(path, "w");
	fputs("s3cret\n", fp);
	fclose(fp);
	chmod(path, 0644);
	ck_assert_ptr_null(secret_read(path, &n));
	chmod(path, 0600);
	k = secret_read(path, &n);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(memcmp(k, "s3cret", 6), 0);
	free(k);
	rm_tmp();
}
END_TEST

/* An event now and then far bigger than the usual line. */
static void
seal_one(struct chain *ch, unsigned long long i, struct buf *line,
    struct buf *all)
{
	cJSON *ev = cJSON_CreateObject();
	struct event e = { .json = ev };
	size_t n = i % 97 == 0 ? 128 * 1024 : i % 50;
	char *pad = malloc(n + 1);
	char want[32], hex[CHAIN_HASH_HEX + 1];
	const unsigned char *d;

	memset(pad, 'a' + (int)(i % 26), n);
	pad[n] = '\0';
	cJSON_AddStringToObject(ev, "type", "x");
	cJSON_AddNumberToObject(ev, "i", (double)i);
	cJSON_AddStringToObject(ev, "pad", pad);
	ck_assert_int_eq(chain_seal(ch, &e, line), 0);
	ck_assert_uint_eq(e.seq, i + 1);
	snprintf(want, sizeof(want), "\"seq\":%llu,", i + 1);
	ck_assert_msg(memmem(line->data, line->len, want, strlen(want)) != NULL,
	    "line %llu out of order: %.*s", i + 1, (int)line->len, line->data);
	/* the digest the Merkle leaf takes is the line's own hash, raw */
	d = chain_digest(ch);
	for (int j = 0; j < CHAIN_HASH_HEX / 2; j++)
		snprintf(hex + 2 * j, 3, "%02x", d[j]);
	ck_assert_int_eq(memcmp(line->data + line->len - CHAIN_HASH_HEX - 2,
	    hex, CHAIN_HASH_HEX), 0);
	ck_assert_int_eq(buf_add(all, line->data, line->len), 0);
	ck_assert_int_eq(buf_addc(all, '\n'), 0);
	cJSON_Delete(ev);
	free(pad);
}

static int
verify_all(const struct buf *all, const unsigned char *key, size_t keylen)
{
	struct verify *v = verify_new(key, keylen);
	const char *p = all->data, *end = all->data + all->len, *nl;
	unsigned long n = 0;
	FILE *devnull = fopen("/dev/null", "w");
	int ok;

	ck_assert_ptr_nonnull(v);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ck_assert_int_eq(verify_line(v, p, (size_t)(nl - p), "sunk",
		    ++n), 0);
	}
	ok = verify_report(v, devnull, 0);
	fclose(devnull);
	verify_free(v);
	return ok;
}

/* Sealed lines, keyed or not, are what the verifier accepts. */
static void
seal_and_verify(const unsigned char *key, size_t keylen)
{
	struct buf line = BUF_INIT, all = BUF_INIT;
	struct chain *ch;

	mk_tmp();
	ch = chain_open(tmpdir, "n1", key, keylen);
	ck_assert_ptr_nonnull(ch);
	for (unsigned long long i = 0; i < 1543; i++)
		seal_one(ch, i, &line, &all);
	ck_assert_int_eq(chain_close(ch), 0);
	ck_assert_int_eq(verify_all(&all, key, keylen), 1);
	/* a line altered after sealing is caught: the test can fail */
	all.data[all.len / 2] ^= 1;
	ck_assert_int_eq(verify_all(&all, key, keylen), 0);
	buf_free(&line);
	buf_free(&all);
	rm_tmp();
}

START_TEST(sealed_lines_verify)
{
	static const unsigned char key[] = "k3y";

	seal_and_verify(NULL, 0);
	seal_and_verify(key, sizeof(key) - 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_test(tc, canonical_sorts_and_keeps_numbers);
	tcase_add_test(tc, canonical_matches_cjson_escaping);
	tcase_add_test(tc, parse_rejects_bad_json);
	tcase_add_test(tc, parse_decodes_unicode);
	tcase_add_test(tc, hash_vectors);
	tcase_add_test(tc, chain_links_and_hashes);
	tcase_add_test(tc, chain_continues_after_clean_restart);
	tcase_add_test(tc, chain_skips_reserved_after_crash);
	tcase_add_test(tc, chain_reserve_grows_under_load);
	tcase_add_test(tc, secret_file_permissions);
	tcase_add_test(tc, sealed_lines_verify);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
