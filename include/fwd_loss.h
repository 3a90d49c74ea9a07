/*
 * fwd_loss.h - the forwarder's podtrail_loss report: batches the spool
 * could not keep, told through the chain (so the report has a seq and
 * a verifier sees it). A report can be lost with its own batch, so
 * each one repeats every loss since the last report delivered.
 */
#ifndef PODTRAIL_FWD_LOSS_H
#define PODTRAIL_FWD_LOSS_H

#include <cjson/cJSON.h>

#include "spool.h"

/* Add loss l to the losses in *u (not yet told by a delivered report). */
void fwd_loss_add(struct spool_loss *u, const struct spool_loss *l);
/*
 * A podtrail_loss event from node telling the losses in *l; the caller
 * owns it. NULL on ENOMEM.
 */
cJSON *fwd_loss_event(const struct spool_loss *l, const char *node);

#endif
