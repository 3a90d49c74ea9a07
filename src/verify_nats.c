/*
 * verify_nats.c - a JetStream stream as NDJSON for podtrail-verify.
 *
 * A pull consumer (durable: its position lives on the servers, so a
 * leader change or a reconnect resumes where it stopped) is fetched in
 * batches from fopencookie's read; every message is one batch podtrail
 * published (gzip'd when Content-Encoding says so), acked once its lines
 * are handed over.
 *
 * The consumer's bookkeeping is not trusted for completeness: a leader
 * change can redeliver what was read, or hold back what was delivered
 * and not acked until its ack wait ends. So every message is taken by
 * its stream sequence, once (a redelivery is acked and skipped), and
 * when the consumer has nothing left to deliver, any sequence of the
 * stream not yet taken is read directly by number. The read ends when
 * every message the stream holds from the start point on was taken.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "buf.h"
#include "gzip.h"
#include "log.h"
#include "output_nats.h"
#include "verify_nats.h"

#define FETCH_BATCH 64
#define FETCH_WAIT_MS 1000

struct vnats {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;	/* the inbox pulled messages come to */
	natsInbox *inbox;
	char next[512];		/* the consumer's pull subject */
	char **urls;
	int nurls;
	char stream[256], durable[128];
	int keep;		/* a named durable: not deleted at the end */
	int made;		/* the consumer exists (to delete unless kept) */
	long wait_ms;
	struct gzip *gz;
	struct buf out, in, plain;
	size_t pos;
	int done, failed;
	unsigned long long msgs;
	/* stream sequences taken, as bits from base on */
	unsigned char *seen;
	size_t seen_len;
	unsigned long long base;
	unsigned long long redelivered, direct;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nerr(const char *what, natsStatus s, int jerr)
{
	const char *t = nats_GetLastError(NULL);

	log_warnx("%s: %s (JetStream error %d)", what,
	    t && *t ? t : natsStatus_GetText(s), jerr);
}

/* key=value from the query; 0, or -1 for an unknown key (logged). */
static int
set_option(struct vnats *v, const char *k, size_t kl, const char *val,
    char **ca, char **cert, char **key, char **creds)
{
	char **slot = NULL;

#define IS(name) (kl == strlen(name) && strncmp(k, name, kl) == 0)
	if (IS("durable")) {
		snprintf(v->durable, sizeof(v->durable), "%s", val);
		v->keep = 1;
		return 0;
	}
	if (IS("wait")) {
		v->wait_ms = strtol(val, NULL, 10) * 1000;
		return v->wait_ms > 0 ? 0 : -1;
	}
	if (IS("ca_file"))
		slot = ca;
	else if (IS("client_cert"))
		slot = cert;
	else if (IS("client_key"))
		slot = key;
	else if (IS("nats_creds"))
		slot = creds;
#undef IS
	if (slot == NULL) {
		log_warnx("unknown option '%.*s' (durable, wait, ca_file, "
		    "client_cert, client_key, nats_creds)", (int)kl, k);
		return -1;
	}
	free(*slot);
	return (*slot = strdup(val)) == NULL ? -1 : 0;
}

/* Split URL into servers, stream and options. 0, or -1 (logged). */
static int
parse_url(struct vnats *v, const char *url, char **ca, char **cert,
    char **key, char **creds)
{
	const char *slash = strchr(url + 7, '/'), *q;
	char *servers = NULL, *opts = NULL;
	int loopback, rc = -1;

	if (slash == NULL || slash[1] == '\0' || slash[1] == '?') {
		log_warnx("%s: expected nats://HOST:PORT[,HOST:PORT...]/STREAM",
		    url);
		return -1;
	}
	q = strchr(slash, '?');
	snprintf(v->stream, sizeof(v->stream), "%.*s", q ? (int)(q - slash -
	    1) : (int)strlen(slash + 1), slash + 1);
	if ((servers = strndup(url, (size_t)(slash - url))) == NULL ||
	    (q && (opts = strdup(q + 1)) == NULL))
		goto out;
	if ((v->nurls = output_nats_servers(servers, &v->urls, &loopback)) < 0)
		goto out;
	for (const char *t = opts; t && *t;) {
		size_t n = strcspn(t, "&");
		const char *eq = memchr(t, '=', n);
		char *val;
		int r;

		if (eq == NULL) {
			log_warnx("%s: option '%.*s' needs =VALUE", url, (int)n,
			    t);
			goto out;
		}
		if ((val = strndup(eq + 1, n - (size_t)(eq + 1 - t))) == NULL)
			goto out;
		r = set_option(v, t, (size_t)(eq - t), val, ca, cert, key,
		    creds);
		free(val);
		if (r == -1)
			goto out;
		t += n + (t[n] == '&');
	}
	rc = 0;
out:
	free(servers);
	free(opts);
	return rc;
}

static int
connect_to(struct vnats *v, const char *ca, const char *cert,
    const char *key, const char *creds)
{
	jsOptions jo;
	natsStatus s;

	s = natsOptions_Create(&v->opts);
	ONATS_IFOK(s, natsOptions_SetServers(v->opts, (const char **)v->urls,
	    v->nurls));
	ONATS_IFOK(s, natsOptions_SetName(v->opts, "podtrail-verify"));
	/* the first connect waits for a server, but no longer than wait */
	ONATS_IFOK(s, natsOptions_SetMaxReconnect(v->opts,
	    (int)(v->wait_ms / 250) + 1));
	ONATS_IFOK(s, natsOptions_SetReconnectWait(v->opts, 250));
	ONATS_IFOK(s, natsOptions_SetRetryOnFailedConnect(v->opts, true, NULL,
	    NULL));
	if (s == NATS_OK && (ca || cert)) {
		s = natsOptions_SetSecure(v->opts, true);
		if (s == NATS_OK && ca)
			s = natsOptions_LoadCATrustedCertificates(v->opts, ca);
		if (s == NATS_OK && cert)
			s = natsOptions_LoadCertificatesChain(v->opts, cert,
			    key ? key : "");
	}
	if (s == NATS_OK && creds)
		s = natsOptions_SetUserCredentialsFromFiles(v->opts, creds,
		    NULL);
	if (s != NATS_OK) {
		nerr("NATS options", s, 0);
		return -1;
	}
	s = natsConnection_Connect(&v->nc, v->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		nerr("connecting to NATS", s, 0);
		return -1;
	}
	jsOptions_Init(&jo);
	if ((s = natsConnection_JetStream(&v->js, v->nc, &jo)) != NATS_OK) {
		nerr("JetStream", s, 0);
		return -1;
	}
	return 0;
}

/* The ack floor of a durable that existed: where this run starts. */
static int
consumer_base(struct vnats *v)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_GetConsumerInfo(&ci, v->js, v->stream, v->durable, NULL, &jerr);
	if (s != NATS_OK) {
		nerr(v->durable, s, (int)jerr);
		return -1;
	}
	v->base = ci->AckFloor.Stream + 1;
	jsConsumerInfo_Destroy(ci);
	return 0;
}

/* Make (or find) the consumer and bind to it, retrying until wait_ms. */
static int
subscribe(struct vnats *v)
{
	long long deadline = now_ms() + v->wait_ms;
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsConsumerConfig_Init(&cc);
	cc.Durable = v->durable;
	cc.Description = "podtrail-verify";
	cc.DeliverPolicy = js_DeliverAll;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = 60LL * 1000000000;
	cc.MaxAckPending = 4 * FETCH_BATCH;
	for (;;) {
		jerr = 0;
		s = js_AddConsumer(&ci, v->js, v->stream, &cc, NULL, &jerr);
		if (s == NATS_OK) {
			v->made = 1;
			break;
		}
		/* a named durable made by an earlier run, maybe otherwise */
		if (v->keep && jerr == JSConsumerNameExistErr) {
			s = NATS_OK;
			break;
		}
		if (jerr == JSStreamNotFoundErr || now_ms() >= deadline) {
			nerr(v->stream, s, (int)jerr);
			return -1;
		}
		nats_Sleep(250);
	}
	/* a durable resumed: what it acked before is an earlier run's */
	v->base = ci ? ci->AckFloor.Stream + 1 : 1;
	jsConsumerInfo_Destroy(ci);
	if (ci == NULL && consumer_base(v) == -1)
		return -1;
	/*
	 * Pull by hand, not with natsSubscription_Fetch: libnats before 3.10
	 * (nats.c #749) writes past its message array when a fetch starts
	 * with late messages of an earlier pull queued, as leader changes
	 * leave them. Here each message is taken as it comes.
	 */
	if ((size_t)snprintf(v->next, sizeof(v->next),
	    "$JS.API.CONSUMER.MSG.NEXT.%s.%s", v->stream, v->durable) >=
	    sizeof(v->next)) {
		log_warnx("%s: stream or consumer name too long", v->stream);
		return -1;
	}
	if ((s = natsInbox_Create(&v->inbox)) != NATS_OK ||
	    (s = natsConnection_SubscribeSync(&v->sub, v->nc, v->inbox)) !=
	    NATS_OK) {
		nerr(v->stream, s, 0);
		return -1;
	}
	return 0;
}

/* Has the consumer nothing left to deliver? 1 yes, 0 no or unknown. */
static int
delivered_all(struct vnats *v)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	int end = 0;

	if (js_GetConsumerInfo(&ci, v->js, v->stream, v->durable, NULL,
	    &jerr) == NATS_OK) {
		end = ci->NumPending == 0;
		jsConsumerInfo_Destroy(ci);
	}
	return end;
}

/*
 * Mark seq taken: 1 if it is new, 0 if taken already or before this
 * run's start, -1 on ENOMEM.
 */
static int
mark(struct vnats *v, unsigned long long seq)
{
	unsigned long long bit;
	size_t i;

	if (seq < v->base)
		return 0;
	bit = seq - v->base;
	if (bit / 8 >= SIZE_MAX / 2)
		return -1;
	i = (size_t)(bit / 8);
	if (i >= v->seen_len) {
		size_t n = v->seen_len ? v->seen_len : 4096;
		unsigned char *p;

		while (n <= i)
			n *= 2;
		if ((p = realloc(v->seen, n)) == NULL)
			return -1;
		memset(p + v->seen_len, 0, n - v->seen_len);
		v->seen = p;
		v->seen_len = n;
	}
	if (v->seen[i] & (1u << (bit % 8)))
		return 0;
	v->seen[i] |= (unsigned char)(1u << (bit % 8));
	return 1;
}

static int
taken(const struct vnats *v, unsigned long long seq)
{
	unsigned long long bit = seq - v->base;

	return seq < v->base || (bit / 8 < v->seen_len &&
	    (v->seen[bit / 8] & (1u << (bit % 8))));
}

/*
 * Message seq's lines onto v->out, unless it was taken already. 0, or
 * -1 (logged: a read error).
 */
static int
take(struct vnats *v, natsMsg *m, unsigned long long seq)
{
	const char *enc = NULL;
	const struct buf *lines = &v->in;
	int len = natsMsg_GetDataLength(m), r;

	if ((r = mark(v, seq)) == -1)
		goto nomem;
	if (r == 0) {
		v->redelivered++;
		return 0;
	}
	buf_reset(&v->in);
	if (len > 0 && buf_add(&v->in, natsMsg_GetData(m), (size_t)len) == -1)
		goto nomem;
	if (natsMsgHeader_Get(m, "Content-Encoding", &enc) == NATS_OK && enc &&
	    strcmp(enc, "gzip") == 0) {
		r = gzip_decompress(v->gz, &v->in, &v->plain);
		if (r == -1)
			goto nomem;
		if (r == -2) {
			log_warnx("%s: message %llu says gzip but is not valid "
			    "gzip", v->stream, seq);
			errno = EBADMSG;
			return -1;
		}
		lines = &v->plain;
	}
	if (buf_add(&v->out, lines->data ? lines->data : "", lines->len) == -1 ||
	    (lines->len && lines->data[lines->len - 1] != '\n' &&
	    buf_addc(&v->out, '\n') == -1))
		goto nomem;
	v->msgs++;
	return 0;
nomem:
	log_warn("%s", v->stream);
	return -1;
}

/*
 * The consumer delivered everything: read what it did not hand to us
 * (held back by a leader change) directly by sequence, up to the
 * stream's last. 0, or -1 (a read error, logged).
 */
static int
take_rest(struct vnats *v)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	unsigned long long first, last;
	natsStatus s;

	if ((s = js_GetStreamInfo(&si, v->js, v->stream, NULL, &jerr)) !=
	    NATS_OK) {
		nerr(v->stream, s, (int)jerr);
		return -1;
	}
	first = si->State.FirstSeq > v->base ? si->State.FirstSeq : v->base;
	last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	for (unsigned long long seq = first; seq && seq <= last; seq++) {
		natsMsg *m = NULL;
		int r;

		if (taken(v, seq))
			continue;
		jerr = 0;
		s = js_GetMsg(&m, v->js, v->stream, seq, NULL, &jerr);
		if (s != NATS_OK && jerr == JSNoMessageFoundErr)
			continue;	/* deleted (by age): the verifier sees it */
		if (s != NATS_OK) {
			nerr(v->stream, s, (int)jerr);
			return -1;
		}
		r = take(v, m, seq);
		natsMsg_Destroy(m);
		if (r == -1)
			return -1;
		v->direct++;
	}
	return 0;
}

/* A pull's status message: its code (404, 408, 409, ...), or 0 for data. */
static int
status_of(natsMsg *m)
{
	const char *val = NULL;

	if (natsMsg_GetDataLength(m) > 0 ||
	    natsMsgHeader_Get(m, "Status", &val) != NATS_OK || val == NULL)
		return 0;
	return atoi(val);
}

/*
 * Ask the consumer for up to FETCH_BATCH messages and take what comes
 * within FETCH_WAIT_MS. *got counts data messages, *last is set when one
 * says nothing is pending. NATS_OK, or the status that ended the pull
 * early (NATS_TIMEOUT when it ended with nothing to give).
 */
static natsStatus
pull(struct vnats *v, int *got, int *last, int *failed)
{
	static struct log_rl rl;
	char req[96];
	long long end = now_ms() + FETCH_WAIT_MS;
	natsStatus s;

	/* the server ends the request a little before we stop waiting */
	snprintf(req, sizeof(req), "{\"batch\":%d,\"expires\":%lld}",
	    FETCH_BATCH, (long long)(FETCH_WAIT_MS - 20) * 1000000);
	s = natsConnection_PublishRequestString(v->nc, v->next, v->inbox,
	    req);
	for (int n = 0; s == NATS_OK && n < FETCH_BATCH; ) {
		natsMsg *m = NULL;
		jsMsgMetaData *md = NULL;
		long long left = end - now_ms();
		int st, r;

		if (left <= 0)
			return NATS_TIMEOUT;
		if ((s = natsSubscription_NextMsg(&m, v->sub, left)) != NATS_OK)
			break;
		if ((st = status_of(m)) != 0) {
			const char *why = NULL;

			if (st == 100) {	/* an idle heartbeat */
				natsMsg_Destroy(m);
				continue;
			}
			/* 404, 408: nothing more now; 409: a leader change... */
			if (st != 404 && st != 408) {
				natsMsgHeader_Get(m, "Description", &why);
				log_warnx_rl(&rl, "%s: pull ended: %d %s; "
				    "retrying", v->stream, st, why ? why : "");
				nats_Sleep(250);
			}
			natsMsg_Destroy(m);
			return NATS_TIMEOUT;
		}
		if (natsMsg_GetMetaData(&md, m) != NATS_OK) {
			log_warnx("%s: a message without JetStream metadata",
			    v->stream);
			natsMsg_Destroy(m);
			errno = EBADMSG;
			*failed = 1;
			return NATS_ERR;
		}
		r = take(v, m, md->Sequence.Stream);
		*last = md->NumPending == 0;
		jsMsgMetaData_Destroy(md);
		if (r == 0)
			natsConnection_PublishString(v->nc,
			    natsMsg_GetReply(m), "+ACK");
		natsMsg_Destroy(m);
		if (r == -1) {
			*failed = 1;
			return NATS_ERR;
		}
		n++;
		*got = 1;
	}
	return s;
}

/* Refill v->out from the consumer. 0 (maybe done), or -1 (a read error). */
static int
fill(struct vnats *v)
{
	long long deadline = now_ms() + v->wait_ms;
	static struct log_rl rl;

	while (!v->done) {
		int got = 0, last = 0, failed = 0;
		natsStatus s;

		s = pull(v, &got, &last, &failed);
		if (failed)
			return -1;
		if ((last || (s == NATS_TIMEOUT && !got)) && delivered_all(v)) {
			if (take_rest(v) == -1)
				return -1;
			v->done = 1;
			break;
		}
		if (got)
			return 0;
		if (s != NATS_TIMEOUT && s != NATS_OK)
			log_warnx_rl(&rl, "%s: %s; retrying", v->stream,
			    natsStatus_GetText(s));
		if (now_ms() >= deadline) {
			log_warnx("%s: no progress for %ld s; giving up",
			    v->stream, v->wait_ms / 1000);
			errno = ETIMEDOUT;
			return -1;
		}
		if (s != NATS_TIMEOUT)
			nats_Sleep(250);
	}
	return 0;
}

static ssize_t
v_read(void *cookie, char *buf, size_t len)
{
	struct vnats *v = cookie;
	size_t n;

	if (v->failed)
		return -1;
	if (v->pos == v->out.len) {
		buf_reset(&v->out);
		v->pos = 0;
		while (v->out.len == 0 && !v->done)
			if (fill(v) == -1) {
				v->failed = 1;
				if (errno == 0)
					errno = EIO;
				return -1;
			}
	}
	n = v->out.len - v->pos;
	if (n > len)
		n = len;
	memcpy(buf, v->out.data + v->pos, n);
	v->pos += n;
	return (ssize_t)n;
}

static int
v_free(struct vnats *v)
{
	int rc = 0;

	if (v->redelivered || v->direct)
		log_warnx("%s: %llu messages delivered twice (skipped), %llu "
		    "read by sequence (held back by the consumer)",
		    v->stream, v->redelivered, v->direct);
	/* the acks are plain publishes: out before the connection goes */
	if (v->nc && natsConnection_FlushTimeout(v->nc, 2000) != NATS_OK)
		log_warnx("%s: acks not flushed (a resumed durable reads "
		    "them again)", v->stream);
	natsSubscription_Destroy(v->sub);
	natsInbox_Destroy(v->inbox);
	if (v->made) {
		/* a consumer made for this run goes with it */
		if (!v->keep && js_DeleteConsumer(v->js, v->stream, v->durable,
		    NULL, NULL) != NATS_OK) {
			log_warnx("%s: could not delete consumer %s (the "
			    "server drops it when idle)", v->stream,
			    v->durable);
			rc = -1;
		}
	}
	jsCtx_Destroy(v->js);
	natsConnection_Destroy(v->nc);
	natsOptions_Destroy(v->opts);
	if (v->opts)
		nats_CloseAndWait(2000);
	output_nats_free_servers(v->urls, v->nurls > 0 ? v->nurls : 0);
	gzip_free(v->gz);
	buf_free(&v->out);
	buf_free(&v->in);
	buf_free(&v->plain);
	free(v->seen);
	free(v);
	return rc;
}

static int
v_close(void *cookie)
{
	return v_free(cookie);
}

FILE *
vnats_open(const char *url)
{
	cookie_io_functions_t io = { .read = v_read, .close = v_close };
	struct vnats *v = calloc(1, sizeof(*v));
	char *ca = NULL, *cert = NULL, *key = NULL, *creds = NULL;
	unsigned r = 0;
	FILE *fp = NULL;

	if (v == NULL || (v->gz = gzip_new()) == NULL) {
		log_warn("%s", url);
		free(v);
		return NULL;
	}
	v->wait_ms = 60000;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)getpid();
	snprintf(v->durable, sizeof(v->durable), "podtrail-verify-%08x", r);
	if (parse_url(v, url, &ca, &cert, &key, &creds) == -1 ||
	    connect_to(v, ca, cert, key, creds) == -1 || subscribe(v) == -1)
		goto err;
	if ((fp = fopencookie(v, "r", io)) == NULL) {
		log_warn("%s", url);
		goto err;
	}
	goto out;
err:
	v_free(v);
out:
	free(ca);
	free(cert);
	free(key);
	free(creds);
	return fp;
}
