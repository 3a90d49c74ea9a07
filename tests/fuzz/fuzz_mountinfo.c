/*
 * fuzz_mountinfo.c - mountinfo text (mount points and bind sources are
 * names a workload chooses) and the translation of a path seen in a
 * container to the host's view.
 *
 * The input is up to four parts separated by NUL bytes: the container's
 * mountinfo, the host's, a path and a cwd (both as audit reports them).
 * Checks: tables parse or are NULL, mountinfo_normalize() gives an absolute
 * path without "//", "." or ".." components, translating within one
 * namespace is the identity, and a translated path is absolute.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mountinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_normal(const char *s)
{
	FUZZ_ASSERT(s[0] == '/');
	FUZZ_ASSERT(strstr(s, "//") == NULL);
	FUZZ_ASSERT(strstr(s, "/./") == NULL && strstr(s, "/../") == NULL);
	if (strlen(s) > 1) {
		size_t n = strlen(s);

		FUZZ_ASSERT(s[n - 1] != '/');
		FUZZ_ASSERT(!(n >= 2 && !strcmp(s + n - 2, "/.")));
		FUZZ_ASSERT(!(n >= 3 && !strcmp(s + n - 3, "/..")));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct buf norm = BUF_INIT, out = BUF_INIT, again = BUF_INIT;
	struct mountinfo_table *t, *host;
	const char *point, *root, *fstype;
	size_t n_ct, n_host, n_path, n_cwd;
	char *ct_text, *host_text, *path, *cwd;

	ct_text = fuzz_part(&p, end, &n_ct);
	host_text = fuzz_part(&p, end, &n_host);
	path = fuzz_part(&p, end, &n_path);
	cwd = fuzz_part(&p, end, &n_cwd);

	t = mountinfo_parse(ct_text, n_ct);
	host = mountinfo_parse(host_text, n_host);
	if (t)
		FUZZ_ASSERT(mountinfo_count(t) > 0);

	if (mountinfo_normalize(&norm, n_cwd ? cwd : NULL, path) == 0) {
		check_normal(norm.data);
		/* normalizing is idempotent */
		FUZZ_ASSERT(mountinfo_normalize(&again, NULL, norm.data) == 0);
		FUZZ_ASSERT(strcmp(again.data, norm.data) == 0);
		if (t) {
			FUZZ_ASSERT(mountinfo_translate(t, t, norm.data,
			    &out) == 0);
			FUZZ_ASSERT(strcmp(out.data, norm.data) == 0);
			buf_reset(&out);
			if (mountinfo_lookup(t, norm.data, &point, &root,
			    &fstype) == 0)
				FUZZ_ASSERT(point && root && fstype);
			if (host && mountinfo_translate(t, host, norm.data,
			    &out) == 0)
				FUZZ_ASSERT(out.len > 0 && out.data[0] == '/');
		}
	}
	mountinfo_free(t);
	mountinfo_free(host);
	buf_free(&norm);
	buf_free(&out);
	buf_free(&again);
	free(ct_text);
	free(host_text);
	free(path);
	free(cwd);
	return 0;
}
