/*
 * check_main.c - the one test runner: runs every suite registered with
 * TEST_SUITE() in this binary through one Check SRunner.  Check itself
 * honours CK_RUN_SUITE, CK_RUN_CASE, CK_FORK and CK_VERBOSITY.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testlib.h"

int testlib_suites_(testlib_suite_fn **out);

int main(void)
{
	testlib_suite_fn *fns;
	int n = testlib_suites_(&fns);
	SRunner *sr;
	int failed;

	if (n == 0) {
		fprintf(stderr, "check_main: no suites registered\n");
		return 1;
	}
	sr = srunner_create(fns[0]());
	for (int i = 1; i < n; i++) {
		srunner_add_suite(sr, fns[i]());
	}
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
