/*
 * merkle.h - RFC 6962 (Certificate Transparency) Merkle tree hashing,
 * with its domain separation: a leaf is SHA-256(0x00 || data), a node
 * SHA-256(0x01 || left || right), the empty tree SHA-256(""). A
 * checkpoint signs the root over the hashes of the events it covers,
 * so one event can be proven with a path of log2(n) hashes.
 */
#ifndef PODTRAIL_MERKLE_H
#define PODTRAIL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
/* deepest tree (2^63 leaves) and so the longest path */
#define MERKLE_DEPTH 64

/*
 * A tree being built one leaf at a time in O(log n) memory (the roots
 * of its complete subtrees): the verifier keeps one per stream.
 */
struct merkle;

/* New empty tree. NULL on ENOMEM. */
struct merkle *merkle_new(void);
void merkle_free(struct merkle *m);
/* Forget every leaf. */
void merkle_reset(struct merkle *m);
/* Append a leaf: data is hashed as a leaf (0x00 prefix). 0 or -1 (crypto). */
int merkle_add(struct merkle *m, const void *data, size_t len);
/* Leaves added since the last reset. */
uint64_t merkle_count(const struct merkle *m);
/* root = the tree's root hash. 0 or -1 (crypto). */
int merkle_root(const struct merkle *m, unsigned char *root);

/* out = SHA-256(0x00 || data). 0 or -1. */
int merkle_leaf_hash(const void *data, size_t len, unsigned char *out);
/*
 * The audit path of leaf index among n leaf hashes (RFC 6962 2.1.1),
 * leaf side first, into path (MERKLE_DEPTH entries); *npath set.
 * 0, or -1 (index out of range, crypto).
 */
int merkle_path(const unsigned char (*leaves)[MERKLE_HASH], uint64_t n,
    uint64_t index, unsigned char (*path)[MERKLE_HASH], size_t *npath);
/*
 * Does path prove the leaf hash at index of a tree of n leaves with
 * this root (RFC 9162 2.1.3.2)? 1 yes, 0 no.
 */
int merkle_check(const unsigned char *leaf, uint64_t index, uint64_t n,
    const unsigned char (*path)[MERKLE_HASH], size_t npath,
    const unsigned char *root);

#endif
