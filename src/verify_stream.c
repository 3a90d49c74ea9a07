/* verify_stream.c - the verifier's streams and their findings. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ckpt.h"
#include "merkle.h"
#include "sign.h"
#include "verify_int.h"

static size_t
name_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

void
verify_stream_free(struct stream *st)
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
		verify_stream_free(st);
	return NULL;
}

/* The stream named name, made if new. NULL on ENOMEM. */
struct stream *
verify_stream_get(struct verify *v, const char *name)
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

static void
add_listed(cJSON *list, cJSON *item)
{
	if (item && cJSON_GetArraySize(list) < LIST_MAX)
		cJSON_AddItemToArray(list, item);
	else
		cJSON_Delete(item);
}

void
verify_stream_add_seq(cJSON *o, const char *name, unsigned long long seq)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", seq);
	cJSON_AddRawToObject(o, name, s);
}

cJSON *
verify_stream_where(struct verify *v, const struct item *e)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	verify_stream_add_seq(o, "seq", e->seq);
	cJSON_AddStringToObject(o, "file", v->files[e->file]);
	cJSON_AddNumberToObject(o, "line", (double)e->line);
	return o;
}

/*
 * Note a finding: its readable line for the report (and, following,
 * printed at once), and its JSON form in the stream's list of kind.
 */
void
verify_stream_note(struct verify *v, struct stream *st, enum lists kind,
    cJSON *j, const char *fmt, ...)
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

const char *
verify_stream_file_line(struct verify *v, const struct item *e, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s:%lu", v->files[e->file], e->line);
	return buf;
}

void
verify_stream_sig_fail(struct verify *v, struct stream *st,
    const struct item *e, const char *why)
{
	char at[600];
	cJSON *j = verify_stream_where(v, e);

	st->sigfail++;
	if (j)
		cJSON_AddStringToObject(j, "why", why);
	verify_stream_note(v, st, L_SIG, j,
	    "signature check failed: seq %llu at %s: %s", e->seq,
	    verify_stream_file_line(v, e, at, sizeof(at)), why);
}

void
verify_stream_gap(struct verify *v, struct stream *st, unsigned long long from,
    unsigned long long to, const struct ckpt_info *why)
{
	cJSON *g;

	if (why) {
		g = cJSON_CreateObject();
		if (g) {
			verify_stream_add_seq(g, "from", from);
			verify_stream_add_seq(g, "to", to);
			cJSON_AddStringToObject(g, "reason", why->reason ?
			    why->reason : "");
		}
		st->nexplained++;
		st->explained += to - from + 1;
		verify_stream_note(v, st, L_EXPLAINED, g, "explained gap: seq %llu..%llu "
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
	verify_stream_note(v, st, L_GAP, g, "gap: seq %llu..%llu missing", from, to);
}
