/*
 * proc_conn.h - the kernel's process connector (fork, exec, exit over
 * netlink), so processes are learned before they can vanish.
 */
#ifndef PODTRAIL_PROC_CONN_H
#define PODTRAIL_PROC_CONN_H

#include <cjson/cJSON.h>

struct loop;
struct procinfo;
struct proc_conn;

/*
 * Subscribe and register the socket with loop; notifications update pi.
 * NULL when the connector cannot be used (no CAP_NET_ADMIN, no
 * CONFIG_PROC_EVENTS): logged once, errno kept (EPERM, EPROTONOSUPPORT,
 * ...), callers fall back to /proc reads.
 */
struct proc_conn *proc_conn_open(struct loop *loop, struct procinfo *pi);
/* Read every notification already queued (before resolving an event). */
void proc_conn_drain(struct proc_conn *pc);
void proc_conn_close(struct proc_conn *pc);
void proc_conn_stats(struct proc_conn *pc, cJSON *obj);

#endif
