/*
 * fwd.c - batches -> gzip -> spool -> HTTPS, one request at a time,
 * oldest batch first. libcurl's multi interface is driven by the main
 * loop (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), so reading the audit
 * source never waits for the network. One easy handle is reused, so
 * the connection is kept alive between batches.
 *
 * A batch is compressed once, when it is sealed, and spooled as a gzip
 * member of NDJSON lines: 6-20x fewer bytes written (~100 per event),
 * that many times the outage in the same spool, and an NDJSON body
 * that is the segment as it lies. Other formats are rebuilt per send.
 * Segments spooled by earlier builds (plain NDJSON) are still read.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "conf.h"
#include "event.h"
#include "fwd.h"
#include "fwd_format.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "secret.h"
#include "spool.h"
#include "thread.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 600
/* a batch held for a config error (401/403/404) is retried this slowly */
#define HOLD_MIN_MS 5000
#define HOLD_MAX_MS 300000
/* how much of an answer is kept: its start, or a whole _bulk answer */
#define RESP_KEEP 4096
#define RESP_KEEP_BULK ((size_t)64 << 20)
/* how long close() keeps sending before leaving the rest spooled */
#define CLOSE_DRAIN_MS 5000
#define MAX_SOCKS 8

/* what the builder does: compress a sealed batch, or make a body */
enum { JOB_NONE, JOB_SEAL, JOB_BODY };

struct fwd {
	struct loop *loop;
	char *url;
	char *client_cert;	/* its path, to name it when it expires */
	struct fwd_format fmt;
	char *es_index;
	char node[256];
	long batch_events;
	size_t batch_bytes;
	long batch_age_ms;
	long timeout_ms;	/* applied to each request as it starts */
	CURLM *multi;
	CURL *easy;
	/* curl's detail for the last failure (expired, name mismatch...) */
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers;
	struct loop_timer *curl_timer, *age_timer, *retry_timer;
	/* curl's sockets, mirrored for the drain at close */
	struct { int fd; short events; } socks[MAX_SOCKS];
	long long curl_deadline;	/* monotonic ms, -1 none */
	/* the batch being built */
	struct buf batch;
	unsigned long long batch_n, batch_first, batch_last;
	/* bytes of it in the spool's open segment (crash copy), or -1 */
	size_t batch_kept;
	unsigned long long z_open;	/* the sealed batch's open segment */
	/* the sealed batch being compressed (zraw -> zgz), then spooled */
	struct buf zraw, zgz;
	unsigned long long z_n, z_first, z_last;
	int z_report;
	/* the request in flight (busy from its body's build to its answer) */
	int busy;
	struct spool_seg seg;
	struct buf raw, body, resp, plain, fmtbuf;
	/* the lines of the request in flight (for per-item dead letters) */
	struct buf sel;
	/* a batch sent in parts after a 413: lines done, lines per part */
	unsigned long long part_id;
	size_t part_off, part_n, part_total, part_sent;
	unsigned holds;		/* config errors (401/403/404) in a row */
	int held;
	/*
	 * gzip (a tenth of an event's CPU) and the other formats run on a
	 * helper thread off the loop, one job at a time; while a job is
	 * out, only the builder touches its buffers and the (de)compressor.
	 */
	struct {
		pthread_t thread;
		pthread_mutex_t mu;
		pthread_cond_t cv;
		int use, tried, running;	/* loop thread */
		int job, done, rc, stop;	/* under mu */
		int efd;
	} bld;
	int job;		/* the job out: JOB_* (loop thread) */
	int closing;		/* build inline from now on */
	/* one compressor, reused per batch: no 270 KB churn per batch */
	struct gzip *gz;
	unsigned failures;
	long long retry_at;
	struct spool *spool;
	struct spool_loss loss;		/* not yet reported */
	/* reported, but the report itself is not yet safe in the spool */
	struct spool_loss unreported;	/* losses no delivered report told */
	unsigned long long report_seq;	/* last seq of the newest report's batch */
	int report_in_batch;
	output_emit_cb emit;
	void *emit_arg;
	/* counters */
	unsigned long long sent_batches, sent_events, retries, dead_batches,
	    dead_events, lost_events, http_bytes, config_errors,
	    split_requests, dead_items, retried_items;
};

/* ---- policy (unit-tested) ------------------------------------------- */

enum fwd_verdict
fwd_classify(CURLcode res, long status)
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
fwd_backoff_ms(unsigned failures)
{
	return jitter(doubling(BACKOFF_MIN_MS, BACKOFF_MAX_MS, failures));
}

long
fwd_hold_ms(unsigned holds)
{
	return jitter(doubling(HOLD_MIN_MS, HOLD_MAX_MS, holds));
}

/* ---- body formats --------------------------------------------------- */

static void
swap_buf(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

/* "seq" of a serialized event: the chain appends it near the end. */
static unsigned long long
line_seq(const char *line, size_t len)
{
	const char *p = line + len, *hit = NULL;

	while (p > line) {
		const char *q = memrchr(line, '"', (size_t)(p - line));

		if (q == NULL)
			break;
		if ((size_t)(line + len - q) > 6 && memcmp(q, "\"seq\":", 6) == 0) {
			hit = q + 6;
			break;
		}
		p = q;
	}
	return hit ? strtoull(hit, NULL, 10) : 0;
}

/* ---- curl <-> loop -------------------------------------------------- */

static void check_done(struct fwd *f);
static void kick(struct fwd *f);
static int check_client_cert(const char *path, struct log_rl *rl);
static void send_raw(struct fwd *f);

static void
sock_note(struct fwd *f, int fd, short events)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_SOCKS; i++) {
		if (f->socks[i].fd == fd && events) {
			f->socks[i].events = events;
			return;
		}
		if (f->socks[i].fd == fd) {
			f->socks[i].fd = -1;
			return;
		}
		if (f->socks[i].fd == -1 && free_slot == -1)
			free_slot = i;
	}
	if (events && free_slot != -1) {
		f->socks[free_slot].fd = fd;
		f->socks[free_slot].events = events;
	}
}

static void
on_sock_ready(int fd, short revents, void *arg)
{
	struct fwd *f = arg;
	int flags = 0, running;

	if (revents & POLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(f->multi, fd, flags, &running);
	check_done(f);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct fwd *f = userp;
	short ev = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_fd_del(f->loop, s);
		sock_note(f, s, 0);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= POLLOUT;
	if (loop_fd_mod(f->loop, s, ev) == -1 &&
	    loop_fd_add(f->loop, s, ev, on_sock_ready, f) == -1) {
		log_warn("loop");
		return -1;
	}
	sock_note(f, s, ev);
	return 0;
}

static void
on_curl_timer(void *arg)
{
	struct fwd *f = arg;
	int running;

	f->curl_deadline = -1;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	struct fwd *f = userp;

	if (ms < 0) {
		loop_timer_disarm(f->curl_timer);
		f->curl_deadline = -1;
	} else {
		loop_timer_arm(f->curl_timer, ms);
		f->curl_deadline = loop_now_ms() + ms;
	}
	return 0;
}

static size_t
resp_cb(char *p, size_t size, size_t n, void *userp)
{
	struct fwd *f = userp;

	/* the start (error text), or a whole _bulk answer (its items) */
	if (f->resp.len < (f->fmt.fmt == FWD_FMT_ES ? RESP_KEEP_BULK :
	    RESP_KEEP))
		buf_add(&f->resp, p, size * n);
	return size * n;
}

/* ---- sending -------------------------------------------------------- */

static void
on_retry_timer(void *arg)
{
	kick(arg);
}

static void
schedule_retry(struct fwd *f, long ms)
{
	f->retries++;
	f->retry_at = loop_now_ms() + ms;
	loop_timer_arm(f->retry_timer, ms);
}

/*
 * ": TEXT" from the start of the answer's body, control bytes made
 * spaces, for the log (an aggregator's 500 or 400 often says why).
 */
static const char *
resp_text(struct fwd *f, char *out, size_t outlen)
{
	size_t n = f->resp.len < 200 ? f->resp.len : 200, o = 2;

	if (n == 0 || outlen < 8)
		return "";
	memcpy(out, ": ", 2);
	for (size_t i = 0; i < n && o < outlen - 4; i++) {
		unsigned char c = (unsigned char)f->resp.data[i];

		out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	while (o > 2 && out[o - 1] == ' ')
		o--;
	if (n < f->resp.len)
		out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
	return o > 2 ? out : "";
}

/* Is a batch being sent in parts (after a 413)? */
static int
in_parts(const struct fwd *f)
{
	return f->part_id == f->seg.id && (f->part_n || f->part_off);
}

static void
parts_reset(struct fwd *f)
{
	f->part_id = 0;
	f->part_off = f->part_n = 0;
}

/* The line at p (up to end) and the next one's start. */
static size_t
line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

/*
 * Set lines of the request just sent aside as a dead letter: those
 * whose items[i] is FWD_ITEM_DEAD, or all when items is NULL. Returns
 * how many.
 */
static size_t
set_aside(struct fwd *f, const enum fwd_item *items)
{
	const char *p = f->sel.data, *end = f->sel.data + f->sel.len;
	struct buf out = BUF_INIT;
	unsigned long long first = 0, last = 0, n = 0;

	for (size_t i = 0; p && p < end; i++) {
		size_t ln = line_len(p, end);

		if (items == NULL || items[i] == FWD_ITEM_DEAD) {
			unsigned long long q = line_seq(p, ln);

			if (buf_add(&out, p, ln) == -1 || buf_addc(&out, '\n') == -1)
				break;
			if (first == 0 || (q && q < first))
				first = q;
			if (q > last)
				last = q;
			n++;
		}
		p += ln + 1;
	}
	if (n)
		spool_dead_add(f->spool, out.data, out.len, first, last, n);
	buf_free(&out);
	f->dead_events += n;
	return n;
}

/*
 * A 200 from _bulk still answers per document: stored (or stored
 * before: 409 to our create), retryable (429, 5xx: the whole request
 * goes again, the stored ones answer 409), or refused (set aside one
 * by one, the rest of the batch is delivered).
 */
static enum fwd_verdict
bulk_answer(struct fwd *f)
{
	static struct log_rl rl_retry, rl_dead, rl_odd;
	enum fwd_item *items = NULL;
	size_t n = f->part_sent, retry = 0, dead = 0;
	char why[256] = "";
	enum fwd_verdict v = FWD_DONE;

	if (f->resp.data && strstr(f->resp.data, "\"errors\":false"))
		return FWD_DONE;
	if (n == 0 || (items = calloc(n, sizeof(*items))) == NULL ||
	    fwd_format_bulk_items(f->resp.data ? f->resp.data : "", f->resp.len,
	    n, items, why, sizeof(why)) == -1) {
		log_warnx_rl(&rl_odd, "_bulk answer does not list the %zu items "
		    "sent; will retry the batch", n);
		free(items);
		return FWD_RETRY;
	}
	for (size_t i = 0; i < n; i++) {
		retry += items[i] == FWD_ITEM_RETRY;
		dead += items[i] == FWD_ITEM_DEAD;
	}
	if (retry) {
		f->retried_items += retry;
		log_warnx_rl(&rl_retry, "_bulk: %zu of %zu items must be "
		    "retried (429/5xx); resending the batch (stored items "
		    "answer 409)", retry, n);
		v = FWD_RETRY;
	} else if (dead) {
		set_aside(f, items);
		f->dead_items += dead;
		log_warnx_rl(&rl_dead, "_bulk: %zu of %zu items refused%s%s; "
		    "moved to the dead-letter directory, the rest delivered",
		    dead, n, *why ? ": " : "", why);
	}
	free(items);
	return v;
}

/* The request (all or part of f->seg) was delivered: go on. */
static void
delivered(struct fwd *f, size_t dead)
{
	f->failures = 0;
	f->holds = 0;
	f->held = 0;
	f->sent_events += f->part_sent > dead ? f->part_sent - dead : 0;
	if (in_parts(f)) {
		f->part_off += f->part_sent;
		if (f->part_off < f->part_total) {
			/* the next part: the segment is read again */
			spool_unpin(f->spool);
			loop_timer_arm(f->retry_timer, 0);	/* not recursively */
			return;
		}
		parts_reset(f);
	}
	f->sent_batches++;
	/*
	 * Only a delivered report retires the losses it told of: a
	 * spooled one can still be evicted by the cap, oldest first.
	 */
	if (f->report_seq && f->seg.last_seq >= f->report_seq) {
		memset(&f->unreported, 0, sizeof(f->unreported));
		f->report_seq = 0;
	}
	spool_remove(f->spool, f->seg.id);
	kick(f);
}

/* A request finished: act on the verdict. */
static void
finished(struct fwd *f, CURLcode res)
{
	static struct log_rl rl_net, rl_http, rl_dead, rl_hold, rl_split, rl_cert;
	enum fwd_verdict v;
	long status = 0;
	curl_off_t retry_after = 0;
	char why[256];
	size_t dead = f->dead_events;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(f->multi, f->easy);
	f->busy = 0;
	v = fwd_classify(res, status);
	if (v == FWD_DONE && f->fmt.fmt == FWD_FMT_ES)
		v = bulk_answer(f);
	switch (v) {
	case FWD_DONE:
		delivered(f, (size_t)(f->dead_events - dead));
		return;
	case FWD_SPLIT:
		if (f->part_sent > 1 || (f->part_sent == 0 && f->seg.events > 1)) {
			size_t n = f->part_sent ? f->part_sent :
			    (size_t)f->seg.events;

			f->part_id = f->seg.id;
			f->part_n = (n + 1) / 2;
			f->split_requests++;
			log_warnx_rl(&rl_split, "aggregator answered HTTP 413 "
			    "(%zu events too large)%s; sending them in parts of "
			    "%zu", n, resp_text(f, why, sizeof(why)), f->part_n);
			spool_unpin(f->spool);
			loop_timer_arm(f->retry_timer, 0);
			return;
		}
		/* one event alone is too large: it alone is set aside */
		log_warnx_rl(&rl_dead, "aggregator refused one event as too "
		    "large (HTTP 413)%s; moved to the dead-letter directory",
		    resp_text(f, why, sizeof(why)));
		f->dead_batches++;
		if (in_parts(f) && f->sel.len) {
			set_aside(f, NULL);
			delivered(f, 1);
			return;
		}
		f->dead_events += f->seg.events;
		parts_reset(f);
		spool_dead(f->spool, f->seg.id);
		kick(f);
		return;
	case FWD_DEAD:
		log_warnx_rl(&rl_dead, "aggregator refused a batch of %llu "
		    "events (HTTP %ld%s); moved to the dead-letter directory",
		    f->seg.events, status, resp_text(f, why, sizeof(why)));
		f->dead_batches++;
		f->dead_events += f->seg.events;
		parts_reset(f);
		spool_dead(f->spool, f->seg.id);
		kick(f);
		return;
	case FWD_HOLD:
		spool_unpin(f->spool);
		f->holds++;
		f->config_errors++;
		f->held = 1;
		log_errx_rl(&rl_hold, "aggregator answered HTTP %ld%s: check "
		    "the output URL and the credentials; %zu batches (%llu "
		    "bytes) are kept in the spool, retried every few minutes",
		    status, resp_text(f, why, sizeof(why)),
		    spool_segments(f->spool), spool_bytes(f->spool));
		schedule_retry(f, fwd_hold_ms(f->holds));
		return;
	case FWD_RETRY:
		break;
	}
	spool_unpin(f->spool);
	f->failures++;
	if (res != CURLE_OK) {
		log_warnx_rl(&rl_net, "sending to aggregator: %s; will retry",
		    f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
		/* a TLS alert does not say that our certificate expired */
		if (f->client_cert)
			check_client_cert(f->client_cert, &rl_cert);
	} else if (status < 200 || status >= 300)	/* else bulk_answer said */
		log_warnx_rl(&rl_http, "aggregator answered HTTP %ld%s; will "
		    "retry", status, resp_text(f, why, sizeof(why)));
	if (status == 429 && curl_easy_getinfo(f->easy, CURLINFO_RETRY_AFTER,
	    &retry_after) == CURLE_OK && retry_after > 0) {
		if (retry_after > RETRY_AFTER_MAX_S)
			retry_after = RETRY_AFTER_MAX_S;
		schedule_retry(f, (long)retry_after * 1000);
	} else {
		schedule_retry(f, fwd_backoff_ms(f->failures));
	}
}

static void
check_done(struct fwd *f)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == f->easy &&
		    f->busy)
			finished(f, m->data.result);
}

/* Start sending the oldest spooled batch, if nothing is in flight. */
static void
kick(struct fwd *f)
{
	int r;

	/* a job out ends in seal_done or body_built, which go on from there */
	if (f->busy || f->job != JOB_NONE || loop_now_ms() < f->retry_at)
		return;
	while ((r = spool_peek(f->spool, &f->raw, &f->seg)) == -1)
		;
	if (r == 0)
		return;
	send_raw(f);
}

/*
 * f->raw (a segment as spooled) -> f->body in the payload format. 0,
 * -1 (out of memory: retry) or -2 (not a valid segment).
 */
static size_t
count_lines(const struct buf *b)
{
	size_t n = 0;

	for (const char *p = b->data, *end = b->data + b->len; p && p < end;) {
		size_t ln = line_len(p, end);

		n += ln > 0;
		p += ln + 1;
	}
	return n;
}

/* Lines [off, off + n) of nd (n 0: to the end) -> out. */
static int
select_lines(const struct buf *nd, size_t off, size_t n, struct buf *out)
{
	const char *p = nd->data, *end = nd->data + nd->len;
	size_t i = 0;

	buf_reset(out);
	for (; p && p < end; p += line_len(p, end) + 1) {
		size_t ln = line_len(p, end);

		if (ln == 0)
			continue;
		if (i >= off && (n == 0 || i < off + n) &&
		    (buf_add(out, p, ln) == -1 || buf_addc(out, '\n') == -1))
			return -1;
		i++;
	}
	return 0;
}

static int
build_body(struct fwd *f)
{
	struct buf *nd = &f->raw;
	int rc;

	buf_reset(&f->sel);
	if (gzip_is_member(&f->raw)) {
		if ((rc = gzip_decompress(f->gz, &f->raw, &f->plain)) != 0)
			return rc;
		nd = &f->plain;
	}
	/* what the request holds stays in sel until its answer */
	f->part_total = count_lines(nd);
	if (in_parts(f)) {
		if (select_lines(nd, f->part_off, f->part_n, &f->sel) == -1)
			return -1;
	} else if (nd == &f->plain) {
		swap_buf(&f->sel, &f->plain);
	} else if (buf_add(&f->sel, nd->data, nd->len) == -1) {
		return -1;
	}
	f->part_sent = count_lines(&f->sel);
	nd = &f->sel;
	if (!fwd_format_is_plain(&f->fmt)) {
		if (fwd_format_body(&f->fmt, nd->data ? nd->data : "", nd->len,
		    &f->fmtbuf) == -1)
			return -1;
		nd = &f->fmtbuf;
	}
	rc = gzip_compress(f->gz, nd, &f->body);
	buf_reset(&f->plain);
	buf_reset(&f->fmtbuf);
	return rc;
}

static int
run_job(struct fwd *f, int job)
{
	return job == JOB_SEAL ? gzip_compress(f->gz, &f->zraw, &f->zgz) :
	    build_body(f);
}

static void *
builder_main(void *arg)
{
	struct fwd *f = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&f->bld.mu);
	for (;;) {
		int rc;

		while (!f->bld.job && !f->bld.stop)
			pthread_cond_wait(&f->bld.cv, &f->bld.mu);
		if (!f->bld.job)
			break;
		pthread_mutex_unlock(&f->bld.mu);
		rc = run_job(f, f->bld.job);
		pthread_mutex_lock(&f->bld.mu);
		f->bld.job = 0;
		f->bld.done = 1;
		f->bld.rc = rc;
		pthread_cond_broadcast(&f->bld.cv);
		if (write(f->bld.efd, &one, sizeof(one)) == -1) {
			/* EAGAIN: the counter is set anyway */
		}
	}
	pthread_mutex_unlock(&f->bld.mu);
	return NULL;
}

static void seal_done(struct fwd *f, int rc);
static void body_built(struct fwd *f, int rc);

static void
job_done(struct fwd *f, int job, int rc)
{
	if (job == JOB_SEAL)
		seal_done(f, rc);
	else
		body_built(f, rc);
}

/* The builder's answer: in the loop, or waited for. */
static void
collect_job(struct fwd *f, int wait)
{
	int rc, job = f->job;

	if (job == JOB_NONE)
		return;
	pthread_mutex_lock(&f->bld.mu);
	while (wait && !f->bld.done)
		pthread_cond_wait(&f->bld.cv, &f->bld.mu);
	if (!f->bld.done) {
		pthread_mutex_unlock(&f->bld.mu);
		return;
	}
	f->bld.done = 0;
	rc = f->bld.rc;
	pthread_mutex_unlock(&f->bld.mu);
	f->job = JOB_NONE;
	job_done(f, job, rc);
}

static void
on_built(int fd, short revents, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1) {
		/* EAGAIN: a spurious wake-up; collect_job checks */
	}
	collect_job(arg, 0);
}

/* Give back the builder's fd and locks (its thread is not running). */
static void
builder_free(struct fwd *f)
{
	loop_fd_del(f->loop, f->bld.efd);
	close(f->bld.efd);
	f->bld.efd = -1;
	pthread_cond_destroy(&f->bld.cv);
	pthread_mutex_destroy(&f->bld.mu);
}

/* Start the builder on first use: after privileges were dropped. */
static void
builder_start(struct fwd *f)
{
	f->bld.tried = 1;
	if ((f->bld.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("eventfd; batches are compressed inline");
		return;
	}
	pthread_mutex_init(&f->bld.mu, NULL);
	pthread_cond_init(&f->bld.cv, NULL);
	if (loop_fd_add(f->loop, f->bld.efd, POLLIN, on_built, f) == -1 ||
	    thread_start(&f->bld.thread, builder_main, f, "request builder")
	    == -1) {
		builder_free(f);
		return;
	}
	f->bld.running = 1;
}

static void
builder_stop(struct fwd *f)
{
	if (!f->bld.running)
		return;
	collect_job(f, 1);
	pthread_mutex_lock(&f->bld.mu);
	f->bld.stop = 1;
	pthread_cond_signal(&f->bld.cv);
	pthread_mutex_unlock(&f->bld.mu);
	pthread_join(f->bld.thread, NULL);
	builder_free(f);
	f->bld.running = 0;
}

/* A job on the builder, or inline without one (and at close). */
static void
start_job(struct fwd *f, int job)
{
	if (f->bld.use && !f->bld.tried && !f->closing && thread_allowed())
		builder_start(f);
	if (!f->bld.running || f->closing) {
		job_done(f, job, run_job(f, job));
		return;
	}
	pthread_mutex_lock(&f->bld.mu);
	f->bld.job = job;
	pthread_cond_signal(&f->bld.cv);
	pthread_mutex_unlock(&f->bld.mu);
	f->job = job;
}

/* Send f->raw, the pinned segment f->seg. */
static void
send_raw(struct fwd *f)
{
	f->busy = 1;
	if (f->part_id && f->part_id != f->seg.id)
		parts_reset(f);	/* that batch was dropped for space */
	if (fwd_format_is_plain(&f->fmt) && gzip_is_member(&f->raw) && !in_parts(f)) {
		swap_buf(&f->raw, &f->body);	/* the segment is the body */
		buf_reset(&f->sel);
		f->part_sent = (size_t)f->seg.events;
		body_built(f, 0);
		return;
	}
	start_job(f, JOB_BODY);
}

static void
body_built(struct fwd *f, int rc)
{
	static struct log_rl rl, rl_bad;

	if (rc == -2) {
		log_warnx_rl(&rl_bad, "spool segment %llu is not a valid "
		    "batch; moved to the dead-letter directory", f->seg.id);
		f->busy = 0;
		f->dead_batches++;
		f->dead_events += f->seg.events;
		spool_dead(f->spool, f->seg.id);
		loop_timer_arm(f->retry_timer, 0);	/* not recursively */
		return;
	}
	if (rc == -1) {
		log_warnx_rl(&rl, "cannot build a request body; will retry");
		f->busy = 0;
		spool_unpin(f->spool);
		schedule_retry(f, fwd_backoff_ms(++f->failures));
		return;
	}
	f->errbuf[0] = '\0';
	buf_reset(&f->resp);
	curl_easy_setopt(f->easy, CURLOPT_POSTFIELDS, f->body.data);
	curl_easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)f->body.len);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, f->timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, f->timeout_ms);
	f->http_bytes += f->body.len;
	if (curl_multi_add_handle(f->multi, f->easy) != CURLM_OK) {
		log_warnx_rl(&rl, "curl_multi_add_handle failed; will retry");
		f->busy = 0;
		spool_unpin(f->spool);
		schedule_retry(f, fwd_backoff_ms(++f->failures));
		return;
	}
}

/* ---- batching ------------------------------------------------------- */

/*
 * What the batch being built gained goes to the spool's open segment
 * with one plain write per loop turn: a crash of the process then
 * loses none of it (spool.h).
 */
static void
keep_batch(struct fwd *f)
{
	if (f->batch_kept == (size_t)-1 || f->batch.len <= f->batch_kept)
		return;
	if (spool_seg_append(f->spool, f->batch.data + f->batch_kept,
	    f->batch.len - f->batch_kept) == -1)
		f->batch_kept = (size_t)-1;	/* no half lines: stop here */
	else
		f->batch_kept = f->batch.len;
}

/* Seal the batch being built: compressed (off the loop if it can be), then spooled. */
static void
seal(struct fwd *f)
{
	if (f->batch_n == 0)
		return;
	loop_timer_disarm(f->age_timer);
	/* one job at a time, and batches reach the spool in order */
	while (f->job != JOB_NONE)
		collect_job(f, 1);
	keep_batch(f);
	f->z_open = spool_seg_seal(f->spool);
	f->batch_kept = 0;
	swap_buf(&f->zraw, &f->batch);
	buf_reset(&f->batch);
	f->z_n = f->batch_n;
	f->z_first = f->batch_first;
	f->z_last = f->batch_last;
	f->z_report = f->report_in_batch;
	f->report_in_batch = 0;
	f->batch_n = f->batch_first = f->batch_last = 0;
	start_job(f, JOB_SEAL);
}

/* The sealed batch is compressed (rc 0) or not: spool it, then send. */
static void
seal_done(struct fwd *f, int rc)
{
	static struct log_rl rl;
	struct buf *seg = rc == 0 ? &f->zgz : &f->zraw;
	int kept;

	if (rc != 0)	/* out of memory: spooled as plain text, still sent */
		log_warnx_rl(&rl, "cannot compress a batch of %llu events; "
		    "spooling it uncompressed", f->z_n);
	/* a batch that cannot be kept is in f->loss, reported by flush */
	kept = spool_append(f->spool, seg->data, seg->len, f->z_first,
	    f->z_last, f->z_n, &f->loss) == 0;
	/* spooled (or reported lost): its crash copy has done its job */
	spool_seg_done(f->spool, f->z_open);
	f->z_open = 0;
	if (kept && f->z_report)
		f->report_seq = f->z_last;
	/*
	 * Nothing in flight and this batch is all the spool holds: send it
	 * from memory (it is on disk already) instead of reading it back.
	 */
	if (kept && !f->busy && loop_now_ms() >= f->retry_at &&
	    spool_segments(f->spool) == 1 &&
	    spool_pin_oldest(f->spool, &f->seg) == 1) {
		swap_buf(&f->raw, seg);
		buf_reset(&f->zraw);
		buf_reset(&f->zgz);
		send_raw(f);
		return;
	}
	buf_reset(&f->zraw);
	buf_reset(&f->zgz);
	kick(f);
}

static void
on_age_timer(void *arg)
{
	seal(arg);
}

static int
fwd_write(void *ctx, const char *line, size_t len)
{
	struct fwd *f = ctx;
	unsigned long long seq = line_seq(line, len);

	if (buf_add(&f->batch, line, len) == -1 ||
	    buf_addc(&f->batch, '\n') == -1) {
		log_warn("batch");
		return -1;
	}
	if (f->batch_n++ == 0) {
		f->batch_first = seq;
		loop_timer_arm(f->age_timer, f->batch_age_ms);
	}
	f->batch_last = seq;
	if (f->batch_n >= (unsigned long long)f->batch_events ||
	    f->batch.len >= f->batch_bytes)
		seal(f);
	return 0;
}

/* Before sleeping: report drops (through the chain, so they are seqs too). */
static void
fwd_flush(void *ctx)
{
	struct fwd *f = ctx;
	struct spool_loss l = f->loss, *u = &f->unreported;
	cJSON *ev;
	char seq[24];

	keep_batch(f);
	if (l.events == 0 && l.segments == 0)
		return;
	memset(&f->loss, 0, sizeof(f->loss));
	f->lost_events += l.events;
	log_warnx("spool: dropped %llu events (%llu batches, %llu bytes, "
	    "seq %llu..%llu) to stay within its limits", l.events, l.segments,
	    l.bytes, l.first_seq, l.last_seq);
	/*
	 * A report that is dropped with its batch (disk full, or evicted
	 * by the cap later) would hide the losses it told of: each report
	 * repeats every loss since the last report that was delivered.
	 */
	u->events += l.events;
	u->bytes += l.bytes;
	u->segments += l.segments;
	if (l.first_seq && (u->first_seq == 0 || l.first_seq < u->first_seq))
		u->first_seq = l.first_seq;
	if (l.last_seq > u->last_seq)
		u->last_seq = l.last_seq;
	l = *u;
	if (f->emit == NULL || (ev = event_new_internal("podtrail_loss",
	    f->node)) == NULL)
		return;
	/* same shape as the source's loss events: cause and count first */
	cJSON_AddStringToObject(ev, "cause", "spool_full");
	cJSON_AddNumberToObject(ev, "count", (double)l.events);
	cJSON_AddNumberToObject(ev, "lost_events", (double)l.events);
	cJSON_AddNumberToObject(ev, "lost_batches", (double)l.segments);
	cJSON_AddNumberToObject(ev, "lost_bytes", (double)l.bytes);
	snprintf(seq, sizeof(seq), "%llu", l.first_seq);
	cJSON_AddRawToObject(ev, "lost_first_seq", seq);
	snprintf(seq, sizeof(seq), "%llu", l.last_seq);
	cJSON_AddRawToObject(ev, "lost_last_seq", seq);
	/* the report joins the batch being built; seal() learns its fate */
	f->report_in_batch = 1;
	f->emit(ev, f->emit_arg);
}

static void
fwd_set_emit(void *ctx, output_emit_cb cb, void *arg)
{
	struct fwd *f = ctx;

	f->emit = cb;
	f->emit_arg = arg;
}

/* ---- set-up --------------------------------------------------------- */

static int
fwd_match(const char *spec)
{
	return strncmp(spec, "https://", 8) == 0 ||
	    strncmp(spec, "http://", 7) == 0;
}

static int
is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0;
}

int
fwd_check_url(const char *url, int allow_http, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "'%s' is not a valid URL", url);
		goto cleanup;
	}
	if (strcmp(scheme, "http") == 0) {
		if (!allow_http || !is_loopback(host)) {
			snprintf(err, errlen, "plain http:// is refused (events "
			    "would travel unencrypted); allow_http permits it "
			    "only to a loopback address");
			goto cleanup;
		}
	} else if (strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "scheme %s is not https", scheme);
		goto cleanup;
	}
	rc = 0;
cleanup:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* https, or http to loopback when allowed. 0 or -1 (logged). */
static int
check_url(const char *url, int allow_http)
{
	char err[512];

	if (fwd_check_url(url, allow_http, err, sizeof(err)) == -1) {
		log_warnx("output: %s", err);
		return -1;
	}
	return 0;
}

/* A private key must not be readable by group or others. */
static int
check_private(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_warnx("%s: readable by group or others; chmod 600 it", path);
		return -1;
	}
	return 0;
}

/* Append "Name: value" to the request headers. 0 or -1. */
static int
add_header(struct fwd *f, const char *h)
{
	struct curl_slist *l = curl_slist_append(f->headers, h);

	if (l == NULL)
		return -1;
	f->headers = l;
	return 0;
}

/*
 * header = Name: value: a token name, a colon, a value, no line
 * breaks; not one podtrail sets itself (two would be sent, or, with
 * curl, "Name:" alone would remove ours), nor a second Authorization.
 */
static int
check_header(const char *h, int have_auth)
{
	static const char *const ours[] = { "Content-Type", "Content-Encoding",
	    "Content-Length", "Transfer-Encoding", "Host" };
	size_t n = strcspn(h, ":");
	const char *v = h + n + (h[n] == ':');

	if (n == 0 || h[n] != ':' || strpbrk(h, "\r\n") ||
	    strspn(h, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n || v[strspn(v, " \t")] == '\0') {
		log_warnx("header: '%s' is not 'Name: value'", h);
		return -1;
	}
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strlen(ours[i]) == n && strncasecmp(h, ours[i], n) == 0) {
			log_warnx("header: podtrail sets %s itself%s", ours[i],
			    i == 0 ? " (see content_type)" : "");
			return -1;
		}
	if (have_auth && n == 13 && strncasecmp(h, "Authorization", n) == 0) {
		log_warnx("header: Authorization is set by token_file, "
		    "basic_auth_file or api_key_file already");
		return -1;
	}
	return 0;
}

/*
 * Authorization from token_file (Bearer, or Splunk for HEC),
 * basic_auth_file (USER:PASSWORD) or api_key_file (Elastic ApiKey):
 * at most one. Secrets live only in this header, never in a log.
 */
static int
add_auth(struct fwd *f, const struct conf *c)
{
	const char *file = NULL, *scheme = NULL;
	unsigned char *sec = NULL;
	size_t len = 0;
	struct buf h = BUF_INIT;
	int rc = -1, n = !!*c->token_file + !!*c->basic_auth_file +
	    !!*c->api_key_file;

	if (n > 1) {
		log_warnx("token_file, basic_auth_file and api_key_file: give "
		    "one of them");
		return -1;
	}
	if (*c->token_file) {
		file = c->token_file;
		scheme = f->fmt.fmt == FWD_FMT_SPLUNK ? "Splunk" : "Bearer";
	} else if (*c->api_key_file) {
		file = c->api_key_file;
		scheme = "ApiKey";
	} else if (*c->basic_auth_file) {
		file = c->basic_auth_file;
		scheme = "Basic";
	}
	if (file == NULL)
		return 0;
	if ((sec = secret_read(file, &len)) == NULL)
		goto cleanup;
	if (len == 0 || memchr(sec, '\n', len) || memchr(sec, '\r', len)) {
		log_warnx("%s: must hold one line", file);
		goto cleanup;
	}
	if (strcmp(scheme, "Basic") == 0) {
		char *b64;
		size_t bl = 4 * ((len + 2) / 3) + 1;

		if (!memchr(sec, ':', len)) {
			log_warnx("%s: must hold USER:PASSWORD", file);
			goto cleanup;
		}
		if ((b64 = malloc(bl)) == NULL)
			goto cleanup;
		EVP_EncodeBlock((unsigned char *)b64, sec, (int)len);
		rc = buf_printf(&h, "Authorization: Basic %s", b64);
		memset(b64, 0, bl);
		free(b64);
		if (rc == -1)
			goto cleanup;
		rc = -1;
	} else if (buf_printf(&h, "Authorization: %s %s", scheme,
	    (char *)sec) == -1) {
		goto cleanup;
	}
	rc = add_header(f, h.data);
cleanup:
	if (sec) {
		memset(sec, 0, len);
		free(sec);
	}
	if (h.data)
		memset(h.data, 0, h.len);
	buf_free(&h);
	return rc;
}

/*
 * A client certificate that has expired (or is not yet valid) makes
 * every handshake fail with an alert that names neither: look at it.
 * 0 valid, 1 expired, 2 not valid yet, -1 unreadable.
 */
static int
cert_state(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
	int st = -1;

	if (x != NULL)
		st = X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ? 1 :
		    X509_cmp_current_time(X509_get0_notBefore(x)) > 0 ? 2 : 0;
	X509_free(x);
	if (fp)
		fclose(fp);
	return st;
}

/* Say what is wrong with client_cert, if anything. 1 if it is. */
static int
check_client_cert(const char *path, struct log_rl *rl)
{
	static struct log_rl once;

	switch (cert_state(path)) {
	case 1:
		log_errx_rl(rl ? rl : &once, "client_cert %s has expired: the "
		    "aggregator refuses the connection; events stay spooled "
		    "until it is renewed", path);
		return 1;
	case 2:
		log_errx_rl(rl ? rl : &once, "client_cert %s is not valid yet "
		    "(check the clock); events stay spooled", path);
		return 1;
	case -1:
		log_warnx_rl(rl ? rl : &once, "client_cert %s: cannot read a PEM "
		    "certificate", path);
		return 1;
	}
	return 0;
}

static int
setup_easy(struct fwd *f, const struct conf *c)
{
	struct buf h = BUF_INIT;
	int rc = -1;

	if ((f->easy = curl_easy_init()) == NULL) {
		log_warnx("curl_easy_init failed");
		goto cleanup;
	}
	curl_easy_setopt(f->easy, CURLOPT_URL, f->url);
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, resp_cb);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "podtrail/" PACKAGE_VERSION);
	if (*c->ca_file)
		curl_easy_setopt(f->easy, CURLOPT_CAINFO, c->ca_file);
	if (*c->client_cert || *c->client_key) {
		if (!*c->client_cert || !*c->client_key) {
			log_warnx("mTLS needs both client_cert and client_key");
			goto cleanup;
		}
		if (check_private(c->client_key) == -1)
			goto cleanup;
		if ((f->client_cert = strdup(c->client_cert)) == NULL)
			goto cleanup;
		check_client_cert(f->client_cert, NULL);
		curl_easy_setopt(f->easy, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(f->easy, CURLOPT_SSLKEY, c->client_key);
	}
	if (*c->content_type && (strpbrk(c->content_type, "\r\n") ||
	    !strchr(c->content_type, '/'))) {
		log_warnx("content_type: '%s' is not a media type",
		    c->content_type);
		goto cleanup;
	}
	if (buf_printf(&h, "Content-Type: %s", *c->content_type ?
	    c->content_type : fwd_format_content_type(&f->fmt)) == -1 ||
	    add_header(f, h.data) == -1 ||
	    add_header(f, "Content-Encoding: gzip") == -1)
		goto cleanup;
	/*
	 * Splunk HEC with indexer acknowledgment refuses a request without
	 * a channel (400, "Data channel is missing"); without it, HEC
	 * ignores the header. One random channel per run.
	 */
	if (f->fmt.fmt == FWD_FMT_SPLUNK) {
		unsigned char u[16];

		if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
			log_warn("getrandom");
			goto cleanup;
		}
		u[6] = (u[6] & 0x0f) | 0x40;	/* a version 4 UUID */
		u[8] = (u[8] & 0x3f) | 0x80;
		buf_reset(&h);
		if (buf_adds(&h, "X-Splunk-Request-Channel: ") == -1)
			goto cleanup;
		for (int i = 0; i < 16; i++)
			if (buf_printf(&h, "%s%02x", i == 4 || i == 6 || i == 8 ||
			    i == 10 ? "-" : "", u[i]) == -1)
				goto cleanup;
		if (add_header(f, h.data) == -1)
			goto cleanup;
	}
	for (int i = 0; i < c->header.n; i++)
		if (check_header(c->header.v[i], *c->token_file ||
		    *c->basic_auth_file || *c->api_key_file) == -1 ||
		    add_header(f, c->header.v[i]) == -1)
			goto cleanup;
	if (add_auth(f, c) == -1)
		goto cleanup;
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	rc = 0;
cleanup:
	buf_free(&h);
	return rc;
}

static int fwd_close(void *ctx);

static void *
fwd_open(const char *spec, struct loop *loop, const struct conf *c)
{
	static int curl_ready;
	struct fwd *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		log_warn("output");
		return NULL;
	}
	for (int i = 0; i < MAX_SOCKS; i++)
		f->socks[i].fd = -1;
	f->curl_deadline = -1;
	f->loop = loop;
	if ((f->gz = gzip_new()) == NULL) {
		log_warn("output");
		goto err;
	}
	f->bld.use = conf_helper_threads(c) == 1;
	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	f->timeout_ms = (long)c->timeout_ms;
	if (c->node && *c->node)
		snprintf(f->node, sizeof(f->node), "%s", c->node);
	else if (gethostname(f->node, sizeof(f->node) - 1) == -1)
		snprintf(f->node, sizeof(f->node), "unknown");
	{
		char err[256];

		if (fwd_format_init(&f->fmt, c->format, c->schema, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			goto err;
		}
	}
	if (f->fmt.fmt == FWD_FMT_ES && strpbrk(c->es_index, "\"\\ ,*?<>|/#")) {
		log_warnx("es_index: '%s' is not a valid index name", c->es_index);
		goto err;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("curl_global_init failed");
			goto err;
		}
		curl_ready = 1;
	}
	if (check_url(spec, c->allow_http) == -1)
		goto err;
	if ((f->url = strdup(spec)) == NULL ||
	    (f->es_index = strdup(c->es_index)) == NULL) {
		log_warn("output");
		goto err;
	}
	f->fmt.es_index = f->es_index;
	f->fmt.node = f->node;
	if (setup_easy(f, c) == -1)
		goto err;
	if ((f->multi = curl_multi_init()) == NULL) {
		log_warnx("curl_multi_init failed");
		goto err;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	if ((f->curl_timer = loop_timer_new(loop, on_curl_timer, f)) == NULL ||
	    (f->age_timer = loop_timer_new(loop, on_age_timer, f)) == NULL ||
	    (f->retry_timer = loop_timer_new(loop, on_retry_timer, f)) == NULL) {
		log_warn("timer");
		goto err;
	}
	if ((f->spool = spool_open(c->state_dir, c->spool_max_bytes,
	    c->spool_min_free)) == NULL)
		goto err;
	/* a batch a crash cut short is sent before anything new */
	if (spool_seg_recover(f->spool, line_seq) == -1)
		goto err;
	/* what an earlier run left behind goes first */
	kick(f);
	return f;
err:
	fwd_close(f);
	return NULL;
}

/*
 * Drive curl without the loop (it has stopped) until the spool is
 * empty, a send fails, or the deadline passes.
 */
static void
drain(struct fwd *f, long long deadline)
{
	while (f->busy && loop_now_ms() < deadline) {
		struct pollfd p[MAX_SOCKS];
		nfds_t n = 0;
		long long now = loop_now_ms(), wait = deadline - now;
		int running, r;

		if (f->curl_deadline >= 0 && f->curl_deadline - now < wait)
			wait = f->curl_deadline - now;
		if (wait < 0)
			wait = 0;
		for (int i = 0; i < MAX_SOCKS; i++)
			if (f->socks[i].fd != -1)
				p[n++] = (struct pollfd){ f->socks[i].fd,
				    f->socks[i].events, 0 };
		r = poll(p, n, (int)wait);
		if (r == -1 && errno != EINTR)
			break;
		if (r > 0) {
			for (nfds_t i = 0; i < n; i++)
				if (p[i].revents)
					on_sock_ready(p[i].fd, p[i].revents, f);
		} else if (f->curl_deadline >= 0 &&
		    loop_now_ms() >= f->curl_deadline) {
			on_curl_timer(f);
		} else if (r == 0 && n == 0) {
			curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT,
			    0, &running);
			check_done(f);
		}
		/* stop at the first failure: the rest stays spooled */
		if (!f->busy && f->failures)
			break;
	}
}

static int
fwd_close(void *ctx)
{
	struct fwd *f = ctx;
	int rc = 0;

	if (f == NULL)
		return 0;
	/* the body being built goes out with the rest, built inline */
	f->closing = 1;
	builder_stop(f);
	if (f->spool) {
		seal(f);
		/* one more try now, bounded: a dead aggregator fails fast */
		f->retry_at = 0;
		kick(f);
		drain(f, loop_now_ms() + CLOSE_DRAIN_MS);
		if (spool_segments(f->spool))
			log_info("%zu batches (%llu bytes) stay spooled for the "
			    "next start", spool_segments(f->spool),
			    spool_bytes(f->spool));
		if (f->loss.events || f->lost_events)
			rc = -1;
	}
	if (f->multi && f->easy && f->busy)
		curl_multi_remove_handle(f->multi, f->easy);
	if (f->multi)
		curl_multi_cleanup(f->multi);
	if (f->easy)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	loop_timer_free(f->curl_timer);
	loop_timer_free(f->age_timer);
	loop_timer_free(f->retry_timer);
	spool_close(f->spool);
	buf_free(&f->batch);
	buf_free(&f->zraw);
	buf_free(&f->zgz);
	buf_free(&f->plain);
	buf_free(&f->fmtbuf);
	buf_free(&f->sel);
	buf_free(&f->raw);
	buf_free(&f->body);
	buf_free(&f->resp);
	gzip_free(f->gz);
	free(f->url);
	free(f->client_cert);
	free(f->es_index);
	free(f);
	return rc;
}

static void
fwd_stats(void *ctx, cJSON *obj)
{
	struct fwd *f = ctx;

	cJSON_AddNumberToObject(obj, "fwd_sent_batches", (double)f->sent_batches);
	cJSON_AddNumberToObject(obj, "fwd_sent_events", (double)f->sent_events);
	cJSON_AddNumberToObject(obj, "fwd_retries", (double)f->retries);
	cJSON_AddNumberToObject(obj, "fwd_dead_batches", (double)f->dead_batches);
	cJSON_AddNumberToObject(obj, "fwd_dead_events", (double)f->dead_events);
	cJSON_AddNumberToObject(obj, "fwd_lost_events", (double)f->lost_events);
	cJSON_AddNumberToObject(obj, "fwd_http_bytes", (double)f->http_bytes);
	cJSON_AddNumberToObject(obj, "fwd_config_errors",
	    (double)f->config_errors);
	cJSON_AddNumberToObject(obj, "fwd_held", (double)f->held);
	cJSON_AddNumberToObject(obj, "fwd_split_requests",
	    (double)f->split_requests);
	cJSON_AddNumberToObject(obj, "fwd_dead_items", (double)f->dead_items);
	cJSON_AddNumberToObject(obj, "fwd_retried_items",
	    (double)f->retried_items);
	cJSON_AddNumberToObject(obj, "spool_batches",
	    (double)spool_segments(f->spool));
	cJSON_AddNumberToObject(obj, "spool_bytes", (double)spool_bytes(f->spool));
}

static void
fwd_reconfigure(void *ctx, const struct conf *c)
{
	struct fwd *f = ctx;

	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	/* the next request uses it; one in flight keeps its own */
	f->timeout_ms = (long)c->timeout_ms;
}

int
fwd_requeue_dead(const char *state_dir)
{
	struct spool *s = spool_open(state_dir, LLONG_MAX, 0);
	unsigned long long segs = 0, events = 0;
	int rc;

	if (s == NULL)
		return -1;
	rc = spool_requeue_dead(s, &segs, &events);
	printf("podtrail: %llu dead-letter batches (%llu events) moved back "
	    "to %s/spool; they are sent at the next start\n", segs, events,
	    state_dir);
	spool_close(s);
	return rc;
}

const struct output_ops fwd_https_ops = {
	.name = "https",
	.match = fwd_match,
	.open = fwd_open,
	.write = fwd_write,
	.flush = fwd_flush,
	.close = fwd_close,
	.stats = fwd_stats,
	.set_emit = fwd_set_emit,
	.reconfigure = fwd_reconfigure,
};
