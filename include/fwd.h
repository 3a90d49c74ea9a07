/*
 * fwd.h - the HTTPS forwarder: an output ("https://..." or, for
 * loopback tests with allow_http, "http://...") that batches events,
 * spools every batch (spool.h), and sends the spool oldest first with
 * libcurl's multi interface inside the main loop (fwd_curl.h). The
 * output itself is fwd_https_ops (output.h).
 */
#ifndef PODTRAIL_FWD_H
#define PODTRAIL_FWD_H

#include <stddef.h>

#include "output.h"

/*
 * Next retry delay in ms after `failures` consecutive failures, as the
 * forwarder backs off (fwd_retry_backoff_ms, fwd_retry.h).
 */
long fwd_backoff_ms(unsigned failures);
/*
 * Move every dead letter in STATE_DIR/dead back into the spool (behind
 * what is spooled) for the next start to send. Prints what it moved.
 * 0, or -1 (logged).
 */
int fwd_requeue_dead(const char *state_dir);
/*
 * Is url one the forwarder sends to: https, or http to a loopback
 * address with allow_http? 0, or -1 with the reason in err
 * (fwd_curl_check_url, fwd_curl.h).
 */
int fwd_check_url(const char *url, int allow_http, char *err, size_t errlen);

#endif
