/*
 * verify.c - the checks behind podtrail-verify (see verify.h).
 *
 * Every line is checked on its own when it arrives (its hash over
 * prev || canonical JSON) and reduced to a small item: seq, hash, prev
 * and where it was read. Items wait in their stream's reorder heap
 * until their seq is next; then, in seq order, neighbours must link
 * (prev == hash of seq - 1), every seq must be present or declared
 * skipped by a signed restart, copies must agree, and each signed
 * checkpoint must match the Merkle root of the events since the last
 * one, under the stream's current key. When more than the window is
 * held, the streams holding the most are checked as far as they can
 * be, by force: what is then absent is a gap.
 *
 * This file takes the lines (the full path: parsed, re-canonicalized)
 * and writes the report; verify_int.h says where the rest is.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"
#include "jsonread.h"
#include "log.h"
#include "proof.h"
#include "sign.h"
#include "trust.h"
#include "unwrap.h"
#include "verify.h"
#include "verify_int.h"

/* ---- set-up ------------------------------------------------------------ */

struct verify *
verify_new(const unsigned char *key, size_t keylen)
{
	struct verify *v = calloc(1, sizeof(*v));

	if (v == NULL)
		goto nomem;
	v->max_silence = -1;
	v->window = WINDOW_DEFAULT;
	if (key && verify_add_key(v, key, keylen) == -1) {
		free(v);
		return NULL;
	}
	return v;
nomem:
	log_warn("verify");
	return NULL;
}

int
verify_add_key(struct verify *v, const unsigned char *key, size_t keylen)
{
	if (v->nkeys == MAX_KEYS) {
		log_warnx("verify: at most %d keys", MAX_KEYS);
		return -1;
	}
	if ((v->keys[v->nkeys].k = malloc(keylen ? keylen : 1)) == NULL) {
		log_warn("verify");
		return -1;
	}
	memcpy(v->keys[v->nkeys].k, key, keylen);
	v->keys[v->nkeys++].len = keylen;
	return 0;
}

static ssize_t
intern(char ***tab, size_t *n, const char *s)
{
	char **t;

	/* few files and fields; the last one is the usual answer */
	for (size_t i = *n; i > 0; i--)
		if (strcmp((*tab)[i - 1], s) == 0)
			return (ssize_t)(i - 1);
	if ((t = realloc(*tab, (*n + 1) * sizeof(*t))) == NULL)
		return -1;
	*tab = t;
	if ((t[*n] = strdup(s)) == NULL)
		return -1;
	return (ssize_t)(*n)++;
}

/* The index of a file's name (the last one asked is the usual answer). */
static ssize_t
file_index(struct verify *v, const char *file)
{
	if (v->nfiles && strcmp(v->files[v->nfiles - 1], file) == 0)
		return (ssize_t)v->nfiles - 1;
	return intern(&v->files, &v->nfiles, file);
}

int
verify_ignore(struct verify *v, const char *field)
{
	if (intern(&v->ignore, &v->nignore, field) == -1) {
		log_warn("verify");
		return -1;
	}
	return 0;
}

int
verify_trust(struct verify *v, const char *path)
{
	if (v->trust == NULL && (v->trust = trust_new()) == NULL)
		return -1;
	return trust_load(v->trust, path);
}

void
verify_max_silence(struct verify *v, long long sec, long long now)
{
	v->max_silence = sec;
	v->now = now;
}

void
verify_window(struct verify *v, size_t n)
{
	v->window = n ? n : 1;
}

void
verify_follow(struct verify *v, FILE *out, int json)
{
	v->follow = out;
	v->follow_json = json;
}

void
verify_prove(struct verify *v, const char *stream, unsigned long long seq,
    FILE *out)
{
	free(v->prove_stream);
	proof_free(v->proof);
	v->prove_stream = strdup(stream);
	v->proof = v->prove_stream ? proof_new(stream, seq) : NULL;
	v->prove_seq = seq;
	v->prove_out = out;
}

int
verify_proved(const struct verify *v)
{
	return v->proved;
}

/* ---- lines --------------------------------------------------------------- */

static int
is_hex64(const cJSON *j)
{
	const char *s;

	if (!cJSON_IsString(j) || strlen(s = j->valuestring) != CHAIN_HASH_HEX)
		return 0;
	return strspn(s, "0123456789abcdef") == CHAIN_HASH_HEX;
}

static void
invalid(struct verify *v, const char *file, unsigned long lineno,
    const char *why)
{
	if (v->invalid++ == 0)
		snprintf(v->first_invalid, sizeof(v->first_invalid),
		    "%s:%lu: %s", file, lineno, why);
}

/* Recompute the hash: with the stream's last key first, then the others. */
static int
self_check(struct verify *v, struct stream *st, const char *prev,
    const char *hash, int *ok)
{
	char calc[CHAIN_HASH_HEX + 1];
	size_t n = v->nkeys ? v->nkeys : 1;

	*ok = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = (st->hkey + i) % n;

		if (chain_hash(v->nkeys ? v->keys[k].k : NULL,
		    v->nkeys ? v->keys[k].len : 0, prev, v->canon.data,
		    v->canon.len, calc) == -1)
			return -1;
		if (strcmp(calc, hash) == 0) {
			st->hkey = k;
			*ok = 1;
			break;
		}
	}
	return 0;
}

static int
signed_kind(const cJSON *ev)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");

	if (!cJSON_IsString(t) || strncmp(t->valuestring, "podtrail_", 9))
		return CKPT_NONE;
	if (strcmp(t->valuestring, "podtrail_key") == 0)
		return CKPT_KEY;
	if (strcmp(t->valuestring, "podtrail_checkpoint") == 0)
		return CKPT_CHECKPOINT;
	return CKPT_NONE;
}

int
verify_line(struct verify *v, const char *line, size_t len, const char *file,
    unsigned long lineno)
{
	cJSON *ev, *stream, *seq, *hash, *prev;
	struct stream *st;
	struct item e;
	char *end, hashtxt[CHAIN_HASH_HEX + 1], prevtxt[CHAIN_HASH_HEX + 1];
	ssize_t fi;
	int ok, rc = -1;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	if (!v->prove_stream) {
		char name[512];
		int r = verify_scan_line(v, line, len, &e, name, sizeof(name));

		if (r == -1)
			goto cleanup_nomem;
		if (r == 1) {
			if ((fi = file_index(v, file)) == -1)
				goto cleanup_nomem;
			st = verify_stream_get(v, name);
			st->in_store = 1;
			e.file = (uint32_t)fi;
			e.line = lineno;
			e.order = v->order++;
			return verify_order_take(v, st, &e) == -1 ? (log_warn("verify"),
			    -1) : 0;
		}
		memset(&e, 0, sizeof(e));
	}
	if ((ev = jsonread_parse(line, len)) == NULL || !cJSON_IsObject(ev)) {
		invalid(v, file, lineno, "not a JSON object");
		cJSON_Delete(ev);
		return 0;
	}
	stream = cJSON_GetObjectItemCaseSensitive(ev, "stream");
	seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	hash = cJSON_GetObjectItemCaseSensitive(ev, "hash");
	prev = cJSON_GetObjectItemCaseSensitive(ev, "prev");
	if (!cJSON_IsString(stream) || !cJSON_IsRaw(seq) || !is_hex64(hash) ||
	    !is_hex64(prev) || seq->valuestring[0] < '1' ||
	    seq->valuestring[0] > '9') {
		invalid(v, file, lineno, "no valid stream, seq, prev and hash");
		cJSON_Delete(ev);
		return 0;
	}
	e.seq = strtoull(seq->valuestring, &end, 10);
	if (*end) {
		invalid(v, file, lineno, "seq is not a positive integer");
		cJSON_Delete(ev);
		return 0;
	}
	if ((st = verify_stream_get(v, stream->valuestring)) == NULL ||
	    (fi = file_index(v, file)) == -1)
		goto cleanup;
	st->in_store = 1;
	e.file = (uint32_t)fi;
	e.line = lineno;
	e.order = v->order++;
	e.kind = (uint8_t)signed_kind(ev);
	(void)ckpt_unhex(hash->valuestring, e.hash, sizeof(e.hash));
	(void)ckpt_unhex(prev->valuestring, e.prev, sizeof(e.prev));
	memcpy(hashtxt, hash->valuestring, sizeof(hashtxt));
	memcpy(prevtxt, prev->valuestring, sizeof(prevtxt));
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "hash");
	for (size_t i = 0; i < v->nignore; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(ev, v->ignore[i]);
	buf_reset(&v->canon);
	if (chain_canonical(ev, &v->canon) == -1 ||
	    self_check(v, st, prevtxt, hashtxt, &ok) == -1)
		goto cleanup;
	e.self_ok = (uint8_t)ok;
	if (e.kind != CKPT_NONE || (v->prove_stream &&
	    e.seq == v->prove_seq && !strcmp(st->name, v->prove_stream))) {
		if ((e.text = malloc(len + 1)) == NULL)
			goto cleanup;
		memcpy(e.text, line, len);
		e.text[len] = '\0';
	}
	if (verify_order_take(v, st, &e) == -1)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc == -1)
		log_warn("verify");
	cJSON_Delete(ev);
	return rc;
cleanup_nomem:
	log_warn("verify");
	return -1;
}

int
verify_file(struct verify *v, FILE *fp, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int rc = 0;

	while ((n = getline(&line, &cap, fp)) != -1) {
		if (unwrap_verify(v, line, (size_t)n, name, ++lineno) == -1) {
			rc = -1;
			break;
		}
	}
	if (ferror(fp)) {
		log_warn("%s", name);
		rc = -1;
	}
	free(line);
	return rc;
}

/* ---- the report ---------------------------------------------------------- */

static int
stale(struct verify *v, struct stream *st, long long now)
{
	return v->max_silence >= 0 && st->in_store && (st->ckpts == 0 ||
	    st->last_ckpt_time < now - v->max_silence);
}

void
verify_tick(struct verify *v, long long now)
{
	for (size_t i = 0; i < v->nst; i++) {
		struct stream *st = v->st[i];

		if (!st->stale_told && stale(v, st, now)) {
			st->stale_told = 1;
			verify_stream_note(v, st, L_SIG, NULL, "stale: no checkpoint in the "
			    "last %lld s", v->max_silence);
		}
	}
}

static int stream_judge(struct verify *v, struct stream *st, int ok);

/* What fails a stream; its readable reasons go to notes. */
static int
stream_ok(struct verify *v, struct stream *st)
{
	int ok = st->missing == 0 && st->conflicts == 0 && st->breaks == 0 &&
	    st->badhash == 0 && st->sigfail == 0 && st->witfail == 0;

	/* a second report says the same, without noting it all again */
	if (st->judged)
		return ok && st->judged == 1;
	st->judged = 2;
	ok = stream_judge(v, st, ok);
	if (ok)
		st->judged = 1;
	return ok;
}

/* The stream-wide verdicts, noted. */
static int
stream_judge(struct verify *v, struct stream *st, int ok)
{
	if (!st->in_store) {
		/* known from a witness (or, in hostile input, from nothing) */
		if (st->nwit)
			verify_stream_note(v, st, L_WITNESS, NULL, "stream missing from the "
			    "store (witnessed up to seq %llu)",
			    st->wit[st->nwit - 1].seq);
		else
			verify_stream_note(v, st, L_WITNESS, NULL, "stream missing from the "
			    "store");
		return 0;
	}
	if (v->trust && !st->pinned) {
		verify_stream_note(v, st, L_SIG, NULL, "not signed by a pinned key "
		    "(--trust): %s", st->anchored ? "anchored to another key" :
		    "no key announced");
		ok = 0;
	}
	if (v->trust && st->before_key) {
		verify_stream_note(v, st, L_SIG, NULL, "%llu events before the stream's "
		    "first key are not signed", st->before_key);
		ok = 0;
	}
	if (stale(v, st, v->now)) {
		verify_stream_note(v, st, L_SIG, NULL, st->ckpts ? "stale: the last "
		    "checkpoint is older than --max-silence %lld s" :
		    "stale: no checkpoint (--max-silence %lld s)",
		    v->max_silence);
		ok = 0;
	}
	return ok;
}

static void
print_stream(FILE *out, const struct stream *st, int ok)
{
	const cJSON *n;

	fprintf(out, "stream %s: %llu events, seq %llu..%llu, %llu "
	    "duplicates, %llu checkpoints%s: %s\n", st->name, st->events,
	    st->first, st->last, st->dups, st->ckpts,
	    st->key ? (st->pinned ? " (pinned key)" : " (signed)") : "",
	    ok ? (st->nexplained ? "intact, gaps explained" :
	    "complete and intact") : "FAILED");
	cJSON_ArrayForEach(n, st->notes)
		fprintf(out, "  %s\n", n->valuestring);
	if (st->nnotes > LIST_MAX * 4)
		fprintf(out, "  ... %llu more\n", st->nnotes - LIST_MAX * 4);
	if (st->since_ckpt && st->ckpts)
		fprintf(out, "  %llu events after the last checkpoint (seq "
		    "%llu) are not signed yet\n", st->since_ckpt,
		    st->last_ckpt_seq);
	if (st->uncovered)
		fprintf(out, "  %llu events before an unclean stop are "
		    "covered by no checkpoint\n", st->uncovered);
}

static cJSON *
stream_json(const struct verify *v, struct stream *st, int ok)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "stream", st->name);
	cJSON_AddNumberToObject(o, "events", (double)st->events);
	cJSON_AddNumberToObject(o, "first_seq", (double)st->first);
	cJSON_AddNumberToObject(o, "last_seq", (double)st->last);
	cJSON_AddNumberToObject(o, "missing", (double)st->missing);
	cJSON_AddItemReferenceToObject(o, "gaps", st->list[L_GAP]);
	cJSON_AddNumberToObject(o, "explained", (double)st->explained);
	cJSON_AddItemReferenceToObject(o, "explained_gaps", st->list[L_EXPLAINED]);
	cJSON_AddNumberToObject(o, "duplicates", (double)st->dups);
	cJSON_AddNumberToObject(o, "conflicts", (double)st->conflicts);
	cJSON_AddItemReferenceToObject(o, "conflict_at", st->list[L_CONFLICT]);
	cJSON_AddNumberToObject(o, "broken_links", (double)st->breaks);
	cJSON_AddItemReferenceToObject(o, "broken_at", st->list[L_BREAK]);
	cJSON_AddNumberToObject(o, v->nkeys ? "hmac_failures" :
	    "hash_failures", (double)st->badhash);
	cJSON_AddItemReferenceToObject(o, "hash_failed_at", st->list[L_BADHASH]);
	cJSON_AddNumberToObject(o, "checkpoints", (double)st->ckpts);
	cJSON_AddNumberToObject(o, "signature_failures", (double)st->sigfail);
	cJSON_AddItemReferenceToObject(o, "signature_failed_at", st->list[L_SIG]);
	cJSON_AddNumberToObject(o, "witness_failures", (double)st->witfail);
	cJSON_AddItemReferenceToObject(o, "witness_failed_at", st->list[L_WITNESS]);
	cJSON_AddNumberToObject(o, "late_copies", (double)st->late);
	cJSON_AddItemReferenceToObject(o, "late_at", st->list[L_LATE]);
	cJSON_AddNumberToObject(o, "unsigned_tail", (double)st->since_ckpt);
	cJSON_AddNumberToObject(o, "uncovered", (double)st->uncovered);
	if (st->key) {
		cJSON_AddStringToObject(o, "key_id", sign_key_id(st->key));
		cJSON_AddNumberToObject(o, "key_epoch", (double)st->epoch);
	}
	cJSON_AddBoolToObject(o, "pinned", st->pinned);
	if (st->ckpts)
		cJSON_AddNumberToObject(o, "last_checkpoint_time",
		    (double)st->last_ckpt_time);
	cJSON_AddItemReferenceToObject(o, "findings", st->notes);
	cJSON_AddBoolToObject(o, "ok", ok);
	return o;
}

static int
name_cmp(const void *a, const void *b)
{
	const struct stream *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int
verify_report(struct verify *v, FILE *out, int json)
{
	cJSON *top = cJSON_CreateObject(), *streams = cJSON_CreateArray();
	int all_ok = v->invalid == 0;
	size_t nstore = 0;
	char *s;

	for (size_t i = 0; i < v->nst; i++) {
		struct stream *st = v->st[i];

		struct item end = { .seq = ~0ULL };

		verify_order_drain(v, st, 1);
		if (st->in_store) {
			nstore++;
			/* witnessed seqs past the store's end: a cut tail */
			verify_witness_check(v, st, &end);
		}
	}
	all_ok &= nstore > 0;
	/* a stable order, whatever order streams came in */
	if (v->nst)
		qsort(v->st, v->nst, sizeof(*v->st), name_cmp);
	free(v->tab);
	v->tab = NULL;
	v->tabcap = 0;
	for (size_t i = 0; i < v->nst; i++) {
		struct stream *st = v->st[i];
		int ok;

		ok = stream_ok(v, st);
		all_ok &= ok;
		if (!json)
			print_stream(out, st, ok);
		cJSON_AddItemToArray(streams, stream_json(v, st, ok));
	}
	if (!json) {
		if (v->invalid)
			fprintf(out, "%llu invalid lines (first: %s)\n",
			    v->invalid, v->first_invalid);
		if (nstore == 0)
			fprintf(out, "no chained events found\n");
		fprintf(out, "%s\n", all_ok ? "OK: every chain is complete "
		    "and intact" : "FAILED");
	}
	cJSON_AddItemToObject(top, "streams", streams);
	cJSON_AddNumberToObject(top, "invalid_lines", (double)v->invalid);
	cJSON_AddBoolToObject(top, "ok", all_ok);
	if (json && (s = cJSON_PrintUnformatted(top)) != NULL) {
		fprintf(out, "%s\n", s);
		free(s);
	}
	cJSON_Delete(top);
	return all_ok;
}

void
verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nst; i++)
		verify_stream_free(v->st[i]);
	for (size_t i = 0; i < v->nfiles; i++)
		free(v->files[i]);
	for (size_t i = 0; i < v->nignore; i++)
		free(v->ignore[i]);
	for (size_t i = 0; i < v->nkeys; i++) {
		OPENSSL_cleanse(v->keys[i].k, v->keys[i].len);
		free(v->keys[i].k);
	}
	free(v->st);
	free(v->tab);
	free(v->files);
	free(v->ignore);
	free(v->prove_stream);
	proof_free(v->proof);
	trust_free(v->trust);
	buf_free(&v->canon);
	buf_free(&v->scratch);
	free(v);
}
