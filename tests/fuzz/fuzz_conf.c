/*
 * fuzz_conf.c - the config file parser: conf_load() on arbitrary file
 * contents must return 0 or -1 (with its file:line message), never
 * crash or leak, and leave a struct conf_free() can release.
 */
#define _GNU_SOURCE 1
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_conf");
	fuzz_quiet();
	/* one memory file, rewritten per input: no disk, no cleanup */
	if ((fd = memfd_create("fuzz_conf", 0)) == -1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	int rc;

	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
	FUZZ_ASSERT(conf_defaults(&c) == 0);
	rc = conf_load(&c, path, 1);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	/* whatever was set is within the table's bounds */
	FUZZ_ASSERT(c.eoe_timeout >= 1 && c.eoe_timeout <= 600);
	FUZZ_ASSERT(c.hostpath.n >= 0 && c.hostpath.n <= CONF_LIST_MAX);
	FUZZ_ASSERT(c.source != NULL && c.output != NULL);
	conf_free(&c);
	return 0;
}
