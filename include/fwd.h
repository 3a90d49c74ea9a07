/*
 * fwd.h - the HTTPS forwarder: an output ("https://..." or, for
 * loopback tests with allow_http, "http://...") that batches events,
 * spools every batch (spool.h), and sends the spool oldest first with
 * libcurl's multi interface inside the main loop.
 */
#ifndef PODTRAIL_FWD_H
#define PODTRAIL_FWD_H

#include <curl/curl.h>

#include "output.h"

/* What to do with a finished request. */
enum fwd_verdict {
	FWD_DONE,	/* 2xx: delivered */
	FWD_RETRY,	/* 408, 429, 5xx, network or TLS error: later */
	FWD_DEAD,	/* any other 4xx: set aside, counted, not retried */
	FWD_HOLD,	/* 401, 403, 404: a config error; kept, retried slowly */
	FWD_SPLIT,	/* 413: resent in halves; one event alone is DEAD */
};

/* Classify a transfer result and HTTP status (0 when none). */
enum fwd_verdict fwd_classify(CURLcode res, long status);
/*
 * Next retry delay in ms after `failures` consecutive failures:
 * exponential from 250 ms to 30 s with jitter (half to full).
 */
long fwd_backoff_ms(unsigned failures);
/*
 * Delay before retrying a batch held for a config error (401, 403,
 * 404), after `holds` such answers in a row: 5 s doubling to 5 min,
 * with the same jitter.
 */
long fwd_hold_ms(unsigned holds);
/*
 * Move every dead letter in STATE_DIR/dead back into the spool (behind
 * what is spooled) for the next start to send. Prints what it moved.
 * 0, or -1 (logged).
 */
int fwd_requeue_dead(const char *state_dir);
/*
 * Is url one the forwarder sends to: https, or http to a loopback
 * address with allow_http? 0, or -1 with the reason in err.
 */
int fwd_check_url(const char *url, int allow_http, char *err, size_t errlen);

#endif
