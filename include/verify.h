/*
 * verify.h - checking chains as an aggregator stored them (NDJSON
 * lines in any order, duplicates allowed), streaming: each line is
 * checked on arrival (its hash), then per stream in seq order through
 * a reorder window, so memory grows with the number of streams and
 * the window, not with the input. Per stream: gaps, duplicates,
 * conflicts, broken links, hash (HMAC) failures; signed checkpoints
 * (ckpt.h) and key epochs; explained restarts; pinned keys, witnessed
 * checkpoints and staleness.
 */
#ifndef PODTRAIL_VERIFY_H
#define PODTRAIL_VERIFY_H

#include <stddef.h>
#include <stdio.h>

struct verify;

/* New checker; key NULL for plain SHA-256 chains. NULL on ENOMEM (logged). */
struct verify *verify_new(const unsigned char *key, size_t keylen);
/*
 * Another HMAC key (key rotation): each line is checked with the key
 * that last matched its stream, then the others. 0, or -1 (logged).
 */
int verify_add_key(struct verify *v, const unsigned char *key, size_t keylen);
/*
 * Leave out a top-level field the aggregator added (e.g. Vector's
 * "timestamp") before checking hashes. 0, or -1 on ENOMEM (logged).
 */
int verify_ignore(struct verify *v, const char *field);
/*
 * Pin the node keys of a PEM file or directory (trust.h): every stream
 * must then be signed, anchored to a key pinned for its node. 0, or -1
 * (logged).
 */
int verify_trust(struct verify *v, const char *path);
/*
 * Read witnessed lines (checkpoint_output): each witnessed checkpoint
 * must be in the store, with the same hash. Call before the store's
 * lines. 0, or -1 on a read error (logged).
 */
int verify_witness(struct verify *v, FILE *fp, const char *name);
/* A stream whose last checkpoint is older than now - sec (s since the epoch) is stale. */
void verify_max_silence(struct verify *v, long long sec, long long now);
/* Hold at most n lines out of order, across streams (default 262144). */
void verify_window(struct verify *v, size_t n);
/* Print each finding to out as it is found (--follow). */
void verify_follow(struct verify *v, FILE *out, int json);
/*
 * Write an inclusion proof of stream's event seq to out once the
 * checkpoint covering it has been checked (see proof.h).
 */
void verify_prove(struct verify *v, const char *stream,
    unsigned long long seq, FILE *out);
/* Was the proof asked for written? */
int verify_proved(const struct verify *v);
/*
 * Take one stored line (without newline); where names it in reports
 * (file, line number). 0, or -1 on ENOMEM; bad lines are counted.
 */
int verify_line(struct verify *v, const char *line, size_t len,
    const char *file, unsigned long lineno);
/*
 * Read every line of fp (one source: a file, stdin, or anything that
 * makes a FILE* of NDJSON lines). 0, or -1 on a read error (logged).
 */
int verify_file(struct verify *v, FILE *fp, const char *name);
/* --follow: report streams that went stale by now. */
void verify_tick(struct verify *v, long long now);
/*
 * Check what is still held (the input is over), then print the report
 * (readable, or JSON when json is set) to out. Returns 1 when every
 * stream is complete and intact (explained gaps allowed), else 0.
 */
int verify_report(struct verify *v, FILE *out, int json);
void verify_free(struct verify *v);

#endif
