/*
 * mountinfo.h - a mount namespace's table (/proc/<pid>/mountinfo) and
 * the translation of a path seen inside it to the host's view.
 *
 * Parsing takes text, so tables of real line shapes can be tested
 * without /proc. Translation is: longest mount point that is a prefix
 * of the path, then that mount's (device, root) found among the host's
 * mounts of the same device.
 */
#ifndef PODTRAIL_MOUNTINFO_H
#define PODTRAIL_MOUNTINFO_H

#include <stddef.h>

#include "buf.h"

struct mi_table;

/*
 * Parse mountinfo text (octal escapes such as \040 decoded). Lines that
 * do not parse are skipped and counted. Returns a new table the caller
 * frees with mi_free(), or NULL (ENOMEM, or no line parsed; errno EINVAL).
 */
struct mi_table *mi_parse(const char *text, size_t len);
/* Read and parse a file such as /proc/<pid>/mountinfo. NULL on failure (errno set, not logged). */
struct mi_table *mi_load(const char *path);
void mi_free(struct mi_table *t);
/* Number of mounts, and lines skipped as malformed. */
size_t mi_count(const struct mi_table *t);
size_t mi_skipped(const struct mi_table *t);
/* The i-th mount of t in table order (0 <= i < mi_count). */
struct mi_entry {
	unsigned long major, minor;	/* its device */
	const char *point;	/* mount point */
	const char *root;	/* its root within the file system */
	const char *fstype;
};
/* Fill m (pointers into t, valid until mi_free). 0, or -1 past the end. */
int mi_mount_at(const struct mi_table *t, size_t i, struct mi_entry *m);

/*
 * Normalize path lexically (collapse "//", ".", ".."; never above "/")
 * and, when it is relative, resolve it against cwd. Appends to out.
 * 0, or -1 (ENOMEM, or relative path without cwd: EINVAL).
 */
int mi_normalize(struct buf *out, const char *cwd, const char *path);

/*
 * Translate an absolute normalized path seen in namespace t to the host
 * namespace host: appends the host path to out. Returns 0, or -1 when
 * the path's mount has no counterpart among the host's mounts (EXDEV)
 * or on ENOMEM. t == host gives the path back unchanged.
 */
int mi_translate(const struct mi_table *t, const struct mi_table *host,
    const char *path, struct buf *out);

/*
 * Find the mount holding path in t: its mount point and root are
 * returned as pointers into t (valid until mi_free). 0, or -1.
 */
int mi_lookup(const struct mi_table *t, const char *path,
    const char **mount_point, const char **root, const char **fstype);

#endif
