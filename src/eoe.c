/*
 * eoe.c - open syscall events, in a table indexed by serial. Serials
 * grow by one per event, so slot = serial % EOE_SLOTS needs no probing:
 * a slot still held by another serial when a new one lands there holds
 * an event EOE_SLOTS serials old, which is closed on the spot.
 */
#include "config.h"

#include <libaudit.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "eoe.h"

struct slot {
	unsigned long long serial;	/* 0: free */
	long long since_ms;
	unsigned long long rec_at;	/* records seen before it opened */
	unsigned char len;
	char stamp[EOE_STAMP_MAX];
};

struct eoe {
	eoe_close_cb cb;
	void *arg;
	size_t open;
	unsigned long long nrec;
	unsigned long long closed;
	struct slot slots[EOE_SLOTS];
};

struct eoe *
eoe_new(eoe_close_cb cb, void *arg)
{
	struct eoe *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->cb = cb;
	e->arg = arg;
	return e;
}

static void
close_slot(struct eoe *e, struct slot *s)
{
	e->open--;
	e->closed++;
	s->serial = 0;
	e->cb(s->stamp, s->len, e->arg);
}

/* "audit(S.MS:N)" at the start of payload: its length and serial, or 0. */
static size_t
stamp_of(const char *payload, size_t len, unsigned long long *serial)
{
	const char *end;
	const char *colon;

	if (len < 7 || memcmp(payload, "audit(", 6) != 0)
		return 0;
	if ((end = memchr(payload, ')', len < EOE_STAMP_MAX ? len :
	    EOE_STAMP_MAX)) == NULL)
		return 0;
	if ((colon = memchr(payload, ':', (size_t)(end - payload))) == NULL)
		return 0;
	*serial = 0;
	for (const char *p = colon + 1; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');

		/* past 2^64-1 parse.c drops the record: nothing to close */
		if (*p < '0' || *p > '9' || *serial > (ULLONG_MAX - d) / 10)
			return 0;
		*serial = *serial * 10 + d;
	}
	return *serial ? (size_t)(end - payload) + 1 : 0;
}

void
eoe_record(struct eoe *e, int type, const char *payload, size_t len,
    long long now_ms)
{
	unsigned long long serial;
	struct slot *s;
	size_t n;

	e->nrec++;
	if ((n = stamp_of(payload, len, &serial)) == 0)
		return;
	s = &e->slots[serial % EOE_SLOTS];
	if (type == AUDIT_EOE) {
		if (s->serial == serial) {
			s->serial = 0;
			e->open--;
		}
		return;
	}
	if (s->serial == serial)
		return;
	if (s->serial != 0)
		close_slot(e, s);
	s->serial = serial;
	s->since_ms = now_ms;
	s->rec_at = e->nrec;
	s->len = (unsigned char)n;
	memcpy(s->stamp, payload, n);
	e->open++;
}

size_t
eoe_expire(struct eoe *e, long long now_ms, long age_ms, int idle)
{
	size_t n = 0;

	for (size_t i = 0; i < EOE_SLOTS && e->open > 0; i++) {
		struct slot *s = &e->slots[i];

		if (s->serial == 0)
			continue;
		if (e->nrec - s->rec_at >= EOE_STALE_RECORDS ||
		    (idle && now_ms - s->since_ms > age_ms)) {
			close_slot(e, s);
			n++;
		}
	}
	return n;
}

size_t
eoe_open(const struct eoe *e)
{
	return e->open;
}

unsigned long long
eoe_closed(const struct eoe *e)
{
	return e->closed;
}

void
eoe_free(struct eoe *e)
{
	free(e);
}
