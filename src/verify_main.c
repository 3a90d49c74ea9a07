/*
 * verify_main.c - podtrail-verify: check chains an aggregator stored.
 * Exit 0 only when every stream is complete and intact (explained gaps
 * allowed), 1 when not (tampering, missing, stale), 2 on usage or read
 * errors.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zlib.h>

#include "buf.h"
#include "ckpt.h"
#include "log.h"
#include "proof.h"
#include "secret.h"
#include "trust.h"
#include "verify.h"
#ifdef HAVE_NATS
#include "verify_nats.h"
#endif

#define MAX_ARGS 64
/* --follow: how long to wait when no input grew */
#define FOLLOW_NAP_MS 200

static volatile sig_atomic_t stop;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: podtrail-verify [--json] [--key FILE]... "
	    "[--ignore FIELD]...\n"
	    "           [--trust FILE|DIR]... [--witness FILE]... "
	    "[--max-silence SECONDS]\n"
	    "           [--now RFC3339] [--window N] [--follow] "
	    "[--prove STREAM:SEQ] FILE|DIR...\n"
	    "       podtrail-verify --check-proof FILE --trust FILE|DIR "
	    "[--key FILE] [--json]\n"
	    "\n"
	    "Reads NDJSON events as an aggregator stored them (any order,\n"
	    "duplicates allowed; - is stdin; a directory: its files) and\n"
	    "reports per stream: events, gaps (missing, or explained by a\n"
	    "signed restart), duplicates, conflicts, broken links, hash (HMAC)\n"
	    "failures, signed checkpoints and key epochs. Exit 0 only if\n"
	    "every chain is complete and intact, 1 if not, 2 on errors.\n"
	    "Files may be gzip'd, like podtrail's spool segments and dead\n"
	    "letters, or concatenations of gzip'd request bodies.\n"
	    "nats://HOST:PORT[,HOST:PORT...]/STREAM reads a JetStream stream.\n"
	    "  --trust       pinned node keys (podtrail --print-key output):\n"
	    "                every stream must be signed by its node's key\n"
	    "  --witness     checkpoints from checkpoint_output: each must be\n"
	    "                in the store (a cut tail, a deleted stream)\n"
	    "  --max-silence a stream whose last checkpoint is older is stale\n"
	    "  --now         the time to measure staleness from (default: now)\n"
	    "  --window      lines held out of order across streams (262144)\n"
	    "  --follow      keep reading growing files and directories and\n"
	    "                report findings as they appear (until SIGINT)\n"
	    "  --prove       write an inclusion proof of one event to stdout\n"
	    "  --check-proof check such a proof with only the pinned keys\n"
	    "  --ignore      leave out a top-level field the aggregator added\n");
}

/*
 * zlib's gzread passes plain text through and reads concatenated gzip
 * members on: every input is read through it.
 */
static ssize_t
gz_read(void *cookie, char *buf, size_t len)
{
	int n = gzread(cookie, buf, len > INT_MAX ? INT_MAX : (unsigned)len);
	int err = Z_OK;

	if (n == 0)
		gzerror(cookie, &err);	/* Z_BUF_ERROR: cut short */
	if (n < 0 || err == Z_BUF_ERROR) {
		errno = EBADMSG;	/* not valid gzip */
		return -1;
	}
	return n;
}

static int
gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : -1;
}

/*
 * One input as a FILE* of NDJSON lines: the one place a new kind of
 * source plugs in. follow: a plain file is read directly, so reading
 * on after its end sees what was appended.
 */
static FILE *
open_input(const char *path, int follow)
{
	cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
	size_t n = strlen(path);
	int fd;
	gzFile gz;
	FILE *fp;

	if (strncmp(path, "nats://", 7) == 0) {
#ifdef HAVE_NATS
		return vnats_open(path);	/* nats://HOST:PORT[,...]/STREAM */
#else
		errno = ENOTSUP;	/* built without libnats */
		return NULL;
#endif
	}
	if (follow && strcmp(path, "-") && !(n > 3 && !strcmp(path + n - 3,
	    ".gz")))
		return fopen(path, "re");
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
	    dup(STDIN_FILENO);
	if (fd == -1)
		return NULL;
	if ((gz = gzdopen(fd, "rb")) == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(gz, 128 * 1024);
	if ((fp = fopencookie(gz, "r", io)) == NULL)
		gzclose(gz);
	return fp;
}

/* ---- --follow -------------------------------------------------------- */

struct src {
	char *path;
	FILE *fp;
	unsigned long lineno;
	struct buf part;	/* a line not finished yet */
};

struct follow {
	struct src *s;
	size_t n;
};

static int
follow_add(struct follow *f, const char *path)
{
	struct src *ns;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->s[i].path, path) == 0)
			return 0;
	if ((ns = realloc(f->s, (f->n + 1) * sizeof(*ns))) == NULL)
		return -1;
	f->s = ns;
	memset(&ns[f->n], 0, sizeof(ns[0]));
	if ((ns[f->n].path = strdup(path)) == NULL)
		return -1;
	if ((ns[f->n].fp = open_input(path, 1)) == NULL) {
		log_warn("%s", path);
		free(ns[f->n].path);
		return -1;
	}
	f->n++;
	return 0;
}

/*
 * cb(path, arg) for each regular file of dir, in name order, until one
 * returns -1. 0 or -1 (logged).
 */
static int
each_file(const char *dir, int (*cb)(const char *, void *), void *arg)
{
	struct dirent **names;
	int n, rc = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char full[4096];
		struct stat st;

		snprintf(full, sizeof(full), "%s/%s", dir, names[i]->d_name);
		if (rc == 0 && names[i]->d_name[0] != '.' &&
		    stat(full, &st) == 0 && S_ISREG(st.st_mode))
			rc = cb(full, arg);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
follow_file(const char *path, void *arg)
{
	return follow_add(arg, path);
}

static int
is_dir(const char *path)
{
	struct stat st;

	return strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read what src has now. 1 if anything was read, 0 not, -1 error. */
static int
follow_read(struct verify *v, struct src *s)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int got = 0, rc = 0;

	clearerr(s->fp);
	while ((n = getline(&line, &cap, s->fp)) != -1) {
		got = 1;
		if (buf_add(&s->part, line, (size_t)n) == -1) {
			rc = -1;
			break;
		}
		/* a line still being written waits for its newline */
		if (line[n - 1] != '\n')
			continue;
		rc = verify_line(v, s->part.data, s->part.len, s->path,
		    ++s->lineno);
		buf_reset(&s->part);
		if (rc == -1)
			break;
	}
	if (ferror(s->fp)) {
		log_warn("%s", s->path);
		rc = -1;
	}
	free(line);
	return rc == -1 ? -1 : got;
}

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int
follow(struct verify *v, char **inputs, int n)
{
	struct follow f = { NULL, 0 };
	struct sigaction sa;
	int rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		int got = 0;

		for (int i = 0; i < n; i++)
			if (is_dir(inputs[i]) ? each_file(inputs[i], follow_file,
			    &f) == -1 : follow_add(&f, inputs[i]) == -1)
				goto out;
		for (size_t i = 0; i < f.n; i++) {
			int r = follow_read(v, &f.s[i]);

			if (r == -1)
				goto out;
			got |= r;
		}
		verify_tick(v, (long long)time(NULL));
		if (!got && !stop) {
			struct timespec ts = { 0, FOLLOW_NAP_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < f.n; i++) {
		fclose(f.s[i].fp);
		free(f.s[i].path);
		buf_free(&f.s[i].part);
	}
	free(f.s);
	return rc;
}

/* ---- main ------------------------------------------------------------ */

static int
read_all(const char *path, struct buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *fp = strcmp(path, "-") ? fopen(path, "re") : stdin;
	int rc = 0;

	if (fp == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_add(b, chunk, n) == -1) {
			rc = -1;
			break;
		}
	if (ferror(fp) || rc == -1) {
		log_warn("%s", path);
		rc = -1;
	}
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* Every regular file of a directory, else the path itself. */
static int
verify_input(const char *path, void *arg)
{
	struct verify *v = arg;
	FILE *fp;
	int r;

	if (is_dir(path))
		return each_file(path, verify_input, v);
	if ((fp = open_input(path, 0)) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	r = verify_file(v, fp, path);
	fclose(fp);
	return r;
}

/* A count of seconds or lines. 0, or -1. */
static int
parse_count(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return *s && !*end && !errno && *out >= 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *keyfiles[MAX_ARGS], *ignore[MAX_ARGS], *trust[MAX_ARGS];
	const char *witness[MAX_ARGS];
	char *inputs[MAX_ARGS * 4];
	int nkeys = 0, nignore = 0, ntrust = 0, nwitness = 0, ninputs = 0;
	const char *check_proof = NULL, *prove = NULL, *now_s = NULL;
	long long max_silence = -1, window = 0, now = (long long)time(NULL);
	unsigned char *key = NULL;
	size_t keylen = 0;
	struct verify *v = NULL;
	int json = 0, follow_on = 0, rc = 2, i;
	char *colon = NULL;
	unsigned long long prove_seq = 0;

	/* as podtrail does: no OpenSSL clean-up at exit under libnats threads */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);

	log_init(1, LOG_LVL_WARN, "podtrail-verify");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		char name[32];
		int takes;

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) :
		    (int)strlen(a), a);
		takes = !strcmp(name, "--key") || !strcmp(name, "--ignore") ||
		    !strcmp(name, "--trust") || !strcmp(name, "--witness") ||
		    !strcmp(name, "--max-silence") || !strcmp(name, "--now") ||
		    !strcmp(name, "--prove") || !strcmp(name, "--check-proof") ||
		    !strcmp(name, "--window");
		if (takes) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "podtrail-verify: %s needs a "
				    "value\n", name);
				return 2;
			}
		}
		if (!strcmp(a, "--json"))
			json = 1;
		else if (!strcmp(a, "--follow"))
			follow_on = 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (takes && (nkeys == MAX_ARGS || nignore == MAX_ARGS ||
		    ntrust == MAX_ARGS || nwitness == MAX_ARGS)) {
			fprintf(stderr, "podtrail-verify: too many %s\n", name);
			return 2;
		} else if (!strcmp(name, "--key"))
			keyfiles[nkeys++] = val;
		else if (!strcmp(name, "--ignore"))
			ignore[nignore++] = val;
		else if (!strcmp(name, "--trust"))
			trust[ntrust++] = val;
		else if (!strcmp(name, "--witness"))
			witness[nwitness++] = val;
		else if (!strcmp(name, "--check-proof"))
			check_proof = val;
		else if (!strcmp(name, "--prove"))
			prove = val;
		else if (!strcmp(name, "--now"))
			now_s = val;
		else if (!strcmp(name, "--max-silence")) {
			if (parse_count(val, &max_silence) == -1) {
				fprintf(stderr, "podtrail-verify: --max-silence: "
				    "'%s' is not a number of seconds\n", val);
				return 2;
			}
		} else if (!strcmp(name, "--window")) {
			if (parse_count(val, &window) == -1 || window == 0) {
				fprintf(stderr, "podtrail-verify: --window: '%s' "
				    "is not a positive count\n", val);
				return 2;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "podtrail-verify: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else if (ninputs < (int)(sizeof(inputs) / sizeof(inputs[0])))
			inputs[ninputs++] = argv[i];
		else {
			fprintf(stderr, "podtrail-verify: too many inputs\n");
			return 2;
		}
	}
	if (now_s && ckpt_parse_time(now_s, &now) == -1) {
		fprintf(stderr, "podtrail-verify: --now: '%s' is not an RFC 3339 "
		    "UTC time (2026-01-02T03:04:05Z)\n", now_s);
		return 2;
	}
	if (prove && ((colon = strrchr(prove, ':')) == NULL || colon == prove ||
	    (prove_seq = strtoull(colon + 1, NULL, 10)) == 0)) {
		fprintf(stderr, "podtrail-verify: --prove: '%s' is not "
		    "STREAM:SEQ\n", prove);
		return 2;
	}
	if (check_proof ? ninputs != 0 || ntrust == 0 : ninputs == 0) {
		if (check_proof)
			fprintf(stderr, "podtrail-verify: --check-proof needs "
			    "--trust and no inputs\n");
		usage(stderr);
		return 2;
	}
	if (nkeys && (key = secret_read(keyfiles[0], &keylen)) == NULL)
		goto out;
	if ((v = verify_new(key, keylen)) == NULL)
		goto out;
	for (i = 1; i < nkeys; i++) {
		unsigned char *k;
		size_t kl;
		int r;

		if ((k = secret_read(keyfiles[i], &kl)) == NULL)
			goto out;
		r = verify_add_key(v, k, kl);
		OPENSSL_cleanse(k, kl);
		free(k);
		if (r == -1)
			goto out;
	}
	for (i = 0; i < nignore; i++)
		if (verify_ignore(v, ignore[i]) == -1)
			goto out;
	for (i = 0; i < ntrust; i++)
		if (verify_trust(v, trust[i]) == -1)
			goto out;
	if (check_proof) {
		struct buf b = BUF_INIT;
		struct trust *t = trust_new();

		for (i = 0; t && i < ntrust; i++)
			if (trust_load(t, trust[i]) == -1)
				break;
		if (t && i == ntrust && read_all(check_proof, &b) == 0)
			rc = proof_check(b.data ? b.data : "", b.len, t, key,
			    keylen, stdout, json) ? 0 : 1;
		trust_free(t);
		buf_free(&b);
		goto out;
	}
	for (i = 0; i < nwitness; i++) {
		FILE *fp = open_input(witness[i], 0);
		int r;

		if (fp == NULL) {
			log_warn("%s", witness[i]);
			goto out;
		}
		r = verify_witness(v, fp, witness[i]);
		fclose(fp);
		if (r == -1)
			goto out;
	}
	if (max_silence >= 0)
		verify_max_silence(v, max_silence, now);
	if (window)
		verify_window(v, (size_t)window);
	if (prove) {
		char *s = strndup(prove, (size_t)(colon - prove));

		if (s == NULL)
			goto out;
		verify_prove(v, s, prove_seq, stdout);
		free(s);
	}
	if (follow_on) {
		verify_follow(v, prove ? stderr : stdout, json);
		if (follow(v, inputs, ninputs) == -1)
			goto out;
	} else
		for (i = 0; i < ninputs; i++)
			if (verify_input(inputs[i], v) == -1)
				goto out;
	rc = verify_report(v, prove ? stderr : stdout, json) ? 0 : 1;
	if (prove) {
		if (!verify_proved(v))
			fprintf(stderr, "podtrail-verify: no proof: seq %llu of "
			    "%.*s not found under a valid checkpoint\n",
			    prove_seq, (int)(colon - prove), prove);
		rc = verify_proved(v) ? 0 : 1;
	}
out:
	verify_free(v);
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
	return rc;
}
