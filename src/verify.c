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
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"
#include "jsonread.h"
#include "log.h"
#include "merkle.h"
#include "proof.h"
#include "sign.h"
#include "trust.h"
#include "unwrap.h"
#include "verify.h"

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

/* ---- streams ----------------------------------------------------------- */

static size_t
name_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
stream_free(struct stream *st)
{
	for (size_t i = 0; i < st->nheap; i++)
		free(st->heap[i].text);
	for (int i = 0; i < L_N; i++)
		cJSON_Delete(st->list[i]);
	cJSON_Delete(st->notes);
	free(st->heap);
	free(st->recent);
	free(st->wit);
	merkle_free(st->m);
	sign_free(st->key);
	free(st->name);
	free(st);
}

static struct stream *
stream_new(const char *name)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->name = strdup(name)) == NULL ||
	    (st->m = merkle_new()) == NULL ||
	    (st->notes = cJSON_CreateArray()) == NULL)
		goto err;
	for (int i = 0; i < L_N; i++)
		if ((st->list[i] = cJSON_CreateArray()) == NULL)
			goto err;
	st->next = 1;
	return st;
err:
	if (st)
		stream_free(st);
	return NULL;
}

/* The stream named name, made if new. NULL on ENOMEM. */
static struct stream *
stream_get(struct verify *v, const char *name)
{
	size_t i;

	if (v->nst * 2 >= v->tabcap) {
		size_t cap = v->tabcap ? v->tabcap * 2 : 64;
		size_t *t = malloc(cap * sizeof(*t));

		if (t == NULL)
			return NULL;
		memset(t, 0xff, cap * sizeof(*t));
		for (size_t k = 0; k < v->nst; k++) {
			i = name_hash(v->st[k]->name) & (cap - 1);
			while (t[i] != SIZE_MAX)
				i = (i + 1) & (cap - 1);
			t[i] = k;
		}
		free(v->tab);
		v->tab = t;
		v->tabcap = cap;
	}
	for (i = name_hash(name) & (v->tabcap - 1); v->tab[i] != SIZE_MAX;
	    i = (i + 1) & (v->tabcap - 1))
		if (strcmp(v->st[v->tab[i]]->name, name) == 0)
			return v->st[v->tab[i]];
	{
		struct stream **ns = realloc(v->st, (v->nst + 1) * sizeof(*ns));
		struct stream *st;

		if (ns == NULL)
			return NULL;
		v->st = ns;
		if ((st = stream_new(name)) == NULL)
			return NULL;
		v->st[v->nst] = st;
		v->tab[i] = v->nst++;
		return st;
	}
}

/* ---- findings ---------------------------------------------------------- */

static void
add_listed(cJSON *list, cJSON *item)
{
	if (item && cJSON_GetArraySize(list) < LIST_MAX)
		cJSON_AddItemToArray(list, item);
	else
		cJSON_Delete(item);
}

static void
add_seq(cJSON *o, const char *name, unsigned long long seq)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", seq);
	cJSON_AddRawToObject(o, name, s);
}

static cJSON *
where(struct verify *v, const struct item *e)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	add_seq(o, "seq", e->seq);
	cJSON_AddStringToObject(o, "file", v->files[e->file]);
	cJSON_AddNumberToObject(o, "line", (double)e->line);
	return o;
}

/*
 * Note a finding: its readable line for the report (and, following,
 * printed at once), and its JSON form in the stream's list of kind.
 */
static void
note(struct verify *v, struct stream *st, enum lists kind, cJSON *j,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
note(struct verify *v, struct stream *st, enum lists kind, cJSON *j,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (v->follow) {
		if (v->follow_json) {
			cJSON *o = cJSON_CreateObject();
			char *s;

			cJSON_AddStringToObject(o, "stream", st->name);
			cJSON_AddStringToObject(o, "finding", text);
			if (j)
				cJSON_AddItemReferenceToObject(o, "at", j);
			if ((s = cJSON_PrintUnformatted(o)) != NULL) {
				fprintf(v->follow, "%s\n", s);
				free(s);
			}
			cJSON_Delete(o);
		} else
			fprintf(v->follow, "stream %s: %s\n", st->name, text);
		fflush(v->follow);
	}
	if (st->nnotes++ < LIST_MAX * 4)
		cJSON_AddItemToArray(st->notes, cJSON_CreateString(text));
	add_listed(st->list[kind], j);
}

static const char *
file_line(struct verify *v, const struct item *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%lu", v->files[e->file], e->line);
	return buf;
}

static void
sig_fail(struct verify *v, struct stream *st, const struct item *e,
    const char *why)
{
	char at[600];
	cJSON *j = where(v, e);

	st->sigfail++;
	if (j)
		cJSON_AddStringToObject(j, "why", why);
	note(v, st, L_SIG, j, "signature check failed: seq %llu at %s: %s",
	    e->seq, file_line(v, e, at, sizeof(at)), why);
}

static void
gap(struct verify *v, struct stream *st, unsigned long long from,
    unsigned long long to, const struct ckpt_info *why)
{
	cJSON *g;

	if (why) {
		g = cJSON_CreateObject();
		if (g) {
			add_seq(g, "from", from);
			add_seq(g, "to", to);
			cJSON_AddStringToObject(g, "reason", why->reason ?
			    why->reason : "");
		}
		st->nexplained++;
		st->explained += to - from + 1;
		note(v, st, L_EXPLAINED, g, "explained gap: seq %llu..%llu "
		    "absent, declared by the signed restart at seq %llu (%s)",
		    from, to, why->seq, why->reason ? why->reason : "");
		return;
	}
	g = cJSON_CreateArray();
	if (g) {
		char a[24], b[24];

		snprintf(a, sizeof(a), "%llu", from);
		snprintf(b, sizeof(b), "%llu", to);
		cJSON_AddItemToArray(g, cJSON_CreateRaw(a));
		cJSON_AddItemToArray(g, cJSON_CreateRaw(b));
	}
	st->ngaps++;
	st->missing += to - from + 1;
	note(v, st, L_GAP, g, "gap: seq %llu..%llu missing", from, to);
}

/* ---- witnessed checkpoints ---------------------------------------------- */

static int
wit_cmp(const void *a, const void *b)
{
	const struct wit *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
verify_witness(struct verify *v, FILE *fp, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, fp)) != -1) {
		cJSON *ev = jsonread_parse(line, (size_t)n), *seq, *stream, *hash;
		struct stream *st;
		unsigned long long s;
		char *end;

		stream = cJSON_GetObjectItemCaseSensitive(ev, "stream");
		seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
		hash = cJSON_GetObjectItemCaseSensitive(ev, "hash");
		if (!cJSON_IsString(stream) || !cJSON_IsRaw(seq) ||
		    !cJSON_IsString(hash) ||
		    strlen(hash->valuestring) != CHAIN_HASH_HEX ||
		    (s = strtoull(seq->valuestring, &end, 10)) == 0 || *end) {
			cJSON_Delete(ev);
			continue;	/* not a witnessed line: ignored */
		}
		if ((st = stream_get(v, stream->valuestring)) == NULL) {
			cJSON_Delete(ev);
			rc = -1;
			log_warn("verify");
			break;
		}
		if (st->nwit == st->capwit) {
			size_t c = st->capwit ? st->capwit * 2 : 64;
			struct wit *w = realloc(st->wit, c * sizeof(*w));

			if (w == NULL) {
				cJSON_Delete(ev);
				rc = -1;
				log_warn("verify");
				break;
			}
			st->wit = w;
			st->capwit = c;
		}
		st->wit[st->nwit].seq = s;
		if (ckpt_unhex(hash->valuestring, st->wit[st->nwit].hash,
		    sizeof(st->wit[0].hash)) == 0)
			st->nwit++;
		cJSON_Delete(ev);
	}
	if (ferror(fp)) {
		log_warn("%s", name);
		rc = -1;
	}
	free(line);
	for (size_t i = 0; i < v->nst; i++)
		if (v->st[i]->nwit)
			qsort(v->st[i]->wit, v->st[i]->nwit,
			    sizeof(struct wit), wit_cmp);
	return rc;
}

/* Witnessed seqs below seq that the store lacks; then seq's own copy. */
static void
witness_check(struct verify *v, struct stream *st, const struct item *e)
{
	while (st->witi < st->nwit && st->wit[st->witi].seq <= e->seq) {
		const struct wit *w = &st->wit[st->witi++];
		cJSON *j;

		if (st->witi > 1 && w[-1].seq == w->seq)
			continue;	/* witnessed twice */
		if (w->seq == e->seq && memcmp(w->hash, e->hash,
		    sizeof(w->hash)) == 0)
			continue;
		st->witfail++;
		if ((j = cJSON_CreateObject()) != NULL)
			add_seq(j, "seq", w->seq);
		if (w->seq == e->seq) {
			cJSON_AddStringToObject(j, "why", "differs");
			note(v, st, L_WITNESS, j, "witnessed seq %llu differs "
			    "from the store's copy", w->seq);
		} else {
			cJSON_AddStringToObject(j, "why", "missing");
			note(v, st, L_WITNESS, j, "witnessed seq %llu is "
			    "missing from the store", w->seq);
		}
	}
}

/* ---- signed events, in seq order ---------------------------------------- */

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
static int
key_event(struct verify *v, struct stream *st, const struct item *e,
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
			sig_fail(v, st, e, "key is not pinned for this node "
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
	sig_fail(v, st, e, why);
	return 0;
}

static void
checkpoint_event(struct verify *v, struct stream *st, const struct item *e,
    cJSON **evp)
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
	sig_fail(v, st, e, why);
}

/* ---- consuming in seq order ---------------------------------------------- */

static int
item_less(const struct item *a, const struct item *b)
{
	return a->seq != b->seq ? a->seq < b->seq : a->order < b->order;
}

static void
heap_pop(struct stream *st, struct item *out)
{
	size_t i = 0;

	*out = st->heap[0];
	st->heap[0] = st->heap[--st->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct item t;

		if (l < st->nheap && item_less(&st->heap[l], &st->heap[m]))
			m = l;
		if (r < st->nheap && item_less(&st->heap[r], &st->heap[m]))
			m = r;
		if (m == i)
			break;
		t = st->heap[i];
		st->heap[i] = st->heap[m];
		st->heap[m] = t;
		i = m;
	}
}

static int
heap_push(struct stream *st, const struct item *e)
{
	size_t i;

	if (st->nheap == st->capheap) {
		size_t cap = st->capheap ? st->capheap * 2 : 16;
		struct item *h = realloc(st->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		st->heap = h;
		st->capheap = cap;
	}
	i = st->nheap++;
	st->heap[i] = *e;
	while (i > 0 && item_less(&st->heap[i], &st->heap[(i - 1) / 2])) {
		struct item t = st->heap[i];

		st->heap[i] = st->heap[(i - 1) / 2];
		st->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static void
bad_hash(struct verify *v, struct stream *st, const struct item *e)
{
	char at[600];

	st->badhash++;
	note(v, st, L_BADHASH, where(v, e), "%s: seq %llu at %s",
	    v->nkeys ? "HMAC failure" : "hash mismatch (edited)", e->seq,
	    file_line(v, e, at, sizeof(at)));
}

/*
 * Another copy of a seq (a valid hash of its own): the same as ref, a
 * duplicate; different, a conflict. ref_hash NULL: the seq was checked
 * too long ago to compare (its hash is no longer kept); ref NULL: only
 * the first 8 bytes of the checked copy's hash are known.
 */
static void
copy_of(struct verify *v, struct stream *st, const struct item *e,
    const unsigned char *ref_hash, const struct item *ref)
{
	char a[600], b[600];
	cJSON *c;

	if (ref_hash == NULL) {
		st->late++;
		note(v, st, L_LATE, where(v, e), "late copy of seq %llu at %s "
		    "not compared (arrived after its seq was checked or given "
		    "up; --window holds more)",
		    e->seq, file_line(v, e, a, sizeof(a)));
		return;
	}
	if (memcmp(e->hash, ref_hash, ref ? sizeof(e->hash) : 8) == 0) {
		st->dups++;
		return;
	}
	st->conflicts++;
	c = where(v, e);
	if (ref && c)
		cJSON_AddItemToObject(c, "other", where(v, ref));
	if (ref)
		note(v, st, L_CONFLICT, c, "conflict: seq %llu at %s differs "
		    "from %s", e->seq, file_line(v, e, a, sizeof(a)),
		    file_line(v, ref, b, sizeof(b)));
	else
		note(v, st, L_CONFLICT, c, "conflict: seq %llu at %s differs "
		    "from the copy checked before", e->seq,
		    file_line(v, e, a, sizeof(a)));
}

static void
merkle_leaf(struct verify *v, struct stream *st, const struct item *e)
{
	(void)merkle_add(st->m, e->hash, sizeof(e->hash));
	if (v->proof && strcmp(st->name, v->prove_stream) == 0)
		proof_leaf(v->proof, e->seq, e->hash, e->text);
}

static void
interval_reset(struct verify *v, struct stream *st)
{
	merkle_reset(st->m);
	if (v->proof && strcmp(st->name, v->prove_stream) == 0)
		proof_reset(v->proof);
}

/* The next seq of st, with the copies of it that were held. */
static void
consume(struct verify *v, struct stream *st, struct item *rep)
{
	struct ckpt_info in;
	cJSON *ev = NULL;
	unsigned long long gap_from = 0;
	int gapped = rep->seq > st->next, key_ok = 0;
	char at[600];

	st->events++;
	if (st->consumed++ == 0)
		st->first = rep->seq;
	st->last = rep->seq;
	if (!gapped && st->consumed > 1 && rep->self_ok &&
	    memcmp(rep->prev, st->last_hash, sizeof(rep->prev)) != 0) {
		st->breaks++;
		note(v, st, L_BREAK, where(v, rep), "broken link (prev does "
		    "not match seq - 1): seq %llu at %s", rep->seq,
		    file_line(v, rep, at, sizeof(at)));
	}
	if (gapped)
		gap_from = st->next;
	if (!rep->self_ok) {
		if (rep->kind != CKPT_NONE)
			sig_fail(v, st, rep, "the signed event itself was "
			    "edited");
	} else if (rep->kind == CKPT_KEY) {
		if ((key_ok = key_event(v, st, rep, &in, &ev)) &&
		    v->proof && strcmp(st->name, v->prove_stream) == 0)
			proof_key(v->proof, rep->text);
		/* a key event opens an interval: what came since is unsigned */
		st->uncovered += st->since_ckpt;
		st->since_ckpt = 0;
		interval_reset(v, st);
	} else if (rep->kind == CKPT_CHECKPOINT) {
		checkpoint_event(v, st, rep, &ev);
		st->since_ckpt = 0;
		interval_reset(v, st);
	} else {
		st->since_ckpt++;
		if (st->key == NULL)
			st->before_key++;
	}
	if (rep->self_ok)
		merkle_leaf(v, st, rep);
	if (gapped) {
		/* a valid signed restart may explain what is absent before it */
		int explained = key_ok && in.skipped &&
		    in.skipped_from <= gap_from && in.skipped_to >= rep->seq - 1;

		gap(v, st, gap_from, rep->seq - 1, explained ? &in : NULL);
		if (explained) {
			st->uncovered += st->since_ckpt;
			st->since_ckpt = 0;
		}
	}
	witness_check(v, st, rep);
	cJSON_Delete(ev);
	memcpy(st->last_hash, rep->hash, sizeof(st->last_hash));
	st->next = rep->seq + 1;
	if (st->recent || (st->recent = calloc(RECENT, sizeof(*st->recent))))
	{
		struct recent *r = &st->recent[rep->seq % RECENT];

		r->seq = rep->seq;
		memcpy(r->hash, rep->hash, sizeof(r->hash));
	}
}

/*
 * Pop the lowest seq with all its copies and consume it: the first copy
 * with a valid hash stands for the seq; every later copy is compared
 * with the first one read.
 */
static void
consume_top(struct verify *v, struct stream *st)
{
	struct item first, e, rep;
	int have_rep;

	heap_pop(st, &first);
	v->held--;
	rep = first;
	if (!(have_rep = first.self_ok))
		bad_hash(v, st, &first);
	while (st->nheap && st->heap[0].seq == first.seq) {
		heap_pop(st, &e);
		v->held--;
		if (!e.self_ok)
			bad_hash(v, st, &e);
		copy_of(v, st, &e, first.hash, &first);
		if (e.self_ok && !have_rep) {
			free(rep.text);
			rep = e;
			have_rep = 1;
		} else
			free(e.text);
	}
	consume(v, st, &rep);
	free(rep.text);
}

/*
 * Over the window: check the streams holding the most as far as they
 * can be, until a tenth of the window is free again (so this runs once
 * per many lines, not per line).
 */
static void
shed(struct verify *v)
{
	while (v->held > v->window - v->window / 10) {
		struct stream *big = NULL;

		for (size_t i = 0; i < v->nst; i++)
			if (big == NULL || v->st[i]->nheap > big->nheap)
				big = v->st[i];
		if (big == NULL || big->nheap == 0)
			return;
		consume_top(v, big);
		while (big->nheap && big->heap[0].seq <= big->next)
			consume_top(v, big);
	}
}

static void
drain(struct verify *v, struct stream *st, int force)
{
	while (st->nheap && (st->heap[0].seq <= st->next || force))
		consume_top(v, st);
	if (v->held > v->window)
		shed(v);
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

/* ---- the fast path: a line as podtrail wrote it ---------------------- */

/*
 * A stored line is usually byte for byte what podtrail sealed: the
 * hashed canonical JSON with ,"hash":"..." before its closing brace.
 * Such a line is only scanned (validated as jsonread_parse() would, and
 * its top-level stream, seq and prev found), not parsed into a tree,
 * and hashed as it stands. Anything else, or a hash that does not
 * match (a store that re-serialized its lines), takes the full path.
 */
struct scan {
	const char *p, *end;
	int depth;
};

static int scan_value(struct scan *sc);

static int
scan_string(struct scan *sc, int *escaped)
{
	*escaped = 0;
	if (sc->p >= sc->end || *sc->p != '"')
		return -1;
	for (sc->p++; sc->p < sc->end; sc->p++) {
		unsigned char c = (unsigned char)*sc->p;

		if (c == '"') {
			sc->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			/* escapes are rare in stored lines: the full parser judges */
			*escaped = 1;
			return -1;
		}
	}
	return -1;
}

static int
scan_number(struct scan *sc)
{
	const char *s = sc->p;

	if (sc->p < sc->end && *sc->p == '-')
		sc->p++;
	if (sc->p >= sc->end || *sc->p < '0' || *sc->p > '9')
		return -1;
	if (*sc->p == '0')
		sc->p++;
	else
		while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
			sc->p++;
	if (sc->p < sc->end && (*sc->p == '.' || *sc->p == 'e' ||
	    *sc->p == 'E'))
		return -1;	/* fractions and exponents: the full parser */
	return sc->p - s < 64 ? 0 : -1;
}

static int
scan_lit(struct scan *sc, const char *lit, size_t n)
{
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, lit, n) != 0)
		return -1;
	sc->p += n;
	return 0;
}

static int
scan_container(struct scan *sc, int obj)
{
	char close = obj ? '}' : ']';
	int esc;

	if (++sc->depth > 64)
		return -1;
	sc->p++;
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (obj && (scan_string(sc, &esc) == -1 || sc->p >= sc->end ||
		    *sc->p++ != ':'))
			return -1;
		if (scan_value(sc) == -1 || sc->p >= sc->end)
			return -1;
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p++ != close)
			return -1;
		sc->depth--;
		return 0;
	}
}

/* One value, no whitespace (podtrail writes none). 0 or -1. */
static int
scan_value(struct scan *sc)
{
	int esc;

	if (sc->p >= sc->end)
		return -1;
	switch (*sc->p) {
	case '{':
		return scan_container(sc, 1);
	case '[':
		return scan_container(sc, 0);
	case '"':
		return scan_string(sc, &esc);
	case 't':
		return scan_lit(sc, "true", 4);
	case 'f':
		return scan_lit(sc, "false", 5);
	case 'n':
		return scan_lit(sc, "null", 4);
	default:
		return scan_number(sc);
	}
}

struct span {
	const char *p;
	size_t n;
};

/*
 * The line as podtrail sealed it: 1 done (e filled, self_ok set, the
 * stream named in name), 0 take the full path, -1 ENOMEM.
 */
static int
fast_line(struct verify *v, const char *line, size_t len, struct item *e,
    char *name, size_t namelen)
{
	static const char tail[] = ",\"hash\":\"";
	const size_t tl = sizeof(tail) - 1 + CHAIN_HASH_HEX + 2;
	struct span stream = { 0 }, seq = { 0 }, prev = { 0 }, type = { 0 };
	struct scan sc = { line, line + len - tl + 1, 1 };
	char calc[CHAIN_HASH_HEX + 1], hashtxt[CHAIN_HASH_HEX + 1], pv[65];
	struct stream *st;
	int esc;

	if (len < tl + 2 || line[0] != '{' || line[len - 1] != '}' ||
	    line[len - 2] != '"' || memcmp(line + len - tl, tail,
	    sizeof(tail) - 1) != 0)
		return 0;
	memcpy(hashtxt, line + len - CHAIN_HASH_HEX - 2, CHAIN_HASH_HEX);
	hashtxt[CHAIN_HASH_HEX] = '\0';
	if (strspn(hashtxt, "0123456789abcdef") != CHAIN_HASH_HEX)
		return 0;
	/* the members before ,"hash": end at sc.end, where '}' is put back */
	sc.end = line + len - tl;
	sc.p = line + 1;
	if (sc.p < sc.end && *sc.p == '}')
		return 0;
	for (;;) {
		const char *k = sc.p + 1, *val;
		size_t kn;

		if (scan_string(&sc, &esc) == -1)
			return 0;
		kn = (size_t)(sc.p - k - 1);
		if (sc.p >= sc.end || *sc.p++ != ':')
			return 0;
		val = sc.p;
		if (scan_value(&sc) == -1)
			return 0;
		for (size_t i = 0; i < v->nignore; i++)
			if (strlen(v->ignore[i]) == kn &&
			    !memcmp(v->ignore[i], k, kn))
				return 0;
#define KEY(s, sp) if (kn == sizeof(s) - 1 && !memcmp(k, s, kn) && !sp.p) \
	{ sp.p = val; sp.n = (size_t)(sc.p - val); }
		KEY("stream", stream)
		KEY("seq", seq)
		KEY("prev", prev)
		KEY("type", type)
#undef KEY
		if (sc.p == sc.end)
			break;
		if (*sc.p++ != ',')
			return 0;
	}
	if (!stream.p || !seq.p || !prev.p || stream.n < 3 || stream.p[0] != '"' ||
	    stream.n - 2 >= namelen || prev.n != CHAIN_HASH_HEX + 2 ||
	    prev.p[0] != '"' || seq.p[0] < '1' || seq.p[0] > '9' ||
	    seq.n > 20)
		return 0;
	/* podtrail's signed events are rare: the full path keeps their text */
	if (type.p && type.n > 10 && !memcmp(type.p, "\"podtrail_", 10))
		return 0;
	memcpy(pv, prev.p + 1, CHAIN_HASH_HEX);
	pv[CHAIN_HASH_HEX] = '\0';
	if (strspn(pv, "0123456789abcdef") != CHAIN_HASH_HEX)
		return 0;
	memcpy(name, stream.p + 1, stream.n - 2);
	name[stream.n - 2] = '\0';
	e->seq = 0;
	for (size_t i = 0; i < seq.n; i++) {
		if (seq.p[i] < '0' || seq.p[i] > '9' ||
		    e->seq > (~0ULL - 9) / 10)
			return 0;
		e->seq = e->seq * 10 + (unsigned long long)(seq.p[i] - '0');
	}
	if ((st = stream_get(v, name)) == NULL)
		return -1;
	buf_reset(&v->canon);
	if (buf_add(&v->canon, line, (size_t)(sc.end - line)) == -1 ||
	    buf_addc(&v->canon, '}') == -1)
		return -1;
	{
		size_t n = v->nkeys ? v->nkeys : 1;

		for (size_t i = 0; i < n; i++) {
			size_t k = (st->hkey + i) % n;

			if (chain_hash(v->nkeys ? v->keys[k].k : NULL,
			    v->nkeys ? v->keys[k].len : 0, pv, v->canon.data,
			    v->canon.len, calc) == -1)
				return -1;
			if (strcmp(calc, hashtxt) == 0) {
				st->hkey = k;
				(void)ckpt_unhex(hashtxt, e->hash,
				    sizeof(e->hash));
				(void)ckpt_unhex(pv, e->prev, sizeof(e->prev));
				e->self_ok = 1;
				e->kind = CKPT_NONE;
				return 1;
			}
		}
	}
	return 0;	/* not as sealed: the full path says why */
}

/* Queue a checked item of st (its text taken) and check what is due. */
static int
take_item(struct verify *v, struct stream *st, struct item *e)
{
	if (e->seq < st->next) {
		/* its seq was checked already: compare with what was kept */
		const struct recent *r = st->recent ?
		    &st->recent[e->seq % RECENT] : NULL;

		if (!e->self_ok)
			bad_hash(v, st, e);
		else
			copy_of(v, st, e, r && r->seq == e->seq ? r->hash :
			    NULL, NULL);
		free(e->text);
		return 0;
	}
	if (heap_push(st, e) == -1) {
		free(e->text);
		return -1;
	}
	v->held++;
	drain(v, st, 0);
	return 0;
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
		int r = fast_line(v, line, len, &e, name, sizeof(name));

		if (r == -1)
			goto cleanup_nomem;
		if (r == 1) {
			if ((fi = file_index(v, file)) == -1)
				goto cleanup_nomem;
			st = stream_get(v, name);
			st->in_store = 1;
			e.file = (uint32_t)fi;
			e.line = lineno;
			e.order = v->order++;
			return take_item(v, st, &e) == -1 ? (log_warn("verify"),
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
	if ((st = stream_get(v, stream->valuestring)) == NULL ||
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
	if (take_item(v, st, &e) == -1)
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
			note(v, st, L_SIG, NULL, "stale: no checkpoint in the "
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
			note(v, st, L_WITNESS, NULL, "stream missing from the "
			    "store (witnessed up to seq %llu)",
			    st->wit[st->nwit - 1].seq);
		else
			note(v, st, L_WITNESS, NULL, "stream missing from the "
			    "store");
		return 0;
	}
	if (v->trust && !st->pinned) {
		note(v, st, L_SIG, NULL, "not signed by a pinned key "
		    "(--trust): %s", st->anchored ? "anchored to another key" :
		    "no key announced");
		ok = 0;
	}
	if (v->trust && st->before_key) {
		note(v, st, L_SIG, NULL, "%llu events before the stream's "
		    "first key are not signed", st->before_key);
		ok = 0;
	}
	if (stale(v, st, v->now)) {
		note(v, st, L_SIG, NULL, st->ckpts ? "stale: the last "
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

		drain(v, st, 1);
		if (st->in_store) {
			nstore++;
			/* witnessed seqs past the store's end: a cut tail */
			witness_check(v, st, &end);
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
		stream_free(v->st[i]);
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
