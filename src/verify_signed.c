/*
 * verify_signed.c - podtrail's signed events, in seq order: key
 * announcements (epochs, pinned keys) and checkpoints over the Merkle
 * root of the events since the last one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ckpt.h"
#include "jsonread.h"
#include "merkle.h"
#include "proof.h"
#include "sign.h"
#include "trust.h"
#include "verify_int.h"

/* Parse a held signed event's line again; NULL if it no longer parses. */
static cJSON *
item_event(const struct item *e, struct ckpt_info *in, const char **why)
{
	cJSON *ev = e->text ? jsonread_parse(e->text, strlen(e->text)) : NULL;

	*why = "not a valid signed event";
	if (ev == NULL || ckpt_info_get(ev, in, why) != 1) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

/* Common to both kinds: the body names this event. NULL, or why not. */
static const char *
body_names_event(const struct stream *st, const struct item *e,
    const struct ckpt_info *in)
{
	if (strcmp(in->stream, st->name) != 0)
		return "signed for another stream";
	if (in->seq != e->seq)
		return "signed for another seq (replayed)";
	return NULL;
}

/*
 * A podtrail_key event: a re-announcement of the current key, a new
 * epoch's key certified by the current one, or the stream's first key
 * (pinned, with --trust). 1 if valid (then *info is usable), else 0.
 */
int
verify_signed_key(struct verify *v, struct stream *st, const struct item *e,
    struct ckpt_info *in, cJSON **evp)
{
	struct sign_key *k = NULL;
	const char *why;
	char node[320];

	if ((*evp = item_event(e, in, &why)) == NULL)
		goto fail;
	if ((why = body_names_event(st, e, in)) != NULL)
		goto fail;
	why = "invalid public key";
	if ((k = sign_from_b64(in->pub)) == NULL ||
	    strcmp(sign_key_id(k), in->key_id) != 0)
		goto fail;
	why = "signature does not match the announced key";
	if (!ckpt_info_sig_ok(in, k, &v->scratch))
		goto fail;
	if (st->key && sign_same(st->key, k)) {
		why = "key epoch changed without a new key";
		if (in->epoch != st->epoch)
			goto fail;
		sign_free(k);
		return 1;
	}
	if (st->key) {
		why = "new key not certified by the current key (another "
		    "node's or a forged key?)";
		if (in->prev_key_id == NULL ||
		    !ckpt_info_cert_ok(in, st->key, &v->scratch))
			goto fail;
		why = "new key's epoch does not follow the current one";
		if (in->epoch != st->epoch + 1)
			goto fail;
	} else {
		ckpt_node_of(st->name, node, sizeof(node));
		st->anchored = 1;
		st->pinned = v->trust != NULL;
		if (v->trust && !trust_check(v->trust, node, k)) {
			/* kept, so what it signs is still checked, but failed */
			st->pinned = 0;
			st->key = k;
			st->epoch = in->epoch;
			verify_stream_sig_fail(v, st, e, "key is not pinned for this node "
			    "(--trust)");
			return 0;
		}
	}
	sign_free(st->key);
	st->key = k;
	st->epoch = in->epoch;
	return 1;
fail:
	sign_free(k);
	verify_stream_sig_fail(v, st, e, why);
	return 0;
}

void
verify_signed_checkpoint(struct verify *v, struct stream *st,
    const struct item *e, cJSON **evp)
{
	struct ckpt_info in;
	unsigned char root[MERKLE_HASH], want[MERKLE_HASH];
	char head[CHAIN_HASH_HEX + 1];
	const char *why;
	long long t;

	if ((*evp = item_event(e, &in, &why)) == NULL)
		goto fail;
	if ((why = body_names_event(st, e, &in)) != NULL)
		goto fail;
	why = "checkpoint without a key announced before it";
	if (st->key == NULL)
		goto fail;
	why = "signed by a key that is not the stream's current one "
	    "(a retired epoch's, or another node's)";
	if (strcmp(in.key_id, sign_key_id(st->key)) != 0 ||
	    in.epoch != st->epoch)
		goto fail;
	why = "bad signature";
	if (!ckpt_info_sig_ok(&in, st->key, &v->scratch))
		goto fail;
	for (int i = 0; i < CHAIN_HASH_HEX / 2; i++)
		snprintf(head + 2 * i, 3, "%02x", e->prev[i]);
	why = "head is not the event before it";
	if (strcmp(in.head, head) != 0)
		goto fail;
	why = "event count differs from the events since the last "
	    "checkpoint (events missing or added)";
	if (in.count != merkle_count(st->m))
		goto fail;
	why = "Merkle root differs (events changed, missing or added)";
	if (merkle_root(st->m, root) == -1 || ckpt_unhex(in.root, want,
	    sizeof(want)) == -1 || memcmp(root, want, sizeof(root)) != 0)
		goto fail;
	why = "time is not RFC 3339";
	if (ckpt_parse_time(in.time, &t) == -1)
		goto fail;
	st->ckpts++;
	st->last_ckpt_seq = e->seq;
	st->last_ckpt_time = t;
	st->stale_told = 0;
	if (v->proof && strcmp(st->name, v->prove_stream) == 0 &&
	    proof_checkpoint(v->proof, e->text, v->prove_out) == 1)
		v->proved = 1;
	return;
fail:
	verify_stream_sig_fail(v, st, e, why);
}
