/*
 * ckpt.h - signed checkpoints, the node side. A node signs with its own
 * Ed25519 key (sign.h), kept in state_dir/sign.key (0600) and replaced
 * every key_epoch; it never leaves the node. Three kinds of podtrail
 * event carry a "signed" object and "sig", the base64 Ed25519
 * signature of the object's canonical JSON (chain.h) by signed.key_id:
 *
 *  podtrail_key         at every start and at each new epoch: the
 *                       public key ("pub"), its "epoch", and from the
 *                       second epoch on "prev_key_id" and "cert", the
 *                       previous key's signature of ckpt_cert_text();
 *                       after an unclean stop also "skipped_from",
 *                       "skipped_to", "reason": seqs that may be absent.
 *  podtrail_checkpoint  every checkpoint_interval and at a clean stop:
 *                       "count" events since the previous checkpoint,
 *                       "root" their RFC 6962 Merkle root (merkle.h;
 *                       leaves: the events' raw hashes), "head" the hash
 *                       of the event before it.
 * Both also sign "stream", "seq" (the event's own), "time" (RFC 3339).
 * Lines of both kinds also go to checkpoint_output (witness.h).
 */
#ifndef PODTRAIL_CKPT_H
#define PODTRAIL_CKPT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct conf;
struct ckpt;
struct sign_key;

/*
 * Load (or make, on first start) the key and checkpoint state in
 * c->state_dir for stream. clean: the chain's last run stopped cleanly;
 * next_seq: the first seq this run issues; hmac_key_id: the id of the
 * chain's HMAC key, or NULL. Opens checkpoint_output if set. NULL on
 * failure (logged).
 */
struct ckpt *ckpt_open(const struct conf *c, const char *stream, int clean,
    unsigned long long next_seq, const char *hmac_key_id);
/*
 * The podtrail_key event that opens this run, to be chained as seq
 * (with the time now_ms, ms since the epoch). Caller owns; NULL (logged).
 */
cJSON *ckpt_start_event(struct ckpt *ck, const char *node,
    unsigned long long seq, long long now_ms);
/*
 * A podtrail_checkpoint event over the events handed to ckpt_leaf()
 * since the last one, to be chained as seq right after them (head:
 * the last one's hash). Starts a new interval and saves the state.
 * Caller owns; NULL (logged).
 */
cJSON *ckpt_make(struct ckpt *ck, const char *node, unsigned long long seq,
    const char *head, long long now_ms);
/* Is a new key epoch due at now_ms? */
int ckpt_epoch_due(const struct ckpt *ck, long long now_ms);
/*
 * Start a new key epoch: a new key, certified by the current one in the
 * returned podtrail_key event (to be chained as seq); the old private
 * key is destroyed. Caller owns; NULL (logged; the old key stays).
 */
cJSON *ckpt_rotate(struct ckpt *ck, const char *node, unsigned long long seq,
    long long now_ms);
/*
 * One sealed event, in seq order: digest (chain_digest(), the raw bytes
 * of its hash) is the next Merkle leaf; while ckpt_witness_next() is
 * on, its line (line, len) also goes to checkpoint_output.
 */
void ckpt_leaf(struct ckpt *ck, const unsigned char *digest,
    const char *line, size_t len);
void ckpt_witness_next(struct ckpt *ck, int on);
/* Start the witness's sender (witness_start). 0, or -1 (logged). */
int ckpt_start(struct ckpt *ck);
void ckpt_stats(struct ckpt *ck, cJSON *obj);
/* Release (the key is cleansed). 0, or -1 if witness lines were lost. */
int ckpt_close(struct ckpt *ck);

/*
 * podtrail --print-key: write "podtrail-node: NODE" and the node's
 * first public key (the one to pin) in PEM to out, making the key pair
 * if the state dir has none yet. 0, or -1 (logged).
 */
int ckpt_print_key(const struct conf *c, const char *node, FILE *out);

/* ---- the verifier's side ---- */

enum ckpt_kind { CKPT_NONE, CKPT_KEY, CKPT_CHECKPOINT };

/* A signed podtrail event, as ckpt_info_get() found it; pointers into ev. */
struct ckpt_info {
	enum ckpt_kind kind;
	const cJSON *body;	/* "signed" */
	const char *sig, *stream, *key_id, *time, *epoch_txt;
	unsigned long long seq, epoch;
	/* CKPT_KEY */
	const char *pub, *prev_key_id, *cert, *reason, *hmac_key_id;
	int skipped;
	unsigned long long skipped_from, skipped_to;
	/* CKPT_CHECKPOINT */
	const char *root, *head;
	unsigned long long count;
};

/*
 * Is ev (parsed with chain_parse) a signed podtrail event? 1 yes (info
 * filled), 0 not one, -1 one with missing or malformed fields (*why set).
 */
int ckpt_info_get(const cJSON *ev, struct ckpt_info *info, const char **why);
/* Is info's "sig" valid under k? 1 or 0; scratch is a work buffer. */
int ckpt_info_sig_ok(const struct ckpt_info *info, const struct sign_key *k,
    struct buf *scratch);
/* Is a key event's "cert" valid under the previous key? 1 or 0. */
int ckpt_info_cert_ok(const struct ckpt_info *info,
    const struct sign_key *prev, struct buf *scratch);

/* What the previous key signs for a new one (see above). 0 or -1 (ENOMEM). */
int ckpt_cert_text(const char *stream, const char *epoch, const char *key_id,
    const char *pub, const char *prev_key_id, struct buf *out);
/* Seconds since the epoch of an RFC 3339 UTC time ("...Z"); 0, or -1. */
int ckpt_parse_time(const char *s, long long *sec);
/* The node of a stream NODE/ID (the part before the last '/') into out. */
void ckpt_node_of(const char *stream, char *out, size_t len);
/* n bytes from 2n lowercase hex digits at s. 0, or -1 (not hex). */
int ckpt_unhex(const char *s, unsigned char *out, size_t n);
/* The wall clock, ms since the epoch: what checkpoints are stamped with. */
long long ckpt_now_ms(void);
/* hex id (SIGN_ID_HEX + 1 bytes) naming an HMAC key without revealing it. */
void ckpt_hmac_key_id(const unsigned char *key, size_t len, char *id);

#endif
