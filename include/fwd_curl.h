/*
 * fwd_curl.h - the forwarder's one HTTP(S) transfer at a time: a
 * libcurl easy handle (TLS verification, mTLS, headers, credentials)
 * reused so the connection is kept alive, driven by the main loop
 * through curl's multi interface, or by fwd_curl_poll once the loop
 * has stopped.
 */
#ifndef PODTRAIL_FWD_CURL_H
#define PODTRAIL_FWD_CURL_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "fwd_format.h"
#include "log.h"
#include "loop.h"

struct fwd_curl;

/* A transfer finished: curl's result and the HTTP status (0 if none). */
typedef void fwd_curl_done_fn(void *arg, CURLcode res, long status);

/*
 * A transfer to url (checked by the caller) with c's TLS, headers and
 * credentials and fmt's Content-Type, on loop. done is called from the
 * loop (or fwd_curl_poll) when a transfer ends; the handle is free
 * again by then. NULL on failure (logged).
 */
struct fwd_curl *fwd_curl_new(struct loop *loop, const char *url,
    const struct conf *c, const struct fwd_format *fmt,
    fwd_curl_done_fn *done, void *arg);
/*
 * POST body (len bytes; borrowed until done) with a timeout_ms limit.
 * 0, or -1 when it cannot start (not logged: the caller retries).
 */
int fwd_curl_send(struct fwd_curl *fc, const char *body, size_t len,
    long timeout_ms);
/* The start of the last answer's body (or all of a _bulk answer). */
const struct buf *fwd_curl_answer(const struct fwd_curl *fc);
/* Why the last transfer failed (curl's detail when it has one). */
const char *fwd_curl_error(const struct fwd_curl *fc, CURLcode res);
/* The last answer's Retry-After in seconds, or 0 if none. */
long long fwd_curl_retry_after(const struct fwd_curl *fc);
/*
 * Without the loop: wait for curl's sockets or timer until deadline
 * (monotonic ms), once, and act on what is ready. 0, or -1 when poll
 * fails (the caller stops driving).
 */
int fwd_curl_poll(struct fwd_curl *fc, long long deadline);
/*
 * Say what is wrong with the client certificate, if anything (it
 * makes every handshake fail with an alert that names neither), rate
 * limited by rl (NULL: once). 1 if something is, 0 if not, or if no
 * client_cert is configured.
 */
int fwd_curl_check_client_cert(struct fwd_curl *fc, struct log_rl *rl);
/*
 * Is h a "Name: value" header podtrail may add (not one it sets
 * itself, nor a second Authorization when have_auth)? 0, or -1
 * (logged).
 */
int fwd_curl_check_header(const char *h, int have_auth);
/*
 * Is url one the forwarder sends to: https, or http to a loopback
 * address with allow_http? 0, or -1 with the reason in err.
 */
int fwd_curl_check_url(const char *url, int allow_http, char *err,
    size_t errlen);
/* Abort a transfer in flight, release everything (NULL is fine). */
void fwd_curl_free(struct fwd_curl *fc);

#endif
