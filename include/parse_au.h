/*
 * parse_au.h - libauparse fed with checked lines, complete events out.
 *
 * The parsing half of parse.h, on whatever thread calls it: lines are
 * checked (parse_line.h) and bounded before libauparse sees them, and
 * each event libauparse completes is built (event.h) and handed to the
 * emit callback from inside the call that completed it. parse.c runs
 * it on the caller's thread or as the jobs of a worker (worker.h).
 *
 * libauparse keeps process-wide state: one of these at a time, used
 * from one thread at a time.
 */
#ifndef PODTRAIL_PARSE_AU_H
#define PODTRAIL_PARSE_AU_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "parse.h"

struct parse_au;

/* Collected records are handed over once this many bytes are waiting. */
#define PARSE_AU_BATCH (32 * 1024)

/*
 * Receives each event, from inside the feeding call: *ev is valid for
 * the call, ev->json is the callee's.
 */
struct event;
typedef void parse_au_emit_fn(struct event *ev, void *arg);

/* What parse.h's counters report. */
struct parse_au_stats {
	unsigned long long records, malformed, resets;
	struct parse_trunc trunc;
	/* events split by parse_fast.c, and those it gave to libauparse */
	unsigned long long fast_events, fast_fallbacks;
};

/* As parse_new(). NULL on failure (logged). */
struct parse_au *parse_au_new(const char *node, long eoe_timeout,
    parse_au_emit_fn *emit, void *arg);
/* As parse_set_limits(). */
void parse_au_set_limits(struct parse_au *p, unsigned long long max_records,
    unsigned long long max_bytes);
/* Text in any chunking, as parse_feed(). 0 or -1. */
int parse_au_text(struct parse_au *p, const char *data, size_t len);
/* Whole lines data[0..len), each ending in '\n', checked each. 0 or -1. */
int parse_au_lines(struct parse_au *p, const char *data, size_t len);
/*
 * One record with no newline in it, checked now and collected for
 * parse_au_commit() (called here once PARSE_AU_BATCH bytes wait): each
 * libauparse feed costs about as much as parsing a record. 0 or -1.
 */
int parse_au_record(struct parse_au *p, const char *line, size_t len);
/*
 * Feed the collected records. A no-op from inside the emit callback:
 * libauparse is running. 0 or -1.
 */
int parse_au_commit(struct parse_au *p);
/*
 * Split the events of parse_au_record() with parse_fast.h while
 * libauparse holds nothing (on by default where libauparse exports
 * auparse_interp_adjust_type): the same events, less CPU per record.
 */
void parse_au_set_fast(struct parse_au *p, int on);
/* Count a dropped input line and log why (rate-limited). */
void parse_au_drop(struct parse_au *p, const char *why);
/* As parse_age(), parse_compact() and parse_flush(). */
int parse_au_age(struct parse_au *p);
int parse_au_compact(struct parse_au *p);
void parse_au_flush(struct parse_au *p);
void parse_au_stats(const struct parse_au *p, struct parse_au_stats *out);
void parse_au_free(struct parse_au *p);

#endif
