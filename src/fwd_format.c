/*
 * fwd_format.c - request bodies per aggregator, and the SIEM field
 * mappings. Each event line is parsed with jsonread_parse (numbers stay
 * verbatim) and written back with json_write, so integers keep every
 * digit; the line itself travels untouched inside every format.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fwd_format.h"
#include "json.h"
#include "jsonread.h"

int
fwd_format_init(struct fwd_format *f, const char *format, const char *schema,
    char *err, size_t errlen)
{
	static const char *const fmts[] = { "ndjson", "elasticsearch",
	    "splunk-hec", "loki", "otlp" };
	static const char *const schemas[] = { "native", "ecs", "otel" };
	size_t i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (strcmp(format, fmts[i]) == 0)
			break;
	if (i == sizeof(fmts) / sizeof(fmts[0])) {
		snprintf(err, errlen, "format: '%s' is not ndjson, "
		    "elasticsearch, splunk-hec, loki or otlp", format);
		return -1;
	}
	f->fmt = (enum fwd_fmt)i;
	for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (strcmp(schema, schemas[i]) == 0)
			break;
	if (i == sizeof(schemas) / sizeof(schemas[0])) {
		snprintf(err, errlen, "schema: '%s' is not native, ecs or otel",
		    schema);
		return -1;
	}
	f->schema = (enum fwd_schema)i;
	if (f->schema != FWD_SCHEMA_NATIVE &&
	    (f->fmt == FWD_FMT_LOKI || f->fmt == FWD_FMT_OTLP)) {
		snprintf(err, errlen, "schema: %s applies to the ndjson, "
		    "elasticsearch and splunk-hec formats (%s has its own "
		    "fields)", schema, format);
		return -1;
	}
	return 0;
}

const char *
fwd_format_content_type(const struct fwd_format *f)
{
	return f->fmt == FWD_FMT_NDJSON || f->fmt == FWD_FMT_ES ?
	    "application/x-ndjson" : "application/json";
}

int
fwd_format_is_plain(const struct fwd_format *f)
{
	return f->fmt == FWD_FMT_NDJSON && f->schema == FWD_SCHEMA_NATIVE;
}

/* ---- reading an event ----------------------------------------------- */

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *
get_str(const cJSON *o, const char *k)
{
	const cJSON *j = get(o, k);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* "time" (RFC 3339 UTC with ms) as epoch ms; 0 if absent or odd. */
static long long
event_ms(const cJSON *ev)
{
	const char *t = get_str(ev, "time");
	struct tm tm = { 0 };
	int ms = 0;

	if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static cJSON *
child(cJSON *o, const char *k)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, k);

	if (c == NULL && (c = cJSON_CreateObject()) != NULL)
		cJSON_AddItemToObject(o, k, c);
	return c;
}

/* The first path's host name, else its own (what file.path means). */
static const char *
first_path(const cJSON *ev)
{
	const cJSON *p = cJSON_GetArrayItem(get(ev, "paths"), 0);
	const char *s;

	if (p == NULL)
		return NULL;
	if ((s = get_str(p, "host_path")) != NULL)
		return s;
	return get_str(p, "name");
}

static int
add_time_iso(cJSON *o, const char *name, const cJSON *ev)
{
	const char *t = get_str(ev, "time");

	if (t == NULL)
		return 0;
	return cJSON_AddStringToObject(o, name, t) ? 0 : -1;
}

/* ---- field mappings ------------------------------------------------ */

/*
 * One field a mapping copies: to (dotted; nested objects for ECS, a
 * flat key for OTel) from src's key in the event (src NULL: the top
 * level, else "process" or "container"). STR makes a number a string
 * (ECS ids are keywords).
 */
struct map_field {
	const char *to, *src, *key;
	int str;
};

#define STR 1
static const struct map_field ecs_fields[] = {
	{ "event.action", NULL, "syscall", 0 },
	{ "event.sequence", NULL, "serial", 0 },
	{ "process.pid", "process", "pid", 0 },
	{ "process.parent.pid", "process", "ppid", 0 },
	{ "process.name", "process", "comm", 0 },
	{ "process.executable", "process", "exe", 0 },
	{ "process.working_directory", "process", "cwd", 0 },
	{ "process.args", "process", "argv", 0 },
	{ "user.id", "process", "uid", STR },
	{ "user.audit.id", "process", "auid", STR },
	{ "container.id", "container", "id", 0 },
	{ "container.runtime", "container", "runtime", 0 },
	{ "kubernetes.pod.uid", "container", "pod_uid", 0 },
	{ "kubernetes.pod.name", "container", "pod_name", 0 },
	{ "kubernetes.namespace", "container", "pod_namespace", 0 },
	{ "kubernetes.container.name", "container", "name", 0 },
	{ "tags", NULL, "key", 0 },
	/* what has no ECS name stays under podtrail.* */
	{ "podtrail.stream", NULL, "stream", 0 },
	{ "podtrail.seq", NULL, "seq", 0 },
	{ "podtrail.hash", NULL, "hash", 0 },
	{ "podtrail.volume", NULL, "volume", 0 },
	{ "podtrail.cross_pod", NULL, "cross_pod", 0 },
	{ "podtrail.cause", NULL, "cause", 0 },
	{ "podtrail.count", NULL, "count", 0 },
};
static const struct map_field otel_fields[] = {
	{ "podtrail.type", NULL, "type", 0 },
	{ "system.syscall.name", NULL, "syscall", 0 },
	{ "process.pid", "process", "pid", 0 },
	{ "process.parent_pid", "process", "ppid", 0 },
	{ "process.executable.name", "process", "comm", 0 },
	{ "process.executable.path", "process", "exe", 0 },
	{ "process.command_args", "process", "argv", 0 },
	{ "user.id", "process", "uid", STR },
	{ "container.id", "container", "id", 0 },
	{ "container.runtime", "container", "runtime", 0 },
	{ "k8s.pod.uid", "container", "pod_uid", 0 },
	{ "k8s.pod.name", "container", "pod_name", 0 },
	{ "k8s.namespace.name", "container", "pod_namespace", 0 },
	{ "k8s.container.name", "container", "name", 0 },
	{ "podtrail.stream", NULL, "stream", 0 },
	{ "podtrail.seq", NULL, "seq", 0 },
};

/* The object under dotted path's parent (made as needed); *leaf its name. */
static cJSON *
parent_of(cJSON *d, const char *path, const char **leaf)
{
	const char *dot;
	char part[64];

	while ((dot = strchr(path, '.')) != NULL && d != NULL) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - path), path);
		d = child(d, part);
		path = dot + 1;
	}
	*leaf = path;
	return d;
}

/* Set to = value (copied) in d, nested or flat. 0 or -1. */
static int
put(cJSON *d, const char *to, int nested, cJSON *value)
{
	const char *leaf = to;

	if (value == NULL)
		return -1;
	if (nested && (d = parent_of(d, to, &leaf)) == NULL) {
		cJSON_Delete(value);
		return -1;
	}
	cJSON_AddItemToObject(d, leaf, value);
	return 0;
}

static int
map_fields(cJSON *d, const cJSON *ev, const struct map_field *t, size_t n,
    int nested)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *o = t[i].src ? get(ev, t[i].src) : ev;
		const cJSON *j = cJSON_IsObject(o) ? get(o, t[i].key) : NULL;
		cJSON *v;

		if (j == NULL || cJSON_IsNull(j))
			continue;
		if (t[i].str && (cJSON_IsRaw(j) || cJSON_IsString(j)))
			v = cJSON_CreateString(j->valuestring);
		else
			v = cJSON_Duplicate(j, 1);
		if (put(d, t[i].to, nested, v) == -1)
			return -1;
	}
	return 0;
}

/*
 * The event under ECS names (as auditbeat names audit events, nested)
 * or OTel ones (flat), the chained line in event.original.
 */
static cJSON *
map_event(const cJSON *ev, const char *line, const char *node, int ecs)
{
	cJSON *d = cJSON_CreateObject();
	const cJSON *succ = get(ev, "success");
	const char *type = get_str(ev, "type"), *fp = first_path(ev);
	const char *host = get_str(ev, "node") ? get_str(ev, "node") : node;
	int rc = 0;

	if (d == NULL)
		return NULL;
	rc |= add_time_iso(d, ecs ? "@timestamp" : "timestamp", ev);
	rc |= put(d, "event.original", ecs, cJSON_CreateString(line));
	rc |= put(d, "host.name", ecs, cJSON_CreateString(host));
	if (fp != NULL)
		rc |= put(d, "file.path", ecs, cJSON_CreateString(fp));
	if (ecs) {
		rc |= put(d, "event.kind", 1, cJSON_CreateString(type &&
		    strcmp(type, "audit") ? "metric" : "event"));
		rc |= put(d, "event.module", 1, cJSON_CreateString("podtrail"));
		rc |= put(d, "event.dataset", 1, cJSON_CreateString(type ?
		    type : "audit"));
		if (cJSON_IsBool(succ))
			rc |= put(d, "event.outcome", 1, cJSON_CreateString(
			    cJSON_IsTrue(succ) ? "success" : "failure"));
		rc |= map_fields(d, ev, ecs_fields, sizeof(ecs_fields) /
		    sizeof(ecs_fields[0]), 1);
	} else {
		rc |= put(d, "event.name", 0, cJSON_CreateString("podtrail.audit"));
		rc |= put(d, "k8s.node.name", 0, cJSON_CreateString(host));
		rc |= map_fields(d, ev, otel_fields, sizeof(otel_fields) /
		    sizeof(otel_fields[0]), 0);
	}
	if (rc == 0)
		return d;
	cJSON_Delete(d);
	return NULL;
}

/* The event as the schema maps it, written to out (else the line). */
static int
put_doc(const struct fwd_format *f, const cJSON *ev, const char *line,
    size_t n, struct buf *out)
{
	cJSON *d = NULL;
	int rc;

	if (ev != NULL && f->schema != FWD_SCHEMA_NATIVE)
		d = map_event(ev, line, f->node, f->schema == FWD_SCHEMA_ECS);
	if (d == NULL) {
		if (f->schema != FWD_SCHEMA_NATIVE && ev != NULL)
			return -1;	/* out of memory */
		return buf_add(out, line, n);
	}
	rc = json_write(out, d, 0, NULL);
	cJSON_Delete(d);
	return rc;
}

/* ---- per-format bodies ---------------------------------------------- */

static int
put_es(const struct fwd_format *f, const cJSON *ev, const char *line,
    size_t n, struct buf *out)
{
	const char *stream = get_str(ev, "stream"), *t = get_str(ev, "time");
	const cJSON *seq = get(ev, "seq");

	/*
	 * create with _id = stream:seq: a resent batch (after a timeout)
	 * answers 409 per item instead of storing duplicates, and data
	 * streams accept only create.
	 */
	if (buf_printf(out, "{\"create\":{\"_index\":\"%s\"", f->es_index) == -1)
		return -1;
	if (stream != NULL && cJSON_IsRaw(seq)) {
		struct buf id = BUF_INIT;
		int rc = buf_printf(&id, "%s:%s", stream, seq->valuestring) ||
		    buf_adds(out, ",\"_id\":") ||
		    json_write_strn(out, id.data, id.len);

		buf_free(&id);
		if (rc)
			return -1;
	}
	if (buf_adds(out, "}}\n") == -1)
		return -1;
	if (f->schema == FWD_SCHEMA_NATIVE && t != NULL && n > 1 &&
	    line[0] == '{') {
		/* data streams need @timestamp: in front of the line as is */
		if (buf_adds(out, "{\"@timestamp\":") == -1 ||
		    json_write_strn(out, t, strlen(t)) == -1 ||
		    buf_add(out, line[1] == '}' ? "" : ",", line[1] == '}' ?
		    0 : 1) == -1 || buf_add(out, line + 1, n - 1) == -1)
			return -1;
	} else if (put_doc(f, ev, line, n, out) == -1) {
		return -1;
	}
	return buf_addc(out, '\n');
}

static int
put_splunk(const struct fwd_format *f, const cJSON *ev, const char *line,
    size_t n, struct buf *out)
{
	long long ms = ev ? event_ms(ev) : 0;

	if (buf_printf(out, "{\"time\":%lld.%03lld,\"host\":", ms / 1000,
	    ms % 1000) == -1 || json_write_strn(out, f->node,
	    strlen(f->node)) == -1 || buf_adds(out, ",\"source\":\"podtrail\","
	    "\"sourcetype\":\"podtrail\",\"event\":") == -1)
		return -1;
	if (ev == NULL) {
		if (json_write_strn(out, line, n) == -1)
			return -1;
	} else if (put_doc(f, ev, line, n, out) == -1) {
		return -1;
	}
	return buf_adds(out, "}\n");
}

/* Loki: one entry [ns, line, {structured metadata}] per event. */
static int
put_loki(const cJSON *ev, const char *line, size_t n, int first,
    struct buf *out)
{
	static const char *const ct_keys[][2] = { { "pod_uid", "pod_uid" },
	    { "pod_name", "pod" }, { "pod_namespace", "namespace" },
	    { "name", "container" }, { "id", "container_id" } };
	const cJSON *ct = get(ev, "container"), *seq = get(ev, "seq");
	const char *stream = get_str(ev, "stream"), *type = get_str(ev, "type");
	long long ms = ev ? event_ms(ev) : 0;

	if (ms == 0)
		ms = (long long)time(NULL) * 1000;
	if (buf_printf(out, "%s[\"%lld000000\",", first ? "" : ",", ms) == -1 ||
	    json_write_strn(out, line, n) == -1 || buf_addc(out, ',') == -1 ||
	    buf_addc(out, '{') == -1)
		return -1;
	/* metadata values are strings; keys are label-like names */
	if (buf_printf(out, "\"type\":") == -1 ||
	    json_write_strn(out, type ? type : "", type ? strlen(type) : 0))
		return -1;
	if (stream && (buf_adds(out, ",\"stream\":") == -1 ||
	    json_write_strn(out, stream, strlen(stream)) == -1))
		return -1;
	if (cJSON_IsRaw(seq) && buf_printf(out, ",\"seq\":\"%s\"",
	    seq->valuestring) == -1)
		return -1;
	for (size_t i = 0; cJSON_IsObject(ct) &&
	    i < sizeof(ct_keys) / sizeof(ct_keys[0]); i++) {
		const char *v = get_str(ct, ct_keys[i][0]);

		if (v && (buf_printf(out, ",\"%s\":", ct_keys[i][1]) == -1 ||
		    json_write_strn(out, v, strlen(v)) == -1))
			return -1;
	}
	return buf_adds(out, "}]");
}

static int
otlp_attr(struct buf *out, int *first, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	if (buf_printf(out, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":",
	    *first ? "" : ",", k) == -1 || json_write_strn(out, v,
	    strlen(v)) == -1 || buf_adds(out, "}}") == -1)
		return -1;
	*first = 0;
	return 0;
}

/* One OTLP resource: the pod (or the node, for host processes). */
static int
otlp_resource(const struct fwd_format *f, const cJSON *ev, struct buf *out)
{
	const cJSON *ct = get(ev, "container");
	int first = 1;

	if (buf_adds(out, "{\"resource\":{\"attributes\":[") == -1 ||
	    otlp_attr(out, &first, "service.name", "podtrail") == -1 ||
	    otlp_attr(out, &first, "host.name", get_str(ev, "node") ?
	    get_str(ev, "node") : f->node) == -1 ||
	    otlp_attr(out, &first, "k8s.node.name", get_str(ev, "node") ?
	    get_str(ev, "node") : f->node) == -1)
		return -1;
	if (cJSON_IsObject(ct) &&
	    (otlp_attr(out, &first, "k8s.pod.uid", get_str(ct, "pod_uid")) ||
	    otlp_attr(out, &first, "k8s.pod.name", get_str(ct, "pod_name")) ||
	    otlp_attr(out, &first, "k8s.namespace.name",
	    get_str(ct, "pod_namespace"))))
		return -1;
	return buf_printf(out, "]},\"scopeLogs\":[{\"scope\":{\"name\":"
	    "\"podtrail\",\"version\":\"%s\"},\"logRecords\":[",
	    PACKAGE_VERSION);
}

static int
otlp_record(const cJSON *ev, const char *line, size_t n, int first,
    struct buf *out)
{
	const cJSON *ct = get(ev, "container"), *seq = get(ev, "seq");
	long long ms = event_ms(ev);
	int a = 1;

	if (buf_printf(out, "%s{\"timeUnixNano\":\"%lld000000\","
	    "\"observedTimeUnixNano\":\"%lld000000000\",\"severityNumber\":9,"
	    "\"severityText\":\"INFO\",\"body\":{\"stringValue\":",
	    first ? "" : ",", ms, (long long)time(NULL)) == -1 ||
	    json_write_strn(out, line, n) == -1 ||
	    buf_adds(out, "},\"attributes\":[") == -1)
		return -1;
	if (otlp_attr(out, &a, "event.name", "podtrail.audit") == -1 ||
	    otlp_attr(out, &a, "podtrail.stream", get_str(ev, "stream")) == -1)
		return -1;
	if (cJSON_IsRaw(seq) && buf_printf(out, ",{\"key\":\"podtrail.seq\","
	    "\"value\":{\"intValue\":\"%s\"}}", seq->valuestring) == -1)
		return -1;
	if (cJSON_IsObject(ct) &&
	    (otlp_attr(out, &a, "k8s.container.name", get_str(ct, "name")) ||
	    otlp_attr(out, &a, "container.id", get_str(ct, "id")) ||
	    otlp_attr(out, &a, "container.runtime", get_str(ct, "runtime"))))
		return -1;
	return buf_adds(out, "]}");
}

/* The pod an event belongs to, for grouping ("" for the node). */
static const char *
pod_of(const cJSON *ev)
{
	const cJSON *ct = get(ev, "container");
	const char *u = cJSON_IsObject(ct) ? get_str(ct, "pod_uid") : NULL;

	return u ? u : "";
}

struct item {
	cJSON *ev;
	const char *line;
	size_t n;
	int done;
};

/* OTLP: one resource per pod, events in order within each. */
static int
put_otlp(const struct fwd_format *f, struct item *it, size_t n,
    struct buf *out)
{
	int first_res = 1;

	if (buf_adds(out, "{\"resourceLogs\":[") == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *pod;
		int first = 1;

		if (it[i].done)
			continue;
		pod = pod_of(it[i].ev);
		if ((!first_res && buf_addc(out, ',') == -1) ||
		    otlp_resource(f, it[i].ev, out) == -1)
			return -1;
		first_res = 0;
		for (size_t j = i; j < n; j++) {
			if (it[j].done || strcmp(pod_of(it[j].ev), pod))
				continue;
			if (otlp_record(it[j].ev, it[j].line, it[j].n, first,
			    out) == -1)
				return -1;
			it[j].done = 1;
			first = 0;
		}
		if (buf_adds(out, "]}]}") == -1)
			return -1;
	}
	return buf_adds(out, "]}");
}

int
fwd_format_body(const struct fwd_format *f, const char *nd, size_t len,
    struct buf *out)
{
	const char *p = nd, *end = nd + len;
	struct item *it = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	buf_reset(out);
	if (fwd_format_is_plain(f))
		return buf_add(out, nd, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (ln) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct item *ni = realloc(it, nc * sizeof(*ni));

				if (ni == NULL)
					goto cleanup;
				it = ni;
				cap = nc;
			}
			it[n].ev = jsonread_parse(p, ln);
			if (it[n].ev && !cJSON_IsObject(it[n].ev)) {
				cJSON_Delete(it[n].ev);
				it[n].ev = NULL;
			}
			it[n].line = p;
			it[n].n = ln;
			it[n].done = 0;
			n++;
		}
		p += ln + 1;
	}
	if (f->fmt == FWD_FMT_OTLP) {
		rc = put_otlp(f, it, n, out);
		goto cleanup;
	}
	if (f->fmt == FWD_FMT_LOKI && buf_adds(out, "{\"streams\":[{\"stream\":"
	    "{\"job\":\"podtrail\",\"node\":") == -1)
		goto cleanup;
	if (f->fmt == FWD_FMT_LOKI && (json_write_strn(out, f->node,
	    strlen(f->node)) == -1 || buf_adds(out, "},\"values\":[") == -1))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		/*
		 * The line must be NUL-terminated for the mappings that copy
		 * it as a string: it is, when it is the last; else copy.
		 */
		char *line = strndup(it[i].line, it[i].n);
		int r;

		if (line == NULL)
			goto cleanup;
		switch (f->fmt) {
		case FWD_FMT_ES:
			r = put_es(f, it[i].ev, line, it[i].n, out);
			break;
		case FWD_FMT_SPLUNK:
			r = put_splunk(f, it[i].ev, line, it[i].n, out);
			break;
		case FWD_FMT_LOKI:
			r = put_loki(it[i].ev, line, it[i].n, i == 0, out);
			break;
		default:
			r = put_doc(f, it[i].ev, line, it[i].n, out) == -1 ||
			    buf_addc(out, '\n') == -1 ? -1 : 0;
			break;
		}
		free(line);
		if (r == -1)
			goto cleanup;
	}
	if (f->fmt == FWD_FMT_LOKI && buf_adds(out, "]}]}") == -1)
		goto cleanup;
	rc = 0;
cleanup:
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(it[i].ev);
	free(it);
	return rc;
}

int
fwd_format_bulk_items(const char *resp, size_t len, size_t n,
    enum fwd_item *items, char *why, size_t whylen)
{
	cJSON *r = cJSON_ParseWithLength(resp, len), *arr, *x;
	size_t i = 0;
	int rc = -1;

	if (whylen)
		*why = '\0';
	arr = cJSON_GetObjectItemCaseSensitive(r, "items");
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
		goto cleanup;
	cJSON_ArrayForEach(x, arr) {
		/* {"create":{"status":201,...}}: one member, the action */
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(x->child,
		    "status");
		int s = cJSON_IsNumber(st) ? st->valueint : 0;

		if (x->child == NULL || s == 0)
			goto cleanup;
		if ((s >= 200 && s < 300) || s == 409)
			items[i] = FWD_ITEM_OK;
		else if (s == 429 || s >= 500)
			items[i] = FWD_ITEM_RETRY;
		else {
			const cJSON *e = get(x->child, "error");

			if (items[i] != FWD_ITEM_DEAD && *why == '\0' &&
			    get_str(e, "type"))
				snprintf(why, whylen, "%s: %s", get_str(e, "type"),
				    get_str(e, "reason") ? get_str(e, "reason") : "");
			items[i] = FWD_ITEM_DEAD;
		}
		i++;
	}
	rc = 0;
cleanup:
	cJSON_Delete(r);
	return rc;
}
