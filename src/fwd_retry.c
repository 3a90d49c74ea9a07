/*
 * fwd_retry.c - the forwarder's retry policy: answers classified as
 * Fluent Bit's out_http does (done, retry later, set aside), plus a
 * hold for config errors and a split for 413, and jittered backoff.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <curl/curl.h>

#include "buf.h"
#include "fwd_format.h"
#include "fwd_retry.h"
#include "log.h"

enum fwd_retry_verdict
fwd_retry_classify(CURLcode res, long status)
{
	if (res != CURLE_OK)
		return FWD_RETRY;
	if (status >= 200 && status < 300)
		return FWD_DONE;
	if (status == 408 || status == 429 || status >= 500)
		return FWD_RETRY;
	/* a wrong URL or credential is the operator's to fix: hold it */
	if (status == 401 || status == 403 || status == 404)
		return FWD_HOLD;
	if (status == 413)
		return FWD_SPLIT;
	if (status >= 400)
		return FWD_DEAD;
	/* 1xx/3xx: we follow no redirects; the operator must fix the URL */
	return FWD_RETRY;
}

/* d/2 .. d: jitter keeps a fleet of nodes from retrying in step */
static long
jitter(long d)
{
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)rand();
	return d / 2 + (long)(r % (unsigned)(d / 2 + 1));
}

static long
doubling(long min, long max, unsigned n)
{
	long d = min;

	for (unsigned i = 1; i < n && d < max; i++)
		d *= 2;
	return d > max ? max : d;
}

long
fwd_retry_backoff_ms(unsigned failures)
{
	return jitter(doubling(FWD_RETRY_BACKOFF_MIN_MS,
	    FWD_RETRY_BACKOFF_MAX_MS, failures));
}

long
fwd_retry_hold_ms(unsigned holds)
{
	return jitter(doubling(FWD_RETRY_HOLD_MIN_MS, FWD_RETRY_HOLD_MAX_MS,
	    holds));
}

/* an aggregator's 500 or 400 often says why in its first words */
const char *
fwd_retry_answer_text(const struct buf *resp, char *out, size_t outlen)
{
	size_t n = resp->len < 200 ? resp->len : 200, o = 2;

	if (n == 0 || outlen < 8)
		return "";
	memcpy(out, ": ", 2);
	for (size_t i = 0; i < n && o < outlen - 4; i++) {
		unsigned char c = (unsigned char)resp->data[i];

		out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	while (o > 2 && out[o - 1] == ' ')
		o--;
	if (n < resp->len)
		out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
	return o > 2 ? out : "";
}

/*
 * Per document: stored (or stored before: 409 to our create),
 * retryable (429, 5xx: the whole request goes again, the stored ones
 * answer 409), or refused (set aside one by one, the rest of the batch
 * is delivered).
 */
enum fwd_retry_verdict
fwd_retry_bulk(const struct buf *resp, size_t n, enum fwd_item **itemsp,
    size_t *retry, size_t *dead, char *why, size_t whylen)
{
	static struct log_rl rl_retry, rl_odd;
	enum fwd_item *items = NULL;

	*itemsp = NULL;
	*retry = *dead = 0;
	if (resp->data && strstr(resp->data, "\"errors\":false"))
		return FWD_DONE;
	if (n == 0 || (items = calloc(n, sizeof(*items))) == NULL ||
	    fwd_format_bulk_items(resp->data ? resp->data : "", resp->len,
	    n, items, why, whylen) == -1) {
		log_warnx_rl(&rl_odd, "_bulk answer does not list the %zu items "
		    "sent; will retry the batch", n);
		free(items);
		return FWD_RETRY;
	}
	for (size_t i = 0; i < n; i++) {
		*retry += items[i] == FWD_ITEM_RETRY;
		*dead += items[i] == FWD_ITEM_DEAD;
	}
	if (*retry) {
		log_warnx_rl(&rl_retry, "_bulk: %zu of %zu items must be "
		    "retried (429/5xx); resending the batch (stored items "
		    "answer 409)", *retry, n);
		free(items);
		return FWD_RETRY;
	}
	*itemsp = items;
	return FWD_DONE;
}
