/* test_text.c - kernel field decoding and the lossless escape. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unit.h"

static char *
esc(const char *p, size_t n)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(text_escape(&b, p, n), 0);
	if (b.data == NULL)
		return strdup("");
	return b.data;
}

static char *
dec(const char *raw, int hex)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(text_decode(&b, raw, hex), 0);
	return b.data ? b.data : strdup("");
}

START_TEST(test_decode_quoted)
{
	char *s = dec("\"/tmp/a b\"", 1);

	ck_assert_str_eq(s, "/tmp/a b");
	free(s);
}
END_TEST

START_TEST(test_decode_hex)
{
	char *s = dec("2F746D702F6120620A", 1);

	ck_assert_str_eq(s, "/tmp/a b\n");
	free(s);
	/* only untrusted fields are hex; others stay as written */
	s = dec("c000003e", 0);
	ck_assert_str_eq(s, "c000003e");
	free(s);
	/* odd length or non-hex: not an encoding, kept verbatim */
	s = dec("ABC", 1);
	ck_assert_str_eq(s, "ABC");
	free(s);
	s = dec("(null)", 1);
	ck_assert_str_eq(s, "(null)");
	free(s);
}
END_TEST

START_TEST(test_escape_valid_utf8_verbatim)
{
	const char *u = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" %s";
	char *s = esc(u, strlen(u));

	ck_assert_str_eq(s, u);
	free(s);
}
END_TEST

START_TEST(test_escape_invalid_bytes)
{
	struct {
		const char *in;
		size_t n;
		const char *out;
	} t[] = {
		{ "a\xff" "b", 3, "a\\xffb" },
		{ "\\", 1, "\\\\" },
		{ "x\0y", 3, "x\\x00y" },
		{ "\xc3", 1, "\\xc3" },			/* truncated sequence */
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },	/* overlong '/' */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },	/* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" }, /* > U+10FFFF */
		{ "\\xff", 4, "\\\\xff" },		/* a literal \xff stays apart */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = esc(t[i].in, t[i].n);

		ck_assert_msg(strcmp(s, t[i].out) == 0, "case %zu: got %s", i, s);
		free(s);
	}
}
END_TEST

/* Undo the escape: every byte string must come back exactly. */
static size_t
unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x') {
			char h[3] = { s[2], s[3], 0 };

			out[n++] = (char)strtol(h, NULL, 16);
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

START_TEST(test_escape_roundtrip_random)
{
	unsigned seed = 12345;

	for (int iter = 0; iter < 2000; iter++) {
		char in[64], back[256];
		size_t n = (size_t)(rand_r(&seed) % 64);
		char *s;

		for (size_t i = 0; i < n; i++)
			in[i] = (char)(rand_r(&seed) & 0xff);
		s = esc(in, n);
		ck_assert_uint_eq(unescape(s, back), n);
		ck_assert(memcmp(in, back, n) == 0);
		free(s);
	}
}
END_TEST

START_TEST(test_is_int)
{
	ck_assert(text_is_int("0", 1));
	ck_assert(text_is_int("-13", 3));
	ck_assert(text_is_int("18446744073709551615", 20));
	ck_assert(!text_is_int("007", 3));
	ck_assert(!text_is_int("-", 1));
	ck_assert(!text_is_int("", 0));
	ck_assert(!text_is_int("1e5", 3));
	ck_assert(!text_is_int("c000003e", 8));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_decode_quoted);
	tcase_add_test(tc, test_decode_hex);
	tcase_add_test(tc, test_escape_valid_utf8_verbatim);
	tcase_add_test(tc, test_escape_invalid_bytes);
	tcase_add_test(tc, test_escape_roundtrip_random);
	tcase_add_test(tc, test_is_int);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
