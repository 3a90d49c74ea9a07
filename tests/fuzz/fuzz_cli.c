/*
 * fuzz_cli.c - the command line: NUL-separated arguments go through
 * main.c's parse_args() and check_conf(), the same path as start-up up
 * to the point where resources are opened.
 *
 * Arguments that end the process by design (--help, --version,
 * --man-options) and -c (which would read arbitrary files of this
 * machine) are left out of the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int podtrail_main(int argc, char **argv);
#define main podtrail_main
#include "../../src/main.c"
#undef main

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
	if (parse_args(argc, args, &c, &check_only) == 0)
		(void)check_conf(&c);
	conf_free(&c);
out:
	free(copy);
	return 0;
}
