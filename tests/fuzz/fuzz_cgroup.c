/*
 * fuzz_cgroup.c - /proc/<pid>/cgroup text, which a workload chooses in
 * part (its cgroup names): cg_parse() on the whole text and
 * cg_parse_path() on every line's path. Results are -1/0/1, and what
 * is filled in has the promised shape: a 64-hex id, a 36-byte pod UID,
 * NUL-terminated strings of known words.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static void
check_info(int rc, const struct cg_info *ci)
{
	size_t u = strnlen(ci->pod_uid, sizeof(ci->pod_uid));

	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	FUZZ_ASSERT(strnlen(ci->id, sizeof(ci->id)) < sizeof(ci->id));
	FUZZ_ASSERT(u < sizeof(ci->pod_uid));
	FUZZ_ASSERT(strnlen(ci->runtime, sizeof(ci->runtime)) < sizeof(ci->runtime));
	FUZZ_ASSERT(strnlen(ci->qos, sizeof(ci->qos)) < sizeof(ci->qos));
	if (rc == 1) {
		FUZZ_ASSERT(is_hex(ci->id, CG_ID_LEN));
		FUZZ_ASSERT(ci->runtime[0] != '\0');
	} else {
		FUZZ_ASSERT(ci->id[0] == '\0');
	}
	/* a pod UID is all or nothing, and never carries a '/' or NUL */
	FUZZ_ASSERT(u == 0 || u == CG_UID_LEN);
	FUZZ_ASSERT(strchr(ci->pod_uid, '/') == NULL);
	if (ci->qos[0])
		FUZZ_ASSERT(!strcmp(ci->qos, "guaranteed") ||
		    !strcmp(ci->qos, "burstable") ||
		    !strcmp(ci->qos, "besteffort"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *p = text, *end = text + size;
	struct cg_info ci;
	int rc;

	memset(&ci, 0x5a, sizeof(ci));
	rc = cg_parse(text, size, &ci);
	check_info(rc, &ci);

	/* each line's path ("H:CTRL:PATH") on its own */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *c;

		if ((c = memchr(p, ':', (size_t)(le - p))) != NULL &&
		    (c = memchr(c + 1, ':', (size_t)(le - c - 1))) != NULL) {
			memset(&ci, 0x5a, sizeof(ci));
			rc = cg_parse_path(c + 1, (size_t)(le - c - 1), &ci);
			FUZZ_ASSERT(rc == 0 || rc == 1);
			check_info(rc, &ci);
		}
		p = le + (nl != NULL);
	}
	return 0;
}
