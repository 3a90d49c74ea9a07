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

struct mountinfo_table;

/*
 * Parse mountinfo text (octal escapes such as \040 decoded). Lines that
 * do not parse are skipped and counted. Returns a new table the caller
 * frees with mountinfo_free(), or NULL (ENOMEM, or no line parsed: EINVAL).
 */
struct mountinfo_table *mountinfo_parse(const char *text, size_t len);
/* Read and parse a file such as /proc/<pid>/mountinfo. NULL on failure (errno set, not logged). */
struct mountinfo_table *mountinfo_load(const char *path);
void mountinfo_free(struct mountinfo_table *t);
/* Number of mounts, and lines skipped as malformed. */
size_t mountinfo_count(const struct mountinfo_table *t);
size_t mountinfo_skipped(const struct mountinfo_table *t);
/* The i-th mount of t in table order (0 <= i < mountinfo_count). */
struct mountinfo_entry {
	unsigned long major, minor;	/* its device */
	const char *point;	/* mount point */
	const char *root;	/* its root within the file system */
	const char *fstype;
};
/* Fill m (pointers into t, valid until mountinfo_free). 0, or -1 past end. */
int mountinfo_mount_at(const struct mountinfo_table *t, size_t i,
    struct mountinfo_entry *m);

/*
 * Normalize path lexically (collapse "//", ".", ".."; never above "/")
 * and, when it is relative, resolve it against cwd. Appends to out.
 * 0, or -1 (ENOMEM, or relative path without cwd: EINVAL).
 */
int mountinfo_normalize(struct buf *out, const char *cwd, const char *path);

/*
 * Translate an absolute normalized path seen in namespace t to the host
 * namespace host: appends the host path to out. Returns 0, or -1 when
 * the path's mount has no counterpart among the host's mounts (EXDEV)
 * or on ENOMEM. t == host gives the path back unchanged.
 */
int mountinfo_translate(const struct mountinfo_table *t,
    const struct mountinfo_table *host,
    const char *path, struct buf *out);

/*
 * Find the mount holding path in t: its mount point and root are
 * returned as pointers into t (valid until mountinfo_free). 0, or -1.
 */
int mountinfo_lookup(const struct mountinfo_table *t, const char *path,
    const char **mount_point, const char **root, const char **fstype);

#endif
