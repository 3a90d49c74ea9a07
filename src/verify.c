/*
 * verify.c - the checks behind podtrail-verify. Every line is checked
 * on its own (its hash over prev || canonical JSON), then per stream
 * in seq order: neighbours must link (prev == hash of seq - 1), every
 * seq from 1 to the highest must be present, copies must agree.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "chain.h"
#include "log.h"
#include "unwrap.h"
#include "verify.h"

/* items listed per kind in the report; all are counted */
#define LIST_MAX 50

struct entry {
	unsigned long long seq;
	size_t stream;		/* index into names */
	size_t order;		/* input order, for stable sorting */
	size_t file;		/* index into files */
	unsigned long line;
	int self_ok;		/* hash recomputed from the line matches */
	char hash[CHAIN_HASH_HEX + 1];
	char prev[CHAIN_HASH_HEX + 1];
};

struct verify {
	unsigned char *key;
	size_t keylen;
	struct entry *e;
	size_t n, cap;
	char **names;
	size_t nnames;
	char **files;
	size_t nfiles;
	char **ignore;
	size_t nignore;
	unsigned long long invalid;
	char first_invalid[512];
	struct buf canon;
};

struct verify *
verify_new(const unsigned char *key, size_t keylen)
{
	struct verify *v = calloc(1, sizeof(*v));

	if (v == NULL)
		goto nomem;
	if (key) {
		if ((v->key = malloc(keylen)) == NULL)
			goto nomem;
		memcpy(v->key, key, keylen);
		v->keylen = keylen;
	}
	return v;
nomem:
	log_warn("verify");
	free(v);
	return NULL;
}

static ssize_t
intern(char ***tab, size_t *n, const char *s)
{
	char **t;

	/* few streams and files: a linear search is fine */
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

int
verify_ignore(struct verify *v, const char *field)
{
	if (intern(&v->ignore, &v->nignore, field) == -1) {
		log_warn("verify");
		return -1;
	}
	return 0;
}

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

int
verify_line(struct verify *v, const char *line, size_t len, const char *file,
    unsigned long lineno)
{
	cJSON *ev, *stream, *seq, *hash, *prev;
	struct entry *e;
	char calc[CHAIN_HASH_HEX + 1], *end;
	ssize_t si, fi;
	int rc = -1;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	if ((ev = chain_parse(line, len)) == NULL || !cJSON_IsObject(ev)) {
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
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct entry *ne = realloc(v->e, cap * sizeof(*ne));

		if (ne == NULL)
			goto cleanup;
		v->e = ne;
		v->cap = cap;
	}
	e = &v->e[v->n];
	memset(e, 0, sizeof(*e));
	e->seq = strtoull(seq->valuestring, &end, 10);
	if (*end) {
		invalid(v, file, lineno, "seq is not a positive integer");
		rc = 0;
		goto cleanup;
	}
	if ((si = intern(&v->names, &v->nnames, stream->valuestring)) == -1 ||
	    (fi = intern(&v->files, &v->nfiles, file)) == -1)
		goto cleanup;
	e->stream = (size_t)si;
	e->file = (size_t)fi;
	e->line = lineno;
	e->order = v->n;
	memcpy(e->hash, hash->valuestring, sizeof(e->hash));
	memcpy(e->prev, prev->valuestring, sizeof(e->prev));
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "hash");
	for (size_t i = 0; i < v->nignore; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(ev, v->ignore[i]);
	buf_reset(&v->canon);
	if (chain_canonical(ev, &v->canon) == -1 ||
	    chain_hash(v->key, v->keylen, e->prev, v->canon.data, v->canon.len,
	    calc) == -1)
		goto cleanup;
	e->self_ok = strcmp(calc, e->hash) == 0;
	v->n++;
	rc = 0;
cleanup:
	if (rc == -1)
		log_warn("verify");
	cJSON_Delete(ev);
	return rc;
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

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct stream_report {
	unsigned long long events, first, last, missing, ngaps, dups,
	    conflicts, breaks, badhash;
	cJSON *gaps, *conflict_list, *break_list, *badhash_list;
};

static cJSON *
where(struct verify *v, const struct entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char seq[24];

	snprintf(seq, sizeof(seq), "%llu", e->seq);
	cJSON_AddRawToObject(o, "seq", seq);
	cJSON_AddStringToObject(o, "file", v->files[e->file]);
	cJSON_AddNumberToObject(o, "line", (double)e->line);
	return o;
}

static void
add_listed(cJSON *list, cJSON *item)
{
	if (cJSON_GetArraySize(list) < LIST_MAX)
		cJSON_AddItemToArray(list, item);
	else
		cJSON_Delete(item);
}

static void
gap(struct stream_report *r, unsigned long long from, unsigned long long to)
{
	cJSON *g = cJSON_CreateArray();
	char a[24], b[24];

	snprintf(a, sizeof(a), "%llu", from);
	snprintf(b, sizeof(b), "%llu", to);
	cJSON_AddItemToArray(g, cJSON_CreateRaw(a));
	cJSON_AddItemToArray(g, cJSON_CreateRaw(b));
	add_listed(r->gaps, g);
	r->ngaps++;
	r->missing += to - from + 1;
}

/* Check entries [lo, hi) of one stream, sorted by seq. */
static void
check_stream(struct verify *v, struct entry *lo, struct entry *hi,
    struct stream_report *r)
{
	const struct entry *prev_rep = NULL;	/* representative of seq - 1 */

	r->first = lo->seq;
	r->last = hi[-1].seq;
	if (lo->seq > 1)
		gap(r, 1, lo->seq - 1);
	for (struct entry *g = lo; g < hi;) {
		struct entry *end = g, *rep = NULL;

		while (end < hi && end->seq == g->seq)
			end++;
		r->events++;
		for (struct entry *e = g; e < end; e++) {
			if (!e->self_ok) {
				r->badhash++;
				add_listed(r->badhash_list, where(v, e));
			} else if (rep == NULL) {
				rep = e;
			}
			if (e == g)
				continue;
			if (strcmp(e->hash, g->hash) == 0) {
				r->dups++;
			} else {
				cJSON *c = where(v, e);

				cJSON_AddItemToObject(c, "other", where(v, g));
				r->conflicts++;
				add_listed(r->conflict_list, c);
			}
		}
		if (rep == NULL)
			rep = g;
		if (prev_rep && prev_rep->seq + 1 < g->seq)
			gap(r, prev_rep->seq + 1, g->seq - 1);
		else if (prev_rep && strcmp(rep->prev, prev_rep->hash) != 0) {
			r->breaks++;
			add_listed(r->break_list, where(v, rep));
		}
		prev_rep = rep;
		g = end;
	}
}

static void
print_where_list(FILE *out, const char *what, const cJSON *list,
    unsigned long long total)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, list) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(w, "other");

		fprintf(out, "  %s: seq %s at %s:%d", what,
		    cJSON_GetObjectItemCaseSensitive(w, "seq")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(w, "file")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(w, "line")->valueint);
		if (o)
			fprintf(out, " differs from %s:%d",
			    cJSON_GetObjectItemCaseSensitive(o, "file")->valuestring,
			    cJSON_GetObjectItemCaseSensitive(o, "line")->valueint);
		fputc('\n', out);
	}
	if (total > (unsigned long long)cJSON_GetArraySize(list))
		fprintf(out, "  ... %llu more\n",
		    total - (unsigned long long)cJSON_GetArraySize(list));
}

int
verify_report(struct verify *v, FILE *out, int json)
{
	cJSON *top = cJSON_CreateObject(), *streams = cJSON_CreateArray();
	int all_ok = v->invalid == 0 && v->n > 0;
	size_t i = 0;
	char *s;

	if (v->n)
		qsort(v->e, v->n, sizeof(*v->e), entry_cmp);
	while (i < v->n) {
		struct stream_report r = { 0 };
		size_t j = i;
		cJSON *st = cJSON_CreateObject();
		int ok;

		while (j < v->n && v->e[j].stream == v->e[i].stream)
			j++;
		r.gaps = cJSON_CreateArray();
		r.conflict_list = cJSON_CreateArray();
		r.break_list = cJSON_CreateArray();
		r.badhash_list = cJSON_CreateArray();
		check_stream(v, &v->e[i], &v->e[j], &r);
		ok = r.missing == 0 && r.conflicts == 0 && r.breaks == 0 &&
		    r.badhash == 0;
		all_ok &= ok;
		if (!json) {
			fprintf(out, "stream %s: %llu events, seq %llu..%llu, "
			    "%llu duplicates: %s\n", v->names[v->e[i].stream],
			    r.events, r.first, r.last, r.dups,
			    ok ? "complete and intact" : "FAILED");
			for (cJSON *g = r.gaps->child; g; g = g->next)
				fprintf(out, "  gap: seq %s..%s missing\n",
				    g->child->valuestring,
				    g->child->next->valuestring);
			if (r.ngaps > (unsigned long long)cJSON_GetArraySize(r.gaps))
				fprintf(out, "  ... %llu more gaps\n", r.ngaps -
				    (unsigned long long)cJSON_GetArraySize(r.gaps));
			print_where_list(out, v->key ? "HMAC failure" :
			    "hash mismatch (edited)", r.badhash_list, r.badhash);
			print_where_list(out, "conflict", r.conflict_list,
			    r.conflicts);
			print_where_list(out, "broken link (prev does not match "
			    "seq - 1)", r.break_list, r.breaks);
		}
		cJSON_AddStringToObject(st, "stream", v->names[v->e[i].stream]);
		cJSON_AddNumberToObject(st, "events", (double)r.events);
		cJSON_AddNumberToObject(st, "first_seq", (double)r.first);
		cJSON_AddNumberToObject(st, "last_seq", (double)r.last);
		cJSON_AddNumberToObject(st, "missing", (double)r.missing);
		cJSON_AddItemToObject(st, "gaps", r.gaps);
		cJSON_AddNumberToObject(st, "duplicates", (double)r.dups);
		cJSON_AddNumberToObject(st, "conflicts", (double)r.conflicts);
		cJSON_AddItemToObject(st, "conflict_at", r.conflict_list);
		cJSON_AddNumberToObject(st, "broken_links", (double)r.breaks);
		cJSON_AddItemToObject(st, "broken_at", r.break_list);
		cJSON_AddNumberToObject(st, v->key ? "hmac_failures" :
		    "hash_failures", (double)r.badhash);
		cJSON_AddItemToObject(st, "hash_failed_at", r.badhash_list);
		cJSON_AddBoolToObject(st, "ok", ok);
		cJSON_AddItemToArray(streams, st);
		i = j;
	}
	if (!json) {
		if (v->invalid)
			fprintf(out, "%llu invalid lines (first: %s)\n",
			    v->invalid, v->first_invalid);
		if (v->n == 0)
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
	for (size_t i = 0; i < v->nnames; i++)
		free(v->names[i]);
	for (size_t i = 0; i < v->nfiles; i++)
		free(v->files[i]);
	for (size_t i = 0; i < v->nignore; i++)
		free(v->ignore[i]);
	free(v->names);
	free(v->files);
	free(v->ignore);
	free(v->e);
	free(v->key);
	buf_free(&v->canon);
	free(v);
}
