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
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#include <zlib.h>

#include "buf.h"
#include "chain.h"
#include "conf.h"
#include "event.h"
#include "fwd.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "spool.h"
#include "thread.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 600
/* how long close() keeps sending before leaving the rest spooled */
#define CLOSE_DRAIN_MS 5000
#define MAX_SOCKS 8

enum fwd_format { FMT_NDJSON, FMT_ES, FMT_SPLUNK };
/* what the builder does: compress a sealed batch, or make a body */
enum { JOB_NONE, JOB_SEAL, JOB_BODY };
/* a segment's gzip'd text may not claim more (batch_bytes <= 1 GiB) */
#define PLAIN_MAX ((size_t)1 << 31)

struct fwd {
	struct loop *loop;
	char *url;
	enum fwd_format fmt;
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
	/* the sealed batch being compressed (zraw -> zgz), then spooled */
	struct buf zraw, zgz;
	unsigned long long z_n, z_first, z_last;
	int z_report;
	/* the request in flight (busy from its body's build to its answer) */
	int busy;
	struct spool_seg seg;
	struct buf raw, body, resp, plain, fmtbuf;
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
#ifdef HAVE_LIBDEFLATE
	struct libdeflate_compressor *gz;
	struct libdeflate_decompressor *gunz;
#else
	z_stream z, zi;
	int z_ready, zi_ready;
#endif
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
	    dead_events, lost_events, http_bytes;
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
	if (status >= 400)
		return FWD_DEAD;
	/* 1xx/3xx: we follow no redirects; the operator must fix the URL */
	return FWD_RETRY;
}

long
fwd_backoff_ms(unsigned failures)
{
	long d = BACKOFF_MIN_MS;
	unsigned r = 0;

	for (unsigned i = 1; i < failures && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)rand();
	/* jitter keeps a fleet of nodes from retrying in step */
	return d / 2 + (long)(r % (unsigned)(d / 2 + 1));
}

/* ---- body formats --------------------------------------------------- */

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

/* Event time as epoch seconds, for Splunk HEC; 0 if absent. */
static double
line_time(const char *line)
{
	const char *t = strstr(line, "\"time\":\"");
	struct tm tm = { 0 };
	int ms = 0;

	if (t == NULL || sscanf(t + 8, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

/* raw (NDJSON lines) -> the payload format, into out. 0 or -1. */
static int
format_body(struct fwd *f, const struct buf *raw, struct buf *out)
{
	const char *p = raw->data, *end = raw->data + raw->len;

	buf_reset(out);
	if (f->fmt == FMT_NDJSON)
		return buf_add(out, raw->data, raw->len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, n);
		int rc;

		if (line == NULL)
			return -1;
		if (f->fmt == FMT_ES)
			rc = buf_printf(out, "{\"index\":{\"_index\":\"%s\"}}\n"
			    "%s\n", f->es_index, line);
		else
			rc = buf_printf(out, "{\"time\":%.3f,\"host\":\"%s\","
			    "\"source\":\"podtrail\",\"sourcetype\":\"podtrail\","
			    "\"event\":%s}\n", line_time(line), f->node, line);
		free(line);
		if (rc == -1)
			return -1;
		p += n + 1;
	}
	return 0;
}

/* A gzip member (what this version spools), or plain NDJSON? */
static int
is_gzip(const struct buf *b)
{
	return b->len >= 18 && (unsigned char)b->data[0] == 0x1f &&
	    (unsigned char)b->data[1] == 0x8b;
}

/* The uncompressed size a gzip member's trailer claims (mod 2^32). */
static size_t
gzip_isize(const struct buf *b)
{
	const unsigned char *t = (const unsigned char *)b->data + b->len - 4;

	return (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
	    (size_t)t[3] << 24;
}

#ifdef HAVE_LIBDEFLATE
static int
gzip_buf(struct fwd *f, const struct buf *in, struct buf *out)
{
	size_t n;

	buf_reset(out);
	/*
	 * Level 1, whole batch at once: deflate was ~11% of the live path
	 * with zlib (perf); libdeflate takes about half that.
	 */
	if (f->gz == NULL && (f->gz = libdeflate_alloc_compressor(1)) == NULL)
		return -1;
	if (buf_reserve(out, libdeflate_gzip_compress_bound(f->gz,
	    in->len)) == -1)
		return -1;
	if ((n = libdeflate_gzip_compress(f->gz, in->data, in->len,
	    out->data, out->cap - 1)) == 0)
		return -1;
	out->len = n;
	return 0;
}

/* One gzip member -> out. 0, -1 (no memory) or -2 (not valid gzip). */
static int
gunzip_buf(struct fwd *f, const struct buf *in, struct buf *out)
{
	size_t n = gzip_isize(in), got;

	buf_reset(out);
	if (n > PLAIN_MAX)
		return -2;
	if (f->gunz == NULL &&
	    (f->gunz = libdeflate_alloc_decompressor()) == NULL)
		return -1;
	if (buf_reserve(out, n + 1) == -1)
		return -1;
	if (libdeflate_gzip_decompress(f->gunz, in->data, in->len, out->data,
	    n, &got) != LIBDEFLATE_SUCCESS || got != n)
		return -2;
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

static void
gzip_free(struct fwd *f)
{
	libdeflate_free_compressor(f->gz);
	libdeflate_free_decompressor(f->gunz);
	f->gz = NULL;
	f->gunz = NULL;
}
#else
static int
gzip_buf(struct fwd *f, const struct buf *in, struct buf *out)
{
	z_stream *z = &f->z;
	int rc;

	buf_reset(out);
	/*
	 * Level 1: at level 6 deflate was ~15% of podtrail's CPU under
	 * load (perf); repetitive JSON still shrinks several-fold.
	 */
	if (!f->z_ready) {
		memset(z, 0, sizeof(*z));
		if (deflateInit2(z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		f->z_ready = 1;
	} else if (deflateReset(z) != Z_OK) {
		return -1;
	}
	if (buf_reserve(out, deflateBound(z, in->len)) == -1)
		return -1;
	z->next_in = (Bytef *)in->data;
	z->avail_in = (uInt)in->len;
	z->next_out = (Bytef *)out->data;
	z->avail_out = (uInt)(out->cap - 1);
	rc = deflate(z, Z_FINISH);
	out->len = z->total_out;
	return rc == Z_STREAM_END ? 0 : -1;
}

/* One gzip member -> out. 0, -1 (no memory) or -2 (not valid gzip). */
static int
gunzip_buf(struct fwd *f, const struct buf *in, struct buf *out)
{
	z_stream *z = &f->zi;
	size_t n = gzip_isize(in);
	int rc;

	buf_reset(out);
	if (n > PLAIN_MAX)
		return -2;
	if (!f->zi_ready) {
		memset(z, 0, sizeof(*z));
		if (inflateInit2(z, 15 + 16) != Z_OK)
			return -1;
		f->zi_ready = 1;
	} else if (inflateReset(z) != Z_OK) {
		return -1;
	}
	if (buf_reserve(out, n + 1) == -1)
		return -1;
	z->next_in = (Bytef *)in->data;
	z->avail_in = (uInt)in->len;
	z->next_out = (Bytef *)out->data;
	z->avail_out = (uInt)n + 1;
	rc = inflate(z, Z_FINISH);
	if (rc == Z_MEM_ERROR)
		return -1;
	if (rc != Z_STREAM_END || z->total_out != n)
		return -2;
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

static void
gzip_free(struct fwd *f)
{
	if (f->z_ready)
		deflateEnd(&f->z);
	if (f->zi_ready)
		inflateEnd(&f->zi);
	f->z_ready = f->zi_ready = 0;
}
#endif

/* ---- curl <-> loop -------------------------------------------------- */

static void check_done(struct fwd *f);
static void kick(struct fwd *f);
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

	/* only the start matters (error text, ES "errors") */
	if (f->resp.len < 4096)
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

/* A request finished: act on the verdict. */
static void
finished(struct fwd *f, CURLcode res)
{
	static struct log_rl rl_net, rl_http, rl_dead;
	enum fwd_verdict v;
	long status = 0;
	curl_off_t retry_after = 0;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(f->multi, f->easy);
	f->busy = 0;
	v = fwd_classify(res, status);
	/* Elasticsearch reports per-document failures inside a 200 */
	if (v == FWD_DONE && f->fmt == FMT_ES && f->resp.data &&
	    strstr(f->resp.data, "\"errors\":true"))
		v = FWD_DEAD;
	switch (v) {
	case FWD_DONE:
		f->failures = 0;
		f->sent_batches++;
		f->sent_events += f->seg.events;
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
		return;
	case FWD_DEAD:
		log_warnx_rl(&rl_dead, "aggregator refused a batch of %llu "
		    "events (HTTP %ld); moved to the dead-letter directory",
		    f->seg.events, status);
		f->dead_batches++;
		f->dead_events += f->seg.events;
		spool_dead(f->spool, f->seg.id);
		kick(f);
		return;
	case FWD_RETRY:
		break;
	}
	spool_unpin(f->spool);
	f->failures++;
	if (res != CURLE_OK)
		log_warnx_rl(&rl_net, "sending to aggregator: %s; will retry",
		    f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
	else
		log_warnx_rl(&rl_http, "aggregator answered HTTP %ld; will "
		    "retry", status);
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
static int
build_body(struct fwd *f)
{
	const struct buf *nd = &f->raw;
	int rc;

	if (is_gzip(&f->raw)) {
		if ((rc = gunzip_buf(f, &f->raw, &f->plain)) != 0)
			return rc;
		nd = &f->plain;
	}
	if (f->fmt != FMT_NDJSON) {
		if (format_body(f, nd, &f->fmtbuf) == -1)
			return -1;
		nd = &f->fmtbuf;
	}
	rc = gzip_buf(f, nd, &f->body);
	buf_reset(&f->plain);
	buf_reset(&f->fmtbuf);
	return rc;
}

static int
run_job(struct fwd *f, int job)
{
	return job == JOB_SEAL ? gzip_buf(f, &f->zraw, &f->zgz) : build_body(f);
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
	if (f->bld.use && !f->bld.tried && !f->closing)
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

static void
swap_buf(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

/* Send f->raw, the pinned segment f->seg. */
static void
send_raw(struct fwd *f)
{
	f->busy = 1;
	if (f->fmt == FMT_NDJSON && is_gzip(&f->raw)) {
		swap_buf(&f->raw, &f->body);	/* the segment is the body */
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

/* https, or http to loopback when allowed. 0 or -1 (logged). */
static int
check_url(const char *url, int allow_http)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		log_warnx("output: '%s' is not a valid URL", url);
		goto cleanup;
	}
	if (strcmp(scheme, "http") == 0) {
		if (!allow_http || !is_loopback(host)) {
			log_warnx("output: plain http:// is refused (events "
			    "would travel unencrypted); allow_http permits it "
			    "only to a loopback address");
			goto cleanup;
		}
	} else if (strcmp(scheme, "https") != 0) {
		log_warnx("output: scheme %s is not https", scheme);
		goto cleanup;
	}
	rc = 0;
cleanup:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int
fwd_check_url(const char *url, int allow_http)
{
	return check_url(url, allow_http);
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

static int
setup_easy(struct fwd *f, const struct conf *c)
{
	unsigned char *token = NULL;
	size_t toklen = 0;
	struct buf h = BUF_INIT;
	struct curl_slist *l;
	int rc = -1;

	if ((f->easy = curl_easy_init()) == NULL)
		goto cleanup;
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
		curl_easy_setopt(f->easy, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(f->easy, CURLOPT_SSLKEY, c->client_key);
	}
	if ((l = curl_slist_append(NULL, f->fmt == FMT_NDJSON ?
	    "Content-Type: application/x-ndjson" :
	    "Content-Type: application/json")) == NULL)
		goto cleanup;
	f->headers = l;
	if ((l = curl_slist_append(f->headers, "Content-Encoding: gzip")) == NULL)
		goto cleanup;
	/* never log the token: it only ever lives in this header */
	if (*c->token_file) {
		if ((token = chain_read_secret(c->token_file, &toklen)) == NULL)
			goto cleanup;
		if (buf_printf(&h, "Authorization: %s %s", f->fmt == FMT_SPLUNK ?
		    "Splunk" : "Bearer", (char *)token) == -1 ||
		    curl_slist_append(f->headers, h.data) == NULL)
			goto cleanup;
	}
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	rc = 0;
cleanup:
	if (rc == -1 && f->easy == NULL)
		log_warnx("curl_easy_init failed");
	if (token) {
		memset(token, 0, toklen);
		free(token);
	}
	if (h.data)
		memset(h.data, 0, h.len);
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
	f->bld.use = conf_helper_threads(c) == 1;
	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	f->timeout_ms = (long)c->timeout_ms;
	if (c->node && *c->node)
		snprintf(f->node, sizeof(f->node), "%s", c->node);
	else if (gethostname(f->node, sizeof(f->node) - 1) == -1)
		snprintf(f->node, sizeof(f->node), "unknown");
	if (!strcmp(c->format, "ndjson"))
		f->fmt = FMT_NDJSON;
	else if (!strcmp(c->format, "elasticsearch"))
		f->fmt = FMT_ES;
	else if (!strcmp(c->format, "splunk-hec"))
		f->fmt = FMT_SPLUNK;
	else {
		log_warnx("format: '%s' is not ndjson, elasticsearch or "
		    "splunk-hec", c->format);
		goto err;
	}
	if (f->fmt == FMT_ES && strpbrk(c->es_index, "\"\\ ,*?<>|/#")) {
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
	buf_free(&f->raw);
	buf_free(&f->body);
	buf_free(&f->resp);
	gzip_free(f);
	free(f->url);
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
