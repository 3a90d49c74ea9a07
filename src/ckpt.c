/*
 * ckpt.c - signed checkpoints and key epochs on the node (see ckpt.h).
 *
 * State in state_dir: sign.key (the current private key, 0600),
 * sign.pub (the first public key, with its "podtrail-node:" line: what
 * an operator pins) and "checkpoint" (epoch, when it began, the key's
 * id, the certificate of the current key and the seq of the last
 * checkpoint), written atomically at each checkpoint. A new epoch's
 * key is saved as sign.key.new and the state names it before the old
 * key is overwritten and unlinked, so a crash at any point leaves one
 * usable key that the state file vouches for.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "chain.h"
#include "ckpt.h"
#include "conf.h"
#include "event.h"
#include "fdio.h"
#include "log.h"
#include "merkle.h"
#include "sign.h"
#include "witness.h"

#define KEY_FILE "sign.key"
#define NEW_KEY_FILE "sign.key.new"
#define PUB_FILE "sign.pub"
#define STATE_FILE "checkpoint"

struct ckpt {
	char dir[4096];
	char stream[320];
	struct sign_key *key;
	unsigned long long epoch;
	long long epoch_ms;		/* when the epoch began */
	long long key_epoch_ms;		/* setting; 0: never rotate */
	char prev_key_id[SIGN_ID_HEX + 1];	/* "" in epoch 0 */
	char cert[SIGN_SIG_B64];
	unsigned long long last;	/* seq of the last checkpoint; 0 none */
	int have_state;
	int clean;
	unsigned long long next_seq;	/* first seq of this run */
	char hmac_id[SIGN_ID_HEX + 1];	/* "" without HMAC */
	struct merkle *m;
	struct witness *w;
	int witness_next;
	struct buf canon;
	unsigned long long made, rotations, leaf_errors;
};

static void
path_of(const char *dir, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
}

int
ckpt_parse_time(const char *s, long long *sec)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*sec = (long long)timegm(&tm);
	return 0;
}

void
ckpt_hmac_key_id(const unsigned char *key, size_t len, char *id)
{
	static const char tag[] = "podtrail hmac key id";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, tag, sizeof(tag) - 1) != 1 ||
	    EVP_DigestUpdate(ctx, key, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		memset(md, 0, sizeof(md));
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < SIGN_ID_HEX / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
}

int
ckpt_cert_text(const char *stream, const char *epoch, const char *key_id,
    const char *pub, const char *prev_key_id, struct buf *out)
{
	cJSON *o = cJSON_CreateObject();
	int rc = -1;

	if (o && cJSON_AddStringToObject(o, "stream", stream) &&
	    cJSON_AddRawToObject(o, "epoch", epoch) &&
	    cJSON_AddStringToObject(o, "key_id", key_id) &&
	    cJSON_AddStringToObject(o, "pub", pub) &&
	    cJSON_AddStringToObject(o, "prev_key_id", prev_key_id)) {
		buf_reset(out);
		rc = chain_canonical(o, out);
	}
	cJSON_Delete(o);
	return rc;
}

/* ---- state ---------------------------------------------------------- */

static int
save_state(struct ckpt *ck)
{
	char tmp[4200], path[4200], text[512];
	int fd, n, ok;

	path_of(ck->dir, STATE_FILE ".tmp", tmp, sizeof(tmp));
	path_of(ck->dir, STATE_FILE, path, sizeof(path));
	n = snprintf(text, sizeof(text), "podtrail-checkpoint 1\nepoch %llu\n"
	    "since %lld\nkey %s\nprev %s\ncert %s\nlast %llu\n", ck->epoch,
	    ck->epoch_ms, sign_key_id(ck->key),
	    ck->prev_key_id[0] ? ck->prev_key_id : "-",
	    ck->cert[0] ? ck->cert : "-", ck->last);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1) {
		log_warn("%s", tmp);
		return -1;
	}
	ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1) {
		log_warn("%s: saving checkpoint state", path);
		return -1;
	}
	ck->have_state = 1;
	return 0;
}

/* 0 read, 1 no state file yet, -1 corrupt (logged). */
static int
load_state(struct ckpt *ck, char *key_id)
{
	char path[4200], prev[64], cert[128];
	FILE *fp;
	int ver, rc = -1;

	path_of(ck->dir, STATE_FILE, path, sizeof(path));
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 1;
		log_warn("%s", path);
		return -1;
	}
	if (fscanf(fp, "podtrail-checkpoint %d epoch %llu since %lld key %16s "
	    "prev %63s cert %127s last %llu", &ver, &ck->epoch, &ck->epoch_ms,
	    key_id, prev, cert, &ck->last) != 7 || ver != 1 ||
	    strlen(key_id) != SIGN_ID_HEX ||
	    (strcmp(prev, "-") && strlen(prev) != SIGN_ID_HEX) ||
	    (strcmp(cert, "-") && strlen(cert) != SIGN_SIG_B64 - 1)) {
		log_warnx("%s: corrupt checkpoint state", path);
		goto cleanup;
	}
	if (strcmp(prev, "-"))
		memcpy(ck->prev_key_id, prev, sizeof(ck->prev_key_id));
	if (strcmp(cert, "-"))
		memcpy(ck->cert, cert, sizeof(ck->cert));
	ck->have_state = 1;
	rc = 0;
cleanup:
	fclose(fp);
	return rc;
}

/* Write sign.pub: the key to pin, labelled with the node. */
static int
save_pub(const char *dir, const struct sign_key *k, const char *node)
{
	char path[4200];
	struct buf b = BUF_INIT;
	int fd, rc = -1;

	path_of(dir, PUB_FILE, path, sizeof(path));
	if (buf_printf(&b, "podtrail-node: %s\n", node) == -1 ||
	    sign_public_pem(k, &b) == -1)
		goto cleanup;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644))
	    == -1)
		goto cleanup;
	if (fd_write_all(fd, b.data, b.len) == 0 && fsync(fd) == 0)
		rc = 0;
	close(fd);
cleanup:
	if (rc == -1)
		log_warn("%s", path);
	buf_free(&b);
	return rc;
}

/*
 * The key named by the state (sign.key, or sign.key.new after a crash
 * mid-rotation), or a new one on first start. NULL (logged).
 */
static struct sign_key *
load_key(struct ckpt *ck, const char *want_id, const char *node)
{
	char path[4200], newp[4200];
	struct sign_key *k = NULL, *n;

	path_of(ck->dir, KEY_FILE, path, sizeof(path));
	path_of(ck->dir, NEW_KEY_FILE, newp, sizeof(newp));
	if (access(newp, F_OK) == 0 && want_id) {
		/* a rotation was cut short: the state says which key won */
		if ((n = sign_load_private(newp)) == NULL)
			return NULL;
		if (strcmp(sign_key_id(n), want_id) == 0) {
			if (sign_destroy_file(path) == -1 ||
			    rename(newp, path) == -1) {
				log_warn("%s", path);
				sign_free(n);
				return NULL;
			}
			return n;
		}
		sign_free(n);
		(void)sign_destroy_file(newp);
	}
	if (access(path, F_OK) == 0) {
		if ((k = sign_load_private(path)) == NULL)
			return NULL;
		if (want_id && strcmp(sign_key_id(k), want_id) != 0) {
			log_warnx("%s: key %s is not the key %s the checkpoint "
			    "state names; move both away to start over", path,
			    sign_key_id(k), want_id);
			sign_free(k);
			return NULL;
		}
		return k;
	}
	if (want_id) {
		log_warnx("%s: missing (checkpoint state names key %s); move "
		    "the state away to start a new key", path, want_id);
		return NULL;
	}
	if ((k = sign_generate()) == NULL)
		return NULL;
	if (sign_save_private(k, path) == -1 || save_pub(ck->dir, k, node)
	    == -1) {
		sign_free(k);
		return NULL;
	}
	log_info("new signing key %s", sign_key_id(k));
	return k;
}

static struct ckpt *
ckpt_new(const char *dir)
{
	struct ckpt *ck = calloc(1, sizeof(*ck));

	if (ck == NULL || (ck->m = merkle_new()) == NULL) {
		log_warn("checkpoint");
		free(ck);
		return NULL;
	}
	snprintf(ck->dir, sizeof(ck->dir), "%s", dir);
	return ck;
}

long long
ckpt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ckpt_node_of(const char *stream, char *out, size_t len)
{
	const char *slash = strrchr(stream, '/');

	snprintf(out, len, "%.*s", slash ? (int)(slash - stream) :
	    (int)strlen(stream), stream);
}

struct ckpt *
ckpt_open(const struct conf *c, const char *stream, int clean,
    unsigned long long next_seq, const char *hmac_key_id)
{
	struct ckpt *ck = ckpt_new(c->state_dir);
	char want[SIGN_ID_HEX + 1], node[320];
	int st;

	if (ck == NULL)
		return NULL;
	snprintf(ck->stream, sizeof(ck->stream), "%s", stream);
	ckpt_node_of(stream, node, sizeof(node));
	ck->clean = clean;
	ck->next_seq = next_seq;
	ck->key_epoch_ms = c->key_epoch * 1000;
	if (hmac_key_id)
		snprintf(ck->hmac_id, sizeof(ck->hmac_id), "%s", hmac_key_id);
	if ((st = load_state(ck, want)) == -1 ||
	    (ck->key = load_key(ck, st == 0 ? want : NULL, node)) == NULL)
		goto err;
	if (st == 1) {
		ck->epoch_ms = ckpt_now_ms();
		if (save_state(ck) == -1)
			goto err;
	}
	if (*c->checkpoint_output && (ck->w = witness_open(c)) == NULL)
		goto err;
	return ck;
err:
	(void)ckpt_close(ck);
	return NULL;
}

/* ---- events ----------------------------------------------------------- */

static cJSON *
body_new(struct ckpt *ck, unsigned long long seq, long long now_ms)
{
	cJSON *b = cJSON_CreateObject();
	char t[40], num[24];

	event_format_time(t, sizeof(t), now_ms / 1000, (unsigned)(now_ms % 1000));
	snprintf(num, sizeof(num), "%llu", seq);
	if (b == NULL || !cJSON_AddStringToObject(b, "stream", ck->stream) ||
	    !cJSON_AddRawToObject(b, "seq", num) ||
	    !cJSON_AddStringToObject(b, "time", t) ||
	    !cJSON_AddStringToObject(b, "key_id", sign_key_id(ck->key))) {
		cJSON_Delete(b);
		return NULL;
	}
	snprintf(num, sizeof(num), "%llu", ck->epoch);
	if (!cJSON_AddRawToObject(b, "epoch", num)) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* Event of type with body signed by key; takes body. NULL (logged). */
static cJSON *
sealed_event(struct ckpt *ck, const char *type, const char *node,
    cJSON *body, const struct sign_key *key)
{
	char sig[SIGN_SIG_B64];
	cJSON *ev = NULL;

	buf_reset(&ck->canon);
	if (body == NULL || chain_canonical(body, &ck->canon) == -1 ||
	    sign_data(key, ck->canon.data, ck->canon.len, sig) == -1 ||
	    (ev = event_new_internal(type, node)) == NULL) {
		log_warnx("%s: cannot be made", type);
		cJSON_Delete(body);
		return NULL;
	}
	cJSON_AddItemToObject(ev, "signed", body);
	if (!cJSON_AddStringToObject(ev, "sig", sig)) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

/* The key announcement's body (without skipped_*). */
static cJSON *
key_body(struct ckpt *ck, unsigned long long seq, long long now_ms)
{
	cJSON *b = body_new(ck, seq, now_ms);

	if (b == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(b, "alg", "ed25519") ||
	    !cJSON_AddStringToObject(b, "pub", sign_public_b64(ck->key)) ||
	    (ck->prev_key_id[0] && (!cJSON_AddStringToObject(b, "prev_key_id",
	    ck->prev_key_id) || !cJSON_AddStringToObject(b, "cert",
	    ck->cert))) || (ck->hmac_id[0] && !cJSON_AddStringToObject(b,
	    "hmac_key_id", ck->hmac_id))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

cJSON *
ckpt_start_event(struct ckpt *ck, const char *node, unsigned long long seq,
    long long now_ms)
{
	cJSON *b = key_body(ck, seq, now_ms);
	char num[24];

	/*
	 * After an unclean stop, what followed the last checkpoint may be
	 * gone with the crash, and the chain skipped its unused
	 * reservation: both are declared, signed, so a verifier can tell
	 * them from deletions.
	 */
	if (b && !ck->clean && seq > 1) {
		unsigned long long from = ck->have_state ? ck->last + 1 : 1;

		if (from < seq) {
			snprintf(num, sizeof(num), "%llu", from);
			cJSON_AddRawToObject(b, "skipped_from", num);
			snprintf(num, sizeof(num), "%llu", seq - 1);
			cJSON_AddRawToObject(b, "skipped_to", num);
			cJSON_AddStringToObject(b, "reason", "unclean stop");
			log_warnx("previous run stopped uncleanly: seqs "
			    "%llu..%llu declared possibly missing", from,
			    seq - 1);
		}
	}
	merkle_reset(ck->m);
	return sealed_event(ck, "podtrail_key", node, b, ck->key);
}

cJSON *
ckpt_make(struct ckpt *ck, const char *node, unsigned long long seq,
    const char *head, long long now_ms)
{
	unsigned char root[MERKLE_HASH];
	char hex[2 * MERKLE_HASH + 1], num[24];
	cJSON *b = body_new(ck, seq, now_ms), *ev;

	if (b == NULL || merkle_root(ck->m, root) == -1) {
		cJSON_Delete(b);
		log_warnx("checkpoint: cannot be made");
		return NULL;
	}
	for (int i = 0; i < MERKLE_HASH; i++)
		snprintf(hex + 2 * i, 3, "%02x", root[i]);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)merkle_count(ck->m));
	cJSON_AddRawToObject(b, "count", num);
	cJSON_AddStringToObject(b, "root", hex);
	cJSON_AddStringToObject(b, "head", head);
	if ((ev = sealed_event(ck, "podtrail_checkpoint", node, b, ck->key))
	    == NULL)
		return NULL;
	merkle_reset(ck->m);
	ck->last = seq;
	ck->made++;
	(void)save_state(ck);
	return ev;
}

int
ckpt_epoch_due(const struct ckpt *ck, long long now_ms)
{
	return ck->key_epoch_ms > 0 && now_ms - ck->epoch_ms >= ck->key_epoch_ms;
}

cJSON *
ckpt_rotate(struct ckpt *ck, const char *node, unsigned long long seq,
    long long now_ms)
{
	char path[4200], newp[4200], epoch[24], sig[SIGN_SIG_B64];
	char old_id[SIGN_ID_HEX + 1];
	struct sign_key *nk = NULL, *old = ck->key;
	cJSON *ev;

	path_of(ck->dir, KEY_FILE, path, sizeof(path));
	path_of(ck->dir, NEW_KEY_FILE, newp, sizeof(newp));
	snprintf(epoch, sizeof(epoch), "%llu", ck->epoch + 1);
	if ((nk = sign_generate()) == NULL ||
	    ckpt_cert_text(ck->stream, epoch, sign_key_id(nk),
	    sign_public_b64(nk), sign_key_id(old), &ck->canon) == -1 ||
	    sign_data(old, ck->canon.data, ck->canon.len, sig) == -1 ||
	    sign_save_private(nk, newp) == -1)
		goto err;
	/* the state names the new key before the old one is gone */
	snprintf(old_id, sizeof(old_id), "%s", sign_key_id(old));
	ck->key = nk;
	ck->epoch++;
	ck->epoch_ms = now_ms;
	memcpy(ck->prev_key_id, old_id, sizeof(ck->prev_key_id));
	memcpy(ck->cert, sig, sizeof(ck->cert));
	if (save_state(ck) == -1) {
		ck->key = old;
		ck->epoch--;
		(void)sign_destroy_file(newp);
		goto err;
	}
	if (sign_destroy_file(path) == -1 || rename(newp, path) == -1)
		log_warn("%s: replacing the signing key", path);
	sign_free(old);
	ck->rotations++;
	log_info("key epoch %llu: signing key %s (the previous key %s is "
	    "destroyed)", ck->epoch, sign_key_id(nk), old_id);
	/* a key event opens a new interval (the verifier does the same) */
	merkle_reset(ck->m);
	ev = sealed_event(ck, "podtrail_key", node, key_body(ck, seq, now_ms),
	    ck->key);
	return ev;
err:
	if (ck->key != nk)
		sign_free(nk);
	log_warnx("key epoch: keeping key %s", sign_key_id(ck->key));
	return NULL;
}

int
ckpt_unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

void
ckpt_leaf(struct ckpt *ck, const unsigned char *digest, const char *line,
    size_t len)
{
	static struct log_rl rl;

	if (merkle_add(ck->m, digest, CHAIN_HASH_HEX / 2) == -1) {
		ck->leaf_errors++;
		log_warnx_rl(&rl, "checkpoint: Merkle leaf not hashed");
		return;
	}
	if (ck->witness_next && ck->w)
		(void)witness_write(ck->w, line, len);
}

int
ckpt_start(struct ckpt *ck)
{
	return witness_start(ck->w);
}

void
ckpt_witness_next(struct ckpt *ck, int on)
{
	ck->witness_next = on;
}

void
ckpt_stats(struct ckpt *ck, cJSON *obj)
{
	cJSON_AddStringToObject(obj, "signing_key_id", sign_key_id(ck->key));
	cJSON_AddNumberToObject(obj, "key_epoch", (double)ck->epoch);
	cJSON_AddNumberToObject(obj, "checkpoints", (double)ck->made);
	cJSON_AddNumberToObject(obj, "checkpoint_leaf_errors",
	    (double)ck->leaf_errors);
	if (ck->w)
		witness_stats(ck->w, obj);
}

int
ckpt_close(struct ckpt *ck)
{
	int rc;

	if (ck == NULL)
		return 0;
	rc = witness_close(ck->w);
	sign_free(ck->key);
	merkle_free(ck->m);
	buf_free(&ck->canon);
	free(ck);
	return rc;
}

int
ckpt_print_key(const struct conf *c, const char *node, FILE *out)
{
	char path[4200], want[SIGN_ID_HEX + 1];
	struct ckpt *ck;
	struct sign_key *k;
	FILE *fp;
	int ch, st, rc = -1;

	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("state dir %s", c->state_dir);
		return -1;
	}
	path_of(c->state_dir, PUB_FILE, path, sizeof(path));
	if (access(path, F_OK) == -1) {
		/* first start: make the key pair now, so it can be pinned */
		if ((ck = ckpt_new(c->state_dir)) == NULL)
			return -1;
		if ((st = load_state(ck, want)) != -1 &&
		    (k = load_key(ck, st == 0 ? want : NULL, node)) != NULL) {
			if (st == 0 && save_pub(c->state_dir, k, node) == -1)
				st = -1;
			sign_free(k);
		}
		(void)ckpt_close(ck);
	}
	if ((fp = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((ch = fgetc(fp)) != EOF)
		fputc(ch, out);
	if (!ferror(fp) && fflush(out) == 0)
		rc = 0;
	fclose(fp);
	return rc;
}

/* ---- the verifier's side ------------------------------------------------ */

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* A raw (number) member as an unsigned integer. 0 or -1. */
static int
num_of(const cJSON *o, const char *name, unsigned long long *out,
    const char **txt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	char *end;

	if (!cJSON_IsRaw(j) || j->valuestring[0] < '0' ||
	    j->valuestring[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(j->valuestring, &end, 10);
	if (*end || errno)
		return -1;
	if (txt)
		*txt = j->valuestring;
	return 0;
}

static int
is_hex(const char *s, size_t n)
{
	return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

int
ckpt_info_get(const cJSON *ev, struct ckpt_info *in, const char **why)
{
	const char *type = str_of(ev, "type");
	const cJSON *b;

	memset(in, 0, sizeof(*in));
	if (type == NULL)
		return 0;
	if (strcmp(type, "podtrail_key") == 0)
		in->kind = CKPT_KEY;
	else if (strcmp(type, "podtrail_checkpoint") == 0)
		in->kind = CKPT_CHECKPOINT;
	else
		return 0;
	*why = "signed event without a valid \"signed\" object";
	b = cJSON_GetObjectItemCaseSensitive(ev, "signed");
	if (!cJSON_IsObject(b))
		return -1;
	in->body = b;
	in->sig = str_of(ev, "sig");
	in->stream = str_of(b, "stream");
	in->key_id = str_of(b, "key_id");
	in->time = str_of(b, "time");
	if (in->sig == NULL || in->stream == NULL ||
	    !is_hex(in->key_id, SIGN_ID_HEX) || in->time == NULL ||
	    num_of(b, "seq", &in->seq, NULL) == -1 ||
	    num_of(b, "epoch", &in->epoch, &in->epoch_txt) == -1)
		return -1;
	if (in->kind == CKPT_KEY) {
		unsigned long long from, to;
		int hf = num_of(b, "skipped_from", &from, NULL) == 0;
		int ht = num_of(b, "skipped_to", &to, NULL) == 0;

		in->pub = str_of(b, "pub");
		in->prev_key_id = str_of(b, "prev_key_id");
		in->cert = str_of(b, "cert");
		in->reason = str_of(b, "reason");
		in->hmac_key_id = str_of(b, "hmac_key_id");
		*why = "key event with missing or malformed fields";
		if (in->pub == NULL || (in->prev_key_id != NULL) !=
		    (in->cert != NULL) || (in->prev_key_id &&
		    !is_hex(in->prev_key_id, SIGN_ID_HEX)) || hf != ht ||
		    (hf && from > to))
			return -1;
		in->skipped = hf;
		in->skipped_from = from;
		in->skipped_to = to;
	} else {
		in->root = str_of(b, "root");
		in->head = str_of(b, "head");
		*why = "checkpoint with missing or malformed fields";
		if (!is_hex(in->root, 2 * MERKLE_HASH) ||
		    !is_hex(in->head, CHAIN_HASH_HEX) ||
		    num_of(b, "count", &in->count, NULL) == -1)
			return -1;
	}
	return 1;
}

int
ckpt_info_sig_ok(const struct ckpt_info *in, const struct sign_key *k,
    struct buf *scratch)
{
	buf_reset(scratch);
	if (strcmp(sign_key_id(k), in->key_id) != 0 ||
	    chain_canonical(in->body, scratch) == -1)
		return 0;
	return sign_check(k, scratch->data, scratch->len, in->sig);
}

int
ckpt_info_cert_ok(const struct ckpt_info *in, const struct sign_key *prev,
    struct buf *scratch)
{
	if (in->kind != CKPT_KEY || in->cert == NULL ||
	    strcmp(sign_key_id(prev), in->prev_key_id) != 0 ||
	    ckpt_cert_text(in->stream, in->epoch_txt, in->key_id, in->pub,
	    in->prev_key_id, scratch) == -1)
		return 0;
	return sign_check(prev, scratch->data, scratch->len, in->cert);
}
