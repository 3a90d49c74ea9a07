/* thread_plan.c - which helper threads run, from the configuration. */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "log.h"
#include "thread_plan.h"
#include "worker.h"

struct thread_plan
thread_plan(const struct conf *c)
{
	struct thread_plan tp = { 0 };
	int netlink = strncmp(c->source, "netlink", 7) == 0;
	int helpers;

	if (strcmp(c->helper_threads, "yes") == 0)
		helpers = 1;
	else if (strcmp(c->helper_threads, "auto") == 0)
		helpers = strncmp(c->source, "file:", 5) == 0;
	else
		helpers = 0;
	tp.parse = helpers && !netlink;
	tp.build = helpers;
	tp.drain = netlink && c->ring_bytes > 0;
	tp.parse_behind = tp.drain && strcmp(c->helper_threads, "no") != 0;
	tp.build_behind = !tp.build && tp.drain &&
	    strcmp(c->helper_threads, "auto") == 0;
	tp.witness = *c->checkpoint_output &&
	    strncmp(c->checkpoint_output, "file:", 5) != 0;
	return tp;
}

int
thread_plan_builder(const struct conf *c)
{
	struct thread_plan tp = thread_plan(c);

	return tp.build ? 1 : tp.build_behind ? WORKER_WHEN_ASKED : 0;
}

void
thread_plan_log(const struct conf *c)
{
	struct thread_plan tp = thread_plan(c);

	log_info("helper threads: parse %s, batch builder %s, netlink "
	    "drain %s, witness sender %s", tp.parse ? "yes" :
	    tp.parse_behind ? "while behind" : "no",
	    tp.build ? "yes" : tp.build_behind ? "while behind" : "no",
	    tp.drain ? "yes" : "no",
	    tp.witness ? "yes" : "no");
}
