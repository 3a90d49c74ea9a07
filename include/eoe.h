/*
 * eoe.h - closing syscall events whose EOE record never came.
 *
 * A syscall event always ends with an EOE record, but a multicast
 * reader that overflows loses records, EOEs included. libauparse then
 * keeps the event open for eoe_timeout seconds, and scans every open
 * event for each record it is fed: under a storm the open events pile
 * up into the tens of thousands and the reader collapses (perf: 38% in
 * auparse_timestamp_compare). So the source tracks which SYSCALL
 * events are still open and, when one has waited too long or its slot
 * is needed by a newer serial, hands back its stamp so the caller can
 * feed a synthetic EOE (event.c never shows EOE records).
 */
#ifndef PODTRAIL_EOE_H
#define PODTRAIL_EOE_H

#include <stddef.h>

/*
 * Records arrive in the order the kernel emitted them, and a syscall
 * event's records are emitted together at syscall exit: once this many
 * later records went by without its EOE, the EOE was lost. Time alone
 * is no proof (a stalled reader finds the EOE still in its socket).
 */
#define EOE_STALE_RECORDS 4096
/* Open events tracked at once; a serial this far behind is stale. */
#define EOE_SLOTS 8192
/* Longest stamp kept: "audit(SSSSSSSSSSSS.MMM:NNNNNNNNNNNNNNNNNNNN)" */
#define EOE_STAMP_MAX 48

/* Called with the stamp "audit(S.MS:N)" (not NUL-terminated) of an event to close. */
typedef void (*eoe_close_cb)(const char *stamp, size_t len, void *arg);

struct eoe;

/* New tracker calling cb to close events; NULL on ENOMEM. */
struct eoe *eoe_new(eoe_close_cb cb, void *arg);
/*
 * A record arrived (type, payload "audit(S.MS:N): ...", now in ms):
 * the first record of a serial opens its event, EOE closes it. (Any
 * type opens: when the SYSCALL record itself was lost, the rest of the
 * event would wait in auparse. A synthetic EOE for an event auparse
 * had already ended by itself is an EOE-only event, which parse.c
 * drops.) May close a stale event.
 */
void eoe_record(struct eoe *e, int type, const char *payload, size_t len,
    long long now_ms);
/*
 * Close every event EOE_STALE_RECORDS records behind and, when the
 * caller has drained its input (idle), every event open longer than
 * age_ms. Returns how many were closed.
 */
size_t eoe_expire(struct eoe *e, long long now_ms, long age_ms, int idle);
/* Events open now, and synthetic EOEs issued so far. */
size_t eoe_open(const struct eoe *e);
unsigned long long eoe_closed(const struct eoe *e);
void eoe_free(struct eoe *e);

#endif
