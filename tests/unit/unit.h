/* unit.h - how every unit test runs its Check suite. */
#ifndef PODTRAIL_UNIT_H
#define PODTRAIL_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Run s and free it; EXIT_SUCCESS only if every check passed. */
static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* What a test writes to stderr while captured. */
struct unit_capture {
	FILE *file;
	int saved;
};

/* Send stderr to a temporary file until unit_capture_end(). */
static inline void
unit_capture_begin(struct unit_capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	c->saved = dup(2);
	dup2(fileno(c->file), 2);
}

/* Restore stderr; copy what was written (NUL-terminated, cut to len). */
static inline void
unit_capture_end(struct unit_capture *c, char *out, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->file);
	n = fread(out, 1, len - 1, c->file);
	out[n] = '\0';
	fclose(c->file);
}

/* A fresh directory /tmp/NAME.XXXXXX into dir (len bytes). */
static inline void
unit_tmpdir(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove dir and everything in it. */
static inline void
unit_rmtree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
