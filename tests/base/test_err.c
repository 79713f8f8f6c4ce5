#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "testlib.h"

START_TEST(test_err_names_project_codes_and_errno)
{
	ck_assert_str_eq(err_str(-ERR_COMPACTED), "required revision has been compacted");
	ck_assert_str_eq(err_name(-ERR_NO_LEADER), "ERR_NO_LEADER");
	ck_assert_str_eq(err_name(-ENOMEM), "ENOMEM");
	ck_assert_str_eq(err_str(-ENOENT), strerror(ENOENT));
	ck_assert_str_eq(err_str(0), "success");
	ck_assert_str_eq(err_str(-(ERR_LAST_ + 5)), "unknown error");
}
END_TEST

START_TEST(test_err_every_project_code_has_a_text)
{
	for (int c = ERR_FIRST_ + 1; c < ERR_LAST_; c++) {
		ck_assert_str_ne(err_str(-c), "unknown error");
		ck_assert_int_eq(strncmp(err_name(-c), "ERR_", 4), 0);
		ck_assert_int_gt((int)strlen(err_str(-c)), 0);
	}
	ck_assert_int_gt(ERR_FIRST_, 4095); /* above every errno */
}
END_TEST

static Suite *err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_err_names_project_codes_and_errno);
	tcase_add_test(tc, test_err_every_project_code_has_a_text);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(err_suite)
