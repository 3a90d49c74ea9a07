/*
 * source_netlink.c - audit records straight from the kernel.
 *
 * "netlink" joins the read-only multicast group AUDIT_NLGRP_READLOG, so
 * it runs beside auditd or journald; "netlink-unicast" registers as the
 * audit daemon. Either way each message becomes the line auditd would
 * write and goes to the one parser (pipeline_feed_record).
 *
 * The kernel must never wait for us: the socket is non-blocking with a
 * large receive buffer, and the read path only parses and queues. Loss
 * is reported as podtrail_loss events: ENOBUFS on the socket, serials
 * that never arrived (gaps.h), and growth of the kernel's lost counter,
 * polled with AUDIT_GET on a separate libaudit socket.
 */
#include "config.h"

#include <errno.h>
#include <libaudit.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "eoe.h"
#include "event.h"
#include "gaps.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "source.h"
#include "source_netlink.h"

/* A record is at most MAX_AUDIT_MESSAGE_LENGTH (8970) plus headers. */
#define NL_BUFSIZE (16 * 1024)
/*
 * Messages per recvmmsg: one syscall per record was ~20% of the live
 * path (perf). Only the pages a record touches become resident.
 */
#define NL_BATCH 32
/* Messages read per wake-up, so timers and other fds get their turn. */
#define NL_BURST 512
/*
 * A wake-up that found less than a batch naps this long before the
 * next poll: under a storm most wake-ups read one event's 6 records,
 * and the wake-up itself (poll, loop hooks, flushes) cost more than
 * them. The socket's buffer holds seconds of a storm; 1 ms is nothing.
 */
#define NL_NAP_US 1000
/* How long a serial may be overtaken before it counts as missing. */
#define GAP_TICK_MS 1000
/* A syscall event without its EOE this long lost it (eoe.h). */
#define EOE_AGE_MS 500
#define EOE_TICK_MS 100

struct nlsrc {
	struct loop *loop;
	struct pipeline *pl;
	int unicast;
	int registered;		/* unicast: we hold the audit pid */
	/* unicast: kernel settings we changed, to restore at exit */
	int set_limit, set_wait;
	unsigned int old_limit, new_limit, old_wait, new_wait;
	struct nl_sock *sk;
	int fd;			/* records arrive here */
	int afd;		/* libaudit socket for AUDIT_GET */
	char *rbuf;		/* NL_BATCH buffers of NL_BUFSIZE */
	struct mmsghdr msgs[NL_BATCH];
	struct iovec iov[NL_BATCH];
	struct buf line;
	struct gaps *gaps;
	struct eoe *eoe;
	struct buf eoe_line;
	long long now_ms;	/* at the start of the current burst */
	int drained;		/* the last read found the socket empty */
	int compact;		/* events were force-closed: compact the parser */
	struct loop_timer *gap_timer, *status_timer, *eoe_timer;
	long status_ms;
	int have_lost;		/* lost_seen holds a kernel value */
	int have_enabled;	/* enabled holds a kernel value */
	unsigned int enabled;
	unsigned int lost_seen;
	/* counters */
	unsigned long long messages, records, bytes, enobufs, other;
	unsigned long long missing, gap_reports, kernel_lost, truncated;
	unsigned int backlog;
};

int
nlsrc_format_record(struct buf *out, int type, const char *payload, size_t len)
{
	const char *name = audit_msg_type_to_name(type);
	char unknown[32];
	size_t nlen;

	/* the kernel may count a trailing NUL or newline in the payload */
	while (len > 0 && (payload[len - 1] == '\0' || payload[len - 1] == '\n'))
		len--;
	/* an embedded NUL stays: parse.c counts such a record as malformed */
	/* exactly what auditd writes, UNKNOWN[N] included */
	if (name == NULL) {
		snprintf(unknown, sizeof(unknown), "UNKNOWN[%d]", type);
		name = unknown;
	}
	nlen = strlen(name);
	/*
	 * Copies, not printf: this runs for every record, and vsnprintf
	 * copying the payload was ~7% of the live path (perf).
	 */
	if (buf_reserve(out, 5 + nlen + 5 + len) == -1)
		return -1;
	memcpy(out->data + out->len, "type=", 5);
	memcpy(out->data + out->len + 5, name, nlen);
	memcpy(out->data + out->len + 5 + nlen, " msg=", 5);
	memcpy(out->data + out->len + 10 + nlen, payload, len);
	out->len += 10 + nlen + len;
	out->data[out->len] = '\0';
	return 0;
}

unsigned long long
nlsrc_serial(const char *payload, size_t len)
{
	unsigned long long s = 0;
	size_t i;

	if (len < 7 || memcmp(payload, "audit(", 6) != 0)
		return 0;
	for (i = 6; i < len && payload[i] != ':' && payload[i] != ')'; i++)
		;
	if (i == len || payload[i] != ':')
		return 0;
	for (i++; i < len && payload[i] >= '0' && payload[i] <= '9'; i++)
		s = s * 10 + (unsigned long long)(payload[i] - '0');
	if (i == len || payload[i] != ')')
		return 0;
	return s;
}

static void
emit_gap(struct nlsrc *ns, const struct gaps_report *r)
{
	cJSON *ev;

	if (r->count == 0)
		return;
	ns->missing += r->count;
	ns->gap_reports++;
	log_warnx("audit serials lost: %llu between %llu and %llu", r->count,
	    r->first, r->last);
	if ((ev = event_new_internal("podtrail_loss",
	    pipeline_node(ns->pl))) == NULL)
		return;
	cJSON_AddStringToObject(ev, "cause", "serial_gap");
	cJSON_AddNumberToObject(ev, "count", (double)r->count);
	cJSON_AddNumberToObject(ev, "first_missing", (double)r->first);
	cJSON_AddNumberToObject(ev, "last_missing", (double)r->last);
	cJSON_AddNumberToObject(ev, "missing_total", (double)ns->missing);
	pipeline_emit(ns->pl, ev);
}

static void
emit_enobufs(struct nlsrc *ns, unsigned long long n)
{
	cJSON *ev;

	log_warnx("netlink receive buffer overflowed %llu time(s): records "
	    "were dropped (raise rcvbuf)", n);
	if ((ev = event_new_internal("podtrail_loss",
	    pipeline_node(ns->pl))) == NULL)
		return;
	cJSON_AddStringToObject(ev, "cause", "enobufs");
	cJSON_AddNumberToObject(ev, "count", (double)n);
	/* the lost records came after this serial; gaps give the range */
	cJSON_AddNumberToObject(ev, "after_serial",
	    (double)gaps_max(ns->gaps));
	cJSON_AddNumberToObject(ev, "enobufs_total", (double)ns->enobufs);
	pipeline_emit(ns->pl, ev);
}

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
handle_status(struct nlsrc *ns, const struct audit_status *st)
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
	if ((ev = event_new_internal("podtrail_loss",
	    pipeline_node(ns->pl))) == NULL)
		return;
	cJSON_AddStringToObject(ev, "cause", "kernel_lost");
	cJSON_AddNumberToObject(ev, "count", (double)delta);
	cJSON_AddNumberToObject(ev, "kernel_lost", (double)st->lost);
	if (ns->unicast) {
		cJSON_AddNumberToObject(ev, "backlog", (double)st->backlog);
		cJSON_AddNumberToObject(ev, "backlog_limit",
		    (double)st->backlog_limit);
	}
	pipeline_emit(ns->pl, ev);
}

/* Replies to AUDIT_GET (and their ACKs) on the libaudit socket. */
static void
afd_readable(int fd, short revents, void *arg)
{
	struct nlsrc *ns = arg;
	struct audit_reply rep;

	while (audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0) > 0) {
		if (rep.type == AUDIT_GET && rep.status)
			handle_status(ns, rep.status);
	}
}

static void
status_tick(void *arg)
{
	struct nlsrc *ns = arg;
	static struct log_rl rl;

	/* the reply is read by afd_readable, never waited for here */
	if (audit_request_status(ns->afd) <= 0) {
		int e = errno;

		log_warnx_rl(&rl, "AUDIT_GET: %s%s", strerror(e),
		    e == EPERM ? " (needs CAP_AUDIT_CONTROL): the kernel's "
		    "lost counter is not watched" : "");
	}
	loop_timer_arm(ns->status_timer, ns->status_ms);
}

static void
gap_tick(void *arg)
{
	struct nlsrc *ns = arg;
	struct gaps_report r = { 0 };

	gaps_tick(ns->gaps, &r);
	emit_gap(ns, &r);
	loop_timer_arm(ns->gap_timer, GAP_TICK_MS);
	loop_timer_arm(ns->eoe_timer, EOE_TICK_MS);
}

/* An open event lost its EOE: end it in auparse with one of ours. */
static void
close_event(const char *stamp, size_t len, void *arg)
{
	struct nlsrc *ns = arg;

	ns->compact = 1;
	buf_reset(&ns->eoe_line);
	if (buf_printf(&ns->eoe_line, "type=EOE msg=%.*s: ", (int)len,
	    stamp) == 0)
		pipeline_feed_record(ns->pl, ns->eoe_line.data,
		    ns->eoe_line.len);
}

static void
eoe_tick(void *arg)
{
	struct nlsrc *ns = arg;

	eoe_expire(ns->eoe, loop_now_ms(), EOE_AGE_MS, ns->drained);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
	loop_timer_arm(ns->eoe_timer, EOE_TICK_MS);
}

static void
handle_msg(struct nlsrc *ns, const struct nlmsghdr *nh, size_t len,
    struct gaps_report *r)
{
	const char *payload = NLMSG_DATA(nh);
	unsigned long long serial;
	static struct log_rl rl;

	ns->messages++;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		/* ACKs of our own requests */
		if (len >= sizeof(*e) && e->error != 0)
			log_warnx_rl(&rl, "audit netlink: %s",
			    strerror(-e->error));
		return;
	}
	/* records live in 1100..2999; the rest are replies and control */
	if (nh->nlmsg_type < AUDIT_FIRST_USER_MSG ||
	    nh->nlmsg_type > AUDIT_LAST_USER_MSG2) {
		ns->other++;
		return;
	}
	ns->records++;
	if ((serial = nlsrc_serial(payload, len)) != 0)
		gaps_seen(ns->gaps, serial, r);
	eoe_record(ns->eoe, nh->nlmsg_type, payload, len, ns->now_ms);
	buf_reset(&ns->line);
	if (nlsrc_format_record(&ns->line, nh->nlmsg_type, payload, len) == -1) {
		log_warnx_rl(&rl, "out of memory formatting a record");
		return;
	}
	pipeline_feed_record(ns->pl, ns->line.data, ns->line.len);
	/* right after an EOE is the likeliest moment nothing is half-built */
	if (ns->compact && nh->nlmsg_type == AUDIT_EOE &&
	    pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
}

/* One datagram read from the socket; len is its full length. */
static void
one_datagram(struct nlsrc *ns, const char *buf, size_t len,
    struct gaps_report *r)
{
	static struct log_rl rl;

	if (len > NL_BUFSIZE) {
		ns->truncated++;
		log_warnx_rl(&rl, "audit netlink: %zu byte message truncated",
		    len);
		len = NL_BUFSIZE;
	}
	ns->bytes += (unsigned long long)len;
	/*
	 * One message per datagram. Audit records carry an nlmsg_len
	 * without the header (a kernel quirk userspace relies on), so the
	 * datagram's size is what counts.
	 */
	if (len < NLMSG_HDRLEN)
		return;
	handle_msg(ns, (const struct nlmsghdr *)(const void *)buf,
	    len - NLMSG_HDRLEN, r);
}

static void
nl_readable(int fd, short revents, void *arg)
{
	struct nlsrc *ns = arg;
	struct gaps_report r = { 0 };
	unsigned long long enobufs = 0;
	static struct log_rl rl;
	int got = 0;

	ns->now_ms = loop_now_ms();
	ns->drained = 0;
	while (got < NL_BURST) {
		int m;

		for (int i = 0; i < NL_BATCH; i++) {
			ns->iov[i].iov_base = ns->rbuf + (size_t)i * NL_BUFSIZE;
			ns->iov[i].iov_len = NL_BUFSIZE;
			memset(&ns->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
			ns->msgs[i].msg_hdr.msg_iov = &ns->iov[i];
			ns->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		/* MSG_TRUNC: netlink reports a datagram's full length */
		m = recvmmsg(fd, ns->msgs, NL_BATCH, MSG_TRUNC, NULL);
		if (m == -1) {
			if (errno == EAGAIN) {
				ns->drained = 1;
				break;
			}
			if (errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				enobufs++;
				got++;
				continue;
			}
			log_warnx_rl(&rl, "audit netlink recv: %s",
			    strerror(errno));
			break;
		}
		for (int i = 0; i < m; i++)
			one_datagram(ns, ns->rbuf + (size_t)i * NL_BUFSIZE,
			    ns->msgs[i].msg_len, &r);
		got += m;
		if (m < NL_BATCH) {
			/* a short batch: the socket is (nearly) empty */
			ns->drained = 1;
			break;
		}
	}
	if (ns->drained && got < NL_BATCH)
		loop_nap(ns->loop, NL_NAP_US);
	if (enobufs) {
		ns->enobufs += enobufs;
		emit_enobufs(ns, enobufs);
	}
	emit_gap(ns, &r);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
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
static void
apply_backlog(struct nlsrc *ns, const struct conf *c)
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

/* Put back what apply_backlog changed, unless someone changed it since. */
static void
restore_backlog(struct nlsrc *ns)
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
static int
register_pid(struct nlsrc *ns, int force)
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

static void
nlsrc_close(void *arg)
{
	struct nlsrc *ns = arg;

	if (ns == NULL)
		return;
	if (ns->gaps && ns->gap_timer) {
		struct gaps_report r = { 0 };

		/* nothing more will arrive: settle up to the newest serial */
		gaps_tick(ns->gaps, &r);
		gaps_tick(ns->gaps, &r);
		emit_gap(ns, &r);
	}
	if (ns->afd >= 0)
		restore_backlog(ns);
	if (ns->registered) {
		/* only the registered pid may reset it; ours */
		if (audit_set_pid(ns->afd, 0, WAIT_NO) <= 0)
			log_warn("unregistering as the audit daemon");
		else
			log_info("unregistered as the audit daemon");
	}
	if (ns->fd >= 0)
		loop_fd_del(ns->loop, ns->fd);
	if (ns->afd >= 0) {
		loop_fd_del(ns->loop, ns->afd);
		audit_close(ns->afd);
	}
	loop_timer_free(ns->gap_timer);
	loop_timer_free(ns->status_timer);
	loop_timer_free(ns->eoe_timer);
	eoe_free(ns->eoe);
	buf_free(&ns->eoe_line);
	if (ns->sk)
		nl_socket_free(ns->sk);
	gaps_free(ns->gaps);
	buf_free(&ns->line);
	free(ns->rbuf);
	free(ns);
}

static int
set_rcvbuf(int fd, long long want)
{
	int v = (int)want;
	socklen_t len = sizeof(v);

	/* FORCE ignores rmem_max but needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1) {
		log_warn("netlink receive buffer");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0)
		log_debug("netlink receive buffer: %d bytes", v);
	return 0;
}

static void *
nlsrc_open(int unicast, const char *arg, struct loop *loop,
    struct pipeline *pl, const struct conf *c)
{
	struct nlsrc *ns = calloc(1, sizeof(*ns));
	int err;

	if (ns == NULL) {
		log_warn("source");
		return NULL;
	}
	ns->fd = ns->afd = -1;
	ns->loop = loop;
	ns->pl = pl;
	ns->unicast = unicast;
	ns->status_ms = (long)c->status_interval * 1000;
	if (arg) {
		log_warnx("source netlink takes no argument");
		goto err;
	}
	if ((ns->rbuf = malloc((size_t)NL_BATCH * NL_BUFSIZE)) == NULL ||
	    (ns->gaps = gaps_new()) == NULL ||
	    (ns->eoe = eoe_new(close_event, ns)) == NULL) {
		log_warn("source");
		goto err;
	}
	if ((ns->sk = nl_socket_alloc()) == NULL) {
		log_warnx("nl_socket_alloc failed");
		goto err;
	}
	nl_socket_disable_seq_check(ns->sk);
	nl_socket_disable_auto_ack(ns->sk);
	if ((err = nl_connect(ns->sk, NETLINK_AUDIT)) < 0) {
		log_warnx("netlink audit socket: %s", nl_geterror(err));
		goto err;
	}
	ns->fd = nl_socket_get_fd(ns->sk);
	if (set_rcvbuf(ns->fd, c->rcvbuf) == -1)
		goto err;
	if ((ns->afd = audit_open()) < 0) {
		log_warn("audit_open");
		ns->afd = -1;
		goto err;
	}
	if (unicast) {
		if (register_pid(ns, c->force) == -1)
			goto err;
		apply_backlog(ns, c);
	} else if ((err = nl_socket_add_membership(ns->sk,
	    AUDIT_NLGRP_READLOG)) < 0) {
		log_warnx("joining the audit multicast group: %s (needs "
		    "CAP_AUDIT_READ)", nl_geterror(err));
		goto err;
	}
	if ((err = nl_socket_set_nonblocking(ns->sk)) < 0) {
		log_warnx("netlink non-blocking: %s", nl_geterror(err));
		goto err;
	}
	if (loop_fd_add(loop, ns->fd, POLLIN, nl_readable, ns) == -1 ||
	    loop_fd_add(loop, ns->afd, POLLIN, afd_readable, ns) == -1) {
		log_warn("watch netlink");
		goto err;
	}
	if ((ns->gap_timer = loop_timer_new(loop, gap_tick, ns)) == NULL ||
	    (ns->status_timer = loop_timer_new(loop, status_tick, ns)) ==
	    NULL ||
	    (ns->eoe_timer = loop_timer_new(loop, eoe_tick, ns)) == NULL) {
		log_warn("timer");
		goto err;
	}
	loop_timer_arm(ns->gap_timer, GAP_TICK_MS);
	/* the first poll sets the baseline of the lost counter */
	loop_timer_arm(ns->status_timer, 0);
	log_info("reading audit records from netlink (%s)",
	    unicast ? "unicast, as the audit daemon" : "multicast, read-only");
	return ns;
err:
	nlsrc_close(ns);
	return NULL;
}

static void *
multicast_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	return nlsrc_open(0, arg, loop, pl, c);
}

static void *
unicast_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	return nlsrc_open(1, arg, loop, pl, c);
}

static void
nlsrc_stats(void *arg, cJSON *obj)
{
	struct nlsrc *ns = arg;

	cJSON_AddNumberToObject(obj, "netlink_messages", (double)ns->messages);
	cJSON_AddNumberToObject(obj, "netlink_records", (double)ns->records);
	cJSON_AddNumberToObject(obj, "netlink_bytes", (double)ns->bytes);
	cJSON_AddNumberToObject(obj, "enobufs", (double)ns->enobufs);
	cJSON_AddNumberToObject(obj, "serials_missing", (double)ns->missing);
	cJSON_AddNumberToObject(obj, "serials_late",
	    (double)gaps_late(ns->gaps));
	cJSON_AddNumberToObject(obj, "last_serial",
	    (double)gaps_max(ns->gaps));
	cJSON_AddNumberToObject(obj, "kernel_lost", (double)ns->kernel_lost);
	cJSON_AddNumberToObject(obj, "truncated", (double)ns->truncated);
	cJSON_AddNumberToObject(obj, "eoe_synthesized",
	    (double)eoe_closed(ns->eoe));
	if (ns->unicast)
		cJSON_AddNumberToObject(obj, "backlog", (double)ns->backlog);
}

const struct source_ops source_netlink_ops = {
	.name = "netlink",
	.open = multicast_open,
	.close = nlsrc_close,
	.stats = nlsrc_stats,
};

const struct source_ops source_netlink_unicast_ops = {
	.name = "netlink-unicast",
	.open = unicast_open,
	.close = nlsrc_close,
	.stats = nlsrc_stats,
};
