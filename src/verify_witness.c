/*
 * verify_witness.c - witnessed checkpoints (checkpoint_output): each
 * must be in the store, with the same hash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ckpt.h"
#include "jsonread.h"
#include "log.h"
#include "verify.h"
#include "verify_int.h"

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
		if ((st = verify_stream_get(v, stream->valuestring)) == NULL) {
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
void
verify_witness_check(struct verify *v, struct stream *st, const struct item *e)
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
			verify_stream_add_seq(j, "seq", w->seq);
		if (w->seq == e->seq) {
			cJSON_AddStringToObject(j, "why", "differs");
			verify_stream_note(v, st, L_WITNESS, j, "witnessed seq %llu differs "
			    "from the store's copy", w->seq);
		} else {
			cJSON_AddStringToObject(j, "why", "missing");
			verify_stream_note(v, st, L_WITNESS, j, "witnessed seq %llu is "
			    "missing from the store", w->seq);
		}
	}
}
