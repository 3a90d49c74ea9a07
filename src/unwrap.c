/*
 * unwrap.c - find podtrail's canonical lines inside stored documents.
 * A line that names none of the wrappers is passed on unparsed: plain
 * NDJSON (the common case) costs one memmem per marker.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "unwrap.h"
#include "verify.h"

struct out {
	struct verify *v;
	const char *file;
	unsigned long lineno;
	int found, rc;
};

static int strip_timestamp(const char *line, size_t len, struct verify *v,
    const char *file, unsigned long lineno, int *rc);

static void
take(struct out *o, const cJSON *s)
{
	size_t n;
	int rc;

	if (!cJSON_IsString(s) || o->rc == -1)
		return;
	o->found = 1;
	n = strlen(s->valuestring);
	if (!strip_timestamp(s->valuestring, n, o->v, o->file, o->lineno, &rc))
		rc = verify_line(o->v, s->valuestring, n, o->file, o->lineno);
	if (rc == -1)
		o->rc = -1;
}

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void
walk(struct out *o, const cJSON *d)
{
	const cJSON *x, *y, *z;

	if (!cJSON_IsObject(d))
		return;
	/* ECS / OTel mappings: nested or flat event.original */
	take(o, get(get(d, "event"), "original"));
	take(o, get(d, "event.original"));
	/* an Elasticsearch hit, a Splunk HEC event */
	walk(o, get(d, "_source"));
	if (cJSON_IsObject(get(d, "event")) && !get(get(d, "event"), "original"))
		walk(o, get(d, "event"));
	/* a Loki push body: streams[].values[][1] */
	cJSON_ArrayForEach(x, get(d, "streams"))
		cJSON_ArrayForEach(y, get(x, "values"))
			take(o, cJSON_GetArrayItem(y, 1));
	/* OTLP/HTTP JSON: resourceLogs[].scopeLogs[].logRecords[].body */
	cJSON_ArrayForEach(x, get(d, "resourceLogs"))
		cJSON_ArrayForEach(y, get(x, "scopeLogs"))
			cJSON_ArrayForEach(z, get(y, "logRecords"))
				take(o, get(get(z, "body"), "stringValue"));
}

/*
 * The elasticsearch format puts "@timestamp" (data streams need it) in
 * front of the line as it was chained: take it off again. 1 if it did.
 */
static int
strip_timestamp(const char *line, size_t len, struct verify *v,
    const char *file, unsigned long lineno, int *rc)
{
	static const char pre[] = "{\"@timestamp\":\"";
	const char *p = line + sizeof(pre) - 1, *end = line + len;
	char *copy;

	if (len < sizeof(pre) || memcmp(line, pre, sizeof(pre) - 1) != 0)
		return 0;
	while (p < end && *p != '"' && *p != '\\')
		p++;
	if (p + 2 >= end || p[0] != '"' || p[1] != ',')
		return 0;
	p += 1;		/* the comma becomes the opening brace */
	/* memcpy, not strndup: the rest may hold a NUL (crafted storage) */
	if ((copy = malloc((size_t)(end - p) + 1)) == NULL) {
		*rc = -1;
		return 1;
	}
	memcpy(copy, p, (size_t)(end - p));
	copy[end - p] = '\0';
	copy[0] = '{';
	*rc = verify_line(v, copy, (size_t)(end - p), file, lineno);
	free(copy);
	return 1;
}

int
unwrap_verify(struct verify *v, const char *line, size_t len,
    const char *file, unsigned long lineno)
{
	static const char *const marks[] = { "\"original\"",
	    "\"event.original\"", "\"_source\"", "\"streams\"",
	    "\"resourceLogs\"" };
	struct out o = { v, file, lineno, 0, 0 };
	cJSON *d;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memmem(line, len, marks[i], strlen(marks[i])))
			break;
	if (i < sizeof(marks) / sizeof(marks[0]) &&
	    (d = cJSON_ParseWithLength(line, len)) != NULL) {
		walk(&o, d);
		cJSON_Delete(d);
		if (o.found)
			return o.rc;
	}
	if (strip_timestamp(line, len, v, file, lineno, &rc))
		return rc;
	return verify_line(v, line, len, file, lineno);
}
