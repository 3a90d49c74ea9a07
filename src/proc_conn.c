/*
 * proc_conn.c - NETLINK_CONNECTOR / CN_IDX_PROC subscriber.
 *
 * Each fork and exec makes procinfo read /proc/<pid> while the process
 * still exists; each exit starts the entry's grace period. When the
 * socket overflows (ENOBUFS) exits may have been missed, so procinfo
 * is told to stop trusting "still alive".
 */
#include "config.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "proc_conn.h"
#include "procinfo.h"

#define RCVBUF (8 * 1024 * 1024)

struct proc_conn {
	int fd;
	struct loop *loop;
	struct procinfo *pi;
	unsigned long long forks, execs, exits, overflows;
};

/* Kernel notification time (CLOCK_MONOTONIC ns) as realtime ms. */
static long long
kernel_ms(unsigned long long ts_ns)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return procinfo_now_ms() - ((long long)mono.tv_sec * 1000 +
	    mono.tv_nsec / 1000000) + (long long)(ts_ns / 1000000);
}

static void
handle(struct proc_conn *pc, const struct proc_event *ev)
{
	long long when = kernel_ms(ev->timestamp_ns);

	switch (ev->what) {
	case PROC_EVENT_FORK:
		/* threads share the process's entry */
		if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
			return;
		pc->forks++;
		procinfo_learn(pc->pi, ev->event_data.fork.child_tgid,
		    ev->event_data.fork.parent_tgid, when, 0);
		break;
	case PROC_EVENT_EXEC:
		pc->execs++;
		procinfo_learn(pc->pi, ev->event_data.exec.process_tgid, 0,
		    when, 1);
		break;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
			return;
		pc->exits++;
		procinfo_exit(pc->pi, ev->event_data.exit.process_tgid, when);
		break;
	default:
		break;
	}
}

void
proc_conn_drain(struct proc_conn *pc)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (pc == NULL)
		return;
	for (;;) {
		ssize_t n = recv(pc->fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nh;

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				static struct log_rl rl;

				pc->overflows++;
				log_warnx_rl(&rl, "process connector overflowed: "
				    "late events of exited processes may be unknown");
				procinfo_lost_track(pc->pi, procinfo_now_ms());
				continue;
			}
			return;	/* EAGAIN: drained */
		}
		if (n == 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n)) {
			const struct cn_msg *cn;

			if (nh->nlmsg_type == NLMSG_ERROR ||
			    nh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) +
			    sizeof(struct proc_event)))
				continue;
			struct cn_msg cnh;
			struct proc_event pe;

			/* the payload is only 4-byte aligned: copy it out */
			cn = NLMSG_DATA(nh);
			memcpy(&cnh, cn, sizeof(cnh));
			if (cnh.id.idx != CN_IDX_PROC || cnh.id.val != CN_VAL_PROC)
				continue;
			memcpy(&pe, (const char *)cn + sizeof(cnh), sizeof(pe));
			handle(pc, &pe);
		}
	}
}

static void
readable(int fd, short revents, void *arg)
{
	proc_conn_drain(arg);
}

static int
subscribe(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nh;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;

	memset(&msg, 0, sizeof(msg));
	msg.nh.nlmsg_len = sizeof(msg);
	msg.nh.nlmsg_type = NLMSG_DONE;
	msg.nh.nlmsg_pid = 0;
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(op);
	msg.op = op;
	return send(fd, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -1;
}

struct proc_conn *
proc_conn_open(struct loop *loop, struct procinfo *pi)
{
	struct sockaddr_nl sa;
	struct proc_conn *pc = calloc(1, sizeof(*pc));
	int size = RCVBUF, saved;

	if (pc == NULL) {
		log_warn("process connector");
		return NULL;
	}
	pc->loop = loop;
	pc->pi = pi;
	pc->fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_CONNECTOR);
	if (pc->fd == -1)
		goto err;
	if (setsockopt(pc->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(pc->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = CN_IDX_PROC;
	if (bind(pc->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    subscribe(pc->fd, PROC_CN_MCAST_LISTEN) == -1)
		goto err;
	if (loop && loop_fd_add(loop, pc->fd, POLLIN, readable, pc) == -1)
		goto err;
	procinfo_set_tracking(pi, 1);
	return pc;
err:
	saved = errno;
	log_warn("process connector unavailable, attributing from /proc "
	    "at event time only");
	if (pc->fd >= 0)
		close(pc->fd);
	free(pc);
	errno = saved;
	return NULL;
}

void
proc_conn_close(struct proc_conn *pc)
{
	if (pc == NULL)
		return;
	if (pc->loop)
		loop_fd_del(pc->loop, pc->fd);
	(void)subscribe(pc->fd, PROC_CN_MCAST_IGNORE);
	close(pc->fd);
	procinfo_set_tracking(pc->pi, 0);
	free(pc);
}

void
proc_conn_stats(struct proc_conn *pc, cJSON *obj)
{
	cJSON_AddBoolToObject(obj, "proc_connector", pc != NULL);
	if (pc == NULL)
		return;
	cJSON_AddNumberToObject(obj, "pconn_forks", (double)pc->forks);
	cJSON_AddNumberToObject(obj, "pconn_execs", (double)pc->execs);
	cJSON_AddNumberToObject(obj, "pconn_exits", (double)pc->exits);
	cJSON_AddNumberToObject(obj, "pconn_overflows", (double)pc->overflows);
}
