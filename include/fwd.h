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
};

/* Classify a transfer result and HTTP status (0 when none). */
enum fwd_verdict fwd_classify(CURLcode res, long status);
/*
 * Next retry delay in ms after `failures` consecutive failures:
 * exponential from 250 ms to 30 s with jitter (half to full).
 */
long fwd_backoff_ms(unsigned failures);
/* Is url https, or http to loopback when allowed? 0 or -1 (logged). */
int fwd_check_url(const char *url, int allow_http);

#endif
