/*
 * fuzz_verify.c - podtrail-verify's input: NDJSON lines as an
 * aggregator stored them, which anyone with write access to that
 * storage may have crafted. Every line goes through verify_line(), both
 * reports are printed (to /dev/null), and each line is checked against
 * jsonread_parse() + chain_canonical(): the canonical form of a parsed
 * line parses again to the same canonical form (the hash input is
 * stable), and is valid UTF-8 whenever the line was.
 *
 * The first byte picks a key (odd: HMAC with a fixed key) and whether
 * an ignored field ("timestamp") is set.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "chain.h"
#include "jsonread.h"
#include "log.h"
#include "verify.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out;
static struct buf c1 = BUF_INIT, c2 = BUF_INIT;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_verify");
	fuzz_quiet();
	if ((null_out = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

static void
check_canonical(const char *line, size_t len)
{
	cJSON *a, *b;

	if ((a = jsonread_parse(line, len)) == NULL)
		return;
	buf_reset(&c1);
	FUZZ_ASSERT(chain_canonical(a, &c1) == 0);
	FUZZ_ASSERT(c1.data != NULL && strlen(c1.data) == c1.len);
	if (fuzz_utf8_valid((const unsigned char *)line, len))
		FUZZ_ASSERT(fuzz_utf8_valid((const unsigned char *)c1.data,
		    c1.len));
	b = jsonread_parse(c1.data, c1.len);
	FUZZ_ASSERT(b != NULL);
	buf_reset(&c2);
	FUZZ_ASSERT(chain_canonical(b, &c2) == 0);
	FUZZ_ASSERT(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[] = "fuzz-hmac-key";
	const char *p, *end;
	unsigned long lineno = 0;
	struct verify *v;
	int ok;

	if (size == 0)
		return 0;
	v = (data[0] & 1) ? verify_new(key, sizeof(key) - 1) :
	    verify_new(NULL, 0);
	FUZZ_ASSERT(v != NULL);
	if (data[0] & 2)
		FUZZ_ASSERT(verify_ignore(v, "timestamp") == 0);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		FUZZ_ASSERT(verify_line(v, p, n, "fuzz", ++lineno) == 0);
		check_canonical(p, n);
		p += n + (nl != NULL);
	}
	ok = verify_report(v, null_out, 0);
	FUZZ_ASSERT(ok == 0 || ok == 1);
	FUZZ_ASSERT(verify_report(v, null_out, 1) == ok);
	verify_free(v);
	return 0;
}
