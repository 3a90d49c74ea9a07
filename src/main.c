/*
 * main.c - podtrail: options, signals, and the wiring of source,
 * pipeline and loop. Nothing else lives here.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ckpt.h"
#include "cli.h"
#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "pipeline.h"
#include "priv.h"
#include "rules.h"
#include "source.h"
#include "spool.h"
#include "thread.h"
#include "thread_plan.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t sig_term, sig_hup, sig_usr1;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		sig_term = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	}
}

struct ctx {
	int argc;
	char **argv;
	struct conf *c;
	struct loop *loop;
	struct metrics *metrics;
	struct pipeline *pl;
	struct source *src;
	struct rules *rules;
	struct loop_timer *heartbeat;
	long heartbeat_ms;
};

static void
rules_tap(const cJSON *ev, void *arg)
{
	rules_event(arg, ev);
}

static void
collect(cJSON *o, void *arg)
{
	struct ctx *cx = arg;

	pipeline_stats(cx->pl, o);
	source_stats(cx->src, o);
}

/* Log lines are cut at 1 KiB: the counters go out a few members a line. */
#define COUNTERS_LINE 900

static void
dump_stats(struct ctx *cx)
{
	cJSON *o = cJSON_CreateObject(), *part = NULL, *it;
	size_t len = 0;
	char *s = NULL;
	int more = 0;

	collect(o, cx);
	while (o && (it = o->child) != NULL) {
		char *one;
		size_t n;

		cJSON_DetachItemViaPointer(o, it);
		n = (one = cJSON_PrintUnformatted(it)) ? strlen(one) : 0;
		free(one);
		n += it->string ? strlen(it->string) + 4 : 4;
		if (part && len + n > COUNTERS_LINE) {
			if ((s = cJSON_PrintUnformatted(part)) != NULL)
				log_info("counters%s: %s", more++ ? " (cont.)" : "", s);
			free(s);
			cJSON_Delete(part);
			part = NULL;
			len = 0;
		}
		if (part == NULL && (part = cJSON_CreateObject()) == NULL) {
			cJSON_Delete(it);
			break;
		}
		cJSON_AddItemToObject(part, it->string, it);
		len += n;
	}
	if (part && (s = cJSON_PrintUnformatted(part)) != NULL)
		log_info("counters%s: %s", more ? " (cont.)" : "", s);
	free(s);
	cJSON_Delete(part);
	cJSON_Delete(o);
}

/* Lets an aggregator tell a quiet node from a dead one. */
static void
heartbeat(void *arg)
{
	struct ctx *cx = arg;
	cJSON *ev, *o;

	if ((ev = event_new_internal("podtrail_heartbeat",
	    pipeline_node(cx->pl))) != NULL &&
	    (o = cJSON_AddObjectToObject(ev, "counters")) != NULL) {
		collect(o, cx);
	}
	if (ev)
		pipeline_emit(cx->pl, ev);
	loop_timer_arm(cx->heartbeat, cx->heartbeat_ms);
}

static void
changed(const char *name, int live, void *arg)
{
	if (live)
		log_info("reload: %s changed", name);
	else
		log_warnx("reload: %s changed, needs a restart (keeping the "
		    "running value)", name);
}

/* Apply the live settings of a freshly read configuration. */
static void
apply(struct ctx *cx)
{
	struct conf *c = cx->c;

	log_init(c->foreground, (enum log_level)log_level_parse(c->log_level),
	    "podtrail");
	cx->heartbeat_ms = (long)c->heartbeat_interval * 1000;
	if (cx->heartbeat_ms)
		loop_timer_arm(cx->heartbeat, cx->heartbeat_ms);
	else
		loop_timer_disarm(cx->heartbeat);
	metrics_configure(cx->metrics, c->metrics_file,
	    (long)c->metrics_interval);
	pipeline_reconfigure(cx->pl, c);
}

/* SIGHUP: the file and flags again; a bad file changes nothing. */
static void
reload(struct ctx *cx)
{
	struct conf next;
	char err[1024];
	int dummy = 0;

	if (conf_defaults(&next) == -1)
		return;
	if (cli_parse(cx->argc, cx->argv, &next, &dummy, err,
	    sizeof(err)) == -1 ||
	    cli_check(&next, cx->c, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping the running configuration", err);
		goto out;
	}
	log_info("reload: %d settings applied",
	    conf_apply_live(cx->c, &next, changed, NULL));
	apply(cx);
out:
	conf_free(&next);
}

/* Before every sleep: act on what the signal handlers noted. */
static void
check_signals(struct ctx *cx)
{
	if (sig_term)
		loop_stop(cx->loop);
	if (sig_usr1) {
		sig_usr1 = 0;
		dump_stats(cx);
	}
	if (sig_hup) {
		sig_hup = 0;
		reload(cx);
	}
}

static void
signal_hook(void *arg)
{
	check_signals(arg);
}

/*
 * --requeue-dead: every dead letter back into the spool (behind what is
 * spooled) for the next start to send. 0, or -1 (logged).
 */
static int
requeue_dead(const char *state_dir)
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

int
main(int argc, char **argv)
{
	struct conf c;
	struct ctx cx = { .argc = argc, .argv = argv, .c = &c };
	struct sigaction sa;
	sigset_t block, waitmask;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	char err[1024];
	int check_only = 0, rc = 1;

	/*
	 * Before any library initializes OpenSSL: no clean-up of it at exit.
	 * A libnats thread still retrying a TLS handshake when podtrail exits
	 * made OpenSSL's atexit clean-up crash under it (903); the process's
	 * end frees that memory anyway.
	 */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	/*
	 * First thing: handlers only set flags, and the signals stay blocked
	 * except while the loop waits (ppoll), so one that arrives during
	 * start-up is acted on by the loop instead of killing us.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigdelset(&waitmask, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}

	log_init(1, LOG_LVL_INFO, "podtrail");
	if (conf_defaults(&c) == -1)
		return 1;
	if (cli_parse(argc, argv, &c, &check_only, err, sizeof(err)) == -1 ||
	    cli_check(&c, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		conf_free(&c);
		return EXIT_USAGE;
	}
	if (check_only == CLI_REQUEUE_DEAD) {
		/* the operator fixed what made the aggregator refuse them */
		rc = requeue_dead(c.state_dir) == 0 ? 0 : 1;
		conf_free(&c);
		return rc;
	}
	if (check_only == CLI_PRINT_KEY) {
		rc = ckpt_print_key(&c, pipeline_node_name(&c, err,
		    sizeof(err)), stdout) == 0 ? 0 : 1;
		conf_free(&c);
		return rc;
	}
	if (check_only) {
		printf("configuration OK\n");
		conf_free(&c);
		return 0;
	}
	log_init(c.foreground, (enum log_level)log_level_parse(c.log_level),
	    "podtrail");

	signal(SIGPIPE, SIG_IGN);

	if ((cx.loop = loop_new()) == NULL) {
		log_warn("loop");
		goto out;
	}
	/*
	 * The order of start-up: open everything that needs privileges,
	 * drop them and switch identity, and only then start helper
	 * threads. A switch with helpers running aborts (thread.h); the
	 * helpers inherit the boosted priority and the final bounding set.
	 */
	thread_hold();
	/* needs CAP_SYS_NICE, dropped below */
	priv_boost(&c);
	if ((cx.pl = pipeline_new(&c, cx.loop)) == NULL)
		goto out;
	if (c.install_rules) {
		if ((cx.rules = rules_install(&c)) == NULL)
			goto out;
		pipeline_set_tap(cx.pl, rules_tap, cx.rules);
		/* hostPaths found in containers are watched while mounted */
		enrich_set_watcher(&rules_hostpath_ops, cx.rules);
	}
	if ((cx.src = source_open(c.source, cx.loop, cx.pl, &c)) == NULL)
		goto out;
	/* everything privileged is open: keep only what is still used */
	if (priv_drop(&c) == -1)
		goto out;
	thread_release();
	thread_plan_log(&c);
	if (pipeline_start_helpers(cx.pl, &c) == -1 ||
	    source_start(cx.src) == -1)
		goto out;
	if (loop_add_before_sleep(cx.loop, signal_hook, &cx) == -1) {
		log_warn("loop hook");
		goto out;
	}
	if ((cx.heartbeat = loop_timer_new(cx.loop, heartbeat, &cx)) == NULL ||
	    (cx.metrics = metrics_new(cx.loop, collect, &cx)) == NULL) {
		log_warn("timer");
		goto out;
	}
	apply(&cx);
	if (loop_run(cx.loop, &waitmask) == -1)
		goto out;
	if (sig_term) {
		/* first: the drain must not wait long for a stalled reader */
		pipeline_stop(cx.pl);
		source_drain(cx.src);
	}
	rc = 0;
out:
	metrics_free(cx.metrics);
	loop_timer_free(cx.heartbeat);
	source_close(cx.src);
	if (pipeline_close(cx.pl) == -1)
		rc = 1;
	rules_close(cx.rules, c.keep_rules);
	loop_free(cx.loop);
	conf_free(&c);
	return rc;
}
