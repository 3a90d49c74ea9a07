/*
 * source_netlink_status.c - the netlink source and the kernel's audit
 * status, on the libaudit socket: the lost counter's growth and the
 * enabled flag (polled with AUDIT_GET), the backlog settings podtrail
 * changes as the audit daemon and restores at exit, and the audit
 * daemon's pid (AUDIT_SET) it registers.
 */
#include "config.h"

#include <errno.h>
#include <libaudit.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "loss.h"
#include "loop.h"
#include "pipeline.h"
#include "source_netlink_int.h"
#include "source_netlink_status.h"

/* What the kernel's audit "enabled" flag means for a reader, or NULL if all is well. */
static const char *
enabled_note(unsigned int enabled)
{
	switch (enabled) {
	case 0:
		return "kernel audit is disabled (enabled 0): no records "
		    "will arrive until it is enabled (auditctl -e 1)";
	case 1:
		return NULL;
	case 2:
		return "kernel audit rules are locked (enabled 2): records "
		    "arrive, but no rule can be added or removed until reboot";
	default:
		return "kernel audit reports an unknown enabled state";
	}
}

static void
handle_status(struct source_netlink *ns, const struct audit_status *st)
{
	cJSON *ev;
	unsigned int delta;
	const char *note;

	ns->backlog = st->backlog;
	/* said once at start and again whenever it changes */
	if (!ns->have_enabled || st->enabled != ns->enabled) {
		if ((note = enabled_note(st->enabled)) != NULL)
			log_warnx("%s", note);
		else if (ns->have_enabled)
			log_info("kernel audit is enabled again");
		ns->have_enabled = 1;
		ns->enabled = st->enabled;
	}
	if (!ns->have_lost) {
		/* losses from before we started are not ours to report */
		ns->have_lost = 1;
		ns->lost_seen = st->lost;
		return;
	}
	if (st->lost == ns->lost_seen)
		return;
	delta = st->lost - ns->lost_seen;
	ns->lost_seen = st->lost;
	ns->kernel_lost += delta;
	log_warnx("kernel audit lost counter grew by %u (now %u)", delta,
	    st->lost);
	if ((ev = loss_event(pipeline_node(ns->pl), "kernel_lost",
	    delta)) == NULL)
		return;
	cJSON_AddNumberToObject(ev, "kernel_lost", (double)st->lost);
	if (ns->unicast) {
		cJSON_AddNumberToObject(ev, "backlog", (double)st->backlog);
		cJSON_AddNumberToObject(ev, "backlog_limit",
		    (double)st->backlog_limit);
	}
	pipeline_emit(ns->pl, ev);
}

/* Replies to AUDIT_GET (and their ACKs) on the libaudit socket. */
void
source_netlink_status_afd_readable(int fd, short revents, void *arg)
{
	struct source_netlink *ns = arg;
	struct audit_reply rep;

	while (audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0) > 0) {
		if (rep.type == AUDIT_GET && rep.status)
			handle_status(ns, rep.status);
	}
}

void
source_netlink_status_tick(void *arg)
{
	struct source_netlink *ns = arg;
	static struct log_rl rl;

	/*
	 * the reply is read by source_netlink_status_afd_readable, never
	 * waited for here
	 */
	if (audit_request_status(ns->afd) <= 0) {
		int e = errno;

		log_warnx_rl(&rl, "AUDIT_GET: %s%s", strerror(e),
		    e == EPERM ? " (needs CAP_AUDIT_CONTROL): the kernel's "
		    "lost counter is not watched" : "");
	}
	loop_timer_arm(ns->status_timer, ns->status_ms);
}

/* The kernel's audit status (start-up only: waits for the reply). */
static int
get_status(int afd, struct audit_status *out)
{
	struct audit_reply rep;
	int i;

	if (audit_request_status(afd) <= 0) {
		int e = errno;

		log_warnx("AUDIT_GET: %s%s", strerror(e), e == EPERM ?
		    " (the audit daemon connection needs CAP_AUDIT_CONTROL)" :
		    "");
		return -1;
	}
	/* start-up only: waiting here is fine */
	for (i = 0; i < 100; i++) {
		if (audit_get_reply(afd, &rep, GET_REPLY_BLOCKING, 0) <= 0)
			continue;
		if (rep.type == AUDIT_GET && rep.status) {
			*out = *rep.status;
			return 0;
		}
	}
	log_warnx("AUDIT_GET: no status reply");
	return -1;
}

/*
 * Unicast: the kernel queues records for us in its backlog; when it is
 * full, audited processes wait up to backlog_wait_time, then records
 * are lost. A larger backlog absorbs bursts without making anyone wait
 * longer; the wait itself is the operator's choice, so it is only ever
 * lowered. Both are restored at exit.
 */
void
source_netlink_status_apply_backlog(struct source_netlink *ns,
    const struct conf *c)
{
	struct audit_status st;

	if (get_status(ns->afd, &st) == -1)
		return;
	if (c->backlog_limit > 0 && st.backlog_limit != c->backlog_limit) {
		if (audit_set_backlog_limit(ns->afd,
		    (uint32_t)c->backlog_limit) <= 0) {
			log_warn("setting backlog_limit");
		} else {
			ns->set_limit = 1;
			ns->old_limit = st.backlog_limit;
			ns->new_limit = (unsigned int)c->backlog_limit;
			log_info("kernel backlog_limit %u -> %u while podtrail "
			    "runs", ns->old_limit, ns->new_limit);
		}
	}
	if (c->backlog_wait_time > 0 &&
	    (unsigned long long)c->backlog_wait_time > st.backlog_wait_time) {
		log_warnx("backlog_wait_time %lld is longer than the kernel's "
		    "%u: left at %u (podtrail never makes audited processes "
		    "wait longer)", c->backlog_wait_time, st.backlog_wait_time,
		    st.backlog_wait_time);
	} else if (c->backlog_wait_time > 0 &&
	    st.backlog_wait_time != c->backlog_wait_time) {
		if (audit_set_backlog_wait_time(ns->afd,
		    (uint32_t)c->backlog_wait_time) <= 0) {
			log_warn("setting backlog_wait_time");
		} else {
			ns->set_wait = 1;
			ns->old_wait = st.backlog_wait_time;
			ns->new_wait = (unsigned int)c->backlog_wait_time;
			log_info("kernel backlog_wait_time %u -> %u while "
			    "podtrail runs", ns->old_wait, ns->new_wait);
		}
	}
}

/*
 * Put back what source_netlink_status_apply_backlog changed, unless
 * someone changed it since.
 */
void
source_netlink_status_restore_backlog(struct source_netlink *ns)
{
	struct audit_status st;

	if (!ns->set_limit && !ns->set_wait)
		return;
	if (get_status(ns->afd, &st) == -1)
		return;
	if (ns->set_limit && st.backlog_limit == ns->new_limit &&
	    audit_set_backlog_limit(ns->afd, ns->old_limit) <= 0)
		log_warn("restoring backlog_limit");
	if (ns->set_wait && st.backlog_wait_time == ns->new_wait &&
	    audit_set_backlog_wait_time(ns->afd, ns->old_wait) <= 0)
		log_warn("restoring backlog_wait_time");
	log_info("kernel backlog settings restored");
}

/* Register the receive socket as the audit daemon (AUDIT_SET pid). */
int
source_netlink_status_register_pid(struct source_netlink *ns, int force)
{
	struct audit_status st;
	struct nlmsghdr *nh;
	pid_t pid;
	ssize_t n;

	if (get_status(ns->afd, &st) == -1)
		return -1;
	pid = (pid_t)st.pid;
	if (pid != 0 && !force && (kill(pid, 0) == 0 || errno == EPERM)) {
		log_warnx("another audit daemon (pid %d) is registered: use "
		    "--source=netlink to read beside it, or --force to try "
		    "to take over", (int)pid);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	st.mask = AUDIT_STATUS_PID;
	st.pid = (uint32_t)getpid();
	/* sent on the receive socket: the kernel unicasts to its sender */
	if (nl_send_simple(ns->sk, AUDIT_SET, NLM_F_REQUEST | NLM_F_ACK, &st,
	    sizeof(st)) < 0) {
		log_warnx("AUDIT_SET pid: send failed");
		return -1;
	}
	/* the kernel handles the request synchronously: the ACK is queued */
	n = recv(ns->fd, ns->rbuf, NL_BUFSIZE, MSG_DONTWAIT);
	nh = (struct nlmsghdr *)(void *)ns->rbuf;
	if (n >= (ssize_t)NLMSG_HDRLEN && NLMSG_OK(nh, (size_t)n) &&
	    nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		if (e->error == -EEXIST) {
			log_warnx("the kernel refused: another audit daemon "
			    "(pid %d) is registered and alive", (int)pid);
			return -1;
		}
		if (e->error != 0) {
			log_warnx("AUDIT_SET pid: %s", strerror(-e->error));
			return -1;
		}
	} else {
		log_warnx("AUDIT_SET pid: no acknowledgement");
		return -1;
	}
	ns->registered = 1;
	log_info("registered as the audit daemon (pid %d)", (int)getpid());
	return 0;
}

