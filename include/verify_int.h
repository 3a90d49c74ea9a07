/*
 * verify_int.h - what the verifier's files share (not an interface:
 * only src/verify*.c include it). verify.c takes lines and reports;
 * verify_scan.c checks a line as podtrail sealed it without parsing
 * it; verify_order.c checks each stream in seq order; verify_signed.c
 * checks keys and checkpoints; verify_witness.c witnessed checkpoints;
 * verify_stream.c holds the streams and their findings.
 */
#ifndef PODTRAIL_VERIFY_INT_H
#define PODTRAIL_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"

/* items listed per kind in the report; all are counted */
#define LIST_MAX 50
#define WINDOW_DEFAULT 262144
/* recent seqs per stream whose hash a late copy is compared with */
#define RECENT 1024
#define MAX_KEYS 16

struct item {
	unsigned long long seq;
	unsigned long long order;	/* input order: copies keep it */
	unsigned long line;
	uint32_t file;
	uint8_t self_ok;	/* hash recomputed from the line matches */
	uint8_t kind;		/* enum ckpt_kind */
	unsigned char hash[CHAIN_HASH_HEX / 2];
	unsigned char prev[CHAIN_HASH_HEX / 2];
	char *text;		/* the line: signed events, the one to prove */
};

struct recent {
	unsigned long long seq;
	unsigned char hash[8];
};

struct wit {
	unsigned long long seq;
	unsigned char hash[CHAIN_HASH_HEX / 2];
};

enum lists { L_GAP, L_EXPLAINED, L_BADHASH, L_CONFLICT, L_BREAK, L_SIG,
	L_WITNESS, L_LATE, L_N };

struct stream {
	char *name;
	int in_store;
	struct item *heap;
	size_t nheap, capheap;
	unsigned long long next;	/* lowest seq not consumed yet */
	unsigned long long consumed;	/* distinct seqs consumed */
	unsigned long long first, last;
	unsigned char last_hash[CHAIN_HASH_HEX / 2];
	struct recent *recent;
	size_t hkey;			/* HMAC key that last matched */
	/* signatures */
	struct merkle *m;
	struct sign_key *key;		/* current epoch's key */
	unsigned long long epoch;
	int anchored, pinned;
	unsigned long long before_key;	/* events before any key */
	unsigned long long since_ckpt;	/* events since the last checkpoint */
	unsigned long long uncovered;	/* events no checkpoint covers */
	unsigned long long ckpts, last_ckpt_seq;
	long long last_ckpt_time;
	int stale_told;
	int judged;		/* 0 not yet, 1 passed, 2 failed */
	/* witnessed checkpoints, by seq */
	struct wit *wit;
	size_t nwit, capwit, witi;
	/* counters */
	unsigned long long events, missing, ngaps, explained, nexplained,
	    dups, conflicts, breaks, badhash, sigfail, witfail, late;
	cJSON *list[L_N];
	cJSON *notes;		/* readable lines, in order found */
	unsigned long long nnotes;
};

struct hkey {
	unsigned char *k;
	size_t len;
};

struct verify {
	struct hkey keys[MAX_KEYS];
	size_t nkeys;
	struct stream **st;
	size_t nst;
	size_t *tab;		/* open addressing into st, SIZE_MAX empty */
	size_t tabcap;
	char **files;
	size_t nfiles;
	char **ignore;
	size_t nignore;
	struct trust *trust;
	long long max_silence, now;	/* max_silence < 0: not checked */
	size_t window, held;
	unsigned long long order;
	unsigned long long invalid;
	char first_invalid[512];
	FILE *follow;
	int follow_json;
	/* --prove */
	char *prove_stream;
	unsigned long long prove_seq;
	FILE *prove_out;
	struct proof *proof;
	int proved;
	struct buf canon, scratch;
};

/* ---- verify_stream.c: streams and their findings ------------------------- */

/* The stream named name, made if new. NULL on ENOMEM. Owned by v. */
struct stream *verify_stream_get(struct verify *v, const char *name);
void verify_stream_free(struct stream *st);
/* {"seq","file","line"} of e; NULL on ENOMEM. Caller owns it. */
cJSON *verify_stream_where(struct verify *v, const struct item *e);
/* Add seq to o as a raw number named name. */
void verify_stream_add_seq(cJSON *o, const char *name, unsigned long long seq);
/*
 * Note a finding: its readable line for the report (and, following,
 * printed at once), and j (taken; may be NULL) in st's list of kind.
 */
void verify_stream_note(struct verify *v, struct stream *st, enum lists kind,
    cJSON *j, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "file:line" of e in buf; returns buf. */
const char *verify_stream_file_line(struct verify *v, const struct item *e,
    char *buf, size_t len);
/* A failed signature check of e, for why. */
void verify_stream_sig_fail(struct verify *v, struct stream *st,
    const struct item *e, const char *why);
/* Seqs from..to absent: explained by the signed restart why, or a gap. */
void verify_stream_gap(struct verify *v, struct stream *st,
    unsigned long long from, unsigned long long to,
    const struct ckpt_info *why);

/* ---- verify_witness.c ---------------------------------------------------- */

/* Witnessed seqs up to e's that the store lacks; then e's own copy. */
void verify_witness_check(struct verify *v, struct stream *st,
    const struct item *e);

/* ---- verify_signed.c: podtrail's signed events, in seq order ------------- */

/*
 * A podtrail_key event; 1 if valid (then *in is usable), else 0 (noted).
 * *evp: its parsed event (or NULL), for the caller to free after *in.
 */
int verify_signed_key(struct verify *v, struct stream *st,
    const struct item *e, struct ckpt_info *in, cJSON **evp);
/* A podtrail_checkpoint event; failures noted. *evp as above. */
void verify_signed_checkpoint(struct verify *v, struct stream *st,
    const struct item *e, cJSON **evp);

/* ---- verify_order.c: each stream in seq order ---------------------------- */

/*
 * Queue a checked item of st (its text taken) and check what is due.
 * 0, or -1 on ENOMEM (not logged).
 */
int verify_order_take(struct verify *v, struct stream *st, struct item *e);
/* Check what is due in st (all it holds, with force). */
void verify_order_drain(struct verify *v, struct stream *st, int force);

/* ---- verify_scan.c: the fast path ---------------------------------------- */

/*
 * The line as podtrail sealed it: 1 done (e filled, self_ok set, the
 * stream named in name), 0 take the full path, -1 ENOMEM.
 */
int verify_scan_line(struct verify *v, const char *line, size_t len,
    struct item *e, char *name, size_t namelen);

#endif
