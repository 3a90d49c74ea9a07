/*
 * procinfo_proc.c - what the process cache reads from /proc: a
 * process's birth (stat field 22, clock ticks since boot, turned into
 * realtime ms so it compares with audit timestamps), its cgroup and
 * its mount namespace's inode.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "procinfo.h"
#include "procinfo_int.h"
#include "procinfo_proc.h"

/* Realtime ms of the boot, to place stat start times on the same clock. */
static long long
boot_ms(void)
{
	struct timespec bt;

	clock_gettime(CLOCK_BOOTTIME, &bt);
	return procinfo_now_ms() - ((long long)bt.tv_sec * 1000 +
	    bt.tv_nsec / 1000000);
}

/* Read a small /proc file into buf (NUL-terminated). Length, or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd == -1)
		return -1;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got > 0 ? got : -1;
}

/* Field 22 of /proc/<pid>/stat. 0, or -1 if the process is gone. */
int
procinfo_proc_read_start(struct procinfo *pi, pid_t pid,
    unsigned long long *ticks)
{
	char path[96], buf[1024];
	const char *p;
	int field;

	snprintf(path, sizeof(path), "%s/%d/stat", pi->proc, (int)pid);
	if (read_small(path, buf, sizeof(buf)) == -1)
		return -1;
	/* comm may hold spaces and ')': fields restart after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22)
		return -1;
	*ticks = strtoull(p, NULL, 10);
	return 0;
}

long long
procinfo_proc_ticks_to_ms(struct procinfo *pi, unsigned long long ticks)
{
	return boot_ms() + (long long)(ticks * 1000 / (unsigned long long)pi->ticks_per_s);
}

int
procinfo_proc_read_cgroup(struct procinfo *pi, pid_t pid, struct cg_info *cg,
    int *in_ctr)
{
	char path[96], buf[4096];
	ssize_t n;
	int rc;

	snprintf(path, sizeof(path), "%s/%d/cgroup", pi->proc, (int)pid);
	if ((n = read_small(path, buf, sizeof(buf))) == -1)
		return -1;
	if ((rc = cg_parse(buf, (size_t)n, cg)) == -1)
		return -1;
	*in_ctr = rc;
	return 0;
}

unsigned long long
procinfo_proc_read_ns_ino(struct procinfo *pi, const char *who)
{
	char path[96], link[64];
	ssize_t n;
	const char *p;

	snprintf(path, sizeof(path), "%s/%s/ns/mnt", pi->proc, who);
	if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
		return 0;
	link[n] = '\0';
	if ((p = strchr(link, '[')) == NULL)
		return 0;
	return strtoull(p + 1, NULL, 10);
}
