/*
 * verify_main.c - podtrail-verify: check chains an aggregator stored.
 * Exit 0 only when every stream is complete and intact, 1 when not,
 * 2 on usage or read errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "chain.h"
#include "log.h"
#include "verify.h"
#ifdef HAVE_NATS
#include "verify_nats.h"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: podtrail-verify [--json] [--key FILE] "
	    "[--ignore FIELD]... FILE...\n"
	    "\n"
	    "Reads NDJSON events as an aggregator stored them (any order,\n"
	    "duplicates allowed; - is stdin) and reports per stream: events,\n"
	    "gaps, duplicates, conflicts, broken links and hash (HMAC)\n"
	    "failures. Exit 0 only if every chain is complete and intact.\n"
	    "Files may be gzip'd, like podtrail's spool segments and dead\n"
	    "letters, or concatenations of gzip'd request bodies.\n"
	    "nats://HOST:PORT[,HOST:PORT...]/STREAM reads a JetStream stream.\n"
	    "--ignore FIELD leaves out a top-level field the aggregator added.\n");
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

static FILE *
open_input(const char *path)
{
	cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
	    dup(STDIN_FILENO);
	gzFile gz;
	FILE *fp;

	if (strncmp(path, "nats://", 7) == 0) {
		if (fd != -1)
			close(fd);
#ifdef HAVE_NATS
		return vnats_open(path);	/* nats://HOST:PORT[,...]/STREAM */
#else
		errno = ENOTSUP;	/* built without libnats */
		return NULL;
#endif
	}
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

int
main(int argc, char **argv)
{
	const char *keyfile = NULL;
	const char *ignore[32];
	int nignore = 0;
	unsigned char *key = NULL;
	size_t keylen = 0;
	struct verify *v = NULL;
	int json = 0, rc = 2, i, nfiles = 0;

	log_init(1, LOG_LVL_WARN, "podtrail-verify");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			keyfile = argv[++i];
		else if (!strncmp(argv[i], "--key=", 6))
			keyfile = argv[i] + 6;
		else if (!strcmp(argv[i], "--ignore") && i + 1 < argc &&
		    nignore < 32)
			ignore[nignore++] = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage(stderr);
			return 2;
		} else
			nfiles++;
	}
	if (nfiles == 0) {
		usage(stderr);
		return 2;
	}
	if (keyfile && (key = chain_read_secret(keyfile, &keylen)) == NULL)
		goto out;
	if ((v = verify_new(key, keylen)) == NULL)
		goto out;
	for (i = 0; i < nignore; i++)
		if (verify_ignore(v, ignore[i]) == -1)
			goto out;
	for (i = 1; i < argc; i++) {
		FILE *fp;
		int r;

		if (!strcmp(argv[i], "--key") || !strcmp(argv[i], "--ignore")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		if ((fp = open_input(argv[i])) == NULL) {
			log_warn("%s", argv[i]);
			goto out;
		}
		r = verify_file(v, fp, argv[i]);
		fclose(fp);
		if (r == -1)
			goto out;
	}
	rc = verify_report(v, stdout, json) ? 0 : 1;
out:
	verify_free(v);
	free(key);
	return rc;
}
