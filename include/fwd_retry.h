/*
 * fwd_retry.h - what the forwarder does with an answer, and when it
 * tries again: the verdict on a transfer result and HTTP status, the
 * backoff after failures, the slow retry of a batch held for a config
 * error, and the answer's text for the log.
 */
#ifndef PODTRAIL_FWD_RETRY_H
#define PODTRAIL_FWD_RETRY_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "fwd_format.h"

#define FWD_RETRY_BACKOFF_MIN_MS 250
#define FWD_RETRY_BACKOFF_MAX_MS 30000
/* a batch held for a config error (401/403/404) is retried this slowly */
#define FWD_RETRY_HOLD_MIN_MS 5000
#define FWD_RETRY_HOLD_MAX_MS 300000
/* a Retry-After longer than this is cut to it */
#define FWD_RETRY_AFTER_MAX_S 600

/* What to do with a finished request. */
enum fwd_retry_verdict {
	FWD_DONE,	/* 2xx: delivered */
	FWD_RETRY,	/* 408, 429, 5xx, network or TLS error: later */
	FWD_DEAD,	/* any other 4xx: set aside, counted, not retried */
	FWD_HOLD,	/* 401, 403, 404: a config error; kept, retried slowly */
	FWD_SPLIT,	/* 413: resent in halves; one event alone is DEAD */
};

/* Classify a transfer result and HTTP status (0 when none). */
enum fwd_retry_verdict fwd_retry_classify(CURLcode res, long status);
/*
 * Next retry delay in ms after `failures` consecutive failures:
 * exponential from 250 ms to 30 s with jitter (half to full).
 */
long fwd_retry_backoff_ms(unsigned failures);
/*
 * Delay before retrying a batch held for a config error (401, 403,
 * 404), after `holds` such answers in a row: 5 s doubling to 5 min,
 * with the same jitter.
 */
long fwd_retry_hold_ms(unsigned holds);
/*
 * ": TEXT" from the start of an answer's body (at most 200 bytes,
 * control bytes made spaces, ".." when cut) in out, for the log; ""
 * when the body says nothing. Returns out or a static "".
 */
const char *fwd_retry_answer_text(const struct buf *resp, char *out,
    size_t outlen);
/*
 * A 200 from Elasticsearch _bulk for the n items sent: FWD_RETRY when
 * the answer does not list them or *retry of them must be retried
 * (logged), else FWD_DONE with *dead of them refused, marked in
 * *items (the caller frees it; NULL when the answer had no errors).
 * The first refusal's reason goes into why.
 */
enum fwd_retry_verdict fwd_retry_bulk(const struct buf *resp, size_t n,
    enum fwd_item **items, size_t *retry, size_t *dead, char *why,
    size_t whylen);

#endif
