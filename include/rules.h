/*
 * rules.h - podtrail's audit rule pack (rules/podtrail.rules plus the
 * volume watches its settings imply), loaded and removed through
 * libaudit, and the watches podtrail keeps on file systems mounted
 * under the kubelet pods directory after start.
 */
#ifndef PODTRAIL_RULES_H
#define PODTRAIL_RULES_H

#include <cjson/cJSON.h>

#include "buf.h"

struct conf;
struct rules;
struct hp_watch_ops;

/* Append the pack for c, one auditctl rule per line. 0, or -1 (ENOMEM). */
int rules_pack_text(const struct conf *c, struct buf *out);
/*
 * Load the pack. Rules already present are left alone and not owned.
 * NULL on failure (logged), after removing what it had loaded.
 */
struct rules *rules_install(const struct conf *c);
/* An event passed by: on a mount change, resync the mount watches. */
void rules_event(struct rules *r, const cJSON *ev);
/*
 * Watches (key podtrail_hostpath) on hostPath directories discovered in
 * containers, added and removed by hostpath.c; arg is the struct rules.
 * Removed with the pack by rules_close unless keep.
 */
extern const struct hp_watch_ops rules_hostpath_ops;
/* Watches currently held on discovered hostPaths. */
int rules_hostpath_watches(const struct rules *r);
/* Watches currently held on later mounts (for tests and stats). */
int rules_mount_watches(const struct rules *r);
/* Remove every rule this process loaded unless keep; release r. */
void rules_close(struct rules *r, int keep);

#endif
