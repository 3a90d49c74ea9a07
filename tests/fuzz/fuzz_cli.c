/*
 * fuzz_cli.c - the command line: NUL-separated arguments go through
 * cli_parse() and cli_check(), the same path as start-up up to the
 * point where resources are opened.
 *
 * Arguments that end the process by design (--help, --version,
 * --man-options) and -c (which would read arbitrary files of this
 * machine) are left out of the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "log.h"

#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_cli");
	fuzz_quiet();
	return 0;
}

static int
exits(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-V") ||
	    !strcmp(a, "--version") || !strcmp(a, "--man-options") ||
	    !strncmp(a, "-c", 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *args[MAX_ARGS + 2];
	int argc = 0, check_only = 0;
	char err[1024];
	size_t i = 0;
	struct conf c;

	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	args[argc++] = (char *)"podtrail";
	while (i < size && argc <= MAX_ARGS) {
		char *a = copy + i;

		if (exits(a))
			goto out;
		args[argc++] = a;
		i += strlen(a) + 1;
	}
	args[argc] = NULL;
	FUZZ_ASSERT(conf_defaults(&c) == 0);
	/* the default config file may exist or not; either is fine */
	if (cli_parse(argc, args, &c, &check_only, err, sizeof(err)) == 0)
		(void)cli_check(&c, NULL, err, sizeof(err));
	conf_free(&c);
out:
	free(copy);
	return 0;
}
