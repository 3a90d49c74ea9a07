/*
 * parse.h - audit text records in, complete events out.
 *
 * Wraps libauparse's feed interface: bytes of "type=... msg=audit(...):
 * ..." lines go in, in any chunking; each complete event is turned into
 * JSON (event.h) and handed to the emit callback.
 */
#ifndef PODTRAIL_PARSE_H
#define PODTRAIL_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct parse;

/* Receives each event (valid for the call; ev->json is the callee's). */
struct event;
typedef void (*parse_emit_cb)(struct event *ev, void *arg);

/*
 * New parser. node names events whose records have no node= prefix;
 * eoe_timeout is how long (s) an event without EOE may stay open.
 * NULL on failure (logged).
 */
struct parse *parse_new(const char *node, long eoe_timeout,
    parse_emit_cb emit, void *arg);
/*
 * What one event may hold: max_records records, max_bytes bytes of
 * record text (defaults PARSE_MAX_RECORDS, PARSE_MAX_BYTES). Further
 * records of an event are dropped; the event, emitted when it ends (or
 * as soon as a record of another event comes), carries
 * "truncated":{"records":N,"bytes":M}. Call before the first feed.
 */
#define PARSE_MAX_RECORDS 4096
#define PARSE_MAX_BYTES (16 * 1024 * 1024)
/*
 * Events open at once in libauparse (it scans them all for each
 * record): past it the oldest is ended. A kernel stream interleaves a
 * few; one that lost its EOEs leaves more (eoe.h ends those for
 * netlink).
 */
#define PARSE_MAX_OPEN 256
void parse_set_limits(struct parse *p, unsigned long long max_records,
    unsigned long long max_bytes);
/*
 * Records fed one by one (parse_feed_record) are split by podtrail
 * itself where libauparse would split them the same (parse_fast.h):
 * on by default; off gives every record to libauparse. Before the
 * first feed.
 */
void parse_set_fast(struct parse *p, int on);
/*
 * Feed bytes; complete events are emitted before it returns (with a
 * worker: queued, waiting only for room, see parse_use_worker; not
 * from inside the emit callback). Lines that are not "[node=N ]type=T
 * msg=audit(...": ..." as libauparse reads it (a stamp it would drop,
 * or one past the year 9999, is not), or that hold a NUL byte, are
 * dropped, counted and logged (rate-limited): every other line ends up
 * in an event. 0 or -1.
 */
int parse_feed(struct parse *p, const char *data, size_t len);
/*
 * Feed one record without its trailing newline (a netlink message,
 * say). Equivalent to parse_feed of the line plus "\n"; a record
 * holding a newline is dropped as malformed. Records are collected and
 * handed to libauparse together (each of its feed calls costs about as
 * much as parsing a record): call parse_commit() before anything that
 * must come after them, e.g. before the loop sleeps.
 */
int parse_feed_record(struct parse *p, const char *line, size_t len);
/*
 * Hand collected records to libauparse now (to the worker, if there
 * is one, without waiting for it). 0 or -1.
 */
int parse_commit(struct parse *p);
/*
 * parse_commit(), then, with a worker, wait until every event of the
 * input fed so far has been emitted: before anything that must follow
 * them (podtrail's own events). A no-op from inside the emit callback.
 */
int parse_sync(struct parse *p);
/*
 * Run libauparse and build events on a helper thread (thread.h), for
 * a stream of text (parse_feed; parse_feed_record works too, but its
 * few records a wake-up are cheaper parsed in place). Events are
 * still emitted, in input order, on the caller's thread: from
 * parse_poll() when parse_notify_fd() is readable, and from the other
 * calls here when they wait for the worker. Call before the first
 * feed. 0, or -1 (logged; the parser works on without a worker), also
 * while helpers are held back (thread.h).
 *
 * The emit callback owns each event as before, but the event is made
 * of its job's arena (arena.h): it must be dead when emit returns.
 * libauparse keeps process-wide state: feed no other parser while a
 * worker may be parsing (podtrail has one).
 */
int parse_use_worker(struct parse *p);
/*
 * As parse_use_worker, but input is parsed on the caller's thread as
 * without a worker until parse_behind(p, 1), and again after
 * parse_behind(p, 0), which first waits for the worker's jobs and
 * emits their events. For a live source whose records are cheaper
 * parsed in place while it keeps up. 0 or -1 (logged).
 */
int parse_use_worker_when_behind(struct parse *p);
/* See parse_use_worker_when_behind; otherwise a no-op. Not from emit. */
void parse_behind(struct parse *p, int on);
/* Readable when the worker has events to emit; -1 without a worker. */
int parse_notify_fd(const struct parse *p);
/* Emit the events the worker has finished. */
void parse_poll(struct parse *p);
/*
 * Called while the source is idle: emits events that have been open
 * longer than eoe_timeout. Returns 1 if events are still pending.
 */
int parse_age(struct parse *p);
/*
 * If no event is half-built, start a fresh libauparse state: it scans
 * every slot it ever used for each record, so after a burst of
 * incomplete events it stays slow until recreated. 1 if done, 0 if
 * events are pending (try later), -1 on failure (logged).
 */
int parse_compact(struct parse *p);
/* Emit everything pending (end of input). */
void parse_flush(struct parse *p);
/*
 * Counters: records fed, events emitted, and input lines dropped
 * because they were not audit records or longer than 1 MiB.
 */
unsigned long long parse_records(const struct parse *p);
unsigned long long parse_events(const struct parse *p);
unsigned long long parse_malformed(const struct parse *p);
/* Times parse_compact() started a fresh libauparse state. */
unsigned long long parse_resets(const struct parse *p);
/*
 * Events split by podtrail (parse_set_fast), and the events it gave
 * back to libauparse.
 */
void parse_fast_counts(const struct parse *p, unsigned long long *events,
    unsigned long long *fallbacks);
/*
 * Events that went over a limit (parse_set_limits), the records and
 * bytes they dropped, and events ended early because more than
 * PARSE_MAX_OPEN were open at once.
 */
struct parse_trunc {
	unsigned long long events, records, bytes, cut;
};
void parse_truncation(const struct parse *p, struct parse_trunc *out);
void parse_free(struct parse *p);

#endif
