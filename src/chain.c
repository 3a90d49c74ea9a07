/*
 * chain.c - stream, seq and hash for every event (see chain.h), and the
 * canonical JSON the hash is taken over. Sealing is synchronous, on the
 * caller's thread: hashing is cheaper there than handing lines to a
 * helper (fewer switches on two CPUs, bench/README.md).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "chain.h"
#include "event.h"
#include "json.h"
#include "log.h"

#define CHAIN_FILE "chain"
#define CHAIN_TMP "chain.tmp"
#define LOCK_FILE "lock"
#define ID_BYTES 8

struct chain {
	char *dir;
	char stream[320];
	char id[ID_BYTES * 2 + 1];
	int lockfd;
	unsigned long long seq;		/* last issued; 0 before the first */
	unsigned long long limit;	/* highest seq usable without persisting */
	unsigned long long reserve;	/* size of the last reserved block */
	struct timespec reserved_at;	/* when it was reserved (monotonic) */
	char prev[CHAIN_HASH_HEX + 1];
	unsigned char digest[CHAIN_HASH_HEX / 2];	/* this run's last hash, raw */
	unsigned char *key;
	size_t keylen;
	struct buf canon;
	unsigned long long applied, persists, persist_errors;
	int unclean;		/* the previous run did not stop cleanly */
};

/* ---- canonical JSON --------------------------------------------------- */

/*
 * The canonical form is json.c's sorted output: same escapes and number
 * format as cJSON, keys in bytewise order, no whitespace.
 */
int
chain_canonical(const cJSON *item, struct buf *out)
{
	return json_write(out, item, JSON_SORTED, NULL);
}

/* ---- hashing ------------------------------------------------------------ */

/* SHA-256 of prev + canon, reusing one context: the chain hashes every event. */
static int
sha256_v(const struct iovec *iov, int n, unsigned char *md, unsigned int *mdlen)
{
	static EVP_MD *sha;
	static EVP_MD_CTX *ctx;

	/* one fetched digest and context: OpenSSL 3 fetches per call otherwise */
	if (sha == NULL && (sha = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, sha, NULL) != 1)
		return -1;
	for (int i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len) != 1)
			return -1;
	return EVP_DigestFinal_ex(ctx, md, mdlen) == 1 ? 0 : -1;
}

/*
 * chain_hash over the concatenation of iov[0..n); raw_out (if not NULL)
 * gets the same hash as bytes. One thread at a time: the digest context
 * is shared.
 */
static int
chain_hashv(const unsigned char *key, size_t keylen, const struct iovec *iov,
    int n, char *hex_out, unsigned char *raw_out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *msg = NULL;
	size_t len = 0;
	int rc = -1;

	if (key == NULL) {
		if (sha256_v(iov, n, md, &mdlen) == -1)
			mdlen = 0;
	} else {
		for (int i = 0; i < n; i++)
			len += iov[i].iov_len;
		if ((msg = malloc(len + 1)) == NULL) {
			log_warn("hash");
			return -1;
		}
		len = 0;
		for (int i = 0; i < n; i++) {
			memcpy(msg + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		if (HMAC(EVP_sha256(), key, (int)keylen, msg, len, md, &mdlen)
		    == NULL)
			mdlen = 0;
	}
	if (mdlen != CHAIN_HASH_HEX / 2) {
		log_warnx("SHA-256 failed");
		goto cleanup;
	}
	for (unsigned i = 0; i < mdlen; i++) {
		hex_out[2 * i] = hex[md[i] >> 4];
		hex_out[2 * i + 1] = hex[md[i] & 15];
	}
	hex_out[CHAIN_HASH_HEX] = '\0';
	if (raw_out)
		memcpy(raw_out, md, mdlen);
	rc = 0;
cleanup:
	free(msg);
	return rc;
}

int
chain_hash(const unsigned char *key, size_t keylen, const char *prev,
    const char *canon, size_t canonlen, char *hex_out)
{
	struct iovec iov[2] = {
		{ (void *)prev, strlen(prev) },
		{ (void *)canon, canonlen },
	};

	return chain_hashv(key, keylen, iov, 2, hex_out, NULL);
}

/* ---- state -------------------------------------------------------------- */

/* Write the state file atomically; next is what the next run may use. */
static int
chain_persist(struct chain *ch, unsigned long long next, int clean)
{
	char tmp[4096], path[4096], text[256];
	int fd, n, dfd;

	ch->persists++;
	snprintf(tmp, sizeof(tmp), "%s/" CHAIN_TMP, ch->dir);
	snprintf(path, sizeof(path), "%s/" CHAIN_FILE, ch->dir);
	n = snprintf(text, sizeof(text),
	    "podtrail-chain 1\nstream %s\nnext %llu\nprev %s\nclean %d\n",
	    ch->id, next, ch->prev, clean);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1)
		goto err;
	if (write(fd, text, (size_t)n) != n || fsync(fd) == -1) {
		close(fd);
		goto err;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto err;
	/* the rename itself must survive a crash */
	if ((dfd = open(ch->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err:
	ch->persist_errors++;
	log_warn("%s: saving chain state", path);
	return -1;
}

static int
chain_load(struct chain *ch)
{
	char path[4096], id[64], prev[80];
	unsigned long long next;
	int clean, ver;
	FILE *fp;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/" CHAIN_FILE, ch->dir);
	if ((fp = fopen(path, "re")) == NULL) {
		unsigned char raw[ID_BYTES];

		if (errno != ENOENT) {
			log_warn("%s", path);
			return -1;
		}
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			log_warn("getrandom");
			return -1;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(ch->id + 2 * i, 3, "%02x", raw[i]);
		memcpy(ch->prev, CHAIN_GENESIS, sizeof(ch->prev));
		ch->seq = 0;
		ch->limit = 0;
		log_info("new chain stream %s", ch->id);
		return 0;
	}
	if (fscanf(fp, "podtrail-chain %d stream %63s next %llu prev %79s "
	    "clean %d", &ver, id, &next, prev, &clean) != 5 || ver != 1 ||
	    strlen(id) != ID_BYTES * 2 || strlen(prev) != CHAIN_HASH_HEX ||
	    next == 0) {
		log_warnx("%s: corrupt chain state; move it away to start a "
		    "new stream", path);
		goto cleanup;
	}
	memcpy(ch->id, id, sizeof(ch->id));
	memcpy(ch->prev, prev, sizeof(ch->prev));
	/*
	 * After a crash the predecessor of "next" may have been issued
	 * with a hash we never saved: skip one more seq so the stale prev
	 * can only ever meet a gap, never a real neighbour.
	 */
	if (!clean)
		next++;
	ch->unclean = !clean;
	ch->seq = next - 1;
	ch->limit = next - 1;
	if (!clean)
		log_warnx("chain stream %s: previous run did not stop cleanly; "
		    "continuing at seq %llu", ch->id, next);
	rc = 0;
cleanup:
	fclose(fp);
	return rc;
}

struct chain *
chain_open(const char *state_dir, const char *node, const unsigned char *key,
    size_t keylen)
{
	struct chain *ch = calloc(1, sizeof(*ch));
	char path[4096];

	if (ch == NULL) {
		log_warn("chain");
		return NULL;
	}
	ch->lockfd = -1;
	if ((ch->dir = strdup(state_dir)) == NULL) {
		log_warn("chain");
		goto err;
	}
	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("state dir %s", state_dir);
		goto err;
	}
	snprintf(path, sizeof(path), "%s/" LOCK_FILE, state_dir);
	if ((ch->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("%s", path);
		goto err;
	}
	if (flock(ch->lockfd, LOCK_EX | LOCK_NB) == -1) {
		log_warn("state dir %s is in use by another podtrail", state_dir);
		goto err;
	}
	if (key) {
		if ((ch->key = malloc(keylen)) == NULL) {
			log_warn("chain");
			goto err;
		}
		memcpy(ch->key, key, keylen);
		ch->keylen = keylen;
	}
	if (chain_load(ch) == -1)
		goto err;
	snprintf(ch->stream, sizeof(ch->stream), "%s/%s", node, ch->id);
	return ch;
err:
	if (ch->lockfd != -1)
		close(ch->lockfd);
	free(ch->key);
	free(ch->dir);
	free(ch);
	return NULL;
}

/*
 * Each reservation costs an fsync. Under load, reserve about a second's
 * worth of seqs (doubling while blocks last under a second), so a busy
 * node syncs about once a second; when quiet, go back to the minimum,
 * which bounds the gap an unclean stop leaves.
 */
static unsigned long long
next_reserve(struct chain *ch)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - ch->reserved_at.tv_sec) * 1000LL +
	    (now.tv_nsec - ch->reserved_at.tv_nsec) / 1000000;
	if (ch->reserve == 0 || ms >= 1000)
		ch->reserve = CHAIN_RESERVE;
	else if (ch->reserve < CHAIN_RESERVE_MAX)
		ch->reserve *= 2;
	ch->reserved_at = now;
	return ch->reserve;
}

/*
 * Take the next seq (reserving a block first when needed) and add
 * stream, seq and prev to ev, removing any old ones. 0, or -1 (ENOMEM,
 * logged).
 */
static int
seal_begin(struct chain *ch, cJSON *ev)
{
	static struct log_rl rl;
	static const char *const ours[] = { "stream", "seq", "prev", "hash" };
	char seqtxt[24];
	unsigned long long seq = ch->seq + 1;

	/* one pass: an event is sealed once, so these are rarely there */
	for (cJSON *c = ev->child, *next; c; c = next) {
		next = c->next;
		if (c->string == NULL || !strchr("sph", c->string[0]))
			continue;
		for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (strcmp(c->string, ours[i]) == 0) {
				cJSON_Delete(cJSON_DetachItemViaPointer(ev, c));
				break;
			}
	}
	if (seq > ch->limit) {
		unsigned long long n = next_reserve(ch);

		/* reserve before use, so a crash can never reuse a seq */
		if (chain_persist(ch, seq + n, 0) == 0)
			ch->limit = seq + n - 1;
		else
			log_warnx_rl(&rl, "chain state not saved; a restart "
			    "may repeat seqs (shown as conflicts)");
	}
	snprintf(seqtxt, sizeof(seqtxt), "%llu", seq);
	if (!cJSON_AddItemToObjectCS(ev, "stream", cJSON_CreateString(ch->stream)) ||
	    !cJSON_AddItemToObjectCS(ev, "seq", cJSON_CreateRaw(seqtxt)) ||
	    !cJSON_AddItemToObjectCS(ev, "prev", cJSON_CreateString(ch->prev))) {
		log_warnx_rl(&rl, "out of memory chaining event");
		return -1;
	}
	/* taken even if sealing fails later: a gap, never a reuse */
	ch->seq = seq;
	return 0;
}

static int
seal(struct chain *ch, cJSON *ev, struct buf *out)
{
	struct iovec iov[2];
	unsigned char raw[CHAIN_HASH_HEX / 2];
	char hash[CHAIN_HASH_HEX + 1];

	buf_reset(out);
	if (seal_begin(ch, ev) == -1)
		return -1;
	if (json_write(out, ev, JSON_SORTED, NULL) == -1) {
		log_warnx("out of memory chaining event");
		return -1;
	}
	iov[0] = (struct iovec){ ch->prev, CHAIN_HASH_HEX };
	iov[1] = (struct iovec){ out->data, out->len };
	/* the raw bytes too: the Merkle leaf takes them (chain_digest) */
	if (chain_hashv(ch->key, ch->keylen, iov, 2, hash, raw) == -1)
		return -1;
	/* the hashed line, with "hash" as its last member */
	out->len--;
	if (buf_adds(out, ",\"hash\":\"") == -1 ||
	    buf_add(out, hash, CHAIN_HASH_HEX) == -1 ||
	    buf_adds(out, "\"}") == -1) {
		log_warnx("out of memory chaining event");
		return -1;
	}
	memcpy(ch->prev, hash, sizeof(ch->prev));
	memcpy(ch->digest, raw, sizeof(ch->digest));
	ch->applied++;
	return 0;
}

int
chain_seal(struct chain *ch, struct event *ev, struct buf *out)
{
	if (seal(ch, ev->json, out) == -1)
		return -1;
	ev->seq = ch->seq;
	return 0;
}

int
chain_apply(struct chain *ch, cJSON *ev)
{
	if (seal(ch, ev, &ch->canon) == -1)
		return -1;
	if (cJSON_AddStringToObject(ev, "hash", ch->prev) == NULL) {
		log_warnx("out of memory chaining event");
		return -1;
	}
	return 0;
}

unsigned long long
chain_next_seq(const struct chain *ch)
{
	return ch->seq + 1;
}

const char *
chain_head(const struct chain *ch)
{
	return ch->prev;
}

const unsigned char *
chain_digest(const struct chain *ch)
{
	return ch->digest;
}

int
chain_clean_start(const struct chain *ch)
{
	return !ch->unclean;
}

const char *
chain_stream(const struct chain *ch)
{
	return ch->stream;
}

void
chain_stats(struct chain *ch, cJSON *obj)
{
	cJSON_AddStringToObject(obj, "chain_stream", ch->stream);
	cJSON_AddNumberToObject(obj, "chain_seq", (double)ch->seq);
	cJSON_AddNumberToObject(obj, "chain_persist_errors",
	    (double)ch->persist_errors);
}

int
chain_close(struct chain *ch)
{
	int rc;

	if (ch == NULL)
		return 0;
	rc = chain_persist(ch, ch->seq + 1, 1);
	close(ch->lockfd);
	if (ch->key)
		OPENSSL_cleanse(ch->key, ch->keylen);
	free(ch->key);
	buf_free(&ch->canon);
	free(ch->dir);
	free(ch);
	return rc;
}
