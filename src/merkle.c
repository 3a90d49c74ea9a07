/*
 * merkle.c - RFC 6962 Merkle trees (see merkle.h). The incremental
 * tree keeps the roots of its complete subtrees, largest first, as a
 * binary counter does; the root folds them from the right, which is
 * RFC 6962's split at the largest power of two below n.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"

struct merkle {
	uint64_t n;
	size_t top;	/* subtree roots on the stack */
	unsigned char stack[MERKLE_DEPTH][MERKLE_HASH];
};

static int
sha(const void *a, size_t alen, const void *b, size_t blen, const void *c,
    size_t clen, unsigned char *out)
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	unsigned int n = 0;

	/* fetched once: OpenSSL 3 fetches on every init otherwise */
	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    (clen && EVP_DigestUpdate(ctx, c, clen) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != MERKLE_HASH)
		return -1;
	return 0;
}

int
merkle_leaf_hash(const void *data, size_t len, unsigned char *out)
{
	static const unsigned char zero = 0;

	return sha(&zero, 1, data, len, NULL, 0, out);
}

static int
node_hash(const unsigned char *l, const unsigned char *r, unsigned char *out)
{
	static const unsigned char one = 1;

	return sha(&one, 1, l, MERKLE_HASH, r, MERKLE_HASH, out);
}

struct merkle *
merkle_new(void)
{
	return calloc(1, sizeof(struct merkle));
}

void
merkle_free(struct merkle *m)
{
	free(m);
}

void
merkle_reset(struct merkle *m)
{
	m->n = 0;
	m->top = 0;
}

uint64_t
merkle_count(const struct merkle *m)
{
	return m->n;
}

int
merkle_add(struct merkle *m, const void *data, size_t len)
{
	uint64_t n;

	if (m->top == MERKLE_DEPTH ||
	    merkle_leaf_hash(data, len, m->stack[m->top]) == -1)
		return -1;
	m->top++;
	/* each trailing 1 bit of n is a pair of equal subtrees to merge */
	for (n = m->n; n & 1; n >>= 1) {
		if (node_hash(m->stack[m->top - 2], m->stack[m->top - 1],
		    m->stack[m->top - 2]) == -1)
			return -1;
		m->top--;
	}
	m->n++;
	return 0;
}

int
merkle_root(const struct merkle *m, unsigned char *root)
{
	unsigned char r[MERKLE_HASH];

	if (m->top == 0)
		return sha("", 0, NULL, 0, NULL, 0, root);
	memcpy(r, m->stack[m->top - 1], MERKLE_HASH);
	for (size_t i = m->top - 1; i > 0; i--)
		if (node_hash(m->stack[i - 1], r, r) == -1)
			return -1;
	memcpy(root, r, MERKLE_HASH);
	return 0;
}

/* MTH(D[0:n]) of leaf hashes. */
static int
subtree(const unsigned char (*leaves)[MERKLE_HASH], uint64_t n,
    unsigned char *out)
{
	unsigned char l[MERKLE_HASH], r[MERKLE_HASH];
	uint64_t k = 1;

	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH);
		return 0;
	}
	while (k * 2 < n)
		k *= 2;
	if (subtree(leaves, k, l) == -1 || subtree(leaves + k, n - k, r) == -1)
		return -1;
	return node_hash(l, r, out);
}

int
merkle_path(const unsigned char (*leaves)[MERKLE_HASH], uint64_t n,
    uint64_t index, unsigned char (*path)[MERKLE_HASH], size_t *npath)
{
	unsigned char tmp[MERKLE_DEPTH][MERKLE_HASH];
	size_t depth = 0;

	if (index >= n)
		return -1;
	/* top-down, so the path comes out root side first: reversed below */
	while (n > 1) {
		uint64_t k = 1;

		while (k * 2 < n)
			k *= 2;
		if (index < k) {
			if (subtree(leaves + k, n - k, tmp[depth++]) == -1)
				return -1;
			n = k;
		} else {
			if (subtree(leaves, k, tmp[depth++]) == -1)
				return -1;
			leaves += k;
			n -= k;
			index -= k;
		}
	}
	for (size_t i = 0; i < depth; i++)
		memcpy(path[i], tmp[depth - 1 - i], MERKLE_HASH);
	*npath = depth;
	return 0;
}

int
merkle_check(const unsigned char *leaf, uint64_t index, uint64_t n,
    const unsigned char (*path)[MERKLE_HASH], size_t npath,
    const unsigned char *root)
{
	unsigned char r[MERKLE_HASH];
	uint64_t fn = index, sn;

	if (index >= n)
		return 0;
	sn = n - 1;
	memcpy(r, leaf, MERKLE_HASH);
	for (size_t i = 0; i < npath; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			if (node_hash(path[i], r, r) == -1)
				return 0;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (node_hash(r, path[i], r) == -1)
			return 0;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0;
}
