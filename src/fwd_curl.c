/*
 * fwd_curl.c - one HTTPS transfer at a time for the forwarder, with
 * libcurl's multi interface driven by the main loop
 * (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), so reading the audit
 * source never waits for the network. One easy handle is reused, so
 * the connection is kept alive between batches.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "conf.h"
#include "fwd_curl.h"
#include "fwd_format.h"
#include "log.h"
#include "loop.h"
#include "secret.h"

/* how much of an answer is kept: its start, or a whole _bulk answer */
#define RESP_KEEP 4096
#define RESP_KEEP_BULK ((size_t)64 << 20)
#define MAX_SOCKS 8

struct fwd_curl {
	struct loop *loop;
	CURLM *multi;
	CURL *easy;
	int busy;		/* the easy handle is in the multi */
	/* curl's detail for the last failure (expired, name mismatch...) */
	char errbuf[CURL_ERROR_SIZE];
	char *client_cert;	/* its path, to name it when it expires */
	struct curl_slist *headers;
	struct loop_timer *timer;
	/* curl's sockets, mirrored for fwd_curl_poll */
	struct { int fd; short events; } socks[MAX_SOCKS];
	long long deadline;	/* curl's timer, monotonic ms, -1 none */
	struct buf resp;
	size_t resp_keep;
	fwd_curl_done_fn *done;
	void *arg;
};

/* ---- curl <-> loop -------------------------------------------------- */

static void
check_done(struct fwd_curl *fc)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(fc->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == fc->easy &&
		    fc->busy) {
			CURLcode res = m->data.result;
			long status = 0;

			curl_easy_getinfo(fc->easy, CURLINFO_RESPONSE_CODE,
			    &status);
			curl_multi_remove_handle(fc->multi, fc->easy);
			fc->busy = 0;
			fc->done(fc->arg, res, status);
		}
}

static void
sock_note(struct fwd_curl *fc, int fd, short events)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_SOCKS; i++) {
		if (fc->socks[i].fd == fd && events) {
			fc->socks[i].events = events;
			return;
		}
		if (fc->socks[i].fd == fd) {
			fc->socks[i].fd = -1;
			return;
		}
		if (fc->socks[i].fd == -1 && free_slot == -1)
			free_slot = i;
	}
	if (events && free_slot != -1) {
		fc->socks[free_slot].fd = fd;
		fc->socks[free_slot].events = events;
	}
}

static void
on_sock_ready(int fd, short revents, void *arg)
{
	struct fwd_curl *fc = arg;
	int flags = 0, running;

	if (revents & POLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(fc->multi, fd, flags, &running);
	check_done(fc);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct fwd_curl *fc = userp;
	short ev = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_fd_del(fc->loop, s);
		sock_note(fc, s, 0);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= POLLOUT;
	if (loop_fd_mod(fc->loop, s, ev) == -1 &&
	    loop_fd_add(fc->loop, s, ev, on_sock_ready, fc) == -1) {
		log_warn("loop");
		return -1;
	}
	sock_note(fc, s, ev);
	return 0;
}

static void
on_timer(void *arg)
{
	struct fwd_curl *fc = arg;
	int running;

	fc->deadline = -1;
	curl_multi_socket_action(fc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(fc);
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	struct fwd_curl *fc = userp;

	if (ms < 0) {
		loop_timer_disarm(fc->timer);
		fc->deadline = -1;
	} else {
		loop_timer_arm(fc->timer, ms);
		fc->deadline = loop_now_ms() + ms;
	}
	return 0;
}

static size_t
resp_cb(char *p, size_t size, size_t n, void *userp)
{
	struct fwd_curl *fc = userp;

	/* the start (error text), or a whole _bulk answer (its items) */
	if (fc->resp.len < fc->resp_keep)
		buf_add(&fc->resp, p, size * n);
	return size * n;
}

int
fwd_curl_poll(struct fwd_curl *fc, long long deadline)
{
	struct pollfd p[MAX_SOCKS];
	nfds_t n = 0;
	long long now = loop_now_ms(), wait = deadline - now;
	int running, r;

	if (fc->deadline >= 0 && fc->deadline - now < wait)
		wait = fc->deadline - now;
	if (wait < 0)
		wait = 0;
	for (int i = 0; i < MAX_SOCKS; i++)
		if (fc->socks[i].fd != -1)
			p[n++] = (struct pollfd){ fc->socks[i].fd,
			    fc->socks[i].events, 0 };
	r = poll(p, n, (int)wait);
	if (r == -1 && errno != EINTR)
		return -1;
	if (r > 0) {
		for (nfds_t i = 0; i < n; i++)
			if (p[i].revents)
				on_sock_ready(p[i].fd, p[i].revents, fc);
	} else if (fc->deadline >= 0 && loop_now_ms() >= fc->deadline) {
		on_timer(fc);
	} else if (r == 0 && n == 0) {
		curl_multi_socket_action(fc->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
		check_done(fc);
	}
	return 0;
}

/* ---- a transfer ----------------------------------------------------- */

int
fwd_curl_send(struct fwd_curl *fc, const char *body, size_t len,
    long timeout_ms)
{
	fc->errbuf[0] = '\0';
	buf_reset(&fc->resp);
	curl_easy_setopt(fc->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(fc->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curl_easy_setopt(fc->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(fc->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (curl_multi_add_handle(fc->multi, fc->easy) != CURLM_OK)
		return -1;	/* the caller says what it does next */
	fc->busy = 1;
	return 0;
}

const struct buf *
fwd_curl_answer(const struct fwd_curl *fc)
{
	return &fc->resp;
}

const char *
fwd_curl_error(const struct fwd_curl *fc, CURLcode res)
{
	return fc->errbuf[0] ? fc->errbuf : curl_easy_strerror(res);
}

long long
fwd_curl_retry_after(const struct fwd_curl *fc)
{
	curl_off_t s = 0;

	if (curl_easy_getinfo(fc->easy, CURLINFO_RETRY_AFTER, &s) != CURLE_OK)
		return 0;
	return s > 0 ? (long long)s : 0;
}

/* ---- set-up --------------------------------------------------------- */

static int
is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0;
}

int
fwd_curl_check_url(const char *url, int allow_http, char *err, size_t errlen)
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
add_header(struct fwd_curl *f, const char *h)
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
int
fwd_curl_check_header(const char *h, int have_auth)
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
add_auth(struct fwd_curl *f, const struct conf *c,
    const struct fwd_format *fmt)
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
		scheme = fmt->fmt == FWD_FMT_SPLUNK ? "Splunk" : "Bearer";
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
setup_easy(struct fwd_curl *f, const char *url, const struct conf *c,
    const struct fwd_format *fmt)
{
	struct buf h = BUF_INIT;
	int rc = -1;

	if ((f->easy = curl_easy_init()) == NULL) {
		log_warnx("curl_easy_init failed");
		goto cleanup;
	}
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
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
	    c->content_type : fwd_format_content_type(fmt)) == -1 ||
	    add_header(f, h.data) == -1 ||
	    add_header(f, "Content-Encoding: gzip") == -1)
		goto cleanup;
	/*
	 * Splunk HEC with indexer acknowledgment refuses a request without
	 * a channel (400, "Data channel is missing"); without it, HEC
	 * ignores the header. One random channel per run.
	 */
	if (fmt->fmt == FWD_FMT_SPLUNK) {
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
		if (fwd_curl_check_header(c->header.v[i], *c->token_file ||
		    *c->basic_auth_file || *c->api_key_file) == -1 ||
		    add_header(f, c->header.v[i]) == -1)
			goto cleanup;
	if (add_auth(f, c, fmt) == -1)
		goto cleanup;
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	rc = 0;
cleanup:
	buf_free(&h);
	return rc;
}


int
fwd_curl_check_client_cert(struct fwd_curl *fc, struct log_rl *rl)
{
	return fc->client_cert ? check_client_cert(fc->client_cert, rl) : 0;
}

struct fwd_curl *
fwd_curl_new(struct loop *loop, const char *url, const struct conf *c,
    const struct fwd_format *fmt, fwd_curl_done_fn *done, void *arg)
{
	static int curl_ready;
	struct fwd_curl *fc = calloc(1, sizeof(*fc));

	if (fc == NULL) {
		log_warn("output");
		return NULL;
	}
	for (int i = 0; i < MAX_SOCKS; i++)
		fc->socks[i].fd = -1;
	fc->deadline = -1;
	fc->loop = loop;
	fc->done = done;
	fc->arg = arg;
	fc->resp_keep = fmt->fmt == FWD_FMT_ES ? RESP_KEEP_BULK : RESP_KEEP;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("curl_global_init failed");
			goto err;
		}
		curl_ready = 1;
	}
	if (setup_easy(fc, url, c, fmt) == -1)
		goto err;
	if ((fc->multi = curl_multi_init()) == NULL) {
		log_warnx("curl_multi_init failed");
		goto err;
	}
	curl_multi_setopt(fc->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(fc->multi, CURLMOPT_SOCKETDATA, fc);
	curl_multi_setopt(fc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(fc->multi, CURLMOPT_TIMERDATA, fc);
	if ((fc->timer = loop_timer_new(loop, on_timer, fc)) == NULL) {
		log_warn("timer");
		goto err;
	}
	return fc;
err:
	fwd_curl_free(fc);
	return NULL;
}

void
fwd_curl_free(struct fwd_curl *fc)
{
	if (fc == NULL)
		return;
	if (fc->multi && fc->easy && fc->busy)
		curl_multi_remove_handle(fc->multi, fc->easy);
	if (fc->multi)
		curl_multi_cleanup(fc->multi);
	if (fc->easy)
		curl_easy_cleanup(fc->easy);
	curl_slist_free_all(fc->headers);
	loop_timer_free(fc->timer);
	buf_free(&fc->resp);
	free(fc->client_cert);
	free(fc);
}
