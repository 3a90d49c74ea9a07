/*
 * unwrap.h - the chained line inside a document an aggregator stored:
 * event.original (schema = ecs or otel, flat or nested, also under an
 * Elasticsearch _source), the log lines of a Loki push body, the bodies
 * of an OTLP/HTTP JSON export. podtrail-verify checks those lines.
 */
#ifndef PODTRAIL_UNWRAP_H
#define PODTRAIL_UNWRAP_H

#include <stddef.h>

struct verify;

/*
 * verify_line for each chained line that line holds (line itself when
 * it wraps none). 0, or -1 on ENOMEM.
 */
int unwrap_verify(struct verify *v, const char *line, size_t len,
    const char *file, unsigned long lineno);

#endif
