/*
 * loss.h - podtrail_loss events: what podtrail lost, told through the
 * chain so that each report has a seq and a verifier sees it. Every
 * report starts with "cause" and "count"; each cause adds its own
 * fields after them.
 */
#ifndef PODTRAIL_LOSS_H
#define PODTRAIL_LOSS_H

#include <cjson/cJSON.h>

#include "spool.h"

/*
 * A podtrail_loss event from node: count items lost to cause. The
 * caller owns it and adds the cause's fields. NULL on ENOMEM.
 */
cJSON *loss_event(const char *node, const char *cause,
    unsigned long long count);

/*
 * Batches a spool could not keep. A report can be lost with its own
 * batch, so each one repeats every loss since the last report
 * delivered: loss_spool_add adds l to the losses not yet told in *u,
 * loss_spool_event makes the report of *l ("spool_full").
 */
void loss_spool_add(struct spool_loss *u, const struct spool_loss *l);
cJSON *loss_spool_event(const struct spool_loss *l, const char *node);
/*
 * What a spool output does before sleeping: take the losses in *pending
 * (cleared), log them once, add them to *unreported and return the
 * report of *unreported for the caller to emit. NULL when nothing was
 * lost (or on ENOMEM).
 */
cJSON *loss_spool_take(struct spool_loss *pending,
    struct spool_loss *unreported, const char *node);

#endif
