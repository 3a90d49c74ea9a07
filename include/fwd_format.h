/*
 * fwd_format.h - request bodies for the aggregators podtrail speaks to
 * (NDJSON, Elasticsearch _bulk, Splunk HEC, Loki push, OTLP/HTTP JSON),
 * the optional SIEM field mappings (ECS, OpenTelemetry), and reading an
 * Elasticsearch _bulk answer item by item. Every body keeps the chained
 * canonical line itself (as the line, the log line, the OTLP body or
 * event.original), so podtrail-verify can check what was stored.
 */
#ifndef PODTRAIL_FWD_FORMAT_H
#define PODTRAIL_FWD_FORMAT_H

#include <stddef.h>

#include "buf.h"

enum fwd_fmt { FWD_FMT_NDJSON, FWD_FMT_ES, FWD_FMT_SPLUNK, FWD_FMT_LOKI,
	FWD_FMT_OTLP };
enum fwd_schema { FWD_SCHEMA_NATIVE, FWD_SCHEMA_ECS, FWD_SCHEMA_OTEL };

struct fwd_format {
	enum fwd_fmt fmt;
	enum fwd_schema schema;
	const char *es_index;	/* borrowed */
	const char *node;	/* borrowed */
};

/* An Elasticsearch _bulk item's outcome. */
enum fwd_item { FWD_ITEM_OK, FWD_ITEM_RETRY, FWD_ITEM_DEAD };

/*
 * Fill f from the format and schema names. 0, or -1 with a reason
 * (naming the accepted values) in err.
 */
int fwd_format_init(struct fwd_format *f, const char *format,
    const char *schema, char *err, size_t errlen);
/* The Content-Type the format's receivers expect. */
const char *fwd_format_content_type(const struct fwd_format *f);
/*
 * Is the body the NDJSON lines as they are (so a spooled segment can
 * be sent without rebuilding)? 1 or 0.
 */
int fwd_format_is_plain(const struct fwd_format *f);
/*
 * nd (NDJSON lines, len bytes) -> the request body, appended to out
 * (reset first). A line that is not a JSON object is sent as a string
 * where the format allows. 0, or -1 (ENOMEM).
 */
int fwd_format_body(const struct fwd_format *f, const char *nd, size_t len,
    struct buf *out);
/*
 * Read a _bulk answer for n items into items[0..n): 2xx and 409 (a
 * retried create: already stored) are OK, 429 and 5xx RETRY, any other
 * DEAD; the first refusal's error type and reason go into why. 0, or
 * -1 if the answer is not a _bulk answer for n items (the caller
 * retries the whole batch).
 */
int fwd_format_bulk_items(const char *resp, size_t len, size_t n,
    enum fwd_item *items, char *why, size_t whylen);

#endif
