/*
 * fuzz_stream.c - the audit text stream (auditd plugin stdin, replayed
 * logs): bytes -> parse -> event JSON.
 *
 * The first input byte chooses how the rest is delivered, so chunk
 * boundaries that split lines, records and multi-byte characters are
 * explored too:
 *   bits 0-5  chunk size: 0 = all at once, else n*n bytes (1..3969)
 *   bit 6     one record at a time through parse_feed_record()
 *   bit 7     call parse_age() after every chunk
 * Every event must serialize (plain and canonical) to valid UTF-8 JSON
 * on one line that cJSON parses back, and every string value must be a
 * well-formed lossless escape (text.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "fuzz.h"

static struct buf line = BUF_INIT;
static char *scratch;
static size_t scratch_len;

static void
check_strings(const cJSON *item)
{
	for (const cJSON *c = item; c; c = c->next) {
		if (cJSON_IsString(c)) {
			size_t n = strlen(c->valuestring);

			if (n > scratch_len) {
				free(scratch);
				scratch_len = n * 2;
				scratch = malloc(scratch_len);
				FUZZ_ASSERT(scratch != NULL);
			}
			/* a value that is not a valid escape could not be undone */
			FUZZ_ASSERT(fuzz_unescape(c->valuestring, n, scratch) >= 0);
		}
		if (c->child)
			check_strings(c->child);
	}
}

static void
check_line(const struct buf *b)
{
	cJSON *back;

	FUZZ_ASSERT(b->len > 0 && b->data[0] == '{');
	FUZZ_ASSERT(fuzz_utf8_valid((const unsigned char *)b->data, b->len));
	/* one event, one line: no raw control bytes (nor NUL) in the text */
	for (size_t i = 0; i < b->len; i++)
		FUZZ_ASSERT((unsigned char)b->data[i] >= 0x20);
	back = cJSON_ParseWithLength(b->data, b->len);
	FUZZ_ASSERT(back != NULL && cJSON_IsObject(back));
	FUZZ_ASSERT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(back, "type")));
	FUZZ_ASSERT(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(back, "records")));
	check_strings(back->child);
	cJSON_Delete(back);
}

/* The typed values the stages read are the ones the JSON says. */
static void
check_typed(const struct event *e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(e->json, "serial");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(e->json, "process"), "pid");

	FUZZ_ASSERT(cJSON_IsRaw(s) &&
	    strtoull(s->valuestring, NULL, 10) == e->serial);
	if (cJSON_IsRaw(pid))
		FUZZ_ASSERT(strtoll(pid->valuestring, NULL, 10) == e->pid);
	else
		FUZZ_ASSERT(e->pid == -1);
}

static void
on_event(struct event *e, void *arg)
{
	unsigned long *n = arg;
	cJSON *ev = e->json;

	(*n)++;
	check_typed(e);
	buf_reset(&line);
	FUZZ_ASSERT(json_write(&line, ev, 0, NULL) == 0);
	check_line(&line);
	buf_reset(&line);
	FUZZ_ASSERT(json_write(&line, ev, JSON_SORTED, "hash") == 0);
	check_line(&line);
	/* arena nodes are not freed one by one; heap nodes are */
	event_free(e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_stream");
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	unsigned long events = 0;
	struct parse *ps;
	unsigned mode;
	size_t chunk;

	if (size == 0)
		return 0;
	mode = data[0];
	chunk = (mode & 63) ? (size_t)(mode & 63) * (mode & 63) : size;
	if ((ps = parse_new("fuzz-node", 2, on_event, &events)) == NULL)
		abort();
	while (p < end) {
		if (mode & 64) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

			parse_feed_record(ps, p, n);
			p += n + (nl != NULL);
		} else {
			size_t n = (size_t)(end - p) < chunk ? (size_t)(end - p) : chunk;

			parse_feed(ps, p, n);
			p += n;
		}
		if (mode & 128)
			parse_age(ps);
	}
	parse_flush(ps);
	FUZZ_ASSERT(parse_events(ps) == events);
	parse_free(ps);
	return 0;
}
