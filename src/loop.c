/* loop.c - poll(2)-based event loop with one-shot timers. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

struct loop_fd {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
};

struct loop_timer {
	struct loop *loop;
	struct loop_timer *next;
	long long when;		/* monotonic ms; -1 when disarmed */
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	struct loop_fd *fds;
	struct pollfd *pfds;
	size_t nfds, capfds;
	struct loop_timer *timers;
	struct {
		loop_hook_cb cb;
		void *arg;
	} hooks[LOOP_MAX_HOOKS];
	int nhooks;
	int stop;
	long nap_us;		/* this round's loop_nap */
	const void *waitmask;
};

long long
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct loop *
loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void
loop_free(struct loop *l)
{
	struct loop_timer *t, *next;

	if (l == NULL)
		return;
	for (t = l->timers; t; t = next) {
		next = t->next;
		free(t);
	}
	free(l->fds);
	free(l->pfds);
	free(l);
}

static struct loop_fd *
find_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int
loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg)
{
	if (find_fd(l, fd)) {
		errno = EEXIST;
		return -1;
	}
	if (l->nfds == l->capfds) {
		size_t cap = l->capfds ? l->capfds * 2 : 8;
		struct loop_fd *f = realloc(l->fds, cap * sizeof(*f));
		struct pollfd *p;

		if (f == NULL)
			return -1;
		l->fds = f;
		if ((p = realloc(l->pfds, cap * sizeof(*p))) == NULL)
			return -1;
		l->pfds = p;
		l->capfds = cap;
	}
	l->fds[l->nfds++] = (struct loop_fd){ fd, events, cb, arg };
	return 0;
}

int
loop_fd_mod(struct loop *l, int fd, short events)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f == NULL) {
		errno = ENOENT;
		return -1;
	}
	f->events = events;
	return 0;
}

void
loop_fd_del(struct loop *l, int fd)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f == NULL)
		return;
	*f = l->fds[--l->nfds];
}

struct loop_timer *
loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loop = l;
	t->when = -1;
	t->cb = cb;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	return t;
}

void
loop_timer_arm(struct loop_timer *t, long ms)
{
	t->when = loop_now_ms() + (ms > 0 ? ms : 0);
}

void
loop_timer_disarm(struct loop_timer *t)
{
	t->when = -1;
}

void
loop_timer_free(struct loop_timer *t)
{
	struct loop_timer **pp;

	if (t == NULL)
		return;
	for (pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	free(t);
}

int
loop_add_before_sleep(struct loop *l, loop_hook_cb cb, void *arg)
{
	if (l->nhooks == LOOP_MAX_HOOKS) {
		errno = ENOSPC;
		return -1;
	}
	l->hooks[l->nhooks].cb = cb;
	l->hooks[l->nhooks].arg = arg;
	l->nhooks++;
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

void
loop_nap(struct loop *l, long us)
{
	if (us > l->nap_us)
		l->nap_us = us;
}

/* Fire due timers; return ms until the next one, or -1 if none. */
static int
run_timers(struct loop *l)
{
	long long now = loop_now_ms(), next = -1;
	struct loop_timer *t;
	int fired;

	do {
		fired = 0;
		for (t = l->timers; t; t = t->next) {
			if (t->when >= 0 && t->when <= now) {
				t->when = -1;
				t->cb(t->arg);
				fired = 1;
				break;	/* the callback may have freed timers */
			}
		}
	} while (fired && !l->stop);
	for (t = l->timers; t; t = t->next)
		if (t->when >= 0 && (next < 0 || t->when < next))
			next = t->when;
	if (next < 0)
		return -1;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

int
loop_run(struct loop *l, const void *sigmask)
{
	l->stop = 0;
	l->waitmask = sigmask;
	while (!l->stop) {
		struct timespec ts, *tsp = NULL;
		int timeout, n;
		size_t nfds;

		for (int i = 0; i < l->nhooks && !l->stop; i++)
			l->hooks[i].cb(l->hooks[i].arg);
		if (l->stop)
			break;
		timeout = run_timers(l);
		if (l->stop)
			break;
		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (long)(timeout % 1000) * 1000000;
			tsp = &ts;
		}
		if (l->nap_us > 0) {
			long us = l->nap_us;
			struct timespec nap;

			l->nap_us = 0;
			if (timeout >= 0 && (long)timeout * 1000 < us)
				us = (long)timeout * 1000;
			nap.tv_sec = us / 1000000;
			nap.tv_nsec = us % 1000000 * 1000;
			if (us > 0 && ppoll(NULL, 0, &nap, sigmask) == -1 &&
			    errno == EINTR)
				continue;	/* a signal: its flag first */
		}
		nfds = l->nfds;
		for (size_t i = 0; i < nfds; i++) {
			l->pfds[i].fd = l->fds[i].fd;
			l->pfds[i].events = l->fds[i].events;
			l->pfds[i].revents = 0;
		}
		n = ppoll(l->pfds, nfds, tsp, sigmask);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		for (size_t i = 0; i < nfds && n > 0 && !l->stop; i++) {
			struct loop_fd *f;

			if (l->pfds[i].revents == 0)
				continue;
			n--;
			/* the fd may have been removed by an earlier callback */
			if ((f = find_fd(l, l->pfds[i].fd)) == NULL)
				continue;
			f->cb(f->fd, l->pfds[i].revents, f->arg);
		}
	}
	return 0;
}

const void *
loop_wait_sigmask(const struct loop *l)
{
	return l->waitmask;
}
