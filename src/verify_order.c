/*
 * verify_order.c - each stream's items in seq order: a reorder heap per
 * stream, copies compared, links, gaps and signed events checked as
 * each seq comes due, and the window kept by checking the fullest
 * streams by force.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ckpt.h"
#include "merkle.h"
#include "proof.h"
#include "verify_int.h"

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
	verify_stream_note(v, st, L_BADHASH, verify_stream_where(v, e),
	    "%s: seq %llu at %s",
	    v->nkeys ? "HMAC failure" : "hash mismatch (edited)", e->seq,
	    verify_stream_file_line(v, e, at, sizeof(at)));
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
		verify_stream_note(v, st, L_LATE, verify_stream_where(v, e),
		    "late copy of seq %llu at %s not compared (arrived after "
		    "its seq was checked or given up; --window holds more)",
		    e->seq, verify_stream_file_line(v, e, a, sizeof(a)));
		return;
	}
	if (memcmp(e->hash, ref_hash, ref ? sizeof(e->hash) : 8) == 0) {
		st->dups++;
		return;
	}
	st->conflicts++;
	c = verify_stream_where(v, e);
	if (ref && c)
		cJSON_AddItemToObject(c, "other", verify_stream_where(v, ref));
	if (ref)
		verify_stream_note(v, st, L_CONFLICT, c, "conflict: seq %llu at %s differs "
		    "from %s", e->seq, verify_stream_file_line(v, e, a, sizeof(a)),
		    verify_stream_file_line(v, ref, b, sizeof(b)));
	else
		verify_stream_note(v, st, L_CONFLICT, c, "conflict: seq %llu at %s differs "
		    "from the copy checked before", e->seq,
		    verify_stream_file_line(v, e, a, sizeof(a)));
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
		verify_stream_note(v, st, L_BREAK, verify_stream_where(v, rep),
		    "broken link (prev does not match seq - 1): seq %llu at %s", rep->seq,
		    verify_stream_file_line(v, rep, at, sizeof(at)));
	}
	if (gapped)
		gap_from = st->next;
	if (!rep->self_ok) {
		if (rep->kind != CKPT_NONE)
			verify_stream_sig_fail(v, st, rep, "the signed event itself was "
			    "edited");
	} else if (rep->kind == CKPT_KEY) {
		if ((key_ok = verify_signed_key(v, st, rep, &in, &ev)) &&
		    v->proof && strcmp(st->name, v->prove_stream) == 0)
			proof_key(v->proof, rep->text);
		/* a key event opens an interval: what came since is unsigned */
		st->uncovered += st->since_ckpt;
		st->since_ckpt = 0;
		interval_reset(v, st);
	} else if (rep->kind == CKPT_CHECKPOINT) {
		verify_signed_checkpoint(v, st, rep, &ev);
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

		verify_stream_gap(v, st, gap_from, rep->seq - 1, explained ? &in : NULL);
		if (explained) {
			st->uncovered += st->since_ckpt;
			st->since_ckpt = 0;
		}
	}
	verify_witness_check(v, st, rep);
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

void
verify_order_drain(struct verify *v, struct stream *st, int force)
{
	while (st->nheap && (st->heap[0].seq <= st->next || force))
		consume_top(v, st);
	if (v->held > v->window)
		shed(v);
}

/* Queue a checked item of st (its text taken) and check what is due. */
int
verify_order_take(struct verify *v, struct stream *st, struct item *e)
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
	verify_order_drain(v, st, 0);
	return 0;
}
