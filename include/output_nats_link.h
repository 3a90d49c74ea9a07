/*
 * output_nats_link.h - the nats:// output's connection: libnats's
 * callbacks (on its threads) queue events and poke f->q.efd; a set-up
 * thread connects and makes sure the stream exists; the loop drains
 * the queue. Call these on the loop's thread.
 */
#ifndef PODTRAIL_OUTPUT_NATS_LINK_H
#define PODTRAIL_OUTPUT_NATS_LINK_H

#include "output_nats_int.h"

/*
 * Start the set-up thread unless it runs or f is stopping; when it
 * cannot start, f->start_timer is armed to try again.
 */
void output_nats_link_start(struct onats *f);
/* Tell the set-up thread to give up and join it (no-op if none). */
void output_nats_link_stop(struct onats *f);
/* Handle everything libnats's threads queued, in order, then pump. */
void output_nats_link_drain(struct onats *f);

#endif
