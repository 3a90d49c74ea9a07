/*
 * fuzz_unwrap.c - podtrail-verify's reading of stored documents that
 * wrap podtrail's lines (event.original, _source, Loki push bodies,
 * OTLP exports, a leading @timestamp): crafted storage must neither
 * crash it nor make it fail; every line it finds goes to verify_line.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unwrap.h"
#include "verify.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_unwrap");
	fuzz_quiet();
	if ((null_out = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	unsigned long lineno = 0;
	struct verify *v = verify_new(NULL, 0);
	int ok;

	FUZZ_ASSERT(v != NULL);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		FUZZ_ASSERT(unwrap_verify(v, p, n, "fuzz", ++lineno) == 0);
		p += n + (nl != NULL);
	}
	ok = verify_report(v, null_out, 1);
	FUZZ_ASSERT(ok == 0 || ok == 1);
	verify_free(v);
	return 0;
}
