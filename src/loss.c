/* loss.c - podtrail_loss events, the one constructor of their shape. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event.h"
#include "log.h"
#include "loss.h"
#include "spool.h"

cJSON *
loss_event(const char *node, const char *cause, unsigned long long count)
{
	cJSON *ev;

	if ((ev = event_new_internal("podtrail_loss", node)) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(ev, "cause", cause) == NULL ||
	    cJSON_AddNumberToObject(ev, "count", (double)count) == NULL) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

void
loss_spool_add(struct spool_loss *u, const struct spool_loss *l)
{
	u->events += l->events;
	u->bytes += l->bytes;
	u->segments += l->segments;
	if (l->first_seq && (u->first_seq == 0 || l->first_seq < u->first_seq))
		u->first_seq = l->first_seq;
	if (l->last_seq > u->last_seq)
		u->last_seq = l->last_seq;
}

cJSON *
loss_spool_event(const struct spool_loss *l, const char *node)
{
	cJSON *ev;
	char seq[24];

	if ((ev = loss_event(node, "spool_full", l->events)) == NULL)
		return NULL;
	cJSON_AddNumberToObject(ev, "lost_events", (double)l->events);
	cJSON_AddNumberToObject(ev, "lost_batches", (double)l->segments);
	cJSON_AddNumberToObject(ev, "lost_bytes", (double)l->bytes);
	snprintf(seq, sizeof(seq), "%llu", l->first_seq);
	cJSON_AddRawToObject(ev, "lost_first_seq", seq);
	snprintf(seq, sizeof(seq), "%llu", l->last_seq);
	cJSON_AddRawToObject(ev, "lost_last_seq", seq);
	return ev;
}

cJSON *
loss_spool_take(struct spool_loss *pending, struct spool_loss *unreported,
    const char *node)
{
	struct spool_loss l = *pending;

	if (l.events == 0 && l.segments == 0)
		return NULL;
	memset(pending, 0, sizeof(*pending));
	log_warnx("spool: dropped %llu events (%llu batches, %llu bytes, "
	    "seq %llu..%llu) to stay within its limits", l.events, l.segments,
	    l.bytes, l.first_seq, l.last_seq);
	loss_spool_add(unreported, &l);
	return loss_spool_event(unreported, node);
}
