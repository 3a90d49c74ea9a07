/*
 * metrics.c - counters for node_exporter's textfile collector. The
 * counters come as the same flat JSON object the heartbeat carries, so
 * a new counter anywhere shows up here without touching this file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

struct metrics {
	struct loop *loop;
	struct loop_timer *timer;
	metrics_collect_cb collect;
	void *arg;
	char *path;
	long interval_ms;
	struct buf text;
};

/* Counters that are losses, and the cause each one stands for. */
static const struct {
	const char *counter, *cause;
} loss_causes[] = {
	{ "kernel_lost", "kernel" },		/* audit backlog overflow */
	{ "serials_missing", "netlink_overrun" },	/* ENOBUFS on our socket */
	{ "ring_lost_serials", "ring_full" },	/* drain thread's ring full */
	{ "fwd_lost_events", "spool_full" },	/* spool cap or disk floor */
	{ "fwd_dead_events", "rejected" },	/* 4xx, set aside */
	/* the nats:// output's (one output runs: never both) */
	{ "nats_lost_events", "spool_full" },
	{ "nats_dead_events", "rejected" },	/* too large for the stream */
	{ "write_errors", "output" },
};

/* Prometheus names are [a-zA-Z_:][a-zA-Z0-9_:]*; counters are ours. */
static int
add_name(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')))
			c = '_';
		if (buf_addc(b, c) == -1)
			return -1;
	}
	return 0;
}

static int
add_sample(struct buf *b, const char *name, const char *label,
    const char *lval, double v)
{
	if (buf_adds(b, "podtrail_") == -1 || add_name(b, name) == -1)
		return -1;
	if (label && (buf_printf(b, "{%s=\"", label) == -1 ||
	    add_name(b, lval) == -1 || buf_adds(b, "\"}") == -1))
		return -1;
	return buf_printf(b, " %.17g\n", v);
}

/* A label value as Prometheus' text format escapes it: \\, \", \n. */
static int
add_value(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (s[i] == '\\' || s[i] == '"')
			rc = buf_addc(b, '\\') == -1 ? -1 : buf_addc(b, s[i]);
		else if (s[i] == '\n')
			rc = buf_adds(b, "\\n");
		else
			rc = buf_addc(b, s[i]);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * Objects whose member names are label values kept verbatim (mount
 * points, pod UIDs); with label2, a member "A/B" gives label=A,
 * label2=B (B may hold more '/').
 */
static const struct {
	const char *object, *label, *label2;
} verbatim[] = {
	{ "disk_used_pct", "mount", NULL },
	{ "disk_free_bytes", "mount", NULL },
	{ "volume_written_bytes", "pod_uid", "volume" },
	{ "container_violations_by_requirement", "requirement", NULL },
};

static int
add_verbatim(struct buf *b, size_t k, const char *name, const char *member,
    double v)
{
	const char *slash = verbatim[k].label2 ? strchr(member, '/') : NULL;
	size_t n = slash ? (size_t)(slash - member) : strlen(member);

	if (buf_adds(b, "podtrail_") == -1 || add_name(b, name) == -1 ||
	    buf_printf(b, "{%s=\"", verbatim[k].label) == -1 ||
	    add_value(b, member, n) == -1)
		return -1;
	if (slash && (buf_printf(b, "\",%s=\"", verbatim[k].label2) == -1 ||
	    add_value(b, slash + 1, strlen(slash + 1)) == -1))
		return -1;
	return buf_printf(b, "\"} %.17g\n", v);
}

static long
verbatim_index(const char *object)
{
	for (size_t k = 0; k < sizeof(verbatim) / sizeof(verbatim[0]); k++)
		if (!strcmp(object, verbatim[k].object))
			return (long)k;
	return -1;
}

/* HELP and TYPE: promtool check metrics refuses a family without HELP */
static int
add_type(struct buf *b, const char *name)
{
	if (buf_adds(b, "# HELP podtrail_") == -1 || add_name(b, name) == -1 ||
	    buf_adds(b, " podtrail's ") == -1 || add_name(b, name) == -1 ||
	    buf_adds(b, " (see podtrail(8))\n") == -1)
		return -1;
	if (buf_adds(b, "# TYPE podtrail_") == -1 || add_name(b, name) == -1)
		return -1;
	return buf_adds(b, " untyped\n");
}

int
metrics_format(struct buf *out, const cJSON *counters)
{
	const cJSON *it, *sub;
	int any_loss = 0;

	cJSON_ArrayForEach(it, counters) {
		if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
			if (add_type(out, it->string) == -1 ||
			    add_sample(out, it->string, NULL, NULL,
			    cJSON_IsNumber(it) ? it->valuedouble :
			    cJSON_IsTrue(it)) == -1)
				return -1;
		} else if (cJSON_IsObject(it)) {
			/* {"events_by_type": {"audit": 3}} -> a label "type" */
			const char *label = "key";
			long k = verbatim_index(it->string);

			if (!strcmp(it->string, "events_by_type"))
				label = "type";
			if (add_type(out, it->string) == -1)
				return -1;
			if (k >= 0) {
				cJSON_ArrayForEach(sub, it)
					if (cJSON_IsNumber(sub) && add_verbatim(out,
					    (size_t)k, it->string, sub->string,
					    sub->valuedouble) == -1)
						return -1;
				continue;
			}
			cJSON_ArrayForEach(sub, it)
				if (cJSON_IsNumber(sub) && add_sample(out,
				    it->string, label, sub->string,
				    sub->valuedouble) == -1)
					return -1;
		}
	}
	for (size_t i = 0; i < sizeof(loss_causes) / sizeof(loss_causes[0]);
	    i++) {
		it = cJSON_GetObjectItemCaseSensitive(counters,
		    loss_causes[i].counter);
		if (!cJSON_IsNumber(it))
			continue;
		if (!any_loss++ && add_type(out, "lost_events") == -1)
			return -1;
		if (add_sample(out, "lost_events", "cause",
		    loss_causes[i].cause, it->valuedouble) == -1)
			return -1;
	}
	return 0;
}

int
metrics_write_file(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	int fd = -1, rc = -1;

	/* node_exporter must never read a half-written file */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		log_warn("metrics file %s", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1) {
		log_warn("metrics file %s", tmp);
		goto out;
	}
	if (fd_write_all(fd, text, len) == -1 || fsync(fd) == -1) {
		log_warn("write %s", tmp);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc == -1)
		unlink(tmp);
	return rc;
}

static void
write_now(struct metrics *m)
{
	static struct log_rl rl;
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL) {
		log_warnx_rl(&rl, "metrics: out of memory");
		return;
	}
	m->collect(o, m->arg);
	buf_reset(&m->text);
	if (metrics_format(&m->text, o) == -1)
		log_warnx_rl(&rl, "metrics: out of memory");
	else
		metrics_write_file(m->path, m->text.data, m->text.len);
	cJSON_Delete(o);
}

static void
tick(void *arg)
{
	struct metrics *m = arg;

	write_now(m);
	loop_timer_arm(m->timer, m->interval_ms);
}

struct metrics *
metrics_new(struct loop *loop, metrics_collect_cb cb, void *arg)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->timer = loop_timer_new(loop, tick, m)) == NULL) {
		log_warn("metrics");
		free(m);
		return NULL;
	}
	m->loop = loop;
	m->collect = cb;
	m->arg = arg;
	return m;
}

int
metrics_configure(struct metrics *m, const char *path, long interval_s)
{
	char *p = NULL;

	if (path && *path && (p = strdup(path)) == NULL) {
		log_warn("metrics");
		return -1;
	}
	free(m->path);
	m->path = p;
	m->interval_ms = interval_s * 1000;
	if (m->path)
		loop_timer_arm(m->timer, 0);
	else
		loop_timer_disarm(m->timer);
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->path)
		write_now(m);
	loop_timer_free(m->timer);
	buf_free(&m->text);
	free(m->path);
	free(m);
}
