/* fdio.h - whole-buffer I/O on file descriptors. */
#ifndef PODTRAIL_FDIO_H
#define PODTRAIL_FDIO_H

#include <stddef.h>

/* Write all n bytes, retrying short writes and EINTR. 0, or -1 (errno). */
int fd_write_all(int fd, const void *p, size_t n);

#endif
