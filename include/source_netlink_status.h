/*
 * source_netlink_status.h - the netlink source and the kernel's audit
 * status (AUDIT_GET/AUDIT_SET on a libaudit socket, ns->afd): the lost
 * counter and the enabled flag polled, the backlog settings changed
 * and restored, the audit daemon's pid held (unicast).
 */
#ifndef PODTRAIL_SOURCE_NETLINK_STATUS_H
#define PODTRAIL_SOURCE_NETLINK_STATUS_H

#include "conf.h"
#include "source_netlink_int.h"

/* ns->afd is readable: handle the AUDIT_GET replies (a loop fd callback). */
void source_netlink_status_afd_readable(int fd, short revents, void *arg);
/* ns->status_timer: ask for the status (the reply is read above), re-arm. */
void source_netlink_status_tick(void *arg);
/*
 * Unicast: raise the kernel's backlog_limit and lower its
 * backlog_wait_time as c says (failures are logged, not fatal).
 */
void source_netlink_status_apply_backlog(struct source_netlink *ns,
    const struct conf *c);
/* Put back what apply_backlog changed, unless someone changed it since. */
void source_netlink_status_restore_backlog(struct source_netlink *ns);
/*
 * Register ns's receive socket as the audit daemon (AUDIT_SET pid),
 * unless a live one is registered and !force. 0, or -1 (logged).
 */
int source_netlink_status_register_pid(struct source_netlink *ns, int force);

#endif
