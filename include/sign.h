/*
 * sign.h - Ed25519 keys and signatures (OpenSSL libcrypto), the key
 * ids that name them, and the private key file a node keeps in its
 * state dir. Signatures and public keys travel base64-encoded (raw
 * 32-byte key, 64-byte signature); key files are PEM.
 */
#ifndef PODTRAIL_SIGN_H
#define PODTRAIL_SIGN_H

#include <stddef.h>

#include "buf.h"

/* hex digits of a key id: the first 8 bytes of SHA-256(raw public key) */
#define SIGN_ID_HEX 16
/* base64 of a raw public key (32 bytes) and of a signature (64), + NUL */
#define SIGN_PUB_B64 45
#define SIGN_SIG_B64 89

struct sign_key;

/* A new key pair. NULL on failure (logged). */
struct sign_key *sign_generate(void);
/*
 * Read a private key from a PEM file, refusing one that group or others
 * can read. NULL on failure (logged; the key is never logged).
 */
struct sign_key *sign_load_private(const char *path);
/*
 * Write the private key to path (0600, via a temp file, fsync'd, then
 * renamed over path). 0, or -1 (logged).
 */
int sign_save_private(const struct sign_key *k, const char *path);
/*
 * Destroy a private key file: overwrite its bytes with zeros, fsync,
 * unlink. 0, or -1 (logged); a missing file is not an error.
 */
int sign_destroy_file(const char *path);
/* A public key from its base64 raw form. NULL if invalid (not logged). */
struct sign_key *sign_from_b64(const char *b64);
/*
 * Every public key in a PEM text (several may follow each other). Calls
 * cb(key, label, arg) for each, where label is the "podtrail-node: NAME"
 * line before it, or NULL; cb takes the key. Returns the number of keys,
 * or -1 if the text holds none.
 */
int sign_read_pems(const char *text, size_t len,
    void (*cb)(struct sign_key *k, const char *label, void *arg), void *arg);
/* Append the public key in PEM to out. 0, or -1 (ENOMEM). */
int sign_public_pem(const struct sign_key *k, struct buf *out);
/* The public key's base64 raw form; owned by k. */
const char *sign_public_b64(const struct sign_key *k);
/* The key id (SIGN_ID_HEX hex digits); owned by k. */
const char *sign_key_id(const struct sign_key *k);
/* sig (SIGN_SIG_B64 bytes) = base64 Ed25519 signature of msg. 0 or -1 (logged). */
int sign_data(const struct sign_key *k, const void *msg, size_t len,
    char *sig);
/* 1 if sig is k's valid signature of msg, else 0. */
int sign_check(const struct sign_key *k, const void *msg, size_t len,
    const char *sig);
/* Do a and b hold the same public key? */
int sign_same(const struct sign_key *a, const struct sign_key *b);
void sign_free(struct sign_key *k);

#endif
