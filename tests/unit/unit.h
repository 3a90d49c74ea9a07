/* unit.h - how every unit test runs its Check suite. */
#ifndef PODTRAIL_UNIT_H
#define PODTRAIL_UNIT_H

#include <check.h>
#include <stdlib.h>

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

#endif
