/*
 * witness.c - where signed checkpoints go besides the stream (see
 * witness.h). A witness line is a few hundred bytes every
 * checkpoint_interval: the https side keeps a small queue in memory
 * instead of a spool, and the file side writes through at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "fdio.h"
#include "fwd_curl.h"
#include "fwd_retry.h"
#include "log.h"
#include "thread.h"
#include "witness.h"

/* lines held while the witness is unreachable (~6 hours at 10 s) */
#define QUEUE_MAX 2048

struct witness {
	int fd;			/* file: */
	char *url;		/* https: */
	CURL *easy;
	struct curl_slist *headers;
	long timeout_ms;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *q[QUEUE_MAX];
	size_t qlen[QUEUE_MAX];
	size_t head, n;
	int stop;
	unsigned long long sent, failed, dropped;
};

static size_t
discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

/* POST one line. 0 on a 2xx. */
static int
post(struct witness *w, const char *line, size_t len)
{
	long status = 0;
	CURLcode res;

	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, line);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	res = curl_easy_perform(w->easy);
	if (res == CURLE_OK)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
	return res == CURLE_OK && status >= 200 && status < 300 ? 0 : -1;
}

static void *
sender(void *arg)
{
	static struct log_rl rl;
	struct witness *w = arg;
	unsigned failures = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		char *line;
		size_t len;
		int ok;

		while (w->n == 0 && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->n == 0)
			break;
		line = w->q[w->head];
		len = w->qlen[w->head];
		pthread_mutex_unlock(&w->mu);
		ok = post(w, line, len) == 0;
		pthread_mutex_lock(&w->mu);
		if (ok) {
			free(line);
			w->head = (w->head + 1) % QUEUE_MAX;
			w->n--;
			w->sent++;
			failures = 0;
			continue;
		}
		w->failed++;
		log_warnx_rl(&rl, "checkpoint_output %s: not delivered; "
		    "retrying", w->url);
		if (w->stop)
			break;
		{
			/* back off, but wake up at once for a stop */
			long ms = fwd_retry_backoff_ms(++failures);
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += ms / 1000;
			ts.tv_nsec += (ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int
open_https(struct witness *w, const struct conf *c)
{
	char why[512];

	if (fwd_curl_check_url(c->checkpoint_output, c->allow_http, why,
	    sizeof(why)) == -1) {
		log_warnx("checkpoint_output: %s", why);
		return -1;
	}
	if ((w->url = strdup(c->checkpoint_output)) == NULL ||
	    (w->easy = curl_easy_init()) == NULL ||
	    (w->headers = curl_slist_append(NULL,
	    "Content-Type: application/x-ndjson")) == NULL)
		return -1;
	w->timeout_ms = (long)c->timeout_ms;
	curl_easy_setopt(w->easy, CURLOPT_URL, w->url);
	curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(w->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(w->easy, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "podtrail/" PACKAGE_VERSION);
	if (*c->ca_file)
		curl_easy_setopt(w->easy, CURLOPT_CAINFO, c->ca_file);
	if (*c->client_cert && *c->client_key) {
		curl_easy_setopt(w->easy, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(w->easy, CURLOPT_SSLKEY, c->client_key);
	}
	/* the sender starts with witness_start, once identity is final */
	return 0;
}

int
witness_start(struct witness *w)
{
	if (w == NULL || w->easy == NULL || w->started)
		return 0;
	if (thread_start(&w->thread, sender, w, "witness") == -1)
		return -1;
	w->started = 1;
	return 0;
}

struct witness *
witness_open(const struct conf *c)
{
	struct witness *w = calloc(1, sizeof(*w));
	const char *spec = c->checkpoint_output;

	if (w == NULL) {
		log_warn("witness");
		return NULL;
	}
	w->fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (strncmp(spec, "file:", 5) == 0) {
		if ((w->fd = open(spec + 5, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600)) == -1) {
			log_warn("checkpoint_output %s", spec + 5);
			goto err;
		}
	} else if (open_https(w, c) == -1) {
		log_warnx("checkpoint_output %s: cannot be used", spec);
		goto err;
	}
	return w;
err:
	(void)witness_close(w);
	return NULL;
}

int
witness_write(struct witness *w, const char *line, size_t len)
{
	static struct log_rl rl;
	char *copy;

	if ((copy = malloc(len + 2)) == NULL) {
		w->failed++;
		log_warnx_rl(&rl, "checkpoint_output: out of memory");
		return -1;
	}
	memcpy(copy, line, len);
	copy[len] = '\n';
	copy[len + 1] = '\0';
	if (w->fd != -1) {
		/* a witness line is tiny and rare: write it through */
		int rc = fd_write_all(w->fd, copy, len + 1) == -1 ||
		    fsync(w->fd) == -1 ? -1 : 0;

		if (rc == -1) {
			w->failed++;
			log_warnx_rl(&rl, "checkpoint_output: %s",
			    strerror(errno));
		} else
			w->sent++;
		free(copy);
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	if (w->n == QUEUE_MAX) {
		/* keep the newest: a verifier needs the latest checkpoints */
		free(w->q[w->head]);
		w->head = (w->head + 1) % QUEUE_MAX;
		w->n--;
		w->dropped++;
		log_warnx_rl(&rl, "checkpoint_output: queue full; oldest "
		    "checkpoint dropped");
	}
	w->q[(w->head + w->n) % QUEUE_MAX] = copy;
	w->qlen[(w->head + w->n) % QUEUE_MAX] = len + 1;
	w->n++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
witness_stats(struct witness *w, cJSON *obj)
{
	pthread_mutex_lock(&w->mu);
	cJSON_AddNumberToObject(obj, "witness_sent", (double)w->sent);
	cJSON_AddNumberToObject(obj, "witness_failed", (double)w->failed);
	cJSON_AddNumberToObject(obj, "witness_dropped", (double)w->dropped);
	cJSON_AddNumberToObject(obj, "witness_queued", (double)w->n);
	pthread_mutex_unlock(&w->mu);
}

int
witness_close(struct witness *w)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (w->n) {
		log_warnx("checkpoint_output %s: %zu checkpoints not delivered",
		    w->url ? w->url : "", w->n);
		rc = -1;
	}
	while (w->n) {
		free(w->q[w->head]);
		w->head = (w->head + 1) % QUEUE_MAX;
		w->n--;
	}
	if (w->fd != -1 && close(w->fd) == -1)
		rc = -1;
	curl_slist_free_all(w->headers);
	if (w->easy)
		curl_easy_cleanup(w->easy);
	free(w->url);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}
