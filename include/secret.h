/* secret.h - reading key and token files. */
#ifndef PODTRAIL_SECRET_H
#define PODTRAIL_SECRET_H

#include <stddef.h>

/*
 * Read a secret (key or token) file, refusing one that group or others
 * can read. Returns malloc'd bytes (trailing newline stripped, then
 * NUL-terminated) and sets *len, or NULL (logged). The caller wipes
 * and frees them.
 */
unsigned char *secret_read(const char *path, size_t *len);

#endif
