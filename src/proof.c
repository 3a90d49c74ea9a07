/*
 * proof.c - inclusion proofs (see proof.h): made by podtrail-verify
 * --prove while it checks a store, checked by --check-proof from the
 * proof alone and the node's pinned public key.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"
#include "jsonread.h"
#include "log.h"
#include "merkle.h"
#include "proof.h"
#include "sign.h"
#include "trust.h"

struct proof {
	char *stream;
	unsigned long long seq;
	unsigned char (*leaves)[MERKLE_HASH];
	size_t n, cap;
	int have;		/* the event is in the current interval */
	uint64_t index;
	char *event;
	cJSON *keys;		/* strings */
	int done;
};

struct proof *
proof_new(const char *stream, unsigned long long seq)
{
	struct proof *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->stream = strdup(stream)) == NULL ||
	    (p->keys = cJSON_CreateArray()) == NULL) {
		log_warn("proof");
		proof_free(p);
		return NULL;
	}
	p->seq = seq;
	return p;
}

void
proof_leaf(struct proof *p, unsigned long long seq, const unsigned char *hash,
    const char *text)
{
	if (p->done)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		void *l = realloc(p->leaves, cap * MERKLE_HASH);

		if (l == NULL) {
			log_warn("proof");
			p->done = 1;
			return;
		}
		p->leaves = l;
		p->cap = cap;
	}
	if (seq == p->seq && text && !p->have) {
		free(p->event);
		if ((p->event = strdup(text)) != NULL) {
			p->have = 1;
			p->index = p->n;
		}
	}
	if (merkle_leaf_hash(hash, MERKLE_HASH, p->leaves[p->n]) == -1) {
		p->done = 1;
		return;
	}
	p->n++;
}

void
proof_reset(struct proof *p)
{
	p->n = 0;
	p->have = 0;	/* an event left in an unsigned interval stays unproven */
}

void
proof_key(struct proof *p, const char *line)
{
	if (!p->done && line)
		cJSON_AddItemToArray(p->keys, cJSON_CreateString(line));
}

int
proof_checkpoint(struct proof *p, const char *line, FILE *out)
{
	unsigned char path[MERKLE_DEPTH][MERKLE_HASH];
	char hex[2 * MERKLE_HASH + 1], num[24];
	size_t npath;
	cJSON *o, *pa;
	char *s;
	int rc = -1;

	if (p->done || !p->have)
		return 0;
	if (merkle_path((const unsigned char (*)[MERKLE_HASH])p->leaves, p->n,
	    p->index, path, &npath) == -1 || (o = cJSON_CreateObject()) == NULL)
		return -1;
	cJSON_AddNumberToObject(o, "podtrail_proof", 1);
	cJSON_AddStringToObject(o, "stream", p->stream);
	snprintf(num, sizeof(num), "%llu", p->seq);
	cJSON_AddRawToObject(o, "seq", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)p->index);
	cJSON_AddRawToObject(o, "index", num);
	snprintf(num, sizeof(num), "%zu", p->n);
	cJSON_AddRawToObject(o, "count", num);
	pa = cJSON_AddArrayToObject(o, "path");
	for (size_t i = 0; pa && i < npath; i++) {
		for (int j = 0; j < MERKLE_HASH; j++)
			snprintf(hex + 2 * j, 3, "%02x", path[i][j]);
		cJSON_AddItemToArray(pa, cJSON_CreateString(hex));
	}
	cJSON_AddStringToObject(o, "event", p->event);
	cJSON_AddStringToObject(o, "checkpoint", line);
	cJSON_AddItemReferenceToObject(o, "keys", p->keys);
	if ((s = cJSON_PrintUnformatted(o)) != NULL) {
		if (fprintf(out, "%s\n", s) > 0 && fflush(out) == 0)
			rc = 1;
		free(s);
	}
	cJSON_Delete(o);
	p->done = 1;
	return rc;
}

void
proof_free(struct proof *p)
{
	if (p == NULL)
		return;
	free(p->stream);
	free(p->leaves);
	free(p->event);
	cJSON_Delete(p->keys);
	free(p);
}

/* ---- checking ------------------------------------------------------------ */

/*
 * Parse a stored line and check its own hash. Returns the event (caller
 * owns) and its hash in raw, or NULL.
 */
static cJSON *
line_event(const char *line, const unsigned char *hkey, size_t hkeylen,
    unsigned char *raw, struct buf *canon)
{
	cJSON *ev = line ? jsonread_parse(line, strlen(line)) : NULL;
	cJSON *h, *prev, *copy;
	char calc[CHAIN_HASH_HEX + 1];
	int ok = 0;

	if (ev == NULL)
		return NULL;
	h = cJSON_GetObjectItemCaseSensitive(ev, "hash");
	prev = cJSON_GetObjectItemCaseSensitive(ev, "prev");
	if (cJSON_IsString(h) && cJSON_IsString(prev) &&
	    strlen(prev->valuestring) == CHAIN_HASH_HEX &&
	    strlen(h->valuestring) == CHAIN_HASH_HEX &&
	    ckpt_unhex(h->valuestring, raw, CHAIN_HASH_HEX / 2) == 0 &&
	    (copy = cJSON_Duplicate(ev, 1)) != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "hash");
		buf_reset(canon);
		ok = chain_canonical(copy, canon) == 0 &&
		    chain_hash(hkey, hkeylen, prev->valuestring, canon->data,
		    canon->len, calc) == 0 && strcmp(calc, h->valuestring) == 0;
		cJSON_Delete(copy);
	}
	if (!ok) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

static unsigned long long
raw_num(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsRaw(j) || cJSON_IsString(j))
		return strtoull(j->valuestring, NULL, 10);
	if (cJSON_IsNumber(j) && j->valuedouble >= 0)
		return (unsigned long long)j->valuedouble;
	return ~0ULL;
}

/* Walk the key events from the pinned key; the last key, or NULL (why). */
static struct sign_key *
key_chain(const cJSON *keys, const char *stream, const struct trust *t,
    const unsigned char *hkey, size_t hkeylen, struct buf *b,
    const char **why)
{
	struct sign_key *cur = NULL;
	const cJSON *kl;
	char node[320];

	ckpt_node_of(stream, node, sizeof(node));
	cJSON_ArrayForEach(kl, keys) {
		unsigned char raw[CHAIN_HASH_HEX / 2];
		struct ckpt_info in;
		struct sign_key *k = NULL;
		cJSON *ev;
		const char *w;

		*why = "a key event in the proof is edited or malformed";
		if (!cJSON_IsString(kl) || (ev = line_event(kl->valuestring,
		    hkey, hkeylen, raw, b)) == NULL)
			goto fail;
		if (ckpt_info_get(ev, &in, &w) != 1 || in.kind != CKPT_KEY ||
		    strcmp(in.stream, stream) != 0 ||
		    (k = sign_from_b64(in.pub)) == NULL ||
		    strcmp(sign_key_id(k), in.key_id) != 0 ||
		    !ckpt_info_sig_ok(&in, k, b)) {
			sign_free(k);
			cJSON_Delete(ev);
			goto fail;
		}
		if (cur == NULL) {
			*why = "the first key is not pinned for the node "
			    "(--trust)";
			if (!trust_check(t, node, k)) {
				sign_free(k);
				cJSON_Delete(ev);
				goto fail;
			}
			cur = k;
		} else if (sign_same(cur, k)) {
			sign_free(k);
		} else {
			*why = "a key in the proof is not certified by the "
			    "one before it";
			if (!ckpt_info_cert_ok(&in, cur, b)) {
				sign_free(k);
				cJSON_Delete(ev);
				goto fail;
			}
			sign_free(cur);
			cur = k;
		}
		cJSON_Delete(ev);
	}
	if (cur == NULL)
		*why = "the proof holds no key events";
	return cur;
fail:
	sign_free(cur);
	return NULL;
}

int
proof_check(const char *text, size_t len, const struct trust *t,
    const unsigned char *hkey, size_t hkeylen, FILE *out, int json)
{
	unsigned char ev_hash[CHAIN_HASH_HEX / 2], ck_hash[CHAIN_HASH_HEX / 2];
	unsigned char leaf[MERKLE_HASH], root[MERKLE_HASH];
	unsigned char (*path)[MERKLE_HASH] = NULL;
	struct buf b = BUF_INIT;
	struct ckpt_info in;
	struct sign_key *k = NULL;
	cJSON *p = cJSON_ParseWithLength(text, len), *ev = NULL, *ck = NULL;
	const cJSON *pa, *es, *cs, *stream, *seq;
	const char *why = "not a podtrail proof", *w;
	unsigned long long index, count, evseq = 0;
	size_t npath = 0;
	int ok = 0;

	memset(&in, 0, sizeof(in));
	if (p == NULL || !cJSON_IsObject(p) ||
	    !cJSON_IsString(es = cJSON_GetObjectItemCaseSensitive(p, "event")) ||
	    !cJSON_IsString(cs = cJSON_GetObjectItemCaseSensitive(p,
	    "checkpoint")) ||
	    !cJSON_IsArray(pa = cJSON_GetObjectItemCaseSensitive(p, "path")) ||
	    cJSON_GetArraySize(pa) > MERKLE_DEPTH)
		goto done;
	index = raw_num(p, "index");
	count = raw_num(p, "count");
	why = hkey ? "the event is edited (its hash does not match)" :
	    "the event's hash does not match: edited, or an HMAC chain "
	    "checked without its --key";
	if ((ev = line_event(es->valuestring, hkey, hkeylen, ev_hash, &b))
	    == NULL)
		goto done;
	stream = cJSON_GetObjectItemCaseSensitive(ev, "stream");
	seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	why = "the event has no stream and seq";
	if (!cJSON_IsString(stream) || !cJSON_IsRaw(seq))
		goto done;
	evseq = strtoull(seq->valuestring, NULL, 10);
	why = "the checkpoint is edited or not a checkpoint";
	if ((ck = line_event(cs->valuestring, hkey, hkeylen, ck_hash, &b))
	    == NULL || ckpt_info_get(ck, &in, &w) != 1 ||
	    in.kind != CKPT_CHECKPOINT)
		goto done;
	why = "the checkpoint is another stream's, or before the event";
	if (strcmp(in.stream, stream->valuestring) != 0 || in.seq <= evseq)
		goto done;
	why = "the path does not lead to the checkpoint's root";
	if ((path = calloc(MERKLE_DEPTH, MERKLE_HASH)) == NULL)
		goto done;
	for (const cJSON *h = pa->child; h; h = h->next)
		if (!cJSON_IsString(h) || strlen(h->valuestring) !=
		    2 * MERKLE_HASH || ckpt_unhex(h->valuestring,
		    path[npath++], MERKLE_HASH) == -1)
			goto done;
	if (count != in.count || ckpt_unhex(in.root, root, MERKLE_HASH) == -1 ||
	    merkle_leaf_hash(ev_hash, sizeof(ev_hash), leaf) == -1 ||
	    !merkle_check(leaf, index, count,
	    (const unsigned char (*)[MERKLE_HASH])path, npath, root))
		goto done;
	if ((k = key_chain(cJSON_GetObjectItemCaseSensitive(p, "keys"),
	    in.stream, t, hkey, hkeylen, &b, &why)) == NULL)
		goto done;
	why = "the checkpoint is not signed by the node's key";
	if (!ckpt_info_sig_ok(&in, k, &b))
		goto done;
	ok = 1;
done:
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddBoolToObject(o, "ok", ok);
		if (ok) {
			cJSON_AddStringToObject(o, "stream", in.stream);
			cJSON_AddNumberToObject(o, "seq", (double)evseq);
			cJSON_AddNumberToObject(o, "checkpoint_seq",
			    (double)in.seq);
			cJSON_AddStringToObject(o, "key_id", in.key_id);
		} else
			cJSON_AddStringToObject(o, "why", why);
		if ((s = cJSON_PrintUnformatted(o)) != NULL) {
			fprintf(out, "%s\n", s);
			free(s);
		}
		cJSON_Delete(o);
	} else if (ok)
		fprintf(out, "proof OK: seq %llu of stream %s is in the "
		    "checkpoint at seq %llu, signed by key %s\n", evseq,
		    in.stream, in.seq, in.key_id);
	else
		fprintf(out, "proof FAILED: %s\n", why);
	sign_free(k);
	free(path);
	cJSON_Delete(ev);
	cJSON_Delete(ck);
	cJSON_Delete(p);
	buf_free(&b);
	return ok;
}
