/* test_gzip.c - gzip members: zlib reads what we write, round trips, damage. */
#include "config.h"

#include <string.h>

#include <check.h>
#include <zlib.h>

#include "buf.h"
#include "gzip.h"
#include "unit.h"

START_TEST(gzip_round_trip)
{
	struct gzip *g = gzip_new();
	struct buf in = BUF_INIT, gz = BUF_INIT, out = BUF_INIT;
	char back[8192];
	z_stream z;

	ck_assert_ptr_nonnull(g);
	/* twice: the second request reuses (resets) the deflate state */
	for (int round = 0; round < 2; round++) {
		buf_reset(&in);
		for (int i = 0; i < 100 + round * 50; i++)
			buf_printf(&in, "{\"seq\":%d}\n", i);
		ck_assert_int_eq(gzip_compress(g, &in, &gz), 0);
		ck_assert_uint_lt(gz.len, in.len);
		ck_assert(gzip_is_member(&gz));
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
		ck_assert_int_eq(gzip_decompress(g, &gz, &out), 0);
		ck_assert_str_eq(out.data, in.data);
	}
	/* plain text and a damaged member are refused, not misread */
	ck_assert(!gzip_is_member(&in));
	ck_assert_int_eq(gzip_decompress(g, &in, &out), -2);
	gz.data[gz.len / 2] ^= 0x55;
	ck_assert_int_eq(gzip_decompress(g, &gz, &out), -2);
	gzip_free(g);
	buf_free(&in);
	buf_free(&gz);
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("gzip");
	TCase *tc = tcase_create("gzip");

	tcase_add_test(tc, gzip_round_trip);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
