/*
 * output_nats_pub.h - the nats:// output's publishing: spooled segments
 * are read back oldest first, published asynchronously within a window
 * of messages in flight, and leave the spool when every message made
 * from them is acked. Loop's thread only.
 */
#ifndef PODTRAIL_OUTPUT_NATS_PUB_H
#define PODTRAIL_OUTPUT_NATS_PUB_H

#include "output_nats_int.h"

/* Publish what the window has room for (nothing until ready and connected). */
void output_nats_pub_pump(struct onats *f);
/* An ack (EV_ACK) came: the message is stored, set aside or queued again. */
void output_nats_pub_ack(struct onats *f, const struct nev *e);
/* Put every message in flight back in the queue (its ack was lost). */
void output_nats_pub_requeue(struct onats *f);
/* The oldest message not yet published, or NULL. */
struct nmsg *output_nats_pub_next_queued(struct onats *f);
/* Take g out of f's segments and free it (the spool keeps its copy). */
void output_nats_pub_seg_drop(struct onats *f, struct nseg *g);

#endif
