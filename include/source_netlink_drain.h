/*
 * source_netlink_drain.h - the netlink source's drain thread: it
 * empties the socket into a ring (ring.h) that the loop reads, so a
 * loop held up never leaves records in the socket.
 */
#ifndef PODTRAIL_SOURCE_NETLINK_DRAIN_H
#define PODTRAIL_SOURCE_NETLINK_DRAIN_H

#include "source_netlink_int.h"

/*
 * source_ops.start, after privileges are final: with ring_bytes set,
 * make the ring, watch it instead of the socket and start the drain.
 * 0 (also without ring_bytes), or -1 (logged).
 */
int source_netlink_drain_start(void *arg);
/* Stop and join the drain, taking in everything it read (no-op if none). */
void source_netlink_drain_stop(struct source_netlink *ns);

#endif
