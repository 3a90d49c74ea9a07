/*
 * chain.c - stream, seq and hash for every event (see chain.h), the
 * canonical JSON printer the hash is taken over, and a number-keeping
 * JSON parser for the verifier.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
#include "json.h"
#include "log.h"
#include "thread.h"

#define CHAIN_FILE "chain"
#define CHAIN_TMP "chain.tmp"
#define LOCK_FILE "lock"
#define ID_BYTES 8
#define PARSE_DEPTH 64
/* lines between submission and delivery; a power of two */
#define RING 512
/* wake the sealer once this many lines wait; fewer are sealed inline */
#define KICK_BATCH 32
/* a slot's buffer grown past this by a huge event is given back */
#define SLOT_KEEP (64 * 1024)

/* One line on its way through the sealer. */
struct slot {
	struct buf line;	/* canonical JSON; then the sealed line */
	size_t prev_at;		/* offset of the placeholder prev's digits */
	int rc;			/* 0 sealed, -1 hashing failed */
	char hash[CHAIN_HASH_HEX + 1];
};

/*
 * The sealer thread. Lines in [done, head) wait for their hash, which
 * whoever holds busy adds (with prev, the last hash); [out, done) are
 * sealed and wait for delivery on the owner's thread. head and out are
 * written by the owner only, done by the holder of busy.
 */
struct sealer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, sealed;
	/* the owner's line: written per event, read by the sealer */
	_Alignas(64) atomic_ullong head;
	unsigned long long out;		/* delivered */
	unsigned long long kicked;	/* head at the last kick */
	unsigned long long polled;	/* head at the last chain_poll() */
	int big;			/* that round made KICK_BATCH lines or more */
	atomic_int notify;	/* owner wants chain_notify_fd() on completion */
	atomic_int waiting;	/* owner asleep (or about to be) on sealed */
	atomic_int stop;
	/* the sealer's line */
	_Alignas(64) atomic_ullong done;
	atomic_int busy;	/* someone is sealing [done, head): see take() */
	atomic_int idle;	/* sealer asleep (or about to be) on work */
	char prev[CHAIN_HASH_HEX + 1];
	_Alignas(64) struct slot ring[RING];
};

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
	unsigned char *key;
	size_t keylen;
	struct buf canon;
	unsigned long long applied, persists, persist_errors;
	chain_sink_cb sink;
	void *sink_arg;
	struct sealer *sl;	/* NULL until the first chain_submit() */
	int efd;		/* the sealer signals it; -1: no sealer wanted */
	int started, delivering;
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

/* ---- parsing with numbers kept as text -------------------------------- */

struct jp {
	const char *p, *end;
	int depth;
};

static cJSON *jp_value(struct jp *j);

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jp_hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
utf8_put(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, u, n);
}

/* A string token into out (NUL-terminated; \u0000 is refused). */
static int
jp_string(struct jp *j, struct buf *out)
{
	buf_reset(out);
	if (buf_reserve(out, 1) == -1)
		return -1;
	out->data[0] = '\0';
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		unsigned cp, lo;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			if (buf_addc(out, (char)c) == -1)
				return -1;
			continue;
		}
		if (j->p >= j->end)
			return -1;
		switch ((c = (unsigned char)*j->p++)) {
		case '"': case '\\': case '/':
			if (buf_addc(out, (char)c) == -1)
				return -1;
			break;
		case 'b': if (buf_addc(out, '\b') == -1) return -1; break;
		case 'f': if (buf_addc(out, '\f') == -1) return -1; break;
		case 'n': if (buf_addc(out, '\n') == -1) return -1; break;
		case 'r': if (buf_addc(out, '\r') == -1) return -1; break;
		case 't': if (buf_addc(out, '\t') == -1) return -1; break;
		case 'u':
			if (jp_hex4(j, &cp) == -1 || cp == 0)
				return -1;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return -1;
				j->p += 2;
				if (jp_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return -1;
			}
			if (utf8_put(out, cp) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	return 0;
}

static cJSON *
jp_number(struct jp *j)
{
	const char *s = j->p;
	char tmp[64];
	size_t n;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return NULL;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return NULL;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return NULL;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	n = (size_t)(j->p - s);
	if (n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return cJSON_CreateRaw(tmp);
}

static int
jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static cJSON *
jp_container(struct jp *j, int obj)
{
	cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
	struct buf key = BUF_INIT;
	char close = obj ? '}' : ']';

	if (c == NULL || ++j->depth > PARSE_DEPTH)
		goto err;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		goto done;
	}
	for (;;) {
		cJSON *v;

		jp_ws(j);
		if (obj) {
			if (jp_string(j, &key) == -1)
				goto err;
			jp_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				goto err;
		}
		if ((v = jp_value(j)) == NULL)
			goto err;
		if (obj)
			cJSON_AddItemToObject(c, key.data, v);
		else
			cJSON_AddItemToArray(c, v);
		jp_ws(j);
		if (j->p >= j->end)
			goto err;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			goto err;
		break;
	}
done:
	j->depth--;
	buf_free(&key);
	return c;
err:
	buf_free(&key);
	cJSON_Delete(c);
	return NULL;
}

static cJSON *
jp_value(struct jp *j)
{
	struct buf s = BUF_INIT;
	cJSON *v = NULL;

	jp_ws(j);
	if (j->p >= j->end)
		return NULL;
	switch (*j->p) {
	case '{':
		return jp_container(j, 1);
	case '[':
		return jp_container(j, 0);
	case '"':
		if (jp_string(j, &s) == 0)
			v = cJSON_CreateString(s.data);
		buf_free(&s);
		return v;
	case 't':
		return jp_lit(j, "true") == 0 ? cJSON_CreateTrue() : NULL;
	case 'f':
		return jp_lit(j, "false") == 0 ? cJSON_CreateFalse() : NULL;
	case 'n':
		return jp_lit(j, "null") == 0 ? cJSON_CreateNull() : NULL;
	default:
		return jp_number(j);
	}
}

cJSON *
chain_parse(const char *s, size_t n)
{
	struct jp j = { s, s + n, 0 };
	cJSON *v = jp_value(&j);

	jp_ws(&j);
	if (v && j.p != j.end) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
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
 * chain_hash over the concatenation of iov[0..n). One thread at a time
 * (the digest context is shared): the sealer's, once it runs.
 */
static int
chain_hashv(const unsigned char *key, size_t keylen, const struct iovec *iov,
    int n, char *hex_out)
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

	return chain_hashv(key, keylen, iov, 2, hex_out);
}

unsigned char *
chain_read_secret(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p = NULL;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto err;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_warnx("%s: readable by group or others; chmod 600 it",
		    path);
		goto err;
	}
	if (st.st_size <= 0 || st.st_size > 65536) {
		log_warnx("%s: empty or larger than 64 KiB", path);
		goto err;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warn("%s", path);
		goto err;
	}
	if ((n = read(fd, p, (size_t)st.st_size)) != st.st_size) {
		log_warn("%s: short read", path);
		goto err;
	}
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0) {
		log_warnx("%s: empty", path);
		goto err;
	}
	p[n] = '\0';
	*len = (size_t)n;
	close(fd);
	return p;
err:
	free(p);
	close(fd);
	return NULL;
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
	ch->efd = -1;
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
	if (ch->efd != -1)
		close(ch->efd);
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
 * The owner's half of sealing: take the next seq (reserving a block
 * first when needed) and add stream, seq and prev (whose value is
 * given) to ev, removing any old ones. Returns the prev node, or NULL
 * (ENOMEM, logged).
 */
static cJSON *
seal_begin(struct chain *ch, cJSON *ev, const char *prev)
{
	static struct log_rl rl;
	static const char *const ours[] = { "stream", "seq", "prev", "hash" };
	char seqtxt[24];
	unsigned long long seq = ch->seq + 1;
	cJSON *p;

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
	    (p = cJSON_CreateString(prev)) == NULL ||
	    !cJSON_AddItemToObjectCS(ev, "prev", p)) {
		log_warnx_rl(&rl, "out of memory chaining event");
		return NULL;
	}
	/* taken even if sealing fails later: a gap, never a reuse */
	ch->seq = seq;
	return p;
}

/*
 * Make the hashed line the sealed one: prev over the digits at prev_at
 * (a placeholder, or prev itself), and the hash appended as the last
 * member. 0, or -1 (logged).
 */
static int
seal_finish(struct buf *line, size_t prev_at, const char *prev,
    const char *hash)
{
	memcpy(line->data + prev_at, prev, CHAIN_HASH_HEX);
	line->len--;
	if (buf_adds(line, ",\"hash\":\"") == -1 ||
	    buf_add(line, hash, CHAIN_HASH_HEX) == -1 ||
	    buf_adds(line, "\"}") == -1) {
		log_warnx("out of memory chaining event");
		return -1;
	}
	return 0;
}

/*
 * seal_begin, then ev's canonical line into out, with prev as its prev
 * for now; *prev_at: where prev's digits are. 0, or -1 (logged).
 */
static int
seal_line(struct chain *ch, cJSON *ev, const char *prev, struct buf *out,
    size_t *prev_at)
{
	cJSON *p;
	size_t at;

	buf_reset(out);
	if ((p = seal_begin(ch, ev, prev)) == NULL)
		return -1;
	if (json_write_mark(out, ev, JSON_SORTED, p, &at) == -1 ||
	    at == (size_t)-1) {
		log_warnx("out of memory chaining event");
		return -1;
	}
	*prev_at = at + 1;	/* past the opening quote */
	return 0;
}

int
chain_seal(struct chain *ch, cJSON *ev, struct buf *out)
{
	char hash[CHAIN_HASH_HEX + 1];
	size_t at;

	if (seal_line(ch, ev, ch->prev, out, &at) == -1 ||
	    chain_hash(ch->key, ch->keylen, ch->prev, out->data, out->len,
	    hash) == -1 || seal_finish(out, at, ch->prev, hash) == -1)
		return -1;
	memcpy(ch->prev, hash, sizeof(ch->prev));
	ch->applied++;
	return 0;
}

/* ---- the sealer thread -------------------------------------------------- */

/*
 * Lines are sealed by whoever holds sl->busy: the sealer thread when
 * the owner has a backlog (KICK_BATCH lines or more), otherwise the
 * owner itself before it sleeps, so a trickle of events never pays for
 * waking a thread (a futex wake and the switches cost more than hashing
 * a few lines).
 */
static int
take(struct sealer *sl)
{
	int free_ = 0;

	return atomic_compare_exchange_strong(&sl->busy, &free_, 1);
}

/* Seal every submitted line; the caller holds busy. */
static void
seal_pending(struct chain *ch, struct sealer *sl)
{
	unsigned long long d = atomic_load(&sl->done);
	unsigned long long h = atomic_load(&sl->head);

	for (; d < h; d++) {
		struct slot *s = &sl->ring[d % RING];
		const char *l = s->line.data;
		/*
		 * Hashed as if the placeholder were the real prev, without
		 * writing to the line: it stays in the owner's cache, and
		 * deliver() patches it.
		 */
		struct iovec iov[4] = {
			{ sl->prev, CHAIN_HASH_HEX },
			{ (void *)l, s->prev_at },
			{ sl->prev, CHAIN_HASH_HEX },
			{ (void *)(l + s->prev_at + CHAIN_HASH_HEX),
			    s->line.len - s->prev_at - CHAIN_HASH_HEX },
		};

		s->rc = chain_hashv(ch->key, ch->keylen, iov, 4, s->hash);
		if (s->rc == 0)
			memcpy(sl->prev, s->hash, sizeof(sl->prev));
		atomic_store(&sl->done, d + 1);
	}
}

static void
release(struct sealer *sl)
{
	atomic_store(&sl->busy, 0);
	/* the owner may sleep until done moves or busy clears */
	if (atomic_load(&sl->waiting)) {
		pthread_mutex_lock(&sl->mu);
		pthread_cond_signal(&sl->sealed);
		pthread_mutex_unlock(&sl->mu);
	}
}

static void
kick(struct sealer *sl)
{
	/* idle is set under mu before the sealer looks at head again */
	if (atomic_load(&sl->idle)) {
		pthread_mutex_lock(&sl->mu);
		pthread_cond_signal(&sl->work);
		pthread_mutex_unlock(&sl->mu);
	}
}

/* Return once the lines before target are sealed, sealing them if we can. */
static void
wait_sealed(struct chain *ch, unsigned long long target)
{
	struct sealer *sl = ch->sl;

	while (atomic_load(&sl->done) < target) {
		if (take(sl)) {
			seal_pending(ch, sl);
			release(sl);
			return;
		}
		pthread_mutex_lock(&sl->mu);
		atomic_store(&sl->waiting, 1);
		while (atomic_load(&sl->done) < target && atomic_load(&sl->busy))
			pthread_cond_wait(&sl->sealed, &sl->mu);
		atomic_store(&sl->waiting, 0);
		pthread_mutex_unlock(&sl->mu);
	}
}

/*
 * After a backlog the sealer looks for the next one every POLL_NS, up
 * to POLL_ROUNDS times, before it parks: while the owner keeps making
 * backlogs (a replay) it then never pays for waking the sealer, a
 * futex wake and, in a VM, an IPI (without polling a replay took ~4%
 * longer here). A node that is not that busy seals its lines itself
 * and never wakes the sealer at all.
 */
#define POLL_NS 100000L
#define POLL_ROUNDS 20

/* Is there work for the sealer: a backlog, or the owner wants it all? */
static int
sealer_has_work(struct sealer *sl)
{
	unsigned long long n = atomic_load(&sl->head) - atomic_load(&sl->done);

	return n >= KICK_BATCH ||
	    (n > 0 && (atomic_load(&sl->notify) || atomic_load(&sl->stop)));
}

static void *
sealer_main(void *arg)
{
	struct chain *ch = arg;
	struct sealer *sl = ch->sl;
	const struct timespec poll_ts = { 0, POLL_NS };
	int polls = 0;

	for (;;) {
		uint64_t one = 1;

		if (sealer_has_work(sl)) {
			if (!take(sl)) {
				sched_yield();	/* the owner seals a few */
				continue;
			}
			seal_pending(ch, sl);
			release(sl);
			polls = POLL_ROUNDS;
			continue;
		}
		/* all sealed: tell the loop, if it asked */
		if (atomic_load(&sl->head) == atomic_load(&sl->done) &&
		    atomic_load(&sl->notify) && atomic_exchange(&sl->notify, 0) &&
		    write(ch->efd, &one, sizeof(one)) == -1) {
			/* EAGAIN: the counter is set anyway */
		}
		if (atomic_load(&sl->stop) &&
		    atomic_load(&sl->head) == atomic_load(&sl->done))
			break;
		if (polls > 0) {
			polls--;
			nanosleep(&poll_ts, NULL);
			continue;
		}
		pthread_mutex_lock(&sl->mu);
		atomic_store(&sl->idle, 1);
		while (!sealer_has_work(sl) && !atomic_load(&sl->stop) &&
		    !atomic_load(&sl->notify))
			pthread_cond_wait(&sl->work, &sl->mu);
		atomic_store(&sl->idle, 0);
		pthread_mutex_unlock(&sl->mu);
	}
	return NULL;
}

/* Release a sealer whose thread is not running (any more). */
static void
sealer_free(struct sealer *sl)
{
	for (size_t i = 0; i < RING; i++)
		buf_free(&sl->ring[i].line);
	pthread_cond_destroy(&sl->sealed);
	pthread_cond_destroy(&sl->work);
	pthread_mutex_destroy(&sl->mu);
	free(sl);
}

static int
sealer_start(struct chain *ch)
{
	struct sealer *sl;

	if ((sl = calloc(1, sizeof(*sl))) == NULL) {
		log_warn("sealer");
		return -1;
	}
	memcpy(sl->prev, ch->prev, sizeof(sl->prev));
	pthread_mutex_init(&sl->mu, NULL);
	pthread_cond_init(&sl->work, NULL);
	pthread_cond_init(&sl->sealed, NULL);
	ch->sl = sl;
	if (thread_start(&sl->thread, sealer_main, ch, "sealer") == -1) {
		ch->sl = NULL;
		sealer_free(sl);
		return -1;
	}
	return 0;
}

static void
sealer_stop(struct chain *ch)
{
	struct sealer *sl = ch->sl;

	if (sl == NULL)
		return;
	chain_sync(ch);
	pthread_mutex_lock(&sl->mu);
	atomic_store(&sl->stop, 1);
	pthread_cond_signal(&sl->work);
	pthread_mutex_unlock(&sl->mu);
	pthread_join(sl->thread, NULL);
	sealer_free(sl);
	ch->sl = NULL;
}

/* Hand the sealed lines to the sink, in seq order. */
static void
deliver(struct chain *ch)
{
	struct sealer *sl = ch->sl;
	unsigned long long d = atomic_load(&sl->done);

	ch->delivering = 1;
	while (sl->out < d) {
		struct slot *s = &sl->ring[sl->out % RING];

		/* ch->prev: the hash of the last line delivered, this one's prev */
		if (s->rc == 0 && seal_finish(&s->line, s->prev_at, ch->prev,
		    s->hash) == 0) {
			memcpy(ch->prev, s->hash, sizeof(ch->prev));
			ch->applied++;
			ch->sink(s->line.data, s->line.len, ch->sink_arg);
		} else {
			ch->sink(NULL, 0, ch->sink_arg);
		}
		/* one huge event should not pin its memory in the ring */
		if (s->line.cap > SLOT_KEEP)
			buf_free(&s->line);
		sl->out++;
	}
	ch->delivering = 0;
}

void
chain_set_sink(struct chain *ch, chain_sink_cb sink, void *arg)
{
	ch->sink = sink;
	ch->sink_arg = arg;
}

int
chain_use_sealer(struct chain *ch)
{
	if (ch->efd == -1 &&
	    (ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("eventfd; hashing on the loop's thread");
		return -1;
	}
	return 0;
}

int
chain_submit(struct chain *ch, cJSON *ev)
{
	struct sealer *sl;
	struct slot *s;
	unsigned long long h;

	if (ch->delivering) {
		log_warnx("chain: event submitted from the sink; dropped");
		return -1;
	}
	if (!ch->started && ch->efd != -1 && thread_allowed()) {
		ch->started = 1;
		(void)sealer_start(ch);	/* without it: hash right here */
	}
	if ((sl = ch->sl) == NULL) {
		int rc = chain_seal(ch, ev, &ch->canon);

		ch->delivering = 1;
		ch->sink(rc == 0 ? ch->canon.data : NULL,
		    rc == 0 ? ch->canon.len : 0, ch->sink_arg);
		ch->delivering = 0;
		return rc;
	}
	h = atomic_load(&sl->head);
	if (h - sl->out == RING) {
		wait_sealed(ch, sl->out + 1);
		deliver(ch);
	}
	s = &sl->ring[h % RING];
	/* prev is not known yet: a placeholder, replaced in deliver() */
	if (seal_line(ch, ev, CHAIN_GENESIS, &s->line, &s->prev_at) == -1)
		goto fail;
	atomic_store(&sl->head, h + 1);
	/* per batch, not per event: the sealer's line stays in its cache */
	if (h + 1 - sl->kicked >= KICK_BATCH) {
		sl->kicked = h + 1;
		kick(sl);
		deliver(ch);
	}
	return 0;
fail:
	ch->sink(NULL, 0, ch->sink_arg);
	return -1;
}

void
chain_poll(struct chain *ch)
{
	struct sealer *sl = ch->sl;
	unsigned long long head, pending, round;

	if (sl == NULL || ch->delivering)
		return;
	/*
	 * Count before delivering: a line the sealer finishes after the
	 * count is delivered too, and none sealed is left behind by a
	 * count of 0 (which asks the sealer for no notification).
	 */
	head = atomic_load(&sl->head);
	pending = head - atomic_load(&sl->done);
	deliver(ch);
	/* rounds that made no event (a wake-up for sealed lines) say nothing */
	if ((round = head - sl->polled) > 0)
		sl->big = round >= KICK_BATCH;
	sl->polled = head;
	if (pending == 0)
		return;
	/*
	 * A few left: hashed here, cheaper than waking the sealer, when
	 * the sealer is parked or the last round was small (a live node's
	 * usual one). After a big round (a replay, a storm) the sealer is
	 * up, looking for the next backlog: it takes the rest.
	 */
	if (pending < KICK_BATCH && (!sl->big || atomic_load(&sl->idle)) &&
	    take(sl)) {
		seal_pending(ch, sl);
		release(sl);
		deliver(ch);
		return;
	}
	/* the rest: the sealer signals chain_notify_fd() when done */
	atomic_store(&sl->notify, 1);
	kick(sl);
}

int
chain_notify_fd(const struct chain *ch)
{
	return ch->efd;
}

void
chain_sync(struct chain *ch)
{
	struct sealer *sl = ch->sl;

	if (sl == NULL || ch->delivering)
		return;
	wait_sealed(ch, atomic_load(&sl->head));
	deliver(ch);
}

int
chain_apply(struct chain *ch, cJSON *ev)
{
	if (chain_seal(ch, ev, &ch->canon) == -1)
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
	sealer_stop(ch);
	rc = chain_persist(ch, ch->seq + 1, 1);
	close(ch->lockfd);
	if (ch->efd != -1)
		close(ch->efd);
	if (ch->key)
		OPENSSL_cleanse(ch->key, ch->keylen);
	free(ch->key);
	buf_free(&ch->canon);
	free(ch->dir);
	free(ch);
	return rc;
}
