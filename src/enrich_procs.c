/*
 * enrich_procs.c - the process cache and connector shared by the
 * container and volume stages, the per-event lookup they share, the
 * runtimes' state and the hostPath directories found in containers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "hostpath.h"
#include "log.h"
#include "loop.h"
#include "proc_conn.h"
#include "procinfo.h"
#include "runtime.h"

#define EXPIRE_TICK_MS 5000
/*
 * Audit stamps come from the kernel's coarse clock, up to a tick behind
 * the moment of the syscall; this covers any HZ >= 100 twice over.
 */
#define STAMP_SLACK_MS 20

struct enrich_procs {
	int refs;
	struct loop *loop;
	struct procinfo *pi;
	struct proc_conn *pc;
	struct rt_cache *rt;
	struct hostpaths *hp;
	struct loop_timer *expire;
	/* the last lookup, for the next stage on the same event */
	const struct event *last_ev;
	unsigned long long last_serial;
	long long last_pid, last_ms;
	int last_rc;
	struct procinfo_view last;
	/* realtime ms and loop_now_us() just before the last connector
	 * drain that emptied it */
	long long drained_ms, drained_us;
};

static struct enrich_procs *shared;

/* Read the connector empty, noting when the read began. */
static void
drain(struct enrich_procs *ep)
{
	ep->drained_ms = procinfo_now_ms();
	ep->drained_us = loop_now_us();
	proc_conn_drain(ep->pc);
}

static void
expire_tick(void *arg)
{
	struct enrich_procs *ep = arg;

	drain(ep);
	procinfo_expire(ep->pi, ep->drained_ms);
	hp_sweep(ep->hp, procinfo_ns_known, ep->pi);
	loop_timer_arm(ep->expire, EXPIRE_TICK_MS);
}

/* A container's mount table was read: which host dirs does it bind in? */
static void
ns_read(void *arg, const struct cg_info *cg, unsigned long long mntns,
    const struct mountinfo_table *t, const struct mountinfo_table *host)
{
	struct enrich_procs *ep = arg;

	hp_scan(ep->hp, cg, mntns, t, host);
}

/*
 * /proc/<pid>/cgroup is shown relative to the reader's cgroup
 * namespace. In a private one (a DaemonSet pod without the host's),
 * join pid 1's if permitted (CAP_SYS_ADMIN; this thread only, which is
 * the one that reads them); otherwise cgroup.c reads the relative form.
 */
static void
host_cgroupns(void)
{
	struct stat self, init;
	int fd;

	if (stat("/proc/self/ns/cgroup", &self) == -1)
		return;
	if (stat("/proc/1/ns/cgroup", &init) == -1) {
		log_info("cgroup namespace: pid 1's unknown (%s): other "
		    "containers' cgroups are read relative to podtrail's own",
		    strerror(errno));
		return;
	}
	if (self.st_ino == init.st_ino)
		return;
	if ((fd = open("/proc/1/ns/cgroup", O_RDONLY | O_CLOEXEC)) == -1 ||
	    setns(fd, CLONE_NEWCGROUP) == -1)
		log_info("cgroup namespace: podtrail's own (%s): other "
		    "containers' cgroups are read relative to podtrail's own",
		    strerror(errno));
	else
		log_info("cgroup namespace: reading cgroups in pid 1's");
	if (fd != -1)
		close(fd);
}

struct enrich_procs *
enrich_procs_acquire(const struct conf *c, struct loop *loop)
{
	struct enrich_procs *ep = shared;

	if (ep) {
		ep->refs++;
		return ep;
	}
	if ((ep = calloc(1, sizeof(*ep))) == NULL) {
		log_warn("enrich");
		return NULL;
	}
	ep->loop = loop;
	host_cgroupns();
	if ((ep->pi = procinfo_new("/proc")) == NULL ||
	    (ep->rt = rt_new(c->runtime_state_dirs.v,
	    c->runtime_state_dirs.n)) == NULL)
		goto err;
	if (c->hostpath_discovery_max > 0) {
		if ((ep->hp = hp_new(c, ep->rt)) == NULL)
			goto err;
		procinfo_set_ns_hook(ep->pi, ns_read, ep);
	}
	/* without it, exited processes are unknown: degrade, do not fail */
	if (c->proc_connector)
		ep->pc = proc_conn_open(loop, ep->pi);
	if (loop) {
		if ((ep->expire = loop_timer_new(loop, expire_tick, ep)) == NULL) {
			log_warn("timer");
			goto err;
		}
		loop_timer_arm(ep->expire, EXPIRE_TICK_MS);
	}
	ep->refs = 1;
	shared = ep;
	return ep;
err:
	hp_free(ep->hp);
	rt_free(ep->rt);
	procinfo_free(ep->pi);
	free(ep);
	return NULL;
}

void
enrich_procs_release(struct enrich_procs *ep)
{
	if (ep == NULL || --ep->refs > 0)
		return;
	loop_timer_free(ep->expire);
	proc_conn_close(ep->pc);
	hp_free(ep->hp);
	rt_free(ep->rt);
	procinfo_free(ep->pi);
	free(ep);
	shared = NULL;
}

void
enrich_set_watcher(const struct hp_watch_ops *ops, void *arg)
{
	if (shared)
		hp_set_watcher(shared->hp, ops, arg);
}

struct rt_cache *
enrich_procs_runtime(struct enrich_procs *ep)
{
	return ep->rt;
}

struct hostpaths *
enrich_procs_hostpaths(struct enrich_procs *ep)
{
	return ep->hp;
}

void
enrich_procs_stats(struct enrich_procs *ep, cJSON *obj)
{
	procinfo_stats(ep->pi, obj);
	proc_conn_stats(ep->pc, obj);
	rt_stats(ep->rt, obj);
	hp_stats(ep->hp, obj);
}

struct procinfo *
enrich_procs_cache(struct enrich_procs *ep)
{
	return ep->pi;
}

int
enrich_procs_lookup(struct enrich_procs *ep, const struct event *ev,
    struct procinfo_view *v)
{
	long long t = ev->time_ms;

	/* an event's slot is reused: the same slot is not the same event */
	if (ep->last_ev == ev && ep->last_serial == ev->serial &&
	    ep->last_pid == ev->pid && ep->last_ms == t) {
		*v = ep->last;
		return ep->last_rc;
	}
	memset(v, 0, sizeof(*v));
	if (ev->pid == -1) {
		ep->last_rc = -1;
	} else {
		/*
		 * Fork/exec notices queued before the event describe its
		 * process. The kernel queues them as it happens, so after a
		 * drain that emptied the socket at drained_ms, every notice
		 * older than that is in the cache: an event from before then
		 * needs no drain (one syscall per event was ~3% under load).
		 * A fork's notice is queued before its child can make a
		 * record, so one read by rx_us is covered by any drain begun
		 * after rx_us: under a storm one drain serves a whole burst,
		 * where the stamp test drained for nearly every event.
		 */
		if (ep->pc && (ev->rx_us ? ev->rx_us >= ep->drained_us :
		    t + STAMP_SLACK_MS >= ep->drained_ms))
			drain(ep);
		ep->last_rc = procinfo_lookup(ep->pi, (pid_t)ev->pid, t, v);
	}
	ep->last_ev = ev;
	ep->last_serial = ev->serial;
	ep->last_pid = ev->pid;
	ep->last_ms = t;
	ep->last = *v;
	return ep->last_rc;
}
