/*
 * source_netlink_int.h - what the files of the netlink source share,
 * and nothing else includes: its state (struct source_netlink, the loop's but
 * for pend and the socket, which the drain thread owns while it runs)
 * and the read path's functions the drain calls. source_netlink.c
 * reads and formats records and opens the source,
 * source_netlink_drain.c is the drain thread and its ring,
 * source_netlink_status.c the kernel's audit status (lost counter,
 * enabled flag, backlog settings, the audit daemon's pid).
 */
#ifndef PODTRAIL_SOURCE_NETLINK_INT_H
#define PODTRAIL_SOURCE_NETLINK_INT_H

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "buf.h"
#include "gaps.h"

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

/* Records the drain could not keep (ring full) and ENOBUFS it saw. */
struct drain_loss {
	unsigned long long records, first, last, enobufs;
};

struct source_netlink {
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
	int behind;		/* the ring was 1/8 full and is not yet emptied */
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
	unsigned long long ring_behind;	/* times the loop fell behind */
	unsigned int backlog;
	/* the drain thread (ring_bytes > 0), source_netlink_drain_start's */
	size_t ring_bytes;
	struct ring *ring;
	pthread_t drain;
	int drain_running;
	int stop_efd;
	int stop;		/* __atomic: the drain is to return */
	struct drain_loss pend;	/* drain thread only */
	long long rx_us;	/* drain thread: its last read, not yet in the ring */
	long stall_ms;		/* test hook: PODTRAIL_TEST_STALL_MS */
	int rcvbuf;		/* what the kernel granted */
};

/* Up to NL_BATCH datagrams into ns->rbuf (never waits): recvmmsg's answer. */
int source_netlink_recv_batch(struct source_netlink *ns);
/* One datagram read from the socket (len its full length) to the parser. */
void source_netlink_one_datagram(struct source_netlink *ns, const char *buf,
    size_t len, struct gaps_report *r);
/* Log and emit a serial_gap loss event for r (nothing if r is empty). */
void source_netlink_emit_gap(struct source_netlink *ns,
    const struct gaps_report *r);
/* Log and emit an enobufs loss event for n overflows. */
void source_netlink_emit_enobufs(struct source_netlink *ns,
    unsigned long long n);
/* The socket is readable: read up to NL_BURST messages (a loop fd callback). */
void source_netlink_nl_readable(int fd, short revents, void *arg);

#endif
