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
 *
 * With ring_bytes set (the default), a drain thread empties the socket
 * into a ring (ring.h) that the loop reads: a loop held up by parsing,
 * enrichment or a slow disk no longer leaves records in the socket,
 * where each costs ~1 KiB of skb, but in the ring at their length. The
 * drain never waits in multicast: what does not fit is dropped and the
 * loop is told exactly what (a loss record in the ring, in stream
 * order: cause ring_full with its serial range). As the audit daemon
 * it waits for room instead, and the kernel makes audited processes
 * wait (backlog_wait_time): nothing is dropped here.
 *
 * This file is the read path and the source's ops; the drain thread is
 * in source_netlink_drain.c, the kernel's audit status and settings in
 * source_netlink_status.c.
 */
#include "config.h"

#include <errno.h>
#include <libaudit.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "eoe.h"
#include "gaps.h"
#include "log.h"
#include "loss.h"
#include "loop.h"
#include "pipeline.h"
#include "ring.h"
#include "source.h"
#include "source_netlink.h"
#include "source_netlink_drain.h"
#include "source_netlink_int.h"
#include "source_netlink_status.h"
#include "thread.h"
#include "thread_plan.h"

/* How long a serial may be overtaken before it counts as missing. */
#define GAP_TICK_MS 1000
/* A syscall event without its EOE this long lost it (eoe.h). */
#define EOE_AGE_MS 500
#define EOE_TICK_MS 100

int
source_netlink_format_record(struct buf *out, int type, const char *payload,
    size_t len)
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
source_netlink_serial(const char *payload, size_t len)
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

void
source_netlink_emit_gap(struct source_netlink *ns, const struct gaps_report *r)
{
	cJSON *ev;

	if (r->count == 0)
		return;
	ns->missing += r->count;
	ns->gap_reports++;
	log_warnx("audit serials lost: %llu between %llu and %llu", r->count,
	    r->first, r->last);
	if ((ev = loss_event(pipeline_node(ns->pl), "serial_gap",
	    r->count)) == NULL)
		return;
	cJSON_AddNumberToObject(ev, "first_missing", (double)r->first);
	cJSON_AddNumberToObject(ev, "last_missing", (double)r->last);
	cJSON_AddNumberToObject(ev, "missing_total", (double)ns->missing);
	pipeline_emit(ns->pl, ev);
}

void
source_netlink_emit_enobufs(struct source_netlink *ns, unsigned long long n)
{
	cJSON *ev;

	log_warnx("netlink receive buffer overflowed %llu time(s): records "
	    "were dropped (raise rcvbuf)", n);
	if ((ev = loss_event(pipeline_node(ns->pl), "enobufs", n)) == NULL)
		return;
	/* the lost records came after this serial; gaps give the range */
	cJSON_AddNumberToObject(ev, "after_serial",
	    (double)gaps_max(ns->gaps));
	cJSON_AddNumberToObject(ev, "enobufs_total", (double)ns->enobufs);
	pipeline_emit(ns->pl, ev);
}

static void
gap_tick(void *arg)
{
	struct source_netlink *ns = arg;
	struct gaps_report r = { 0 };

	gaps_tick(ns->gaps, &r);
	source_netlink_emit_gap(ns, &r);
	loop_timer_arm(ns->gap_timer, GAP_TICK_MS);
	loop_timer_arm(ns->eoe_timer, EOE_TICK_MS);
}

/* An open event lost its EOE: end it in auparse with one of ours. */
static void
close_event(const char *stamp, size_t len, void *arg)
{
	struct source_netlink *ns = arg;

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
	struct source_netlink *ns = arg;

	eoe_expire(ns->eoe, loop_now_ms(), EOE_AGE_MS, ns->drained);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
	loop_timer_arm(ns->eoe_timer, EOE_TICK_MS);
}

static void
handle_msg(struct source_netlink *ns, const struct nlmsghdr *nh, size_t len,
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
	if ((serial = source_netlink_serial(payload, len)) != 0)
		gaps_seen(ns->gaps, serial, r);
	eoe_record(ns->eoe, nh->nlmsg_type, payload, len, ns->now_ms);
	buf_reset(&ns->line);
	if (source_netlink_format_record(&ns->line, nh->nlmsg_type, payload,
	    len) == -1) {
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
void
source_netlink_one_datagram(struct source_netlink *ns, const char *buf,
    size_t len, struct gaps_report *r)
{
	static struct log_rl rl;

	if (len > NL_BUFSIZE) {
		ns->truncated++;
		log_warnx_rl(&rl, "audit netlink: %zu byte message truncated "
		    "to %d", len, NL_BUFSIZE);
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

/* Up to NL_BATCH datagrams into rbuf (never waits). recvmmsg's answer. */
int
source_netlink_recv_batch(struct source_netlink *ns)
{
	for (int i = 0; i < NL_BATCH; i++) {
		ns->iov[i].iov_base = ns->rbuf + (size_t)i * NL_BUFSIZE;
		ns->iov[i].iov_len = NL_BUFSIZE;
		memset(&ns->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
		ns->msgs[i].msg_hdr.msg_iov = &ns->iov[i];
		ns->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* MSG_TRUNC: netlink reports a datagram's full length */
	return recvmmsg(ns->fd, ns->msgs, NL_BATCH, MSG_TRUNC | MSG_DONTWAIT,
	    NULL);
}

void
source_netlink_nl_readable(int fd, short revents, void *arg)
{
	struct source_netlink *ns = arg;
	struct gaps_report r = { 0 };
	unsigned long long enobufs = 0;
	static struct log_rl rl;
	int got = 0;

	ns->now_ms = loop_now_ms();
	ns->drained = 0;
	while (got < NL_BURST) {
		int m = source_netlink_recv_batch(ns);

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
		pipeline_received(ns->pl, loop_now_us());
		for (int i = 0; i < m; i++)
			source_netlink_one_datagram(ns, ns->rbuf + (size_t)i *
			    NL_BUFSIZE, ns->msgs[i].msg_len, &r);
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
		source_netlink_emit_enobufs(ns, enobufs);
	}
	source_netlink_emit_gap(ns, &r);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
}

/* SIGTERM: take in what the drain and the socket still hold. */
static void
source_netlink_drain(void *arg)
{
	struct source_netlink *ns = arg;

	source_netlink_drain_stop(ns);
	ns->drained = 0;
	/* the socket's remainder, read on this thread now */
	for (int i = 0; i < 64 && !ns->drained; i++)
		source_netlink_nl_readable(ns->fd, POLLIN, ns);
}

static void
source_netlink_close(void *arg)
{
	struct source_netlink *ns = arg;

	if (ns == NULL)
		return;
	source_netlink_drain_stop(ns);
	if (ns->gaps && ns->gap_timer) {
		struct gaps_report r = { 0 };

		/* nothing more will arrive: settle up to the newest serial */
		gaps_tick(ns->gaps, &r);
		gaps_tick(ns->gaps, &r);
		source_netlink_emit_gap(ns, &r);
	}
	if (ns->afd >= 0)
		source_netlink_status_restore_backlog(ns);
	if (ns->registered) {
		/* only the registered pid may reset it; ours */
		if (audit_set_pid(ns->afd, 0, WAIT_NO) <= 0)
			log_warn("unregistering as the audit daemon");
		else
			log_info("unregistered as the audit daemon");
	}
	if (ns->fd >= 0)
		loop_fd_del(ns->loop, ns->fd);
	if (ns->ring) {
		loop_fd_del(ns->loop, ring_fd(ns->ring));
		ring_free(ns->ring);
	}
	if (ns->stop_efd >= 0)
		close(ns->stop_efd);
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
set_rcvbuf(int fd, long long want, int *got)
{
	int v = (int)want;
	socklen_t len = sizeof(v);

	/* FORCE ignores rmem_max but needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1) {
		log_warn("netlink receive buffer");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0) {
		log_debug("netlink receive buffer: %d bytes", v);
		*got = v;
	}
	return 0;
}

static void *
source_netlink_open(int unicast, const char *arg, struct loop *loop,
    struct pipeline *pl, const struct conf *c)
{
	struct source_netlink *ns = calloc(1, sizeof(*ns));
	const char *stall;
	int err;

	if (ns == NULL) {
		log_warn("source");
		return NULL;
	}
	ns->fd = ns->afd = ns->stop_efd = -1;
	ns->loop = loop;
	ns->ring_bytes = thread_plan(c).drain ? (size_t)c->ring_bytes : 0;
	if ((stall = getenv("PODTRAIL_TEST_STALL_MS")) != NULL)
		ns->stall_ms = strtol(stall, NULL, 10);
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
	if (set_rcvbuf(ns->fd, c->rcvbuf, &ns->rcvbuf) == -1)
		goto err;
	if ((ns->afd = audit_open()) < 0) {
		log_warn("audit_open");
		ns->afd = -1;
		goto err;
	}
	if (unicast) {
		if (source_netlink_status_register_pid(ns, c->force) == -1)
			goto err;
		source_netlink_status_apply_backlog(ns, c);
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
	if (loop_fd_add(loop, ns->fd, POLLIN, source_netlink_nl_readable,
	    ns) == -1 ||
	    loop_fd_add(loop, ns->afd, POLLIN,
	    source_netlink_status_afd_readable, ns) == -1) {
		log_warn("watch netlink");
		goto err;
	}
	if ((ns->gap_timer = loop_timer_new(loop, gap_tick, ns)) == NULL ||
	    (ns->status_timer = loop_timer_new(loop,
	    source_netlink_status_tick, ns)) == NULL ||
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
	source_netlink_close(ns);
	return NULL;
}

static void *
multicast_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	return source_netlink_open(0, arg, loop, pl, c);
}

static void *
unicast_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	return source_netlink_open(1, arg, loop, pl, c);
}

static void
source_netlink_stats(void *arg, cJSON *obj)
{
	struct source_netlink *ns = arg;

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
	if (ns->ring) {
		cJSON_AddNumberToObject(obj, "ring_bytes_used",
		    (double)ring_used(ns->ring));
		cJSON_AddNumberToObject(obj, "ring_peak_bytes",
		    (double)ring_peak(ns->ring));
		cJSON_AddNumberToObject(obj, "ring_lost_records",
		    (double)ns->ring_lost);
		cJSON_AddNumberToObject(obj, "ring_lost_serials",
		    (double)ns->ring_lost_serials);
		cJSON_AddNumberToObject(obj, "ring_behind",
		    (double)ns->ring_behind);
	}
}

const struct source_ops source_netlink_ops = {
	.name = "netlink",
	.open = multicast_open,
	.close = source_netlink_close,
	.stats = source_netlink_stats,
	.start = source_netlink_drain_start,
	.drain = source_netlink_drain,
};

const struct source_ops source_netlink_unicast_ops = {
	.name = "netlink-unicast",
	.open = unicast_open,
	.close = source_netlink_close,
	.stats = source_netlink_stats,
	.start = source_netlink_drain_start,
	.drain = source_netlink_drain,
};

