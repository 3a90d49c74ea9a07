/*
 * conf_access.h - checks that podtrail can use the paths values name,
 * for conf_check. Each returns 0, or -1 with why (len bytes) saying
 * what is wrong, path first; none logs.
 */
#ifndef PODTRAIL_CONF_ACCESS_H
#define PODTRAIL_CONF_ACCESS_H

#include <stddef.h>

/* A file podtrail will read: there, readable now, not a directory. */
int conf_access_read(const char *path, char *why, size_t len);
/* A key or token: readable, and by nobody else (no group/other bits). */
int conf_access_secret(const char *path, char *why, size_t len);
/* A file podtrail writes: writable, or its directory is. */
int conf_access_outfile(const char *path, char *why, size_t len);
/* A directory podtrail creates if missing: its nearest existing part. */
int conf_access_dir(const char *path, char *why, size_t len);

#endif
