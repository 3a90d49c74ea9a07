/*
 * proc_conn.h - the kernel's process connector (fork, exec, exit over
 * netlink), so processes are learned before they can vanish.
 */
#ifndef PODTRAIL_PROC_CONN_H
#define PODTRAIL_PROC_CONN_H

#include <cjson/cJSON.h>

struct loop;
struct pinfo;
struct pconn;

/*
 * Subscribe and register the socket with loop; notifications update pi.
 * NULL when the connector cannot be used (no CAP_NET_ADMIN, no
 * CONFIG_PROC_EVENTS): logged once, callers fall back to /proc reads.
 */
struct pconn *pconn_open(struct loop *loop, struct pinfo *pi);
/* Read every notification already queued (before resolving an event). */
void pconn_drain(struct pconn *pc);
void pconn_close(struct pconn *pc);
void pconn_stats(struct pconn *pc, cJSON *obj);

#endif
