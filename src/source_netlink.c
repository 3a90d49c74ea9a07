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
#include "event.h"
#include "gaps.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "ring.h"
#include "source.h"
#include "source_netlink.h"
#include "thread.h"

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
/* The drain naps only with a receive buffer this large (NL_NAP_US) */
#define DRAIN_NAP_RCVBUF (4 << 20)
/* How long a serial may be overtaken before it counts as missing. */
#define GAP_TICK_MS 1000
/* A syscall event without its EOE this long lost it (eoe.h). */
#define EOE_AGE_MS 500
#define EOE_TICK_MS 100

/* what the drain thread puts in the ring */
enum { TAG_DGRAM, TAG_TRUNC, TAG_LOSS };

/* Records the drain could not keep (ring full) and ENOBUFS it saw. */
struct drain_loss {
	unsigned long long records, first, last, enobufs;
};

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
	unsigned long long ring_lost, ring_lost_serials, ring_reports;
	unsigned int backlog;
	/* the drain thread (ring_bytes > 0), started by nlsrc_start */
	size_t ring_bytes;
	struct ring *ring;
	pthread_t drain;
	int drain_running;
	int stop_efd;
	int stop;		/* __atomic: the drain is to return */
	struct drain_loss pend;	/* drain thread only */
	long stall_ms;		/* test hook: PODTRAIL_TEST_STALL_MS */
	int rcvbuf;		/* what the kernel granted */
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
static int
recv_batch(struct nlsrc *ns)
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
		int m = recv_batch(ns);

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

/* ---- the drain thread ---------------------------------------------- */

static int
drain_put(struct nlsrc *ns, unsigned int tag, const void *data, size_t len)
{
	/* as the audit daemon, wait: the kernel then makes writers wait */
	return ns->unicast ? ring_put_wait(ns->ring, tag, data, len) :
	    ring_put(ns->ring, tag, data, len);
}

/* Tell the loop what was dropped, in stream order, once there is room. */
static int
drain_report(struct nlsrc *ns, int wait)
{
	if (ns->pend.records == 0 && ns->pend.enobufs == 0)
		return 0;
	if ((wait ? ring_put_wait(ns->ring, TAG_LOSS, &ns->pend,
	    sizeof(ns->pend)) : drain_put(ns, TAG_LOSS, &ns->pend,
	    sizeof(ns->pend))) == -1)
		return -1;
	memset(&ns->pend, 0, sizeof(ns->pend));
	return 0;
}

/* One datagram into the ring, or counted as dropped (ring full). */
static void
drain_stash(struct nlsrc *ns, const char *buf, size_t len)
{
	unsigned int tag = TAG_DGRAM;
	unsigned long long serial = 0;

	if (len > NL_BUFSIZE) {
		tag = TAG_TRUNC;
		len = NL_BUFSIZE;
	}
	/* a loss not yet told goes first: a record must not overtake it */
	if (drain_report(ns, 0) == 0 && drain_put(ns, tag, buf, len) == 0)
		return;
	if (len > NLMSG_HDRLEN)
		serial = nlsrc_serial(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN);
	ns->pend.records++;
	if (serial && (ns->pend.first == 0 || serial < ns->pend.first))
		ns->pend.first = serial;
	if (serial > ns->pend.last)
		ns->pend.last = serial;
}

static int
drain_stopping(struct nlsrc *ns)
{
	return __atomic_load_n(&ns->stop, __ATOMIC_ACQUIRE);
}

/*
 * Read the socket until told to stop. Never parses, never waits for
 * the loop (multicast): the socket's skbs become ring bytes at once.
 */
static void *
drain_main(void *arg)
{
	struct nlsrc *ns = arg;
	struct pollfd p[2] = { { ns->stop_efd, POLLIN, 0 }, { ns->fd, POLLIN,
	    0 } };
	static struct log_rl rl;

	while (!drain_stopping(ns)) {
		int m = recv_batch(ns), wait = -1;

		if (m > 0) {
			for (int i = 0; i < m; i++)
				drain_stash(ns, ns->rbuf + (size_t)i *
				    NL_BUFSIZE, ns->msgs[i].msg_len);
			if (m == NL_BATCH)
				continue;
			/*
			 * A short batch: under a storm most reads get one
			 * event's records, each read a wake-up; 1 ms
			 * gathers a batch and is nothing to a socket that
			 * holds seconds (a small one would overflow).
			 */
			if (ns->rcvbuf >= DRAIN_NAP_RCVBUF)
				wait = NL_NAP_US / 1000;
		} else if (m == -1 && errno == ENOBUFS) {
			ns->pend.enobufs++;
			continue;
		} else if (m == -1 && errno == EINTR) {
			continue;
		} else if (m == -1 && errno != EAGAIN) {
			log_warnx_rl(&rl, "audit netlink recv: %s",
			    strerror(errno));
			wait = 100;
		}
		/* the socket is empty for now: a good moment to tell */
		(void)drain_report(ns, 0);
		/* a nap watches only the stop fd; otherwise the socket too */
		if (poll(p, wait > 0 ? 1 : 2, wait) == -1 && errno != EINTR)
			break;
	}
	/* the loop consumes until we are joined: this cannot stay stuck */
	(void)drain_report(ns, 1);
	return NULL;
}

/* A loss record the loop took from the ring. */
static void
ring_loss(struct nlsrc *ns, const struct drain_loss *l, struct gaps_report *r)
{
	cJSON *ev;

	if (l->enobufs) {
		ns->enobufs += l->enobufs;
		emit_enobufs(ns, l->enobufs);
	}
	if (l->records == 0)
		return;
	ns->ring_lost += l->records;
	ns->ring_reports++;
	if (l->first)
		ns->ring_lost_serials += l->last - l->first + 1;
	log_warnx("ring full (ring_bytes %zu): %llu records dropped, serials "
	    "%llu..%llu (raise ring_bytes, or run as the audit daemon)",
	    ring_size(ns->ring), l->records, l->first, l->last);
	/* told here: these serials are not a serial_gap as well */
	for (unsigned long long s = l->first; s && s <= l->last; s++)
		gaps_seen(ns->gaps, s, r);
	if ((ev = event_new_internal("podtrail_loss",
	    pipeline_node(ns->pl))) == NULL)
		return;
	cJSON_AddStringToObject(ev, "cause", "ring_full");
	cJSON_AddNumberToObject(ev, "count", (double)l->records);
	cJSON_AddNumberToObject(ev, "lost_records", (double)l->records);
	cJSON_AddNumberToObject(ev, "first_missing", (double)l->first);
	cJSON_AddNumberToObject(ev, "last_missing", (double)l->last);
	cJSON_AddNumberToObject(ev, "ring_bytes", (double)ring_size(ns->ring));
	cJSON_AddNumberToObject(ev, "ring_lost_total", (double)ns->ring_lost);
	pipeline_emit(ns->pl, ev);
}

/* Test hook: hold the loop up once, as a slow disk or parse would. */
static void
stall_once(struct nlsrc *ns)
{
	struct timespec ts = { ns->stall_ms / 1000,
	    ns->stall_ms % 1000 * 1000000 };

	log_info("test hook: the loop stalls for %ld ms", ns->stall_ms);
	ns->stall_ms = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	log_info("test hook: the loop goes on");
}

/* Take up to max records from the ring. 1 if it was emptied. */
static int
ring_take(struct nlsrc *ns, int max, struct gaps_report *r)
{
	unsigned int tag;
	const char *d;
	size_t len;

	for (int got = 0; got < max; got++) {
		if (ring_get(ns->ring, &tag, &d, &len) == 0)
			return 1;
		if (tag == TAG_LOSS) {
			struct drain_loss l;

			memcpy(&l, d, sizeof(l));
			ring_done(ns->ring);
			ring_loss(ns, &l, r);
			continue;
		}
		/* a truncated one: its full length only says it was cut */
		one_datagram(ns, d, tag == TAG_TRUNC ? NL_BUFSIZE + 1 : len, r);
		ring_done(ns->ring);
	}
	return 0;
}

static void
ring_readable(int fd, short revents, void *arg)
{
	struct nlsrc *ns = arg;
	struct gaps_report r = { 0 };

	ns->now_ms = loop_now_ms();
	if (ns->stall_ms > 0)
		stall_once(ns);
	ns->drained = ring_take(ns, NL_BURST, &r);
	/* a thin wake-up: gather more first (see NL_NAP_US) */
	if (ns->drained)
		loop_nap(ns->loop, NL_NAP_US);
	emit_gap(ns, &r);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
}

/* Stop and join the drain, taking in everything it read. */
static void
drain_stop(struct nlsrc *ns)
{
	struct gaps_report r = { 0 };
	struct pollfd p = { -1, POLLIN, 0 };
	uint64_t one = 1;

	if (!ns->drain_running)
		return;
	__atomic_store_n(&ns->stop, 1, __ATOMIC_RELEASE);
	(void)!write(ns->stop_efd, &one, sizeof(one));
	p.fd = ring_fd(ns->ring);
	/* a drain waiting for room (unicast) needs us to consume */
	while (pthread_tryjoin_np(ns->drain, NULL) == EBUSY) {
		if (ring_take(ns, 1 << 30, &r))
			(void)poll(&p, 1, 10);
	}
	ns->drain_running = 0;
	(void)ring_take(ns, 1 << 30, &r);
	emit_gap(ns, &r);
}

/*
 * After privileges are final (capabilities are per thread, and a
 * thread alive during a uid switch is a hazard): the drain takes the
 * socket over from the loop.
 */
static int
nlsrc_start(void *arg)
{
	struct nlsrc *ns = arg;

	if (ns->ring_bytes == 0)
		return 0;
	if ((ns->ring = ring_new(ns->ring_bytes)) == NULL ||
	    (ns->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("netlink ring of %zu bytes", ns->ring_bytes);
		return -1;
	}
	loop_fd_del(ns->loop, ns->fd);
	if (loop_fd_add(ns->loop, ring_fd(ns->ring), POLLIN, ring_readable,
	    ns) == -1) {
		log_warn("watch netlink ring");
		return -1;
	}
	/* until the drain runs, the socket holds what arrives */
	if (thread_start(&ns->drain, drain_main, ns, "netlink drain") == -1)
		return -1;
	ns->drain_running = 1;
	log_info("netlink drain thread started (ring_bytes %zu)",
	    ring_size(ns->ring));
	return 0;
}

/* SIGTERM: take in what the drain and the socket still hold. */
static void
nlsrc_drain(void *arg)
{
	struct nlsrc *ns = arg;

	drain_stop(ns);
	ns->drained = 0;
	/* the socket's remainder, read on this thread now */
	for (int i = 0; i < 64 && !ns->drained; i++)
		nl_readable(ns->fd, POLLIN, ns);
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
	drain_stop(ns);
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
nlsrc_open(int unicast, const char *arg, struct loop *loop,
    struct pipeline *pl, const struct conf *c)
{
	struct nlsrc *ns = calloc(1, sizeof(*ns));
	const char *stall;
	int err;

	if (ns == NULL) {
		log_warn("source");
		return NULL;
	}
	ns->fd = ns->afd = ns->stop_efd = -1;
	ns->loop = loop;
	ns->ring_bytes = (size_t)c->ring_bytes;
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
	if (ns->ring) {
		cJSON_AddNumberToObject(obj, "ring_bytes_used",
		    (double)ring_used(ns->ring));
		cJSON_AddNumberToObject(obj, "ring_peak_bytes",
		    (double)ring_peak(ns->ring));
		cJSON_AddNumberToObject(obj, "ring_lost_records",
		    (double)ns->ring_lost);
		cJSON_AddNumberToObject(obj, "ring_lost_serials",
		    (double)ns->ring_lost_serials);
	}
}

const struct source_ops source_netlink_ops = {
	.name = "netlink",
	.open = multicast_open,
	.close = nlsrc_close,
	.stats = nlsrc_stats,
	.start = nlsrc_start,
	.drain = nlsrc_drain,
};

const struct source_ops source_netlink_unicast_ops = {
	.name = "netlink-unicast",
	.open = unicast_open,
	.close = nlsrc_close,
	.stats = nlsrc_stats,
	.start = nlsrc_start,
	.drain = nlsrc_drain,
};
