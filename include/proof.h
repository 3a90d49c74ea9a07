/*
 * proof.h - inclusion proofs: one event handed to a third party on its
 * own, with what proves it was in its node's signed log: its position
 * and Merkle audit path (merkle.h) under a signed checkpoint, and the
 * key events from the node's first (pinned) key to the one that signed
 * the checkpoint. A proof is one JSON object:
 *   {"podtrail_proof":1,"stream":S,"seq":N,"index":I,"count":C,
 *    "path":[hex,...],"event":LINE,"checkpoint":LINE,"keys":[LINE,...]}
 * where each LINE is a stored line, verbatim, as a JSON string.
 */
#ifndef PODTRAIL_PROOF_H
#define PODTRAIL_PROOF_H

#include <stddef.h>
#include <stdio.h>

struct trust;
struct proof;

/* Collect a proof of stream's event seq. NULL on ENOMEM (logged). */
struct proof *proof_new(const char *stream, unsigned long long seq);
/*
 * The stream's events in seq order, as the verifier checks them: each
 * one's raw hash (32 bytes) is the next leaf; text is the line (kept
 * for the event to prove).
 */
void proof_leaf(struct proof *p, unsigned long long seq,
    const unsigned char *hash, const char *text);
/* A new interval (after a checkpoint or a key event). */
void proof_reset(struct proof *p);
/* A valid key event of the stream (its line). */
void proof_key(struct proof *p, const char *line);
/*
 * A valid checkpoint closing the current interval: if the event is in
 * it, write the proof to out. 1 written, 0 not (yet), -1 write error.
 */
int proof_checkpoint(struct proof *p, const char *line, FILE *out);
void proof_free(struct proof *p);

/*
 * Check a proof (text, len) with only the pinned keys t (and the HMAC
 * key, for an HMAC chain). Prints the verdict to out (JSON if json).
 * 1 valid, 0 not.
 */
int proof_check(const char *text, size_t len, const struct trust *t,
    const unsigned char *hkey, size_t hkeylen, FILE *out, int json);

#endif
