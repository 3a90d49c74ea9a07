/*
 * fuzz_text.c - the kernel field decoding and the lossless escape
 * (text.h): escape output is valid UTF-8 without NUL and undoes to the
 * input exactly; decoding never reads past the value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "text.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf esc = BUF_INIT, dec = BUF_INIT, hex = BUF_INIT;
	char *raw, *back;
	long n;

	/* the escape, on arbitrary bytes */
	FUZZ_ASSERT(text_escape(&esc, (const char *)data, size) == 0);
	FUZZ_ASSERT(size == 0 || esc.data != NULL);
	if (esc.data) {
		FUZZ_ASSERT(strlen(esc.data) == esc.len);
		FUZZ_ASSERT(fuzz_utf8_valid((unsigned char *)esc.data, esc.len));
		FUZZ_ASSERT((back = malloc(esc.len + 1)) != NULL);
		n = fuzz_unescape(esc.data, esc.len, back);
		FUZZ_ASSERT(n >= 0 && (size_t)n == size);
		FUZZ_ASSERT(memcmp(back, data, size) == 0);
		free(back);
	}

	/* decoding a raw field value as the kernel wrote it */
	FUZZ_ASSERT((raw = malloc(size + 1)) != NULL);
	memcpy(raw, data, size);
	raw[size] = '\0';
	FUZZ_ASSERT(text_decode(&dec, raw, size & 1) == 0);
	FUZZ_ASSERT(dec.len <= strlen(raw));
	if (text_is_hex(raw, strlen(raw))) {
		FUZZ_ASSERT(text_unhex(&hex, raw, strlen(raw)) == 0);
		FUZZ_ASSERT(hex.len * 2 == strlen(raw));
	}
	if (text_is_int(raw, strlen(raw)))
		FUZZ_ASSERT(strlen(raw) <= 21);
	free(raw);
	buf_free(&esc);
	buf_free(&dec);
	buf_free(&hex);
	return 0;
}
