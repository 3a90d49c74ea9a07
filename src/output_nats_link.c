/*
 * output_nats_link.c - the nats:// output's connection. libnats runs
 * its own threads (reader, flusher, timers, callbacks), all started
 * from one set-up thread (thread_start: no signals, no capabilities)
 * on the loop's first turn, after privileges are final. Their
 * callbacks only queue an event and poke an eventfd; the loop reads it
 * and touches podtrail's state. The set-up thread connects (which may
 * wait on the network) and makes sure the stream exists, so the loop
 * never waits for a server.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "log.h"
#include "loop.h"
#include "output_nats.h"
#include "output_nats_int.h"
#include "output_nats_link.h"
#include "output_nats_pub.h"
#include "thread.h"

/* between tries to reach JetStream while it has no stream or no leader */
#define SETUP_RETRY_MS 2000

/*
 * The stream podtrail creates when it is missing; deploy/nats-stream.json
 * says the same (tests/integration/901 compares them).
 */
#define STREAM_REPLICAS 3
#define STREAM_MAX_AGE_S (90LL * 86400)		/* 90 days, then discarded */
#define STREAM_DUP_WINDOW_S 3600LL		/* a retry within 1 h is stored once */
#define NS 1000000000LL

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
		char why[256];

		nats_err(f->nc, s, why, sizeof(why));
		snprintf(err, len, "cannot connect: %.200s; retrying", why);
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

void
output_nats_link_start(struct onats *f)
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

void
output_nats_link_stop(struct onats *f)
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
handle(struct onats *f, struct nev *e)
{
	static struct log_rl rl_note, rl_err;

	switch (e->kind) {
	case EV_ACK:
		output_nats_pub_ack(f, e);
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
		output_nats_pub_requeue(f);
		output_nats_link_start(f);
		break;
	case EV_ERROR:
		log_warnx_rl(&rl_err, "NATS: %s", e->text);
		break;
	}
}

/* Everything libnats's threads queued, in order. */
void
output_nats_link_drain(struct onats *f)
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
		output_nats_pub_requeue(f);
	output_nats_pub_pump(f);
}

