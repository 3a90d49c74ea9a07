/* thread.c - helper threads without signals or capabilities. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "log.h"
#include "thread.h"

/* the loop's thread alone sets and reads it */
static int held;

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *
trampoline(void *p)
{
	struct start s = *(struct start *)p;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2];

	free(p);
	/* this thread only; giving capabilities up cannot fail */
	memset(none, 0, sizeof(none));
	(void)syscall(SYS_capset, &hdr, none);
	return s.fn(s.arg);
}

int
thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *what)
{
	struct start *s;
	sigset_t all, old;
	char name[16];
	int rc;

	if (held) {
		log_warnx("%s thread: not started before the identity switch; "
		    "working without it", what);
		errno = EAGAIN;
		return -1;
	}
	if ((s = malloc(sizeof(*s))) == NULL) {
		log_warn("%s thread", what);
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	/* the new thread inherits this mask: every signal blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, trampoline, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(s);
		errno = rc;
		log_warn("%s thread", what);
		return -1;
	}
	/*
	 * Named for top -H and perf: the kernel keeps 15 bytes, and a
	 * space would shift the fields of /proc/PID/task/TID/stat for
	 * every naive reader.
	 */
	snprintf(name, sizeof(name), "%s", what);
	for (char *c = name; *c; c++)
		if (*c == ' ')
			*c = '-';
	(void)pthread_setname_np(*t, name);
	return 0;
}

void
thread_hold(void)
{
	held = 1;
}

void
thread_release(void)
{
	held = 0;
}

int
thread_allowed(void)
{
	return !held;
}
