/*
 * output_nats.c - batches -> gzip -> spool -> NATS JetStream.
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
#include "fwd.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "output_nats.h"
#include "spool.h"
#include "thread.h"

/* messages in flight at once, and their bytes */
#define WINDOW_MSGS 32
#define WINDOW_BYTES ((size_t)16 << 20)
/* room for headers and protocol within the server's max_payload */
#define HDR_ROOM 1024
#define CLOSE_DRAIN_MS 5000
/* between tries to reach JetStream while it has no stream or no leader */
#define SETUP_RETRY_MS 2000
#define MSGID_MAX 400
#define NAME_MAX_ 256

/*
 * The stream podtrail creates when it is missing; deploy/nats-stream.json
 * says the same (tests/integration/901 compares them).
 */
#define STREAM_REPLICAS 3
#define STREAM_MAX_AGE_S (90LL * 86400)		/* 90 days, then discarded */
#define STREAM_DUP_WINDOW_S 3600LL		/* a retry within 1 h is stored once */
#define NS 1000000000LL

enum { EV_ACK, EV_SETUP, EV_CONNECTED, EV_DISCONNECTED, EV_RECONNECTED,
    EV_CLOSED, EV_ERROR, EV_NOTE };
enum { M_QUEUED, M_INFLIGHT, M_ACKED };

/* From a libnats thread (or the set-up thread) to the loop. */
struct nev {
	struct nev *next;
	int kind;
	int status;		/* natsStatus */
	int errcode;		/* jsErrCode */
	int dup;
	int warn;
	char id[MSGID_MAX];
	char text[512];
};

struct nseg;

struct nmsg {
	struct nseg *seg;
	char id[MSGID_MAX];
	struct buf data;
	int gz;
	int state;
	unsigned tries;
};

/* A spool segment being published: its messages, oldest segment first. */
struct nseg {
	struct nseg *next;
	struct spool_seg seg;
	struct nmsg *m;
	size_t nm, nacked;
};

struct onats {
	struct loop *loop;
	char **urls;
	int nurls, tls;
	char stream[NAME_MAX_], subject[NAME_MAX_], node[256];
	char *ca_file, *client_cert, *client_key, *creds;
	long batch_events;
	size_t batch_bytes;
	long batch_age_ms;
	long timeout_ms;
	long setup_ms;		/* timeout_ms for the set-up thread */
	/* the batch being built */
	struct buf batch, zgz, raw, plain, chunk;
	unsigned long long batch_n, batch_first, batch_last;
	struct gzip *gz;
	struct spool *spool;
	struct spool_loss loss, unreported;
	unsigned long long report_seq;
	int report_in_batch;
	output_emit_cb emit;
	void *emit_arg;
	struct loop_timer *age_timer, *retry_timer, *start_timer;
	/* segments read from the spool, oldest first */
	struct nseg *head, *tail;
	unsigned long long loaded_upto;
	size_t inflight, inflight_bytes;
	unsigned failures;
	long long retry_at;
	/* libnats: written by the set-up thread, read by the loop after it joined */
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	int nats_open;
	int max_payload;
	/* loop thread */
	int ready;		/* the stream was checked: publish */
	int connected;
	int setup_running;
	int stopping;
	pthread_t setup_thread;
	/* the hand-off; everything in q is under q.mu */
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		struct nev *head, *tail;
		int lost;	/* an event could not be queued (no memory) */
		int stop;	/* the set-up thread should give up */
		int efd;
	} q;
	/* counters */
	unsigned long long published, acked, retried, duplicates, sent_events,
	    dead_batches, dead_events, lost_events, bytes, reconnects;
};

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

int
output_nats_msg_id(const char *lines, size_t n, unsigned long long first,
    unsigned long long last, char *out, size_t len)
{
	const char *nl = memchr(lines, '\n', n);
	const char *s = last_key(lines, nl ? (size_t)(nl - lines) : n,
	    ",\"stream\":\"");
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

/* ---- libnats threads -> loop ---------------------------------------- */

static void
push(struct onats *f, struct nev *e)
{
	uint64_t one = 1;

	pthread_mutex_lock(&f->q.mu);
	if (e == NULL) {
		f->q.lost = 1;
	} else {
		if (f->q.tail)
			f->q.tail->next = e;
		else
			f->q.head = e;
		f->q.tail = e;
	}
	pthread_mutex_unlock(&f->q.mu);
	if (write(f->q.efd, &one, sizeof(one)) == -1) {
		/* EAGAIN: the counter is set anyway */
	}
}

static struct nev *
nev_new(int kind, int status, const char *text)
{
	struct nev *e = calloc(1, sizeof(*e));

	if (e) {
		e->kind = kind;
		e->status = status;
		if (text)
			snprintf(e->text, sizeof(e->text), "%s", text);
	}
	return e;
}

/* libnats thread: one publish answered (stored, refused, timed out). */
static void
on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct onats *f = arg;
	struct nev *e = nev_new(EV_ACK, NATS_OK, NULL);
	const char *id = NULL;

	if (e) {
		if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id)
			snprintf(e->id, sizeof(e->id), "%s", id);
		if (pa) {
			e->dup = pa->Duplicate;
		} else if (pae) {
			e->status = pae->Err == NATS_OK ? NATS_ERR : pae->Err;
			e->errcode = (int)pae->ErrCode;
			snprintf(e->text, sizeof(e->text), "%s",
			    pae->ErrText ? pae->ErrText : "");
		} else {
			e->status = NATS_ERR;
		}
	}
	push(f, e);
	natsMsg_Destroy(msg);
}

static void
on_connected(natsConnection *nc, void *arg)
{
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	push(arg, nev_new(EV_CONNECTED, NATS_OK, url));
}

static void
on_disconnected(natsConnection *nc, void *arg)
{
	push(arg, nev_new(EV_DISCONNECTED, NATS_OK, NULL));
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	push(arg, nev_new(EV_RECONNECTED, NATS_OK, url));
}

static void
on_closed(natsConnection *nc, void *arg)
{
	push(arg, nev_new(EV_CLOSED, NATS_OK, NULL));
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
    void *arg)
{
	push(arg, nev_new(EV_ERROR, err, natsStatus_GetText(err)));
}

/* ---- set-up thread: connect, make sure the stream exists ------------ */

/*
 * The last libnats error as text (this thread's), and what the server
 * last said on nc if anything: an authorization refusal only shows as
 * "Connection Closed" here, its reason is the connection's.
 */
static void
nats_err(natsConnection *nc, natsStatus s, char *out, size_t len)
{
	const char *t = nats_GetLastError(NULL), *why = NULL;

	if (nc && natsConnection_GetLastError(nc, &why) == NATS_OK)
		why = NULL;
	snprintf(out, len, "%s%s%s%s", t && *t ? t : natsStatus_GetText(s),
	    why && *why ? " (server: " : "", why && *why ? why : "",
	    why && *why ? ")" : "");
}

static int
make_options(struct onats *f, char *err, size_t len)
{
	natsStatus s;

	natsOptions_Destroy(f->opts);	/* an earlier failed try's */
	f->opts = NULL;
	s = natsOptions_Create(&f->opts);
	f->nats_open = s == NATS_OK;
	ONATS_IFOK(s, natsOptions_SetServers(f->opts, (const char **)f->urls,
	    f->nurls));
	ONATS_IFOK(s, natsOptions_SetName(f->opts, "podtrail"));
	ONATS_IFOK(s, natsOptions_SetTimeout(f->opts, f->setup_ms));
	/* never give up: the spool holds what waits */
	ONATS_IFOK(s, natsOptions_SetMaxReconnect(f->opts, -1));
	ONATS_IFOK(s, natsOptions_SetReconnectWait(f->opts, 500));
	ONATS_IFOK(s, natsOptions_SetReconnectJitter(f->opts, 250, 1000));
	/* with a callback, the first connect does not wait for a server */
	ONATS_IFOK(s, natsOptions_SetRetryOnFailedConnect(f->opts, true,
	    on_connected, f));
	/* a stalled server must not hold a write for long */
	ONATS_IFOK(s, natsOptions_SetWriteDeadline(f->opts, f->setup_ms));
	ONATS_IFOK(s, natsOptions_SetDisconnectedCB(f->opts, on_disconnected, f));
	ONATS_IFOK(s, natsOptions_SetReconnectedCB(f->opts, on_reconnected, f));
	ONATS_IFOK(s, natsOptions_SetClosedCB(f->opts, on_closed, f));
	ONATS_IFOK(s, natsOptions_SetErrorHandler(f->opts, on_error, f));
	if (s == NATS_OK && f->tls) {
		s = natsOptions_SetSecure(f->opts, true);
		if (s == NATS_OK && *f->ca_file)
			s = natsOptions_LoadCATrustedCertificates(f->opts,
			    f->ca_file);
		if (s == NATS_OK && *f->client_cert)
			s = natsOptions_LoadCertificatesChain(f->opts,
			    f->client_cert, f->client_key);
	}
	if (s == NATS_OK && *f->creds)
		s = natsOptions_SetUserCredentialsFromFiles(f->opts, f->creds,
		    NULL);
	if (s != NATS_OK) {
		nats_err(f->nc, s, err, len);
		return -1;
	}
	return 0;
}

static int
connect_nats(struct onats *f, char *err, size_t len)
{
	jsOptions jo;
	natsStatus s;

	if (make_options(f, err, len) == -1)
		return -1;
	/*
	 * Once without libnats's background retry: a server that answers
	 * and refuses (authorization, TLS) fails here with its reason,
	 * which the retry would swallow. Only when none answers is the
	 * retrying connect left to wait for one.
	 */
	s = natsOptions_SetRetryOnFailedConnect(f->opts, false, NULL, NULL);
	if (s == NATS_OK)
		s = natsConnection_Connect(&f->nc, f->opts);
	if (s == NATS_NO_SERVER) {
		s = natsOptions_SetRetryOnFailedConnect(f->opts, true,
		    on_connected, f);
		if (s == NATS_OK)
			s = natsConnection_Connect(&f->nc, f->opts);
	}
	/* not yet: libnats keeps trying in the background */
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		nats_err(f->nc, s, err, len);
		natsConnection_Destroy(f->nc);
		f->nc = NULL;
		return -1;
	}
	jsOptions_Init(&jo);
	/* API calls only: a close waits for the set-up thread */
	jo.Wait = f->setup_ms < 5000 ? f->setup_ms : 5000;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = f;
	if ((s = natsConnection_JetStream(&f->js, f->nc, &jo)) != NATS_OK) {
		nats_err(f->nc, s, err, len);
		natsConnection_Destroy(f->nc);
		f->nc = NULL;
		return -1;
	}
	return 0;
}

/* The definition podtrail creates (deploy/nats-stream.json). */
static void
stream_definition(struct onats *f, jsStreamConfig *cfg, const char **subj,
    char *pattern, size_t len)
{
	/* the subject's first token and everything below it */
	snprintf(pattern, len, "%.*s.>", (int)strcspn(f->subject, "."),
	    f->subject);
	*subj = pattern;
	jsStreamConfig_Init(cfg);
	cfg->Name = f->stream;
	cfg->Description = "podtrail audit chains: append-only (deny_delete, "
	    "deny_purge), replicated, discarded by age only";
	cfg->Subjects = subj;
	cfg->SubjectsLen = 1;
	cfg->Retention = js_LimitsPolicy;
	cfg->Storage = js_FileStorage;
	cfg->Replicas = STREAM_REPLICAS;
	cfg->Discard = js_DiscardOld;
	cfg->MaxAge = STREAM_MAX_AGE_S * NS;
	cfg->MaxMsgs = -1;
	cfg->MaxBytes = -1;
	cfg->Duplicates = STREAM_DUP_WINDOW_S * NS;
	cfg->DenyDelete = true;
	cfg->DenyPurge = true;
	cfg->AllowRollup = false;
}

/*
 * Use the stream as it is, or create it. 0 (note holds what to log;
 * *warn when it is a warning), or -1 (not now: note says why).
 */
static int
ensure_stream(struct onats *f, char *note, size_t len, int *warn)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	const char *subj;
	char pattern[NAME_MAX_ + 4];
	natsStatus s;

	*warn = 0;
	s = js_GetStreamInfo(&si, f->js, f->stream, NULL, &jerr);
	if (s == NATS_OK) {
		const jsStreamConfig *c = si->Config;

		*warn = !c->DenyDelete || !c->DenyPurge;
		snprintf(note, len, "stream %s exists (%lld replicas%s%s); "
		    "used as it is%s", f->stream, (long long)c->Replicas,
		    c->DenyDelete ? ", deny_delete" : "",
		    c->DenyPurge ? ", deny_purge" : "", *warn ?
		    ": it lacks deny_delete/deny_purge, so its messages can "
		    "be deleted or purged (see deploy/nats-stream.json)" : "");
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
		goto later;
	stream_definition(f, &cfg, &subj, pattern, sizeof(pattern));
	jerr = 0;
	s = js_AddStream(&si, f->js, &cfg, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamReplicasNotSupportedErr) {
		/* one server, not a cluster: better unreplicated than nothing */
		cfg.Replicas = 1;
		jerr = 0;
		s = js_AddStream(&si, f->js, &cfg, NULL, &jerr);
		*warn = 1;
	}
	if (s == NATS_OK) {
		snprintf(note, len, "created stream %s (subjects %.100s, %lld "
		    "replicas%s, deny_delete, deny_purge, messages kept %lld "
		    "days)", f->stream, pattern, (long long)cfg.Replicas,
		    *warn ? ": JetStream is not clustered, so it is NOT "
		    "replicated" : "", STREAM_MAX_AGE_S / 86400);
		jsStreamInfo_Destroy(si);
		return 0;
	}
later:
	{
		char why[256];

		nats_err(f->nc, s, why, sizeof(why));
		snprintf(note, len, "stream %s not usable yet: %.200s (JetStream "
		    "error %d); retrying", f->stream, why, (int)jerr);
	}
	return -1;
}

static void *
setup_main(void *arg)
{
	struct onats *f = arg;
	struct nev *e = nev_new(EV_SETUP, NATS_ERR, NULL);
	char note[512] = "";
	int warn = 0, fresh = 0;

	for (;;) {
		struct timespec ts;
		int stop;

		/*
		 * A connection libnats closed for good (a TLS handshake or
		 * an authorization it will not retry) is made anew: the
		 * cause may be fixed on the server meanwhile.
		 */
		if (f->nc && natsConnection_IsClosed(f->nc)) {
			jsCtx_Destroy(f->js);
			natsConnection_Destroy(f->nc);
			f->js = NULL;
			f->nc = NULL;
		}
		if (f->nc == NULL && connect_nats(f, note, sizeof(note)) == 0)
			fresh = 1;
		if (f->nc && ensure_stream(f, note, sizeof(note), &warn) == 0)
			break;
		push(f, nev_new(EV_NOTE, NATS_ERR, note));
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SETUP_RETRY_MS / 1000;
		pthread_mutex_lock(&f->q.mu);
		if (!f->q.stop)
			pthread_cond_timedwait(&f->q.cv, &f->q.mu, &ts);
		stop = f->q.stop;
		pthread_mutex_unlock(&f->q.mu);
		if (stop)
			goto out;
	}
	if (fresh) {
		jsPubOptions po;

		/*
		 * A publish nobody answers, so that libnats starts the
		 * thread that delivers acks here, without capabilities, and
		 * not on the loop's thread at its first batch.
		 */
		jsPubOptions_Init(&po);
		po.MaxWait = f->setup_ms;
		js_PublishAsync(f->js, "_PODTRAIL.probe", NULL, 0, &po);
	}
	f->max_payload = (int)natsConnection_GetMaxPayload(f->nc);
	if (e)
		e->status = NATS_OK;
out:
	if (e) {
		snprintf(e->text, sizeof(e->text), "%s", note);
		e->warn = warn;
	}
	push(f, e);
	return NULL;
}

/* ---- loop side ------------------------------------------------------ */

static void pump(struct onats *f);

static void
start_setup(struct onats *f)
{
	if (f->setup_running || f->stopping)
		return;
	f->ready = 0;
	f->setup_ms = f->timeout_ms;
	pthread_mutex_lock(&f->q.mu);
	f->q.stop = 0;
	pthread_mutex_unlock(&f->q.mu);
	if (thread_start(&f->setup_thread, setup_main, f, "nats set-up") == 0)
		f->setup_running = 1;
	else
		loop_timer_arm(f->start_timer, SETUP_RETRY_MS);
}

static void
on_start_timer(void *arg)
{
	start_setup(arg);
}

static void
stop_setup(struct onats *f)
{
	if (!f->setup_running)
		return;
	pthread_mutex_lock(&f->q.mu);
	f->q.stop = 1;
	pthread_cond_broadcast(&f->q.cv);
	pthread_mutex_unlock(&f->q.mu);
	pthread_join(f->setup_thread, NULL);
	f->setup_running = 0;
}

static void
seg_free(struct onats *f, struct nseg *g)
{
	for (size_t i = 0; i < g->nm; i++) {
		if (g->m[i].state == M_INFLIGHT) {
			f->inflight--;
			f->inflight_bytes -= g->m[i].data.len;
		}
		buf_free(&g->m[i].data);
	}
	free(g->m);
	free(g);
}

/* Take g out of the list and free it. */
static void
seg_drop(struct onats *f, struct nseg *g)
{
	struct nseg **pp = &f->head, *prev = NULL;

	while (*pp && *pp != g) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = g->next;
	if (f->tail == g)
		f->tail = prev;
	seg_free(f, g);
}

static void
schedule_retry(struct onats *f)
{
	long ms;

	/* a window of failures from one outage is one failure */
	if (loop_now_ms() < f->retry_at)
		return;
	ms = fwd_backoff_ms(++f->failures);
	f->retry_at = loop_now_ms() + ms;
	loop_timer_arm(f->retry_timer, ms);
}

static void
on_retry_timer(void *arg)
{
	pump(arg);
}

static int
add_msg(struct nseg *g, const char *id, struct buf *data, int gz)
{
	struct nmsg *m = realloc(g->m, (g->nm + 1) * sizeof(*m));

	if (m == NULL)
		return -1;
	g->m = m;
	m = &g->m[g->nm++];
	memset(m, 0, sizeof(*m));
	m->seg = g;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->data = *data;	/* taken */
	*data = (struct buf)BUF_INIT;
	m->gz = gz;
	return 0;
}

/* "seq" of a line: the chain's, the last top-level one. */
static unsigned long long
seq_of(const char *line, size_t n)
{
	const char *p = last_key(line, n, ",\"seq\":");

	return p ? strtoull(p, NULL, 10) : 0;
}

/*
 * A segment larger than the server takes: messages of whole lines,
 * each within limit (gzip'd again when the segment was). 0, -1 (no
 * memory) or -2 (one line alone is too large: never deliverable).
 */
static int
split(struct onats *f, struct nseg *g, const struct buf *plain, int gz,
    size_t limit)
{
	const char *p = plain->data, *end = plain->data + plain->len;

	while (p < end) {
		const char *q = p, *last = p, *nl1;
		char id[MSGID_MAX];
		struct buf *out = &f->chunk;

		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			const char *next = nl ? nl + 1 : end;

			if ((size_t)(next - p) > limit)
				break;
			last = q;
			q = next;
		}
		if (q == p)
			return -2;
		nl1 = memchr(p, '\n', (size_t)(q - p));
		if (output_nats_msg_id(p, (size_t)(q - p), seq_of(p, nl1 ?
		    (size_t)(nl1 - p) : (size_t)(q - p)), seq_of(last,
		    (size_t)(q - last)), id, sizeof(id)) == -1)
			return -2;
		buf_reset(out);
		if (gz) {
			buf_reset(&f->zgz);
			if (buf_add(&f->zgz, p, (size_t)(q - p)) == -1 ||
			    gzip_compress(f->gz, &f->zgz, out) == -1)
				return -1;
		} else if (buf_add(out, p, (size_t)(q - p)) == -1) {
			return -1;
		}
		if (add_msg(g, id, out, gz) == -1)
			return -1;
		p = q;
	}
	return 0;
}

/* Set a segment aside for good: it can never be delivered. */
static void
dead_segment(struct onats *f, const struct spool_seg *seg, const char *why)
{
	static struct log_rl rl;

	log_warnx_rl(&rl, "spool segment %llu (%llu events, seq %llu..%llu) "
	    "%s; moved to the dead-letter directory", seg->id, seg->events,
	    seg->first_seq, seg->last_seq, why);
	f->dead_batches++;
	f->dead_events += seg->events;
	spool_dead(f->spool, seg->id);
}

/* Read the next spooled segment into messages. 1 loaded, 0 none, -1 error. */
static int
load_next(struct onats *f)
{
	static struct log_rl rl;
	struct spool_seg seg;
	struct nseg *g;
	const struct buf *plain = &f->raw;
	size_t limit = (size_t)(f->max_payload > 0 ? f->max_payload :
	    1 << 20);
	unsigned long long before = f->loaded_upto;
	int gz, r;
	char id[MSGID_MAX];

	limit = limit > 2 * HDR_ROOM ? limit - HDR_ROOM : limit / 2;
	if ((r = spool_next(f->spool, f->loaded_upto, &f->raw, &seg)) == 0)
		return 0;
	if (r == -1)
		return 1;	/* set aside; the next one may do */
	f->loaded_upto = seg.id;
	if ((gz = gzip_is_member(&f->raw))) {
		if ((r = gzip_decompress(f->gz, &f->raw, &f->plain)) == -2) {
			dead_segment(f, &seg, "is not a valid batch");
			return 1;
		}
		if (r == -1)
			goto nomem;
		plain = &f->plain;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		goto nomem;
	g->seg = seg;
	if (f->raw.len <= limit) {
		r = output_nats_msg_id(plain->data, plain->len, seg.first_seq,
		    seg.last_seq, id, sizeof(id)) == -1 ? -2 :
		    add_msg(g, id, &f->raw, gz);
	} else {
		r = split(f, g, plain, gz, limit);
	}
	buf_reset(&f->plain);
	if (r != 0) {
		seg_free(f, g);
		if (r == -1)
			goto nomem;
		dead_segment(f, &seg, f->raw.len > limit ? "holds an event "
		    "larger than the server's max_payload" : "has lines "
		    "without a chain stream");
		return 1;
	}
	if (f->tail)
		f->tail->next = g;
	else
		f->head = g;
	f->tail = g;
	return 1;
nomem:
	log_warnx_rl(&rl, "out of memory reading the spool; will retry");
	f->loaded_upto = before;
	return -1;
}

static struct nmsg *
next_queued(struct onats *f)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_QUEUED)
				return &g->m[i];
	return NULL;
}

static int
publish(struct onats *f, struct nmsg *m)
{
	static struct log_rl rl;
	natsMsg *msg = NULL;
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MsgId = m->id;
	po.ExpectStream = f->stream;
	po.MaxWait = f->timeout_ms;
	s = natsMsg_Create(&msg, f->subject, NULL, m->data.data,
	    (int)m->data.len);
	if (s == NATS_OK && m->gz)
		s = natsMsgHeader_Set(msg, "Content-Encoding", "gzip");
	if (s == NATS_OK)
		s = js_PublishMsgAsync(f->js, &msg, &po);
	natsMsg_Destroy(msg);
	if (s != NATS_OK) {
		log_warnx_rl(&rl, "publishing to NATS: %s; will retry",
		    natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/* Publish what the window has room for. */
static void
pump(struct onats *f)
{
	if (!f->ready || !f->connected || loop_now_ms() < f->retry_at)
		return;
	for (;;) {
		struct nmsg *m = next_queued(f);

		if (f->inflight >= WINDOW_MSGS)
			return;
		if (m == NULL) {
			if (load_next(f) != 1)
				return;
			continue;
		}
		if (f->inflight && f->inflight_bytes + m->data.len >
		    WINDOW_BYTES)
			return;
		if (publish(f, m) == -1) {
			schedule_retry(f);
			return;
		}
		m->state = M_INFLIGHT;
		f->inflight++;
		f->inflight_bytes += m->data.len;
		f->published++;
		f->bytes += m->data.len;
		if (m->tries++)
			f->retried++;
	}
}

static struct nmsg *
find_inflight(struct onats *f, const char *id)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_INFLIGHT &&
			    strcmp(g->m[i].id, id) == 0)
				return &g->m[i];
	return NULL;
}

/* Every message of g is stored: the segment leaves the spool. */
static void
seg_delivered(struct onats *f, struct nseg *g)
{
	f->sent_events += g->seg.events;
	/* as in fwd: only a delivered report retires the losses it told */
	if (f->report_seq && g->seg.last_seq >= f->report_seq) {
		memset(&f->unreported, 0, sizeof(f->unreported));
		f->report_seq = 0;
	}
	spool_remove(f->spool, g->seg.id);
	seg_drop(f, g);
}

static void
got_ack(struct onats *f, const struct nev *e)
{
	static struct log_rl rl;
	struct nmsg *m = find_inflight(f, e->id);
	struct nseg *g;

	if (m == NULL)
		return;		/* the set-up probe, or a segment dropped */
	g = m->seg;
	f->inflight--;
	f->inflight_bytes -= m->data.len;
	switch (output_nats_classify(e->status, e->errcode)) {
	case ONATS_DONE:
		m->state = M_ACKED;
		buf_free(&m->data);
		f->acked++;
		f->failures = 0;
		if (e->dup)
			f->duplicates++;
		if (++g->nacked == g->nm)
			seg_delivered(f, g);
		return;
	case ONATS_DEAD:
		dead_segment(f, &g->seg, e->text);
		seg_drop(f, g);
		return;
	case ONATS_RETRY:
		break;
	}
	m->state = M_QUEUED;
	log_warnx_rl(&rl, "NATS did not store a batch (%s%s%s, JetStream "
	    "error %d); will retry", natsStatus_GetText(e->status),
	    *e->text ? ": " : "", e->text, e->errcode);
	/* the stream is gone (or never was): make it again */
	if (e->errcode == JSStreamNotFoundErr ||
	    e->status == NATS_NO_RESPONDERS)
		start_setup(f);
	schedule_retry(f);
}

/* Put every message in flight back in the queue (an ack was lost). */
static void
requeue_all(struct onats *f)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_INFLIGHT) {
				g->m[i].state = M_QUEUED;
				f->inflight--;
				f->inflight_bytes -= g->m[i].data.len;
			}
}

static void
handle(struct onats *f, struct nev *e)
{
	static struct log_rl rl_note, rl_err;

	switch (e->kind) {
	case EV_ACK:
		got_ack(f, e);
		break;
	case EV_SETUP:
		pthread_join(f->setup_thread, NULL);
		f->setup_running = 0;
		if (e->status != NATS_OK) {
			if (f->stopping)
				break;
			log_warnx("NATS: %s; will retry", e->text);
			loop_timer_arm(f->start_timer, SETUP_RETRY_MS * 5);
			break;
		}
		if (e->warn)
			log_warnx("NATS: %s", e->text);
		else
			log_info("NATS: %s", e->text);
		f->ready = f->connected = 1;
		break;
	case EV_NOTE:
		log_warnx_rl(&rl_note, "NATS: %s", e->text);
		break;
	case EV_DISCONNECTED:
		log_warnx("NATS: disconnected; reconnecting (batches wait in "
		    "the spool)");
		f->connected = 0;
		break;
	case EV_CONNECTED:
		log_info("NATS: connected to %s", e->text);
		f->connected = 1;
		break;
	case EV_RECONNECTED:
		log_info("NATS: reconnected to %s", e->text);
		f->connected = 1;
		f->reconnects++;
		break;
	case EV_CLOSED:
		f->connected = 0;
		if (f->stopping || f->setup_running)
			break;
		/* acks will not come on it: a new connection sends again */
		log_warnx("NATS: connection closed; connecting again");
		requeue_all(f);
		start_setup(f);
		break;
	case EV_ERROR:
		log_warnx_rl(&rl_err, "NATS: %s", e->text);
		break;
	}
}

/* Everything libnats's threads queued, in order. */
static void
drain_queue(struct onats *f)
{
	struct nev *e;
	int lost;

	pthread_mutex_lock(&f->q.mu);
	e = f->q.head;
	f->q.head = f->q.tail = NULL;
	lost = f->q.lost;
	f->q.lost = 0;
	pthread_mutex_unlock(&f->q.mu);
	while (e) {
		struct nev *next = e->next;

		handle(f, e);
		free(e);
		e = next;
	}
	/* same ids: the server stores what it already had once */
	if (lost)
		requeue_all(f);
	pump(f);
}

static void
on_queue(int fd, short revents, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1) {
		/* EAGAIN: a spurious wake-up */
	}
	drain_queue(arg);
}

/* ---- batching (as fwd.c) -------------------------------------------- */

static void
seal(struct onats *f)
{
	static struct log_rl rl;
	struct buf *seg = &f->zgz;
	int kept;

	if (f->batch_n == 0)
		return;
	loop_timer_disarm(f->age_timer);
	if (gzip_compress(f->gz, &f->batch, &f->zgz) == -1) {
		log_warnx_rl(&rl, "cannot compress a batch of %llu events; "
		    "spooling it uncompressed", f->batch_n);
		seg = &f->batch;
	}
	kept = spool_append(f->spool, seg->data, seg->len, f->batch_first,
	    f->batch_last, f->batch_n, &f->loss) == 0;
	if (kept && f->report_in_batch)
		f->report_seq = f->batch_last;
	f->report_in_batch = 0;
	buf_reset(&f->batch);
	buf_reset(&f->zgz);
	f->batch_n = f->batch_first = f->batch_last = 0;
	pump(f);
}

static void
on_age_timer(void *arg)
{
	seal(arg);
}

static int
onats_write(void *ctx, const char *line, size_t len)
{
	struct onats *f = ctx;
	unsigned long long seq = seq_of(line, len);

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

/* Before sleeping: report drops through the chain, as fwd does. */
static void
onats_flush(void *ctx)
{
	struct onats *f = ctx;
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
	cJSON_AddStringToObject(ev, "cause", "spool_full");
	cJSON_AddNumberToObject(ev, "count", (double)l.events);
	cJSON_AddNumberToObject(ev, "lost_events", (double)l.events);
	cJSON_AddNumberToObject(ev, "lost_batches", (double)l.segments);
	cJSON_AddNumberToObject(ev, "lost_bytes", (double)l.bytes);
	snprintf(seq, sizeof(seq), "%llu", l.first_seq);
	cJSON_AddRawToObject(ev, "lost_first_seq", seq);
	snprintf(seq, sizeof(seq), "%llu", l.last_seq);
	cJSON_AddRawToObject(ev, "lost_last_seq", seq);
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
	    (f->gz = gzip_new()) == NULL) {
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
	if ((f->spool = spool_open(c->state_dir, c->spool_max_bytes,
	    c->spool_min_free)) == NULL)
		goto err;
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
		    next_queued(f) == NULL && spool_segments(f->spool) == 0)
			break;
		if (!f->setup_running && !f->ready)
			break;	/* never reached the stream */
		if (poll(&p, 1, (int)(deadline - loop_now_ms())) > 0 &&
		    read(f->q.efd, &n, sizeof(n)) == -1) {
			/* EAGAIN */
		}
		drain_queue(f);
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
		seal(f);
		f->retry_at = 0;
		pump(f);
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
	stop_setup(f);
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
		seg_drop(f, f->head);
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
};
