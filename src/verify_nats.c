/*
 * verify_nats.c - a JetStream stream as NDJSON for podtrail-verify.
 *
 * A pull consumer (durable: its position lives on the servers, so a
 * leader change or a reconnect resumes where it stopped) is fetched in
 * batches from fopencookie's read; every message is one batch podtrail
 * published (gzip'd when Content-Encoding says so), acked once its lines
 * are handed over. The read ends when the consumer has nothing pending.
 */
#include "config.h"

#include <errno.h>
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
	natsSubscription *sub;
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

/* Make (or find) the consumer and bind to it, retrying until wait_ms. */
static int
subscribe(struct vnats *v)
{
	long long deadline = now_ms() + v->wait_ms;
	jsConsumerConfig cc;
	jsSubOptions so;
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
	if (ci && ci->NumPending == 0 && ci->NumAckPending == 0)
		v->done = 1;
	jsConsumerInfo_Destroy(ci);
	jsSubOptions_Init(&so);
	so.Stream = v->stream;
	so.Consumer = v->durable;
	for (;;) {
		jerr = 0;
		s = js_PullSubscribe(&v->sub, v->js, NULL, v->durable, NULL, &so,
		    &jerr);
		if (s == NATS_OK)
			return 0;
		if (now_ms() >= deadline) {
			nerr(v->stream, s, (int)jerr);
			return -1;
		}
		nats_Sleep(250);
	}
}

/* Is the consumer at the stream's end? 1 yes, 0 no or unknown. */
static int
at_end(struct vnats *v)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	int end = 0;

	if (js_GetConsumerInfo(&ci, v->js, v->stream, v->durable, NULL,
	    &jerr) == NATS_OK) {
		end = ci->NumPending == 0 && ci->NumAckPending == 0;
		jsConsumerInfo_Destroy(ci);
	}
	return end;
}

/* One message's lines onto v->out. 0, or -1 (logged: a read error). */
static int
take(struct vnats *v, natsMsg *m)
{
	const char *enc = NULL;
	const struct buf *lines = &v->in;
	int len = natsMsg_GetDataLength(m);

	buf_reset(&v->in);
	if (len > 0 && buf_add(&v->in, natsMsg_GetData(m), (size_t)len) == -1)
		goto nomem;
	if (natsMsgHeader_Get(m, "Content-Encoding", &enc) == NATS_OK && enc &&
	    strcmp(enc, "gzip") == 0) {
		int r = gzip_decompress(v->gz, &v->in, &v->plain);

		if (r == -1)
			goto nomem;
		if (r == -2) {
			jsMsgMetaData *md = NULL;
			unsigned long long seq = 0;

			if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
				seq = md->Sequence.Stream;
				jsMsgMetaData_Destroy(md);
			}
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

/* Refill v->out from the consumer. 0 (maybe done), or -1 (a read error). */
static int
fill(struct vnats *v)
{
	long long deadline = now_ms() + v->wait_ms;
	static struct log_rl rl;

	while (!v->done) {
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		natsStatus s;
		int got = 0;

		s = natsSubscription_Fetch(&list, v->sub, FETCH_BATCH,
		    FETCH_WAIT_MS, &jerr);
		for (int i = 0; s == NATS_OK && i < list.Count; i++) {
			natsMsg *m = list.Msgs[i];
			jsMsgMetaData *md = NULL;

			if (take(v, m) == -1) {
				natsMsgList_Destroy(&list);
				return -1;
			}
			natsMsg_Ack(m, NULL);
			if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
				if (md->NumPending == 0 && i == list.Count - 1)
					v->done = at_end(v) || v->done;
				jsMsgMetaData_Destroy(md);
			}
			got = 1;
		}
		natsMsgList_Destroy(&list);
		if (got)
			return 0;
		if (s == NATS_TIMEOUT && at_end(v)) {
			v->done = 1;
			break;
		}
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

	natsSubscription_Destroy(v->sub);
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
