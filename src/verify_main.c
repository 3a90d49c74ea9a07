/*
 * verify_main.c - podtrail-verify: check chains an aggregator stored.
 * Exit 0 only when every stream is complete and intact, 1 when not,
 * 2 on usage or read errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "verify.h"

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
	    "--ignore FIELD leaves out a top-level field the aggregator added.\n");
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
		if (!strcmp(argv[i], "-"))
			fp = stdin;
		else if ((fp = fopen(argv[i], "re")) == NULL) {
			log_warn("%s", argv[i]);
			goto out;
		}
		r = verify_file(v, fp, argv[i]);
		if (fp != stdin)
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
