/*
 * trust.h - the node public keys a verifier pins (podtrail-verify
 * --trust): PEM files, each key named by the "podtrail-node: NAME" line
 * podtrail --print-key writes before it, or else by its file's name
 * (NAME.pem, NAME.pub). A stream NODE/ID must be anchored to a key
 * pinned for NODE.
 */
#ifndef PODTRAIL_TRUST_H
#define PODTRAIL_TRUST_H

#include <stddef.h>

struct sign_key;
struct trust;

/* An empty set. NULL on ENOMEM (logged). */
struct trust *trust_new(void);
/* Add the keys of a PEM file, or of every file in a directory. 0, or -1 (logged). */
int trust_load(struct trust *t, const char *path);
/* Keys pinned in all. */
size_t trust_count(const struct trust *t);
/* Is k pinned for node? 1 yes, 0 no. */
int trust_check(const struct trust *t, const char *node,
    const struct sign_key *k);
void trust_free(struct trust *t);

#endif
