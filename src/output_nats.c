/*
 * output_nats.c - batches -> gzip -> spool -> NATS JetStream: the
 * output's ops (batching, open, close, stats) and its policy (ack
 * verdicts, subject, message id, server list). Publishing is in
 * output_nats_pub.c, the connection and its threads in
 * output_nats_link.c.
 *
 * Batching and loss reports follow fwd.c (issue 16 will give both one
 * batcher). Segments are read back from the spool oldest first and
 * published asynchronously, up to WINDOW_MSGS messages in flight, each
 * with Nats-Msg-Id = CHAIN_STREAM:FIRST-LAST: a retry after a lost ack
 * is stored once (the stream's duplicate window). A segment leaves the
 * spool only when every message made from it is acked.
 *
 * Threads: libnats runs its own (reader, flusher, timers, callbacks).
 * They are all started from one set-up thread (thread_start: no signals,
 * no capabilities) on the loop's first turn, after privileges are final.
 * Their callbacks only queue an event and poke an eventfd; the loop
 * reads it and touches podtrail's state. The set-up thread connects
 * (which may wait on the network) and makes sure the stream exists, so
 * the loop never waits for a server.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "buf.h"
#include "conf.h"
#include "event.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "loss.h"
#include "output.h"
#include "output_nats.h"
#include "output_nats_int.h"
#include "output_nats_link.h"
#include "output_nats_pub.h"
#include "spool.h"
#include "thread.h"
#include "thread_plan.h"
#include "worker.h"

#define CLOSE_DRAIN_MS 5000

/* ---- policy (unit-tested) ------------------------------------------- */

enum output_nats_verdict
output_nats_classify(int status, int errcode)
{
	if (status == NATS_OK && errcode == 0)
		return ONATS_DONE;
	/* the stream will never take a message this large */
	if (errcode == JSStreamMessageExceedsMaximumErr)
		return ONATS_DEAD;
	/*
	 * Everything else can heal: a timeout or no responders while a
	 * leader is elected, a lost connection, no quorum, a full store,
	 * a subject bound to another stream until the operator fixes it.
	 * The data waits in the spool meanwhile.
	 */
	return ONATS_RETRY;
}

static int
token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>';
}

int
output_nats_subject(const char *pattern, const char *node, char *out,
    size_t len)
{
	struct buf b = BUF_INIT;
	const char *p = pattern;
	int rc = -1;

	while (*p) {
		size_t n = strcspn(p, ".");

		if (n == 4 && strncmp(p, "NODE", 4) == 0) {
			for (const char *q = node; *q; q++)
				if (buf_addc(&b, token_char((unsigned char)*q) ?
				    *q : '_') == -1)
					goto out;
		} else {
			for (size_t i = 0; i < n; i++)
				if (!token_char((unsigned char)p[i]))
					goto out;
			if (buf_add(&b, p, n) == -1)
				goto out;
		}
		if (n == 0 || (b.len && b.data[b.len - 1] == '.'))
			goto out;	/* an empty token */
		p += n;
		if (*p == '.') {
			if (p[1] == '\0' || buf_addc(&b, '.') == -1)
				goto out;
			p++;
		}
	}
	if (b.len == 0 || b.len >= len)
		goto out;
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/*
 * The last `,"key":` in line (top-level keys come sorted, the chain's
 * near the end): searched from the end, a few commas back.
 */
static const char *
last_key(const char *line, size_t n, const char *key)
{
	size_t k = strlen(key);
	const char *p = line + n;

	while (p > line && (p = memrchr(line, key[0], (size_t)(p - line))))
		if ((size_t)(line + n - p) >= k && memcmp(p, key, k) == 0)
			return p + k;
	return NULL;
}

/* Where the first line's chain stream starts (NULL: it has none). */
static const char *
stream_of(const char *lines, size_t n)
{
	const char *nl = memchr(lines, '\n', n);

	return last_key(lines, nl ? (size_t)(nl - lines) : n,
	    ",\"stream\":\"");
}

int
output_nats_msg_id(const char *lines, size_t n, unsigned long long first,
    unsigned long long last, char *out, size_t len)
{
	const char *s = stream_of(lines, n);
	const char *e;
	int w;

	if (s == NULL || (e = memchr(s, '"', n - (size_t)(s - lines))) == NULL)
		return -1;
	w = snprintf(out, len, "%.*s:%llu-%llu", (int)(e - s), s, first, last);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

static int
is_loopback(const char *host, size_t n)
{
	return (n == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (n == 3 && strncmp(host, "::1", 3) == 0) ||
	    (n == 5 && strncmp(host, "[::1]", 5) == 0) ||
	    (n > 4 && strncmp(host, "127.", 4) == 0);
}

void
output_nats_free_servers(char **urls, int n)
{
	for (int i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}

int
output_nats_servers(const char *spec, char ***urls, int *all_loopback)
{
	const char *p = spec;
	char **u = NULL;
	int n = 0;

	*all_loopback = 1;
	if (strncmp(p, "nats://", 7) != 0)
		goto bad;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *h = p, *colon;
		size_t hl;
		char **nu;

		if (strncmp(h, "nats://", 7) == 0)
			h += 7;
		hl = len - (size_t)(h - p);
		if (hl == 0 || memchr(h, '/', hl) || memchr(h, '@', hl))
			goto bad;	/* credentials go in nats_creds */
		colon = h + hl;
		while (colon > h && colon[-1] != ':')
			colon--;
		if (colon == h || colon == h + hl ||
		    strspn(colon, "0123456789") != (size_t)(h + hl - colon))
			goto bad;	/* HOST:PORT */
		if (!is_loopback(h, (size_t)(colon - 1 - h)))
			*all_loopback = 0;
		if ((nu = realloc(u, (size_t)(n + 1) * sizeof(*u))) == NULL)
			goto nomem;
		u = nu;
		if ((u[n] = malloc(hl + 8)) == NULL)
			goto nomem;
		snprintf(u[n++], hl + 8, "nats://%.*s", (int)hl, h);
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0)
		goto bad;
	*urls = u;
	return n;
bad:
	log_warnx("output: '%s' is not nats://HOST:PORT[,HOST:PORT...]", spec);
	output_nats_free_servers(u, n);
	return -1;
nomem:
	log_warn("output");
	output_nats_free_servers(u, n);
	return -1;
}

/* "seq" of a line: the chain's, the last top-level one. */
unsigned long long
output_nats_seq_of(const char *line, size_t n)
{
	const char *p = last_key(line, n, ",\"seq\":");

	return p ? strtoull(p, NULL, 10) : 0;
}


/* ---- batching (as fwd.c) -------------------------------------------- */

static void
run_job(void *job, void *arg)
{
	struct onats *f = arg;

	f->job.rc = gzip_compress(f->job.gz, &f->job.raw, &f->job.out);
}

/* The sealed batch is compressed (rc 0) or not: spool it, then publish. */
static void
seal_done(struct onats *f)
{
	static struct log_rl rl;
	struct buf *seg = f->job.rc == 0 ? &f->job.out : &f->job.raw;
	const char *s, *e;
	int kept;

	if (f->job.rc != 0)	/* no memory: spooled as plain text, still sent */
		log_warnx_rl(&rl, "cannot compress a batch of %llu events; "
		    "spooling it uncompressed", f->z_n);
	/* a batch that cannot be kept is in f->loss, reported by flush */
	kept = spool_append_sealed(f->spool, seg, f->z_open, f->z_first,
	    f->z_last, f->z_n, &f->loss) == 0;
	f->z_open = 0;
	if (kept && f->z_report)
		f->report_seq = f->z_last;
	/* the chain's stream is the process's: learnt from its first batch */
	if (*f->own_stream == '\0' && (s = stream_of(f->job.raw.data,
	    f->job.raw.len)) != NULL && (e = memchr(s, '"', f->job.raw.len -
	    (size_t)(s - f->job.raw.data))) != NULL && e - s <
	    (ptrdiff_t)sizeof(f->own_stream))
		snprintf(f->own_stream, sizeof(f->own_stream), "%.*s",
		    (int)(e - s), s);
	buf_reset(&f->job.raw);
	buf_reset(&f->job.out);
	output_nats_pub_pump(f);
}

static void
collect_jobs(struct onats *f)
{
	while (worker_collect(f->packer) != NULL)
		seal_done(f);
}

static void
on_packed(int fd, short revents, void *arg)
{
	collect_jobs(arg);
}

static void
on_job(void *job, void *arg)
{
	seal_done(arg);
}

/* Wait for the batch out to be spooled. */
static void
finish_jobs(struct onats *f)
{
	worker_finish(f->packer, on_job, f);
}

/* Seal the batch being built: compressed (off the loop if it can be), then spooled. */
static void
seal(struct onats *f)
{
	if (f->batch_n == 0)
		return;
	loop_timer_disarm(f->age_timer);
	/* one job at a time, and batches reach the spool in order */
	finish_jobs(f);
	spool_seg_keep(f->spool, &f->batch, &f->batch_kept);
	f->z_open = spool_seg_seal(f->spool);
	f->batch_kept = 0;
	buf_swap(&f->job.raw, &f->batch);
	buf_reset(&f->batch);
	f->z_n = f->batch_n;
	f->z_first = f->batch_first;
	f->z_last = f->batch_last;
	f->z_report = f->report_in_batch;
	f->report_in_batch = 0;
	f->batch_n = f->batch_first = f->batch_last = 0;
	if (worker_submit(f->packer, f) == -1) {
		run_job(f, f);
		seal_done(f);
		return;
	}
	if (f->closing || !worker_threaded(f->packer))
		finish_jobs(f);
}

static void
on_age_timer(void *arg)
{
	seal(arg);
}

static int
onats_write(void *ctx, const struct sealed *s)
{
	struct onats *f = ctx;
	unsigned long long seq = s->seq;

	if (buf_add(&f->batch, s->line, s->len) == -1 ||
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

/* Before sleeping: report drops through the chain, as fwd does. */
static void
onats_flush(void *ctx)
{
	struct onats *f = ctx;
	cJSON *ev;

	/* one plain write per loop turn: a crash loses none of it */
	spool_seg_keep(f->spool, &f->batch, &f->batch_kept);
	f->lost_events += f->loss.events;
	if ((ev = loss_spool_take(&f->loss, &f->unreported, f->node)) == NULL)
		return;
	if (f->emit == NULL) {
		cJSON_Delete(ev);
		return;
	}
	f->report_in_batch = 1;
	f->emit(ev, f->emit_arg);
}

static void
onats_set_emit(void *ctx, output_emit_cb cb, void *arg)
{
	struct onats *f = ctx;

	f->emit = cb;
	f->emit_arg = arg;
}

/* ---- set-up and teardown -------------------------------------------- */

static void
on_start_timer(void *arg)
{
	output_nats_link_start(arg);
}

static void
on_retry_timer(void *arg)
{
	output_nats_pub_pump(arg);
}

static void
on_queue(int fd, short revents, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1) {
		/* EAGAIN: a spurious wake-up */
	}
	output_nats_link_drain(arg);
}

static int
onats_match(const char *spec)
{
	return strncmp(spec, "nats://", 7) == 0;
}

/* A secret file must not be readable by group or others. */
static int
check_private(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		log_warn("%s: %s", what, path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_warnx("%s: %s is readable by group or others; chmod 600 it",
		    what, path);
		return -1;
	}
	return 0;
}

static int
stream_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!token_char((unsigned char)*s) || *s == '/' || *s == '\\')
			return 0;
	return 1;
}

static int onats_close(void *ctx);

static void *
onats_open(const char *spec, struct loop *loop, const struct conf *c)
{
	struct onats *f = calloc(1, sizeof(*f));
	int loopback;

	if (f == NULL) {
		log_warn("output");
		return NULL;
	}
	f->loop = loop;
	f->q.efd = -1;
	pthread_mutex_init(&f->q.mu, NULL);
	pthread_cond_init(&f->q.cv, NULL);
	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	f->timeout_ms = (long)c->timeout_ms;
	if (c->node && *c->node)
		snprintf(f->node, sizeof(f->node), "%s", c->node);
	else if (gethostname(f->node, sizeof(f->node) - 1) == -1)
		snprintf(f->node, sizeof(f->node), "unknown");
	if ((f->nurls = output_nats_servers(spec, &f->urls, &loopback)) == -1)
		goto err;
	if (!stream_name_ok(c->nats_stream) ||
	    strlen(c->nats_stream) >= sizeof(f->stream)) {
		log_warnx("nats_stream: '%s' is not a valid stream name (no "
		    "blanks, '.', '*', '>', '/')", c->nats_stream);
		goto err;
	}
	snprintf(f->stream, sizeof(f->stream), "%s", c->nats_stream);
	if (output_nats_subject(c->nats_subject, f->node, f->subject,
	    sizeof(f->subject)) == -1) {
		log_warnx("nats_subject: '%s' does not make a valid subject "
		    "(tokens separated by '.', no wildcards)", c->nats_subject);
		goto err;
	}
	f->tls = *c->ca_file || *c->client_cert || *c->client_key;
	if (!f->tls && !loopback) {
		log_warnx("output: nats:// without TLS is refused for a host "
		    "that is not loopback (events would travel unencrypted): "
		    "set ca_file, and client_cert/client_key for mutual TLS");
		goto err;
	}
	if ((*c->client_cert || *c->client_key) &&
	    (!*c->client_cert || !*c->client_key)) {
		log_warnx("mTLS needs both client_cert and client_key");
		goto err;
	}
	if ((*c->client_key && check_private("client_key", c->client_key)
	    == -1) || (*c->nats_creds && check_private("nats_creds",
	    c->nats_creds) == -1))
		goto err;
	if ((f->ca_file = strdup(c->ca_file)) == NULL ||
	    (f->client_cert = strdup(c->client_cert)) == NULL ||
	    (f->client_key = strdup(c->client_key)) == NULL ||
	    (f->creds = strdup(c->nats_creds)) == NULL ||
	    (f->gz = gzip_new()) == NULL ||
	    (f->job.gz = gzip_new()) == NULL) {
		log_warn("output");
		goto err;
	}
	if ((f->q.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("eventfd");
		goto err;
	}
	if (loop_fd_add(loop, f->q.efd, POLLIN, on_queue, f) == -1 ||
	    (f->age_timer = loop_timer_new(loop, on_age_timer, f)) == NULL ||
	    (f->retry_timer = loop_timer_new(loop, on_retry_timer, f)) == NULL ||
	    (f->start_timer = loop_timer_new(loop, on_start_timer, f)) == NULL) {
		log_warn("loop");
		goto err;
	}
	/* one job at a time: the packer's buffers are f->job's */
	if ((f->packer = worker_new("batch packer", 1,
	    thread_plan_builder(c), run_job, f)) == NULL)
		goto err;
	if (loop_fd_add(loop, worker_fd(f->packer), POLLIN, on_packed,
	    f) == -1) {
		log_warn("loop");
		goto err;
	}
	if ((f->spool = spool_open(c->state_dir, c->spool_max_bytes,
	    c->spool_min_free)) == NULL)
		goto err;
	/* a batch a crash cut short is published before anything new */
	if (spool_seg_recover(f->spool, output_nats_seq_of) == -1)
		goto err;
	f->own_from = spool_next_id(f->spool);
	/*
	 * libnats starts threads: not now (privileges are not final yet)
	 * but on the loop's first turn.
	 */
	loop_timer_arm(f->start_timer, 0);
	return f;
err:
	onats_close(f);
	return NULL;
}

/* The loop has stopped: wait here for acks until done or the deadline. */
static void
drain(struct onats *f, long long deadline)
{
	while (loop_now_ms() < deadline) {
		struct pollfd p = { f->q.efd, POLLIN, 0 };
		uint64_t n;

		if (f->ready && f->connected && f->inflight == 0 &&
		    output_nats_pub_next_queued(f) == NULL &&
		    spool_segments(f->spool) == 0)
			break;
		if (!f->setup_running && !f->ready)
			break;	/* never reached the stream */
		if (poll(&p, 1, (int)(deadline - loop_now_ms())) > 0 &&
		    read(f->q.efd, &n, sizeof(n)) == -1) {
			/* EAGAIN */
		}
		output_nats_link_drain(f);
		/* stop at the first failure: the rest stays spooled */
		if (f->failures)
			break;
	}
}

static void
onats_stop(void *ctx)
{
	struct onats *f = ctx;

	f->stopping = 1;
}

static int
onats_close(void *ctx)
{
	struct onats *f = ctx;
	int rc = 0;

	if (f == NULL)
		return 0;
	if (f->spool) {
		f->closing = 1;
		seal(f);
		finish_jobs(f);
		f->retry_at = 0;
		output_nats_pub_pump(f);
		if (f->setup_running || f->ready)
			drain(f, loop_now_ms() + CLOSE_DRAIN_MS);
		if (spool_segments(f->spool))
			log_info("%zu batches (%llu bytes) stay spooled for the "
			    "next start", spool_segments(f->spool),
			    spool_bytes(f->spool));
		if (f->loss.events || f->lost_events)
			rc = -1;
	}
	f->stopping = 1;
	output_nats_link_stop(f);
	if (f->nc)
		natsConnection_Close(f->nc);
	jsCtx_Destroy(f->js);
	natsConnection_Destroy(f->nc);
	natsOptions_Destroy(f->opts);
	/* no libnats thread may call back into f after this */
	if (f->nats_open)
		nats_CloseAndWait(2000);
	if (f->q.efd != -1) {
		struct nev *e = f->q.head;

		while (e) {
			struct nev *next = e->next;

			free(e);
			e = next;
		}
		loop_fd_del(f->loop, f->q.efd);
		close(f->q.efd);
	}
	while (f->head)
		output_nats_pub_seg_drop(f, f->head);
	if (f->packer) {
		loop_fd_del(f->loop, worker_fd(f->packer));
		worker_free(f->packer, NULL);
	}
	pthread_cond_destroy(&f->q.cv);
	pthread_mutex_destroy(&f->q.mu);
	loop_timer_free(f->age_timer);
	loop_timer_free(f->retry_timer);
	loop_timer_free(f->start_timer);
	spool_close(f->spool);
	buf_free(&f->batch);
	buf_free(&f->zgz);
	buf_free(&f->raw);
	buf_free(&f->plain);
	buf_free(&f->chunk);
	gzip_free(f->gz);
	gzip_free(f->job.gz);
	buf_free(&f->job.raw);
	buf_free(&f->job.out);
	output_nats_free_servers(f->urls, f->nurls > 0 ? f->nurls : 0);
	free(f->ca_file);
	free(f->client_cert);
	free(f->client_key);
	free(f->creds);
	free(f);
	return rc;
}

static void
onats_stats(void *ctx, cJSON *obj)
{
	struct onats *f = ctx;

	cJSON_AddNumberToObject(obj, "nats_published", (double)f->published);
	cJSON_AddNumberToObject(obj, "nats_acked", (double)f->acked);
	cJSON_AddNumberToObject(obj, "nats_retried", (double)f->retried);
	cJSON_AddNumberToObject(obj, "nats_duplicates", (double)f->duplicates);
	cJSON_AddNumberToObject(obj, "nats_sent_events", (double)f->sent_events);
	cJSON_AddNumberToObject(obj, "nats_dead_batches",
	    (double)f->dead_batches);
	cJSON_AddNumberToObject(obj, "nats_dead_events", (double)f->dead_events);
	cJSON_AddNumberToObject(obj, "nats_lost_events", (double)f->lost_events);
	cJSON_AddNumberToObject(obj, "nats_bytes", (double)f->bytes);
	cJSON_AddNumberToObject(obj, "nats_reconnects", (double)f->reconnects);
	cJSON_AddNumberToObject(obj, "nats_connected", f->connected ? 1 : 0);
	cJSON_AddNumberToObject(obj, "spool_batches",
	    (double)spool_segments(f->spool));
	cJSON_AddNumberToObject(obj, "spool_bytes", (double)spool_bytes(f->spool));
}

static void
onats_behind(void *ctx, int on)
{
	struct onats *f = ctx;

	worker_use_helper(f->packer, on);
}

static void
onats_reconfigure(void *ctx, const struct conf *c)
{
	struct onats *f = ctx;

	f->batch_events = (long)c->batch_events;
	f->batch_bytes = (size_t)c->batch_bytes;
	f->batch_age_ms = (long)c->batch_age_ms;
	/* publishes from now on wait this long for their ack */
	f->timeout_ms = (long)c->timeout_ms;
}

const struct output_ops output_nats_ops = {
	.name = "nats",
	.match = onats_match,
	.open = onats_open,
	.write = onats_write,
	.flush = onats_flush,
	.stop = onats_stop,
	.close = onats_close,
	.stats = onats_stats,
	.set_emit = onats_set_emit,
	.reconfigure = onats_reconfigure,
	.behind = onats_behind,
};

