/*
 * test_proc_conn.c - the process connector against the real kernel: a
 * child's fork, exec and exit reach the process cache (the parent's
 * attribution for a child gone before /proc was read, the namespace a
 * child execs in), the counters' shape, and what close gives back (the
 * socket, the loop's watch, the cache's tracking; memory under ASan).
 * Events are waited for on the loop that watches the connector's fd,
 * with a deadline. Without CAP_NET_ADMIN the program exits 77 (skip).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgroup.h"
#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "proc_conn.h"
#include "procinfo.h"
#include "unit.h"

/* how long the kernel's notifications may take to arrive */
#define DEADLINE_MS 5000
/* well past any exit's slack in the cache */
#define AFTER_EXIT_MS 1000

/* A connector on its own loop and cache, as enrich_procs opens it. */
struct fixture {
	struct loop *loop;
	struct loop_timer *deadline;
	struct procinfo *pi;
	struct proc_conn *pc;
	/* what wait_for() waits for */
	int (*done)(struct fixture *fx, const void *arg);
	const void *arg;
	int met;
	/* the namespace whose table the cache reads anew, and how often */
	unsigned long long want_mntns;
	int reads;
};

static struct fixture fx;

static void
check_done(void *arg)
{
	struct fixture *f = arg;

	if (f->done && f->done(f, f->arg)) {
		f->met = 1;
		loop_stop(f->loop);
	}
}

static void
expire(void *arg)
{
	struct fixture *f = arg;

	loop_stop(f->loop);
}

static void
ns_read(void *arg, const struct cg_info *cg, unsigned long long mntns,
    const struct mountinfo_table *t, const struct mountinfo_table *host)
{
	struct fixture *f = arg;

	if (f->want_mntns && mntns == f->want_mntns && t != NULL)
		f->reads++;
}

/*
 * Run the loop (the connector drains as its fd turns readable) until
 * done() holds, checked before every wait; 1, or 0 after DEADLINE_MS.
 */
static int
wait_for(int (*done)(struct fixture *, const void *), const void *arg)
{
	fx.done = done;
	fx.arg = arg;
	fx.met = 0;
	loop_timer_arm(fx.deadline, DEADLINE_MS);
	ck_assert_int_eq(loop_run(fx.loop, NULL), 0);
	loop_timer_disarm(fx.deadline);
	fx.done = NULL;
	return fx.met;
}

static void
setup(void)
{
	memset(&fx, 0, sizeof(fx));
	ck_assert_ptr_nonnull(fx.loop = loop_new());
	ck_assert_ptr_nonnull(fx.deadline = loop_timer_new(fx.loop, expire,
	    &fx));
	ck_assert_int_eq(loop_add_before_sleep(fx.loop, check_done, &fx), 0);
	ck_assert_ptr_nonnull(fx.pi = procinfo_new("/proc"));
	procinfo_set_ns_hook(fx.pi, ns_read, &fx);
	ck_assert_ptr_nonnull(fx.pc = proc_conn_open(fx.loop, fx.pi));
}

static void
teardown(void)
{
	proc_conn_close(fx.pc);
	procinfo_free(fx.pi);
	loop_free(fx.loop);
}

/* A counter of proc_conn_stats() (a number, or the test fails). */
static double
counter(struct proc_conn *pc, const char *name)
{
	cJSON *o = cJSON_CreateObject(), *n;
	double v;

	proc_conn_stats(pc, o);
	n = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsNumber(n), "%s is not a number", name);
	v = n->valuedouble;
	cJSON_Delete(o);
	return v;
}

/* The inode of pid's mount namespace. */
static unsigned long long
mntns_of(pid_t pid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	ck_assert_int_eq(stat(path, &sb), 0);
	return (unsigned long long)sb.st_ino;
}

/* A child that is gone (reaped), and a time it was alive. */
struct gone {
	pid_t pid;
	long long alive_ms;
};

/* Its fork is known (from the connector alone) and so is its exit. */
static int
fork_and_exit_known(struct fixture *f, const void *arg)
{
	const struct gone *g = arg;
	struct procinfo_view v;

	return procinfo_lookup(f->pi, g->pid, g->alive_ms, &v) == 0 &&
	    v.how == PINFO_CONNECTOR &&
	    procinfo_lookup(f->pi, g->pid, procinfo_now_ms() + AFTER_EXIT_MS,
	    &v) == -1;
}

/*
 * A child reaped before its fork was read: /proc/<pid> is gone, so what
 * the cache knows comes from the notification, through its parent.
 */
START_TEST(fork_of_a_gone_child_inherits_from_its_parent)
{
	struct procinfo_view self, v;
	double forks = counter(fx.pc, "pconn_forks");
	double exits = counter(fx.pc, "pconn_exits");
	struct gone g;
	int go[2], status;

	ck_assert_int_eq(procinfo_lookup(fx.pi, getpid(), procinfo_now_ms(),
	    &self), 0);
	ck_assert_int_eq(pipe(go), 0);
	g.pid = fork();
	ck_assert_int_ge(g.pid, 0);
	if (g.pid == 0) {
		char c;

		close(go[1]);
		(void)read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	g.alive_ms = procinfo_now_ms();	/* after its fork, before its exit */
	close(go[1]);
	ck_assert_int_eq(waitpid(g.pid, &status, 0), g.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(wait_for(fork_and_exit_known, &g),
	    "fork and exit of %d not learnt within %d ms", (int)g.pid,
	    DEADLINE_MS);
	/* the child had what its parent (this process) has */
	ck_assert_int_eq(procinfo_lookup(fx.pi, g.pid, g.alive_ms, &v), 0);
	ck_assert_int_eq(v.how, PINFO_CONNECTOR);
	ck_assert_uint_eq(v.mntns, self.mntns);
	ck_assert_uint_eq(v.mntns, mntns_of(getpid()));
	ck_assert_int_eq(v.in_container, self.in_container);
	ck_assert(memcmp(&v.cg, &self.cg, sizeof(v.cg)) == 0);
	/* other processes fork and exit too: at least ours were counted */
	ck_assert(counter(fx.pc, "pconn_forks") >= forks + 1);
	ck_assert(counter(fx.pc, "pconn_exits") >= exits + 1);
}
END_TEST

/* The connector has learnt the live pid (not only a /proc read). */
static int
learnt_by_connector(struct fixture *f, const void *arg)
{
	const pid_t *pid = arg;
	struct procinfo_view v;

	return procinfo_lookup(f->pi, *pid, procinfo_now_ms(), &v) == 0 &&
	    v.how == PINFO_CONNECTOR;
}

/* The cache has read the wanted namespace's table *arg times. */
static int
reads_reached(struct fixture *f, const void *arg)
{
	return f->reads >= *(const int *)arg;
}

/*
 * Wait (at most DEADLINE_MS) for the child's exec: EOF on its
 * close-on-exec pipe. 0 when it exec'd, else the errno it sent.
 */
static int
exec_status(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int err = 0;
	ssize_t n;

	ck_assert_int_eq(poll(&p, 1, DEADLINE_MS), 1);
	n = read(fd, &err, sizeof(err));
	ck_assert(n == 0 || n == (ssize_t)sizeof(err));
	return n == 0 ? 0 : err;
}

/*
 * A child learnt at fork in our mount namespace moves to its own and
 * execs: only the exec notification makes the cache read it again
 * (nothing else looks at the child meanwhile), and it then answers
 * with the new namespace. It execs once more there: an exec re-reads
 * even a table the cache has just read (a fork would not).
 */
START_TEST(exec_is_learnt)
{
	unsigned long long host = mntns_of(getpid()), ns;
	double execs = counter(fx.pc, "pconn_execs");
	struct procinfo_view v;
	int go[2], st[2], in[2], err, status, once = 1, twice = 2;
	pid_t child;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe2(st, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe(in), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char c;
		int e, null;

		close(go[1]);
		close(st[0]);
		close(in[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		if (unshare(CLONE_NEWNS) == 0 && dup2(in[0], 0) == 0 &&
		    (null = open("/dev/null", O_WRONLY)) != -1 &&
		    dup2(null, 1) == 1)
			execl("/bin/sh", "sh", "-c", "read x && exec cat",
			    (char *)NULL);
		e = errno;
		(void)write(st[1], &e, sizeof(e));
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	close(in[0]);
	ck_assert_msg(wait_for(learnt_by_connector, &child),
	    "fork of %d not learnt within %d ms", (int)child, DEADLINE_MS);
	ck_assert_int_eq(procinfo_lookup(fx.pi, child, procinfo_now_ms(), &v),
	    0);
	ck_assert_uint_eq(v.mntns, host);
	/* from here until the exec is learnt, no lookup reads /proc/<child> */
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	err = exec_status(st[0]);
	ck_assert_msg(err == 0, "child: unshare or exec: %s", strerror(err));
	ns = mntns_of(child);
	ck_assert_uint_ne(ns, host);
	fx.want_mntns = ns;
	ck_assert_msg(wait_for(reads_reached, &once),
	    "exec of %d not learnt within %d ms", (int)child, DEADLINE_MS);
	ck_assert_int_eq(procinfo_lookup(fx.pi, child, procinfo_now_ms(), &v),
	    0);
	ck_assert_int_eq(v.how, PINFO_CONNECTOR);
	ck_assert_uint_eq(v.mntns, ns);
	ck_assert_int_eq(v.host_ns, 0);
	ck_assert_ptr_nonnull(v.mounts);
	/* sh reads its line and execs cat */
	ck_assert_int_eq(write(in[1], "x\n", 2), 2);
	ck_assert_msg(wait_for(reads_reached, &twice),
	    "second exec of %d not learnt within %d ms", (int)child,
	    DEADLINE_MS);
	ck_assert(counter(fx.pc, "pconn_execs") >= execs + 2);
	close(in[1]);			/* cat reads EOF and exits */
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[1]);
	close(st[0]);
}
END_TEST

/* Four whole counters and the flag; a missing connector is the flag alone. */
START_TEST(stats_shape)
{
	static const char *const names[] = { "pconn_forks",
	    "pconn_execs", "pconn_exits", "pconn_overflows" };
	cJSON *o = cJSON_CreateObject();

	proc_conn_stats(fx.pc, o);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "proc_connector")));
	ck_assert_int_eq(cJSON_GetArraySize(o), 5);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(o, names[i]);

		ck_assert_msg(cJSON_IsNumber(n), "%s", names[i]);
		/* nothing is read before the loop runs */
		ck_assert_msg(n->valuedouble == 0, "%s = %g", names[i],
		    n->valuedouble);
	}
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	proc_conn_stats(NULL, o);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o,
	    "proc_connector")));
	ck_assert_int_eq(cJSON_GetArraySize(o), 1);
	cJSON_Delete(o);
	proc_conn_drain(NULL);
	proc_conn_close(NULL);
}
END_TEST

/* The open fds of this process, as a bitmap of the first 1024. */
static int
open_fds(unsigned char *set, size_t len)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0, self;

	ck_assert_ptr_nonnull(d);
	self = dirfd(d);
	memset(set, 0, len);
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == self)
			continue;
		ck_assert_int_lt(fd, (int)len);
		set[fd] = 1;
		n++;
	}
	closedir(d);
	return n;
}

static void
never(int fd, short revents, void *arg)
{
}

/* How this process is answered now (a live process). */
static enum procinfo_how
self_how(void)
{
	struct procinfo_view v;

	ck_assert_int_eq(procinfo_lookup(fx.pi, getpid(), procinfo_now_ms(),
	    &v), 0);
	return v.how;
}

/*
 * Close gives back its socket and its watch in the loop, and the cache
 * no longer trusts its tracking; ASan's leak check (at the test's exit)
 * sees the rest.
 */
START_TEST(close_gives_everything_back)
{
	unsigned char before[1024], after[1024];
	int n, fd = -1;
	struct stat sb;

	proc_conn_close(fx.pc);
	fx.pc = NULL;
	n = open_fds(before, sizeof(before));
	ck_assert_ptr_nonnull(fx.pc = proc_conn_open(fx.loop, fx.pi));
	ck_assert_int_eq(open_fds(after, sizeof(after)), n + 1);
	for (int i = 0; i < (int)sizeof(after); i++)
		if (after[i] && !before[i])
			fd = i;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	/* the loop watches it */
	ck_assert_int_eq(loop_fd_add(fx.loop, fd, POLLIN, never, NULL), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* tracked: a live process's fresh entry is the answer */
	ck_assert_int_eq(self_how(), PINFO_PROC);
	ck_assert_int_eq(self_how(), PINFO_CACHE);
	proc_conn_drain(fx.pc);
	proc_conn_close(fx.pc);
	fx.pc = NULL;
	ck_assert_int_eq(open_fds(after, sizeof(after)), n);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	/* no longer watched: the number can be watched afresh */
	ck_assert_int_eq(loop_fd_add(fx.loop, fd, POLLIN, never, NULL), 0);
	loop_fd_del(fx.loop, fd);
	/* not tracked: /proc is read again */
	ck_assert_int_eq(self_how(), PINFO_PROC);
}
END_TEST

/* pconn_forks as the shared process state counts it */
static double
ep_forks(struct enrich_procs *ep)
{
	cJSON *o = cJSON_CreateObject(), *n;
	double v;

	ck_assert_ptr_nonnull(o);
	enrich_procs_stats(ep, o);
	n = cJSON_GetObjectItemCaseSensitive(o, "pconn_forks");
	ck_assert(cJSON_IsNumber(n));
	v = n->valuedouble;
	cJSON_Delete(o);
	return v;
}

/* A child that is gone when this returns: its notices are queued. */
static pid_t
fork_exit(void)
{
	pid_t p = fork();

	ck_assert_int_ge(p, 0);
	if (p == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(p, NULL, 0), p);
	return p;
}

/*
 * Look ev up with serial, time_ms and rx_us as given: did the
 * connector's fork count move (a drain), and by how much?
 */
static double
lookup_forks(struct enrich_procs *ep, struct event *ev,
    unsigned long long serial, long long time_ms, long long rx_us)
{
	struct procinfo_view v;
	double n = ep_forks(ep);

	ev->serial = serial;
	ev->time_ms = time_ms;
	ev->rx_us = rx_us;
	(void)enrich_procs_lookup(ep, ev, &v);
	return ep_forks(ep) - n;
}

/*
 * An event from a live source says by when its records were read
 * (rx_us): a drain begun after that already has its process's notices,
 * so only an event read after the last drain makes another. Without
 * rx_us the event's own stamp decides (with the coarse clock's slack).
 * The connector counts every fork on the machine, so "drained" is "the
 * count moved", and "not drained" is "it did not".
 */
START_TEST(rx_us_spares_drains)
{
	struct enrich_procs *ep;
	struct event ev;
	struct conf c;
	long long t0;

	ck_assert_int_eq(conf_defaults(&c), 0);
	c.proc_connector = 1;
	c.hostpath_discovery_max = 0;
	ck_assert_ptr_nonnull(ep = enrich_procs_acquire(&c, NULL));
	memset(&ev, 0, sizeof(ev));
	t0 = loop_now_us();
	/* read now, after any drain: drains, and learns the child */
	ev.pid = fork_exit();
	ck_assert(lookup_forks(ep, &ev, 1, procinfo_now_ms(),
	    loop_now_us()) >= 1);
	/* read at t0, before that drain: its notices were in it */
	ev.pid = fork_exit();
	ck_assert(lookup_forks(ep, &ev, 2, procinfo_now_ms(), t0) == 0);
	/* the same process, read after the drain: drains */
	ck_assert(lookup_forks(ep, &ev, 3, ev.time_ms, loop_now_us()) >= 1);
	/* no rx_us: a stamp well before the last drain needs none ... */
	(void)fork_exit();
	ck_assert(lookup_forks(ep, &ev, 4, procinfo_now_ms() - 1000, 0) == 0);
	/* ... a fresh one does */
	ck_assert(lookup_forks(ep, &ev, 5, procinfo_now_ms(), 0) >= 1);
	enrich_procs_release(ep);
	conf_free(&c);
}
END_TEST

int
main(void)
{
	struct procinfo *pi;
	struct proc_conn *pc;
	Suite *s;
	TCase *tc;

	/* proc_conn_open's own warning is what this says below */
	log_init(1, LOG_LVL_ERR, "test_proc_conn");
	if ((pi = procinfo_new("/proc")) == NULL)
		return EXIT_FAILURE;
	errno = 0;
	if ((pc = proc_conn_open(NULL, pi)) == NULL) {
		int e = errno;

		procinfo_free(pi);
		fprintf(stderr, "test_proc_conn: cannot open the process "
		    "connector: %s\n", strerror(e));
		if (e == EPERM || e == EACCES || e == EPROTONOSUPPORT) {
			fprintf(stderr, "test_proc_conn: SKIP: it needs root "
			    "or CAP_NET_ADMIN, and CONFIG_PROC_EVENTS\n");
			return 77;
		}
		return EXIT_FAILURE;
	}
	proc_conn_close(pc);
	procinfo_free(pi);

	s = suite_create("proc_conn");
	tc = tcase_create("kernel");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fork_of_a_gone_child_inherits_from_its_parent);
	tcase_add_test(tc, exec_is_learnt);
	tcase_add_test(tc, stats_shape);
	tcase_add_test(tc, close_gives_everything_back);
	tcase_add_test(tc, rx_us_spares_drains);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
