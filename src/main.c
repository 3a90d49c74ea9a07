/*
 * main.c - podtrail: options, signals, and the wiring of source,
 * pipeline and loop. Nothing else lives here.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "rules.h"
#include "source.h"

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
	struct loop *loop;
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
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: podtrail [-hnV] [-c FILE] [--OPTION=VALUE ...]\n"
	    "\n"
	    "Reads the kernel's audit stream and writes container-aware JSON\n"
	    "events. Every option below can be given as --OPTION=VALUE (or\n"
	    "--OPTION VALUE; a yes/no option alone means yes) and as\n"
	    "'OPTION = VALUE' in the config file.\n"
	    "\n"
	    "  -c FILE        read FILE instead of " CONF_DEFAULT_FILE "\n"
	    "  -n             check the configuration and exit\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n"
	    "\n"
	    "Options [default]:\n");
	conf_print_table(fp, 0);
	fprintf(fp, "\nExamples:\n"
	    "  podtrail --source=file:/var/log/audit/audit.log --output=-\n"
	    "  podtrail --source=stdin          (as an auditd plugin)\n");
}

static void
dump_stats(struct ctx *cx)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	pipeline_stats(cx->pl, o);
	source_stats(cx->src, o);
	if ((s = cJSON_PrintUnformatted(o)) != NULL)
		log_info("counters: %s", s);
	free(s);
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
		pipeline_stats(cx->pl, o);
		source_stats(cx->src, o);
	}
	if (ev)
		pipeline_emit(cx->pl, ev);
	loop_timer_arm(cx->heartbeat, cx->heartbeat_ms);
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
		log_info("SIGHUP: nothing to reload yet");
	}
}

static void
signal_hook(void *arg)
{
	check_signals(arg);
}

static int
parse_args(int argc, char **argv, struct conf *c, int *check_only)
{
	const char *file = CONF_DEFAULT_FILE;
	int must_exist = 0;
	char err[512];
	int i;

	/* the file first, so the command line overrides it */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
			must_exist = 1;
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] &&
		    argv[i][1] != '-') {
			file = argv[i] + 2;
			must_exist = 1;
		}
	}
	if (conf_load(c, file, must_exist) == -1)
		return -1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *val, *eq;
		size_t n;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("podtrail %s\n", PACKAGE_VERSION);
			exit(0);
		}
		if (!strcmp(a, "--man-options")) {
			/* the man pages' option lists are made from the table */
			conf_print_table(stdout, 1);
			exit(0);
		}
		if (!strcmp(a, "-n")) {
			*check_only = 1;
			continue;
		}
		if (!strcmp(a, "-c")) {
			if (++i == argc) {
				fprintf(stderr, "podtrail: -c needs a file\n");
				return -1;
			}
			continue;
		}
		if (!strncmp(a, "-c", 2) && a[2])
			continue;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			fprintf(stderr, "podtrail: unexpected argument '%s' "
			    "(try --help)\n", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name)) {
			fprintf(stderr, "podtrail: unknown option '--%s'\n", a);
			return -1;
		}
		memcpy(name, a, n);
		name[n] = '\0';
		switch (conf_is_bool(name)) {
		case -1:
			fprintf(stderr, "podtrail: unknown option '--%s' "
			    "(try --help)\n", name);
			return -1;
		case 1:
			val = eq ? eq + 1 : "yes";
			break;
		default:
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "podtrail: --%s needs a value\n",
				    name);
				return -1;
			}
		}
		if (conf_set(c, name, val, err, sizeof(err)) == -1) {
			fprintf(stderr, "podtrail: --%s\n", err);
			return -1;
		}
	}
	return 0;
}

/* Checks that need no resources; shared by -n and normal start. */
static int
check_conf(const struct conf *c)
{
	if (log_level_parse(c->log_level) < 0) {
		fprintf(stderr, "podtrail: log_level: '%s' is not error, "
		    "warning, info or debug\n", c->log_level);
		return -1;
	}
	if (!source_known(c->source)) {
		fprintf(stderr, "podtrail: source: unknown source '%s' (use "
		    "stdin, file:PATH, netlink or netlink-unicast)\n", c->source);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct conf c;
	struct ctx cx = { 0 };
	struct sigaction sa;
	sigset_t block, waitmask;
	int check_only = 0, rc = 1;

	log_init(1, LOG_LVL_INFO, "podtrail");
	if (conf_defaults(&c) == -1)
		return 1;
	if (parse_args(argc, argv, &c, &check_only) == -1 ||
	    check_conf(&c) == -1) {
		conf_free(&c);
		return EXIT_USAGE;
	}
	if (check_only) {
		printf("configuration OK\n");
		conf_free(&c);
		return 0;
	}
	log_init(c.foreground, (enum log_level)log_level_parse(c.log_level),
	    "podtrail");

	/* handlers only set flags; signals are delivered only in ppoll */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGUSR1);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((cx.loop = loop_new()) == NULL) {
		log_warn("loop");
		goto out;
	}
	if ((cx.pl = pipeline_new(&c, cx.loop)) == NULL)
		goto out;
	if (c.install_rules) {
		if ((cx.rules = rules_install(&c)) == NULL)
			goto out;
		pipeline_set_tap(cx.pl, rules_tap, cx.rules);
	}
	if ((cx.src = source_open(c.source, cx.loop, cx.pl, &c)) == NULL)
		goto out;
	if (loop_add_before_sleep(cx.loop, signal_hook, &cx) == -1) {
		log_warn("loop hook");
		goto out;
	}
	if (c.heartbeat_interval > 0) {
		if ((cx.heartbeat = loop_timer_new(cx.loop, heartbeat,
		    &cx)) == NULL) {
			log_warn("timer");
			goto out;
		}
		cx.heartbeat_ms = (long)c.heartbeat_interval * 1000;
		loop_timer_arm(cx.heartbeat, cx.heartbeat_ms);
	}
	if (loop_run(cx.loop, &waitmask) == -1)
		goto out;
	rc = 0;
out:
	loop_timer_free(cx.heartbeat);
	source_close(cx.src);
	if (pipeline_close(cx.pl) == -1)
		rc = 1;
	rules_close(cx.rules, c.keep_rules);
	loop_free(cx.loop);
	conf_free(&c);
	return rc;
}
