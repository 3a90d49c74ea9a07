/*
 * parse_fast.h - the records of one event split into fields by
 * podtrail itself, exactly as libauparse 3.0.9 splits them
 * (parse_up_record), for the records where that is simple: the kernel's
 * own, which are most of a node's stream. parse_au.c sends an event
 * through here while libauparse holds nothing, and gives everything
 * else to libauparse, in order, so events come out the same either way.
 */
#ifndef PODTRAIL_PARSE_FAST_H
#define PODTRAIL_PARSE_FAST_H

#include <stddef.h>

#include "event.h"
#include "parse_line.h"

/* An event taken this way holds at most this many records. */
#define PARSE_FAST_MAX_RECORDS 32

struct parse_fast;

/* NULL on ENOMEM (logged). */
struct parse_fast *parse_fast_new(void);
void parse_fast_free(struct parse_fast *f);

/*
 * Keep line[0..len) (checked: st is its stamp, with no node) as the
 * next record of the event: 0, or -1 when it is not one this file
 * splits as libauparse does (an AVC, a msg='...' or a key list, an
 * interpretation separator, the record limit): nothing was kept.
 */
int parse_fast_add(struct parse_fast *f, const char *line, size_t len,
    const struct parse_line_stamp *st);
/* Records kept. */
size_t parse_fast_records(const struct parse_fast *f);
/* Their stamp against st (some kept): < 0, 0 or > 0, as libauparse orders. */
int parse_fast_cmp(const struct parse_fast *f,
    const struct parse_line_stamp *st);
/* Their bytes, as parse_au.c counts them against event_max_bytes. */
unsigned long long parse_fast_bytes(const struct parse_fast *f);
/* Their stamp's seconds (for the EOE timeout). */
long long parse_fast_sec(const struct parse_fast *f);
/* The kept event, valid until the next add or reset. */
void parse_fast_view(struct parse_fast *f, struct event_recs *out);
/* Record i's line as it was given (for libauparse instead). */
const char *parse_fast_line(const struct parse_fast *f, size_t i,
    size_t *len);
void parse_fast_reset(struct parse_fast *f);

#endif
