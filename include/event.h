/*
 * event.h - one audit event (a group of records sharing a serial) as a
 * JSON object. The schema is doc/event.schema.json.
 */
#ifndef PODTRAIL_EVENT_H
#define PODTRAIL_EVENT_H

#include <auparse.h>
#include <cjson/cJSON.h>

/* What an event dropped past parse.h's limits (records and bytes). */
struct event_trunc {
	unsigned long long records, bytes;
};

/*
 * Build the JSON for the event auparse is positioned on. node is used
 * when the records carry no node= prefix; t, if not NULL and not zero,
 * becomes its "truncated" member. Returns a new object the
 * caller owns, or NULL (ENOMEM; logged). Its nodes live in the event
 * arena (arena.h): delete it, or copy what you keep with
 * cJSON_Duplicate, before the next call. Each of "records" is a raw
 * node holding the record's canonical JSON, its ->string the record
 * type (a constant: cJSON_StringIsConst); read fields with
 * event_record_str() (event_record.h).
 */
cJSON *event_build(auparse_state_t *au, const char *node,
    const struct event_trunc *t);
/*
 * Free the calling thread's event_build() scratch: a thread that built
 * events calls it before it exits (the loop's thread need not).
 */
void event_thread_done(void);

/*
 * A podtrail-made event ("podtrail_loss", "podtrail_heartbeat", ...)
 * with type, time (now) and node set. Caller owns; NULL on ENOMEM.
 */
cJSON *event_new_internal(const char *type, const char *node);

/*
 * Format sec.ms as RFC 3339 UTC with milliseconds into out (40 bytes are
 * enough); a stamp past what struct tm holds gives the epoch.
 */
void event_format_time(char *out, size_t outlen, long long sec, unsigned ms);

#endif
