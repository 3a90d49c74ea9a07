/*
 * source_netlink_drain.c - the netlink source's drain thread. With
 * ring_bytes set, it empties the socket into a ring (ring.h) that the
 * loop reads. It never waits in multicast: what does not fit is
 * dropped and the loop is told exactly what (a loss record in the
 * ring, in stream order). As the audit daemon it waits for room.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gaps.h"
#include "log.h"
#include "loss.h"
#include "loop.h"
#include "pipeline.h"
#include "ring.h"
#include "source_netlink.h"
#include "source_netlink_drain.h"
#include "source_netlink_int.h"
#include "thread.h"

/* The drain naps only with a receive buffer this large (NL_NAP_US) */
#define DRAIN_NAP_RCVBUF (4 << 20)

/* what the drain thread puts in the ring */
enum { TAG_DGRAM, TAG_TRUNC, TAG_LOSS, TAG_RX };

static int
drain_put(struct source_netlink *ns, unsigned int tag, const void *data,
    size_t len)
{
	/* as the audit daemon, wait: the kernel then makes writers wait */
	return ns->unicast ? ring_put_wait(ns->ring, tag, data, len) :
	    ring_put(ns->ring, tag, data, len);
}

/* Tell the loop what was dropped, in stream order, once there is room. */
static int
drain_report(struct source_netlink *ns, int wait)
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

/* The time of a read, once, before its first datagram that is kept. */
static int
drain_stamp(struct source_netlink *ns)
{
	if (ns->rx_us == 0)
		return 0;
	if (drain_put(ns, TAG_RX, &ns->rx_us, sizeof(ns->rx_us)) == -1)
		return -1;
	ns->rx_us = 0;
	return 0;
}

/* One datagram into the ring, or counted as dropped (ring full). */
static void
drain_stash(struct source_netlink *ns, const char *buf, size_t len)
{
	unsigned int tag = TAG_DGRAM;
	unsigned long long serial = 0;

	if (len > NL_BUFSIZE) {
		tag = TAG_TRUNC;
		len = NL_BUFSIZE;
	}
	/*
	 * A loss not yet told goes first: a record must not overtake it.
	 * So does the time of the read it came from: the loop takes it as
	 * when the records after it arrived (pipeline_received).
	 */
	if (drain_report(ns, 0) == 0 && drain_stamp(ns) == 0 &&
	    drain_put(ns, tag, buf, len) == 0)
		return;
	if (len > NLMSG_HDRLEN)
		serial = source_netlink_serial(buf + NLMSG_HDRLEN,
		    len - NLMSG_HDRLEN);
	ns->pend.records++;
	if (serial && (ns->pend.first == 0 || serial < ns->pend.first))
		ns->pend.first = serial;
	if (serial > ns->pend.last)
		ns->pend.last = serial;
}

static int
drain_stopping(struct source_netlink *ns)
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
	struct source_netlink *ns = arg;
	struct pollfd p[2] = { { ns->stop_efd, POLLIN, 0 }, { ns->fd, POLLIN,
	    0 } };
	static struct log_rl rl;

	while (!drain_stopping(ns)) {
		int m = source_netlink_recv_batch(ns), wait = -1;

		if (m > 0) {
			ns->rx_us = loop_now_us();
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
ring_loss(struct source_netlink *ns, const struct drain_loss *l,
    struct gaps_report *r)
{
	cJSON *ev;

	if (l->enobufs) {
		ns->enobufs += l->enobufs;
		source_netlink_emit_enobufs(ns, l->enobufs);
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
	if ((ev = loss_event(pipeline_node(ns->pl), "ring_full",
	    l->records)) == NULL)
		return;
	cJSON_AddNumberToObject(ev, "lost_records", (double)l->records);
	cJSON_AddNumberToObject(ev, "first_missing", (double)l->first);
	cJSON_AddNumberToObject(ev, "last_missing", (double)l->last);
	cJSON_AddNumberToObject(ev, "ring_bytes", (double)ring_size(ns->ring));
	cJSON_AddNumberToObject(ev, "ring_lost_total", (double)ns->ring_lost);
	pipeline_emit(ns->pl, ev);
}

/* Test hook: hold the loop up once, as a slow disk or parse would. */
static void
stall_once(struct source_netlink *ns)
{
	struct timespec ts = { ns->stall_ms / 1000,
	    ns->stall_ms % 1000 * 1000000 };

	log_info("test hook: the loop stalls for %ld ms", ns->stall_ms);
	ns->stall_ms = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	log_info("test hook: the loop goes on");
}

/*
 * Behind from an eighth of the ring until it is emptied: the outputs
 * move their work off this thread meanwhile (thread_plan.h).
 */
static void
note_behind(struct source_netlink *ns)
{
	int on = ns->behind;

	if (ns->drained)
		on = 0;
	else if (ring_used(ns->ring) >= ns->ring_bytes / 8)
		on = 1;
	if (on == ns->behind)
		return;
	ns->behind = on;
	if (on)
		ns->ring_behind++;
	pipeline_behind(ns->pl, on);
}

/* Take up to max records from the ring. 1 if it was emptied. */
static int
ring_take(struct source_netlink *ns, int max, struct gaps_report *r)
{
	unsigned int tag;
	const char *d;
	size_t len;

	for (int got = 0; got < max; got++) {
		if (ring_get(ns->ring, &tag, &d, &len) == 0)
			return 1;
		if (tag == TAG_RX) {
			long long us;

			memcpy(&us, d, sizeof(us));
			ring_done(ns->ring);
			pipeline_received(ns->pl, us);
			continue;
		}
		if (tag == TAG_LOSS) {
			struct drain_loss l;

			memcpy(&l, d, sizeof(l));
			ring_done(ns->ring);
			ring_loss(ns, &l, r);
			continue;
		}
		/* a truncated one: its full length only says it was cut */
		source_netlink_one_datagram(ns, d,
		    tag == TAG_TRUNC ? NL_BUFSIZE + 1 :
		    len, r);
		ring_done(ns->ring);
	}
	return 0;
}

static void
ring_readable(int fd, short revents, void *arg)
{
	struct source_netlink *ns = arg;
	struct gaps_report r = { 0 };

	ns->now_ms = loop_now_ms();
	if (ns->stall_ms > 0)
		stall_once(ns);
	ns->drained = ring_take(ns, NL_BURST, &r);
	/* a thin wake-up: gather more first (see NL_NAP_US) */
	if (ns->drained)
		loop_nap(ns->loop, NL_NAP_US);
	note_behind(ns);
	source_netlink_emit_gap(ns, &r);
	if (ns->compact && pipeline_compact(ns->pl) != 0)
		ns->compact = 0;
}

/* Stop and join the drain, taking in everything it read. */
void
source_netlink_drain_stop(struct source_netlink *ns)
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
	source_netlink_emit_gap(ns, &r);
}

/*
 * After privileges are final (capabilities are per thread, and a
 * thread alive during a uid switch is a hazard): the drain takes the
 * socket over from the loop.
 */
int
source_netlink_drain_start(void *arg)
{
	struct source_netlink *ns = arg;

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
