/*
 * procinfo.c - a cache of processes keyed by (pid, birth), and of mount
 * namespace tables keyed by namespace inode.
 *
 * Birth times come from /proc/<pid>/stat field 22 (clock ticks since
 * boot), turned into realtime ms so they compare with audit timestamps.
 * A process alive now and born before an event is the one that made it;
 * a process that is gone is answered from the cache only when exactly
 * one generation of that pid covers the event's time.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "mountinfo.h"
#include "procinfo.h"
#include "procinfo_int.h"
#include "procinfo_proc.h"

/* Clock ticks are 10 ms and audit stamps are ms: allow for both. */
#define SLACK_MS 30
/*
 * An event at least this old may be checked against a listing of /proc
 * (see listed_gone), taken at most this often.
 */
#define LIST_AGE_MS 1000
#define LIST_EVERY_MS 1000
/* How long an exited process still answers for its late events. */
#define GRACE_MS 30000
/* Re-read a live namespace's table when older than this. */
#define NS_MAX_AGE_MS 2000
/*
 * A live process's cgroup and namespace are re-read at most this often
 * for its events (at once after fork/exec, which the connector reports).
 * Reading them for every event cost ~25% of the live path (perf); a
 * process moved to another cgroup without an exec keeps its old
 * attribution for at most this long.
 */
#define CG_MAX_AGE_MS 1000
#define ALIVE LLONG_MAX

long long
procinfo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
procinfo_host_root(void)
{
	static int known;
	static char root[16];
	struct stat self, init;

	if (!known) {
		known = 1;
		if (stat("/proc/self/ns/mnt", &self) == 0 &&
		    stat("/proc/1/ns/mnt", &init) == 0 &&
		    self.st_ino != init.st_ino && access("/proc/1/root/", X_OK) == 0)
			snprintf(root, sizeof(root), "/proc/1/root");
	}
	return root;
}

const struct mountinfo_table *
procinfo_host_mounts(struct procinfo *pi, int refresh)
{
	long long now = procinfo_now_ms();
	char path[96];

	if (pi->host && (!refresh || now - pi->host_read_ms < 1000))
		return pi->host;
	/* pid 1's view is the host's even when podtrail runs in a container */
	snprintf(path, sizeof(path), "%s/1/mountinfo", pi->proc);
	{
		struct mountinfo_table *t = mountinfo_load(path);

		if (t == NULL) {
			snprintf(path, sizeof(path), "%s/self/mountinfo", pi->proc);
			t = mountinfo_load(path);
		}
		if (t) {
			mountinfo_free(pi->host);
			pi->host = t;
		}
	}
	pi->host_read_ms = now;
	return pi->host;
}

/*
 * The namespace of a live pid, its table read or refreshed (always when
 * force: after an exec the runtime has finished its mounts and
 * pivot_root). Not referenced.
 */
static struct ns *
ns_of(struct procinfo *pi, pid_t pid, int force)
{
	char who[24], path[96];
	unsigned long long ino;
	struct ns *n;
	long long now = procinfo_now_ms();

	snprintf(who, sizeof(who), "%d", (int)pid);
	if ((ino = procinfo_proc_read_ns_ino(pi, who)) == 0)
		return NULL;
	for (n = pi->nss; n; n = n->next)
		if (n->ino == ino)
			break;
	if (n == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return NULL;
		n->ino = ino;
		n->next = pi->nss;
		pi->nss = n;
		pi->nns++;
	}
	if (ino == pi->host_ino)
		return n;	/* the host table is kept apart */
	if (force || n->t == NULL || n->stale ||
	    now - n->read_ms > NS_MAX_AGE_MS) {
		struct mountinfo_table *t;

		snprintf(path, sizeof(path), "%s/%d/mountinfo", pi->proc, (int)pid);
		if ((t = mountinfo_load(path)) != NULL) {
			mountinfo_free(n->t);
			n->t = t;
			n->read_ms = now;
			n->stale = 0;
			n->announced = 0;
		}
	}
	return n;
}

static void
ns_ref(struct entry *e, struct ns *n)
{
	if (n)
		n->refs++;
	if (e->ns)
		e->ns->refs--;
	e->ns = n;
}

static void
ns_sweep(struct procinfo *pi)
{
	struct ns **pp = &pi->nss, *n;

	while ((n = *pp) != NULL) {
		if (n->refs <= 0 && n->ino != pi->host_ino) {
			*pp = n->next;
			mountinfo_free(n->t);
			free(n);
			pi->nns--;
		} else {
			pp = &n->next;
		}
	}
}

static struct entry **
bucket(struct procinfo *pi, pid_t pid)
{
	return &pi->b[(unsigned)pid % NBUCKETS];
}

static struct entry *
entry_new(struct procinfo *pi, pid_t pid)
{
	struct entry *e = calloc(1, sizeof(*e));
	struct entry **b = bucket(pi, pid);

	if (e == NULL) {
		log_warn("process cache");
		return NULL;
	}
	e->pid = pid;
	e->next = *b;
	*b = e;
	pi->nentries++;
	return e;
}

static void
entry_unlink_free(struct procinfo *pi, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->next;
	ns_ref(e, NULL);
	free(e);
	pi->nentries--;
}

/* The newest generation of pid still believed alive. */
static struct entry *
current(struct procinfo *pi, pid_t pid)
{
	for (struct entry *e = *bucket(pi, pid); e; e = e->next)
		if (e->pid == pid && e->end_ms == ALIVE)
			return e;
	return NULL;
}

/*
 * Can e's cgroup and namespace be used without reading /proc again? Not
 * once CG_MAX_AGE_MS old, nor when its namespace's table needs a re-read
 * (a mount happened there, or it is older than ns_of() allows).
 */
static int
fresh(const struct procinfo *pi, const struct entry *e, long long now)
{
	const struct ns *n = e->ns;

	if (!e->have_cg || n == NULL || e->cg_read_ms == 0 ||
	    now - e->cg_read_ms >= CG_MAX_AGE_MS)
		return 0;
	if (n->ino == pi->host_ino)
		return 1;
	return n->t != NULL && !n->stale && now - n->read_ms <= NS_MAX_AGE_MS;
}

/*
 * The entry for the live process (pid, ticks): found or made, then
 * refreshed from /proc. Entries of the same process made without a
 * start time (inherited at fork) are folded into it.
 */
static struct entry *
refresh_live(struct procinfo *pi, pid_t pid, unsigned long long ticks,
    long long born, int from_connector, int is_exec)
{
	struct entry **pp = bucket(pi, pid), *e = NULL;
	struct cg_info cg;
	struct ns *n;
	long long now;
	int in_ctr;

	while (*pp) {
		struct entry *x = *pp;

		if (x->pid == pid && x->start_ticks == ticks) {
			e = x;
		} else if (x->pid == pid && x->start_ticks == 0 &&
		    llabs(x->born_ms - born) <= SLACK_MS) {
			entry_unlink_free(pi, pp);
			continue;
		} else if (x->pid == pid && x->end_ms == ALIVE) {
			/* an older generation we never saw exit */
			x->end_ms = born;
		}
		pp = &x->next;
	}
	if (e == NULL) {
		if ((e = entry_new(pi, pid)) == NULL)
			return NULL;
		e->start_ticks = ticks;
		e->born_ms = born;
	}
	if (from_connector)
		e->from_connector = 1;
	now = procinfo_now_ms();
	e->end_ms = pi->tracking ? ALIVE : now;
	if (!from_connector && !is_exec && fresh(pi, e, now))
		return e;
	e->cg_read_ms = now;
	if (procinfo_proc_read_cgroup(pi, pid, &cg, &in_ctr) == 0) {
		e->cg = cg;
		e->in_container = in_ctr;
		e->have_cg = 1;
		e->moved = 0;
	}
	if ((n = ns_of(pi, pid, is_exec)) != NULL)
		ns_ref(e, n);
	/* a host process there: the inode is another namespace's now */
	if (pi->ns_hook && e->have_cg && n && n->t && !n->announced) {
		n->announced = 1;
		pi->ns_hook(pi->ns_hook_arg, e->in_container ? &e->cg : NULL,
		    n->ino, n->t, procinfo_host_mounts(pi, 0));
	}
	return e;
}

void
procinfo_learn(struct procinfo *pi, pid_t pid, pid_t parent, long long when_ms,
    int is_exec)
{
	unsigned long long ticks;
	struct entry *e, *pe;

	e = NULL;
	if (procinfo_proc_read_start(pi, pid, &ticks) == 0 &&
	    (e = refresh_live(pi, pid, ticks,
	    procinfo_proc_ticks_to_ms(pi, ticks), 1, is_exec)) != NULL &&
	    e->have_cg && e->ns) {
		pi->learned++;
		return;
	}
	if (is_exec) {
		/*
		 * Gone already. A runtime moves its child into the container's
		 * cgroup between fork and exec, so host data from before the
		 * exec may be wrong: unknown rather than wrong. (Container data
		 * stays: leaving a container's cgroup needs root on the node.)
		 */
		if ((e = current(pi, pid)) != NULL && e->have_cg &&
		    !e->in_container && !e->moved) {
			e->moved = 1;
			pi->moved++;
		}
		return;
	}
	/* gone before we looked: it had its parent's cgroup and namespace */
	if ((pe = current(pi, parent)) == NULL) {
		unsigned long long pt;

		if (procinfo_proc_read_start(pi, parent, &pt) == -1 ||
		    (pe = refresh_live(pi, parent, pt,
		    procinfo_proc_ticks_to_ms(pi, pt), 1, 0)) == NULL)
			return;
	}
	if (pe == e || !pe->have_cg)
		return;
	if (e == NULL) {
		/* a new generation: the old one, if any, has ended */
		if ((e = current(pi, pid)) != NULL)
			e->end_ms = when_ms;
		if ((e = entry_new(pi, pid)) == NULL)
			return;
		e->born_ms = when_ms;
		e->end_ms = ALIVE;
	}
	e->from_connector = 1;
	if (!e->have_cg) {
		e->in_container = pe->in_container;
		e->cg = pe->cg;
		e->have_cg = 1;
	}
	if (e->ns == NULL)
		ns_ref(e, pe->ns);
	pi->inherited++;
}

void
procinfo_exit(struct procinfo *pi, pid_t pid, long long when_ms)
{
	struct entry *e = current(pi, pid);

	pi->exits++;
	if (e)
		e->end_ms = when_ms;
}

void
procinfo_lost_track(struct procinfo *pi, long long now_ms)
{
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry *e = pi->b[i]; e; e = e->next)
			if (e->end_ms == ALIVE)
				e->end_ms = now_ms;
}

void
procinfo_set_tracking(struct procinfo *pi, int on)
{
	pi->tracking = on;
}

static void
fill_view(struct procinfo *pi, const struct entry *e, struct procinfo_view *v)
{
	v->in_container = e->in_container;
	v->cg = e->cg;
	v->mntns = e->ns ? e->ns->ino : 0;
	v->host_ns = e->ns && e->ns->ino == pi->host_ino;
	v->mounts = v->host_ns ? procinfo_host_mounts(pi, 0) :
	    e->ns ? e->ns->t : NULL;
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* List the pids in /proc now. 0, or -1 (the old listing is dropped). */
static int
list_pids(struct procinfo *pi)
{
	long long at = procinfo_now_ms();
	struct dirent *de;
	DIR *d;

	pi->nlisted = 0;
	pi->listed_ms = 0;
	pi->list_tried_ms = at;
	if ((d = opendir(pi->proc)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long n = strtol(de->d_name, &end, 10);

		if (*end != '\0' || n <= 0 || n > INT_MAX)
			continue;
		if (pi->nlisted == pi->listcap) {
			size_t cap = pi->listcap ? pi->listcap * 2 : 1024;
			pid_t *p = reallocarray(pi->listed, cap, sizeof(*p));

			if (p == NULL) {
				closedir(d);
				pi->nlisted = 0;
				return -1;
			}
			pi->listed = p;
			pi->listcap = cap;
		}
		pi->listed[pi->nlisted++] = (pid_t)n;
	}
	closedir(d);
	qsort(pi->listed, pi->nlisted, sizeof(*pi->listed), cmp_pid);
	pi->listed_ms = at;
	return 0;
}

/*
 * Was pid's /proc directory absent from a listing taken well after
 * t_ms? Then, as with gone[], the event's process had exited by then.
 * An old event (a replay, a backlog) of a process that is gone would
 * otherwise cost a failed open: a replay of short-lived processes
 * (mount, umount) has thousands of them. A listing is taken only for
 * events at least LIST_AGE_MS old, at most every LIST_EVERY_MS.
 */
static int
listed_gone(struct procinfo *pi, pid_t pid, long long t_ms)
{
	if (t_ms + 2 * SLACK_MS >= pi->listed_ms) {
		long long now = procinfo_now_ms();

		if (t_ms + LIST_AGE_MS > now ||
		    now - pi->list_tried_ms < LIST_EVERY_MS ||
		    list_pids(pi) == -1 || t_ms + 2 * SLACK_MS >= pi->listed_ms)
			return 0;
	}
	if (bsearch(&pid, pi->listed, pi->nlisted, sizeof(pid), cmp_pid))
		return 0;
	pi->listed_gone++;
	return 1;
}

int
procinfo_lookup(struct procinfo *pi, pid_t pid, long long t_ms,
    struct procinfo_view *v)
{
	unsigned long long ticks;
	struct entry *e, *hit = NULL;
	long long before;
	int n = 0;
	struct gone *g;

	memset(v, 0, sizeof(*v));
	if (pid <= 0)
		goto unknown;
	/*
	 * While the connector tracks processes, a live entry read recently
	 * is the answer: a new process with this pid would have been
	 * reported (fork) and this one's exit too; a lost notification
	 * ends every live entry (procinfo_lost_track). That saves reading
	 * /proc/<pid>/stat for every event of a busy process.
	 */
	if (pi->tracking && (e = current(pi, pid)) != NULL &&
	    e->born_ms <= t_ms + SLACK_MS && fresh(pi, e, procinfo_now_ms())) {
		hit = e;
		goto found;
	}
	g = &pi->gone[(unsigned)pid % NGONE];
	/*
	 * /proc/<pid> was absent at g->at_ms, well after this event: the
	 * event's process had exited by then and anything holding the pid
	 * now was born later, so reading /proc again cannot find it. Old
	 * events of gone processes (a replay, a backlog) otherwise cost a
	 * failed open each (12% of a full-pipeline replay, perf).
	 */
	if ((g->pid == pid && t_ms + 2 * SLACK_MS < g->at_ms) ||
	    listed_gone(pi, pid, t_ms))
		goto cache;	/* which still knows processes that exited */
	before = procinfo_now_ms();
	errno = 0;
	if (procinfo_proc_read_start(pi, pid, &ticks) == 0) {
		long long born = procinfo_proc_ticks_to_ms(pi, ticks);

		/* alive now and born before the event: it is the one */
		if (born <= t_ms + SLACK_MS) {
			if ((e = refresh_live(pi, pid, ticks, born, 0, 0)) == NULL ||
			    !e->have_cg)
				goto unknown;
			fill_view(pi, e, v);
			v->how = PINFO_PROC;
			pi->proc_hits++;
			return 0;
		}
		pi->reused++;
	} else if (errno == ENOENT) {
		g->pid = pid;
		g->at_ms = before;
	}
cache:
	for (e = *bucket(pi, pid); e; e = e->next) {
		if (e->pid != pid || e->born_ms > t_ms + SLACK_MS)
			continue;
		if (e->end_ms != ALIVE && t_ms > e->end_ms + SLACK_MS)
			continue;
		hit = e;
		n++;
	}
	if (n == 1 && !hit->have_cg)
		n = 0;
	if (n > 1)
		pi->ambiguous++;
	if (n != 1)
		goto unknown;
found:
	if (hit->moved)		/* see procinfo_learn */
		goto unknown;
	fill_view(pi, hit, v);
	v->how = hit->from_connector ? PINFO_CONNECTOR : PINFO_CACHE;
	if (hit->from_connector)
		pi->connector_hits++;
	else
		pi->cache_hits++;
	return 0;
unknown:
	memset(v, 0, sizeof(*v));
	pi->unknown++;
	return -1;
}

void
procinfo_ns_changed(struct procinfo *pi, unsigned long long mntns)
{
	if (mntns == pi->host_ino)
		pi->host_read_ms = 0;
	for (struct ns *n = pi->nss; n; n = n->next)
		if (n->ino == mntns)
			n->stale = 1;
}

void
procinfo_set_ns_hook(struct procinfo *pi,
    void (*cb)(void *arg, const struct cg_info *cg, unsigned long long mntns,
    const struct mountinfo_table *t, const struct mountinfo_table *host),
    void *arg)
{
	pi->ns_hook = cb;
	pi->ns_hook_arg = arg;
}

/*
 * A missed exit (the connector dropped it, or a process left in a way it
 * does not report) would keep a namespace known forever: its processes
 * not seen to exit are looked up in /proc, and those gone are ended now.
 */
static void
ns_confirm(struct procinfo *pi, const struct ns *n, long long now_ms)
{
	unsigned long long ticks;

	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry *e = pi->b[i]; e; e = e->next) {
			if (e->ns != n || e->end_ms != ALIVE)
				continue;
			if (procinfo_proc_read_start(pi, e->pid, &ticks) == -1 ||
			    (e->start_ticks && ticks != e->start_ticks)) {
				e->end_ms = now_ms;
				pi->exits_missed++;
			}
		}
}

int
procinfo_ns_known(void *arg, unsigned long long mntns)
{
	struct procinfo *pi = arg;

	for (const struct ns *n = pi->nss; n; n = n->next)
		if (n->ino == mntns) {
			ns_confirm(pi, n, procinfo_now_ms());
			return 1;
		}
	return 0;
}

void
procinfo_expire(struct procinfo *pi, long long now_ms)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &pi->b[i];

		while (*pp) {
			struct entry *e = *pp;

			if (e->end_ms != ALIVE && now_ms - e->end_ms > GRACE_MS) {
				entry_unlink_free(pi, pp);
				pi->expired++;
				continue;
			}
			pp = &e->next;
		}
	}
	ns_sweep(pi);
}

void
procinfo_stats(struct procinfo *pi, cJSON *obj)
{
	cJSON_AddNumberToObject(obj, "proc_cache_entries", (double)pi->nentries);
	cJSON_AddNumberToObject(obj, "proc_cache_mntns", (double)pi->nns);
	cJSON_AddNumberToObject(obj, "proc_learned", (double)pi->learned);
	cJSON_AddNumberToObject(obj, "proc_inherited", (double)pi->inherited);
	cJSON_AddNumberToObject(obj, "proc_moved_unknown", (double)pi->moved);
	cJSON_AddNumberToObject(obj, "proc_exits", (double)pi->exits);
	cJSON_AddNumberToObject(obj, "proc_exits_missed", (double)pi->exits_missed);
	cJSON_AddNumberToObject(obj, "lookup_proc", (double)pi->proc_hits);
	cJSON_AddNumberToObject(obj, "lookup_cache", (double)pi->cache_hits);
	cJSON_AddNumberToObject(obj, "lookup_connector", (double)pi->connector_hits);
	cJSON_AddNumberToObject(obj, "lookup_unknown", (double)pi->unknown);
	cJSON_AddNumberToObject(obj, "lookup_ambiguous", (double)pi->ambiguous);
	cJSON_AddNumberToObject(obj, "pid_reused", (double)pi->reused);
	cJSON_AddNumberToObject(obj, "pid_listed_gone", (double)pi->listed_gone);
}

struct procinfo *
procinfo_new(const char *proc_root)
{
	struct procinfo *pi = calloc(1, sizeof(*pi));

	if (pi == NULL) {
		log_warn("process cache");
		return NULL;
	}
	snprintf(pi->proc, sizeof(pi->proc), "%s", proc_root);
	if ((pi->ticks_per_s = sysconf(_SC_CLK_TCK)) <= 0)
		pi->ticks_per_s = 100;
	if ((pi->host_ino = procinfo_proc_read_ns_ino(pi, "1")) == 0)
		pi->host_ino = procinfo_proc_read_ns_ino(pi, "self");
	procinfo_host_mounts(pi, 1);
	return pi;
}

void
procinfo_free(struct procinfo *pi)
{
	struct ns *n, *next;

	if (pi == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		while (pi->b[i])
			entry_unlink_free(pi, &pi->b[i]);
	for (n = pi->nss; n; n = next) {
		next = n->next;
		mountinfo_free(n->t);
		free(n);
	}
	mountinfo_free(pi->host);
	free(pi->listed);
	free(pi);
}

