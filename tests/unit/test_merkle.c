/* test_merkle.c - RFC 6962 roots (CT's test vectors) and audit paths. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "unit.h"

/* The leaves and roots of Certificate Transparency's Merkle tests. */
static const struct {
	const char *data;
	size_t len;
} leaves[] = {
	{ "", 0 },
	{ "\x00", 1 },
	{ "\x10", 1 },
	{ "\x20\x21", 2 },
	{ "\x30\x31", 2 },
	{ "\x40\x41\x42\x43", 4 },
	{ "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
	{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
	    16 },
};
static const char *const roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void
hex(const unsigned char *h, char *out)
{
	for (int i = 0; i < MERKLE_HASH; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

START_TEST(ct_vectors)
{
	struct merkle *m = merkle_new();
	unsigned char root[MERKLE_HASH];
	char txt[2 * MERKLE_HASH + 1];

	ck_assert_int_eq(merkle_root(m, root), 0);
	hex(root, txt);
	/* the empty tree: SHA-256 of nothing */
	ck_assert_str_eq(txt,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (size_t i = 0; i < 8; i++) {
		ck_assert_int_eq(merkle_add(m, leaves[i].data, leaves[i].len), 0);
		ck_assert_int_eq(merkle_root(m, root), 0);
		hex(root, txt);
		ck_assert_str_eq(txt, roots[i]);
	}
	ck_assert_uint_eq(merkle_count(m), 8);
	merkle_reset(m);
	ck_assert_uint_eq(merkle_count(m), 0);
	merkle_free(m);
}
END_TEST

/* Every leaf of trees of 1..70 leaves proves, against the incremental root. */
START_TEST(paths_prove_every_leaf)
{
	unsigned char (*lh)[MERKLE_HASH] = calloc(70, MERKLE_HASH);
	unsigned char path[MERKLE_DEPTH][MERKLE_HASH], root[MERKLE_HASH];
	size_t npath;

	for (uint64_t n = 1; n <= 70; n++) {
		struct merkle *m = merkle_new();

		for (uint64_t i = 0; i < n; i++) {
			unsigned char d[8];

			memcpy(d, &i, sizeof(d));
			ck_assert_int_eq(merkle_add(m, d, sizeof(d)), 0);
			ck_assert_int_eq(merkle_leaf_hash(d, sizeof(d), lh[i]), 0);
		}
		ck_assert_int_eq(merkle_root(m, root), 0);
		for (uint64_t i = 0; i < n; i++) {
			ck_assert_int_eq(merkle_path((const unsigned char
			    (*)[MERKLE_HASH])lh, n, i, path, &npath), 0);
			ck_assert(merkle_check(lh[i], i, n, (const unsigned char
			    (*)[MERKLE_HASH])path, npath, root));
			/* the wrong index, leaf or path does not */
			if (n > 1)
				ck_assert(!merkle_check(lh[i], (i + 1) % n, n,
				    (const unsigned char (*)[MERKLE_HASH])path,
				    npath, root));
			ck_assert(!merkle_check(lh[i], n, n, (const unsigned
			    char (*)[MERKLE_HASH])path, npath, root));
			lh[i][0] ^= 1;
			ck_assert(!merkle_check(lh[i], i, n, (const unsigned char
			    (*)[MERKLE_HASH])path, npath, root));
			lh[i][0] ^= 1;
			if (npath) {
				path[npath - 1][5] ^= 0x40;
				ck_assert(!merkle_check(lh[i], i, n,
				    (const unsigned char (*)[MERKLE_HASH])path,
				    npath, root));
			}
		}
		ck_assert_int_eq(merkle_path((const unsigned char
		    (*)[MERKLE_HASH])lh, n, n, path, &npath), -1);
		merkle_free(m);
	}
	free(lh);
}
END_TEST

static Suite *
merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ct_vectors);
	tcase_add_test(tc, paths_prove_every_leaf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(merkle_suite());
}
