/*
 * conf_access.c - can podtrail use what a value names: a file it
 * reads, a secret, a file it writes, a directory it creates (conf_check
 * runs these once the file and the flags are merged).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "conf_access.h"

/* A file podtrail will read: there, readable now, not a directory. */
int
conf_access_read(const char *path, char *why, size_t len)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: is a directory", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A key or token: readable, and by nobody else. */
int
conf_access_secret(const char *path, char *why, size_t len)
{
	struct stat st;

	if (conf_access_read(path, why, len) == -1)
		return -1;
	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, len, "%s is readable by group or others; chmod "
		    "600 it", path);
		return -1;
	}
	return 0;
}

/* Is dir a directory podtrail may create files in? */
static int
check_writable_dir(const char *dir, const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		snprintf(why, len, "%s: %s: %s", path, dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: %s is not a directory", path, dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		snprintf(why, len, "%s: %s: %s", path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A file podtrail writes: writable, or its directory is. */
int
conf_access_outfile(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, len, "%s: is a directory", path);
			return -1;
		}
		if (access(path, W_OK) == -1) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || strlen(path) >= sizeof(dir)) {
		snprintf(why, len, "%s: %s", path, strerror(errno != ENOENT ?
		    errno : ENAMETOOLONG));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	return check_writable_dir(dirname(dir), path, why, len);
}

/* A directory podtrail creates if missing: its nearest existing part. */
int
conf_access_dir(const char *path, char *why, size_t len)
{
	char part[PATH_MAX];
	struct stat st;

	if (strlen(path) >= sizeof(part)) {
		snprintf(why, len, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	snprintf(part, sizeof(part), "%s", path);
	while (stat(part, &st) == -1 && (errno == ENOENT || errno == ENOTDIR)) {
		const char *up = dirname(part);	/* part itself, or static */

		memmove(part, up, strlen(up) + 1);
	}
	return check_writable_dir(part, path, why, len);
}
