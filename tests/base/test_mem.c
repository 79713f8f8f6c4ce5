#include "base/mem.h"
#include "testlib.h"

START_TEST(test_mem_fails_exactly_the_nth_allocation)
{
	void *a, *b, *c;

	mem_fail_after(2);
	a = mem_alloc(8);
	b = mem_strdup("x");
	c = mem_calloc(1, 8);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(mem_realloc(a, 64)); /* stays failing */
	ck_assert_uint_eq(mem_fail_count(), 2);
	mem_fail_reset();
	c = mem_alloc(8);
	ck_assert_ptr_nonnull(c);
	mem_free(a);
	mem_free(b);
	mem_free(c);
	mem_free(NULL);
}
END_TEST

START_TEST(test_mem_zero_size_still_returns_memory)
{
	void *p = mem_alloc(0);

	ck_assert_ptr_nonnull(p);
	mem_free(p);
}
END_TEST

static void cleanup_frees_user(void)
{
	_cleanup_free_ char *s = mem_strdup("owned");
	char *kept;

	ck_assert_ptr_nonnull(s);
	kept = TAKE_PTR(s);
	ck_assert_ptr_null(s);
	mem_free(kept);
}

START_TEST(test_mem_take_ptr_moves_ownership_out_of_cleanup)
{
	cleanup_frees_user();
}
END_TEST

static Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mem_fails_exactly_the_nth_allocation);
	tcase_add_test(tc, test_mem_zero_size_still_returns_memory);
	tcase_add_test(tc, test_mem_take_ptr_moves_ownership_out_of_cleanup);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(mem_suite)
