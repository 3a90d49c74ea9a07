/*
 * chain.h - the tamper-evident chain every event carries.
 *
 * Each event gets "stream" (NODE/ID, ID persisted in the state dir),
 * "seq" (1, 2, 3, ... without gaps), "prev" (the previous event's
 * hash) and "hash" = SHA-256, or HMAC-SHA256 with a key, over
 * prev || canonical JSON of the event without "hash". Canonical JSON:
 * object keys sorted bytewise, no whitespace, strings escaped as cJSON
 * escapes them, numbers as written.
 *
 * Restart safety works like a database sequence cache: before a seq
 * beyond the reserved block is used, a new block is persisted (temp
 * file, fsync, rename): CHAIN_RESERVE seqs, doubling up to
 * CHAIN_RESERVE_MAX while blocks last under a second, so a busy node
 * syncs about once a second. A clean close persists the exact state,
 * so the next run continues without a gap; after kill -9 the next run
 * starts past the reservation, so no seq is ever reused and the lost
 * tail (plus unused reserved seqs) shows up as a gap, never a break.
 */
#ifndef PODTRAIL_CHAIN_H
#define PODTRAIL_CHAIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct event;

#define CHAIN_RESERVE 1024
#define CHAIN_RESERVE_MAX 65536
#define CHAIN_HASH_HEX 64
/* "prev" of the first event of a stream */
#define CHAIN_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct chain;

/*
 * Open the chain kept in state_dir (created 0700 if missing), locked
 * against a second podtrail. key/keylen: HMAC key, or NULL for plain
 * SHA-256. Returns NULL on failure (logged).
 */
struct chain *chain_open(const char *state_dir, const char *node,
    const unsigned char *key, size_t keylen);
/*
 * Add stream, seq and prev to ev->json (removing any old ones), set
 * ev->seq, and write the event's line into out (reset first): its
 * canonical JSON, which is what is hashed, with "hash" appended as the
 * last member. So the line needs only one serialization, and a
 * verifier that drops "hash" and re-canonicalizes gets the hashed bytes
 * back. Synchronous: the line is sealed when this returns. 0, or -1
 * (logged; the seq is used anyway, a gap).
 */
int chain_seal(struct chain *ch, struct event *ev, struct buf *out);
/* Seal a bare tree as chain_seal, and add "hash" to it too. 0 or -1. */
int chain_apply(struct chain *ch, cJSON *ev);
/*
 * Persist the exact state and release. 0, or -1 if the state could not
 * be saved.
 */
int chain_close(struct chain *ch);
/* The seq the next sealed event gets. */
unsigned long long chain_next_seq(const struct chain *ch);
/*
 * Hash of the last event sealed (CHAIN_GENESIS before the first).
 * Owned by ch.
 */
const char *chain_head(const struct chain *ch);
/*
 * The hash of the last event this run sealed, as CHAIN_HASH_HEX / 2
 * raw bytes (all zero before): what ckpt_leaf() takes. Owned by ch.
 */
const unsigned char *chain_digest(const struct chain *ch);
/* 1 if the previous run stopped cleanly (or there was none), else 0. */
int chain_clean_start(const struct chain *ch);
/* "NODE/ID" of this chain; owned by ch. */
const char *chain_stream(const struct chain *ch);
/* Add counters to obj. */
void chain_stats(struct chain *ch, cJSON *obj);

/* Append the canonical form of item (see above) to out. 0 or -1 (ENOMEM). */
int chain_canonical(const cJSON *item, struct buf *out);
/*
 * hex_out (CHAIN_HASH_HEX + 1 bytes) = hex of SHA-256, or HMAC-SHA256
 * with key, over prev || canon. 0, or -1 (crypto failure; logged).
 */
int chain_hash(const unsigned char *key, size_t keylen, const char *prev,
    const char *canon, size_t canonlen, char *hex_out);

#endif
