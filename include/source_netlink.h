/*
 * source_netlink.h - the kernel's audit stream read directly: the
 * read-only multicast group (beside auditd) or the unicast audit daemon
 * connection. Also the loss bookkeeping both modes share.
 */
#ifndef PODTRAIL_SOURCE_NETLINK_H
#define PODTRAIL_SOURCE_NETLINK_H

#include <stddef.h>

#include "buf.h"

/*
 * Turn one netlink audit message (type, payload "audit(S.MS:N): ...")
 * into the line auditd would write, "type=NAME msg=audit(...): ...",
 * appended to out. 0, or -1 (ENOMEM).
 */
int source_netlink_format_record(struct buf *out, int type, const char *payload,
    size_t len);
/* The serial in "audit(S.MS:N): ...", or 0 if there is none. */
unsigned long long source_netlink_serial(const char *payload, size_t len);

#endif
