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
 * Add stream, seq and prev to ev (removing any old ones) and write the
 * event's line into out: its canonical JSON, which is what is hashed,
 * with "hash" appended as the last member. So the line needs only one
 * serialization, and a verifier that drops "hash" and re-canonicalizes
 * gets the hashed bytes back. 0, or -1 (logged). For a chain that
 * never uses chain_submit().
 */
int chain_seal(struct chain *ch, cJSON *ev, struct buf *out);

/*
 * Sealed lines, in seq order; line NULL for an event that could not be
 * sealed (logged). The line is valid during the call only, and the
 * sink must not submit.
 */
typedef void (*chain_sink_cb)(const char *line, size_t len, void *arg);
void chain_set_sink(struct chain *ch, chain_sink_cb sink, void *arg);
/*
 * Seal ev like chain_seal, but pipelined when chain_use_sealer() was
 * called: the seq and the canonical line are made here, the hash (an
 * eighth of an event's CPU) by a sealer thread started on first use,
 * which holds no capabilities.
 * Sealed lines reach the sink from chain_submit() and chain_sync(), on
 * the caller's thread. ev is not kept. 0, or -1 (logged, sink told).
 */
int chain_submit(struct chain *ch, cJSON *ev);
/*
 * Let chain_submit() start the sealer thread (without: it seals on the
 * caller's thread, and the sink is called at once). Makes the notify
 * fd. 0, or -1 (logged; the chain then seals on the caller's thread).
 */
int chain_use_sealer(struct chain *ch);
/* Wait for every submitted event and hand them all to the sink. */
void chain_sync(struct chain *ch);
/*
 * Without waiting: hand what is sealed to the sink; if more is on its
 * way, chain_notify_fd() becomes readable once it is all sealed (read
 * it, then chain_poll() again).
 */
void chain_poll(struct chain *ch);
/* That fd, or -1 without chain_use_sealer(). */
int chain_notify_fd(const struct chain *ch);
/* chain_seal, then also add "hash" to ev itself. 0 or -1. */
int chain_apply(struct chain *ch, cJSON *ev);
/*
 * Deliver what was submitted, stop the sealer, persist the exact state
 * and release. 0, or -1 if the state could not be saved.
 */
int chain_close(struct chain *ch);
/* The seq the next submitted event gets. */
unsigned long long chain_next_seq(const struct chain *ch);
/*
 * Hash of the last event handed to the sink (CHAIN_GENESIS before the
 * first): the head, once chain_sync() returned. Owned by ch.
 */
const char *chain_head(const struct chain *ch);
/* 1 if the previous run stopped cleanly (or there was none), else 0. */
int chain_clean_start(const struct chain *ch);
/* "NODE/ID" of this chain; owned by ch. */
const char *chain_stream(const struct chain *ch);
/* Add counters to obj. */
void chain_stats(struct chain *ch, cJSON *obj);

/* Append the canonical form of item (see above) to out. 0 or -1 (ENOMEM). */
int chain_canonical(const cJSON *item, struct buf *out);
/*
 * Parse one JSON text like cJSON does, except that numbers become raw
 * items holding their text verbatim (so big integers survive). Caller
 * owns the result; NULL if the text is not valid JSON.
 */
cJSON *chain_parse(const char *s, size_t n);
/*
 * hex_out (CHAIN_HASH_HEX + 1 bytes) = hex of SHA-256, or HMAC-SHA256
 * with key, over prev || canon. 0, or -1 (crypto failure; logged).
 */
int chain_hash(const unsigned char *key, size_t keylen, const char *prev,
    const char *canon, size_t canonlen, char *hex_out);
/*
 * Read a secret (key or token) file, refusing one that group or others
 * can read. Returns malloc'd bytes (trailing newline stripped) and sets
 * *len, or NULL (logged).
 */
unsigned char *chain_read_secret(const char *path, size_t *len);

#endif
