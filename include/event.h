/*
 * event.h - one audit event (a group of records sharing a serial) as a
 * JSON object. The schema is doc/event.schema.json.
 */
#ifndef PODTRAIL_EVENT_H
#define PODTRAIL_EVENT_H

#include <stddef.h>

#include <auparse.h>
#include <cjson/cJSON.h>

struct arena;

/*
 * One event as it moves source -> parse -> enrich -> chain -> output:
 * the JSON it becomes, and what the stages need from it as typed
 * values, read once where the event is made.
 */
struct event {
	cJSON *json;
	/*
	 * The arena json's nodes live in (arena.h), which nodes added to
	 * the tree should come from; NULL: heap nodes (podtrail's own).
	 */
	struct arena *arena;
	long long time_ms;		/* its stamp, realtime ms */
	unsigned long long serial;	/* audit's; 0 for podtrail's own */
	long long pid;			/* process.pid, or -1 */
	/* the first SYSCALL record's a0..a3, where bit i of args says so */
	unsigned long long arg[4];
	unsigned args;
	int has_syscall;		/* it has a SYSCALL record */
	unsigned long long seq;		/* the chain's, once sealed */
	/*
	 * loop_now_us() by which every record of it had been read from a
	 * live source (the kernel, or auditd's dispatcher); 0: not known.
	 */
	long long rx_us;
};

/* An event's line as the chain sealed it: what outputs take. */
struct sealed {
	const char *line;		/* canonical JSON, no newline */
	size_t len;
	unsigned long long seq;
	long long time_ms;
};

/* What an event dropped past parse.h's limits (records and bytes). */
struct event_trunc {
	unsigned long long records, bytes;
};

/*
 * Build the event auparse is positioned on into *ev. node is used
 * when the records carry no node= prefix; t, if not NULL and not zero,
 * becomes its "truncated" member. 0, or -1 (ENOMEM; logged). ev->json
 * is the caller's; its nodes live in the calling thread's current
 * arena (ev->arena): delete it, or copy what you keep with
 * cJSON_Duplicate, before that arena is reused. Each of "records" is
 * a raw node holding the record's canonical JSON, its ->string the
 * record type (a constant: cJSON_StringIsConst).
 */
int event_build(auparse_state_t *au, const char *node,
    const struct event_trunc *t, struct event *ev);

/*
 * An event's records as parse_fast.c split them, field by field as
 * libauparse would: what event_build_recs() takes instead of auparse.
 */
struct event_rec {
	int rtype;			/* libaudit's number */
	const char *tname;		/* libaudit's name, or NULL */
	const char *text;		/* the whole line, NUL-terminated */
	const char *const *fv;		/* name, value, name, value, ... */
	size_t nf;			/* fields (fv holds 2 * nf) */
};

struct event_recs {
	long long sec;
	unsigned ms;
	unsigned long long serial;
	const struct event_rec *rec;
	size_t n;
};

/* As event_build(), from records that came with no node= prefix. */
int event_build_recs(const struct event_recs *r, const char *node,
    struct event *ev);
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
 * Free ev->json, whichever arena (or the heap) its nodes are in, on any
 * thread. The pipeline skips the walk where the arena recycles them.
 */
void event_free(struct event *ev);
/*
 * podtrail's own event json (event_new_internal's, heap nodes) as an
 * event: its time is the one its "time" member was made from.
 */
void event_own(struct event *ev, cJSON *json);

/*
 * Format sec.ms as RFC 3339 UTC with milliseconds into out (40 bytes are
 * enough); a stamp past what struct tm holds gives the epoch.
 */
void event_format_time(char *out, size_t outlen, long long sec, unsigned ms);
/* The same stamp as realtime ms (what event_format_time wrote). */
long long event_stamp_ms(long long sec, unsigned ms);

#endif
