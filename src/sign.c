/*
 * sign.c - Ed25519 keys and signatures for checkpoints (see sign.h).
 * The private key lives in one file in the state dir; at each key
 * epoch the old file is overwritten and unlinked, so a node taken over
 * later holds nothing that can sign its past.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "log.h"
#include "sign.h"

#define RAW_PUB 32
#define RAW_SIG 64

struct sign_key {
	EVP_PKEY *pk;
	char id[SIGN_ID_HEX + 1];
	char pub[SIGN_PUB_B64];
};

/* Fill in the id and base64 form from the key. 0 or -1. */
static int
key_finish(struct sign_key *k)
{
	unsigned char raw[RAW_PUB], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k->pk, raw, &n) != 1 || n != RAW_PUB ||
	    EVP_Digest(raw, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	for (int i = 0; i < SIGN_ID_HEX / 2; i++)
		snprintf(k->id + 2 * i, 3, "%02x", md[i]);
	EVP_EncodeBlock((unsigned char *)k->pub, raw, RAW_PUB);
	return 0;
}

static struct sign_key *
key_wrap(EVP_PKEY *pk)
{
	struct sign_key *k;

	if (pk == NULL || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519 ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	k->pk = pk;
	if (key_finish(k) == -1) {
		sign_free(k);
		return NULL;
	}
	return k;
}

struct sign_key *
sign_generate(void)
{
	struct sign_key *k = key_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));

	if (k == NULL)
		log_warnx("Ed25519 key generation failed");
	return k;
}

struct sign_key *
sign_load_private(const char *path)
{
	struct sign_key *k = NULL;
	struct stat st;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1)
		log_warn("%s", path);
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		log_warnx("%s: readable by group or others; chmod 600 it",
		    path);
	else if ((k = key_wrap(PEM_read_PrivateKey(fp, NULL, NULL, NULL)))
	    == NULL)
		log_warnx("%s: not an Ed25519 private key (PEM)", path);
	fclose(fp);
	return k;
}

int
sign_save_private(const struct sign_key *k, const char *path)
{
	char tmp[4096];
	FILE *fp = NULL;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    == -1 || (fp = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		if (fd != -1)
			close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(fp, k->pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    fflush(fp) == 0 && fsync(fileno(fp)) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) == -1) {
		log_warn("%s: saving the signing key", path);
		(void)sign_destroy_file(tmp);
		return -1;
	}
	return 0;
}

int
sign_destroy_file(const char *path)
{
	static const char zeros[4096];
	struct stat st;
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : (log_warn("%s", path), -1);
	if (fstat(fd, &st) == 0)
		for (off_t off = 0; off < st.st_size; off += sizeof(zeros))
			if (pwrite(fd, zeros, sizeof(zeros), off) == -1) {
				rc = -1;
				break;
			}
	if (fsync(fd) == -1)
		rc = -1;
	close(fd);
	if (unlink(path) == -1)
		rc = -1;
	if (rc == -1)
		log_warn("%s: destroying the old signing key", path);
	return rc;
}

struct sign_key *
sign_from_b64(const char *b64)
{
	unsigned char raw[RAW_PUB + 3];

	if (b64 == NULL || strlen(b64) != SIGN_PUB_B64 - 1 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)b64, SIGN_PUB_B64 - 1)
	    != RAW_PUB + 1)	/* 33: one byte of padding decoded */
		return NULL;
	return key_wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    raw, RAW_PUB));
}

int
sign_read_pems(const char *text, size_t len,
    void (*cb)(struct sign_key *k, const char *label, void *arg), void *arg)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char tag[] = "podtrail-node:";
	const char *p = text, *end = text + len;
	char label[256];
	int n = 0;

	label[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);

		if (ll > sizeof(tag) - 1 && !memcmp(p, tag, sizeof(tag) - 1)) {
			const char *s = p + sizeof(tag) - 1;

			while (s < le && (*s == ' ' || *s == '\t'))
				s++;
			while (le > s && (le[-1] == ' ' || le[-1] == '\r'))
				le--;
			snprintf(label, sizeof(label), "%.*s", (int)(le - s), s);
		} else if (ll >= sizeof(begin) - 1 &&
		    !memcmp(p, begin, sizeof(begin) - 1)) {
			BIO *bio = BIO_new_mem_buf(p, (int)(end - p));
			struct sign_key *k;

			if (bio == NULL)
				return -1;
			k = key_wrap(PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL));
			BIO_free(bio);
			if (k) {
				cb(k, label[0] ? label : NULL, arg);
				n++;
			}
			label[0] = '\0';
		}
		p = nl ? nl + 1 : end;
	}
	return n ? n : -1;
}

int
sign_public_pem(const struct sign_key *k, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (bio && PEM_write_bio_PUBKEY(bio, k->pk) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		rc = buf_add(out, data, (size_t)n);
	BIO_free(bio);
	return rc;
}

const char *
sign_public_b64(const struct sign_key *k)
{
	return k->pub;
}

const char *
sign_key_id(const struct sign_key *k)
{
	return k->id;
}

int
sign_data(const struct sign_key *k, const void *msg, size_t len, char *sig)
{
	unsigned char raw[RAW_SIG];
	size_t n = sizeof(raw);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pk) == 1 &&
	    EVP_DigestSign(ctx, raw, &n, msg, len) == 1 && n == RAW_SIG) {
		EVP_EncodeBlock((unsigned char *)sig, raw, RAW_SIG);
		rc = 0;
	} else
		log_warnx("Ed25519 signing failed");
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
sign_check(const struct sign_key *k, const void *msg, size_t len,
    const char *sig)
{
	unsigned char raw[RAW_SIG + 3];
	EVP_MD_CTX *ctx;
	int ok = 0;

	if (sig == NULL || strlen(sig) != SIGN_SIG_B64 - 1 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)sig, SIGN_SIG_B64 - 1)
	    != RAW_SIG + 2)	/* two bytes of padding decoded */
		return 0;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pk) == 1)
		ok = EVP_DigestVerify(ctx, raw, RAW_SIG, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int
sign_same(const struct sign_key *a, const struct sign_key *b)
{
	return strcmp(a->pub, b->pub) == 0;
}

void
sign_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pk);
	free(k);
}
