#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "testlib.h"

START_TEST(test_buf_appends_and_stays_nul_terminated)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append_str(&b, "hello"), 0);
	ck_assert_int_eq(buf_printf(&b, " %d-%s", 42, "x"), 0);
	ck_assert_str_eq((char *)b.data, "hello 42-x");
	ck_assert_uint_eq(b.len, 10);
	buf_consume(&b, 6);
	ck_assert_str_eq((char *)b.data, "42-x");
	buf_done(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_buf_grows_past_many_doublings)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(buf_append_byte(&b, (uint8_t)i), 0);
	}
	ck_assert_uint_eq(b.len, 100000);
	for (int i = 0; i < 100000; i++) {
		ck_assert_uint_eq(b.data[i], (uint8_t)i);
	}
	buf_done(&b);
}
END_TEST

START_TEST(test_buf_encodes_fixed_width_integers)
{
	struct buf b = BUF_INIT;
	static const uint8_t want[] = {
		0x04, 0x03, 0x02, 0x01,                        /* u32 LE */
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* u64 LE */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, /* u64 BE */
	};

	ck_assert_int_eq(buf_append_u32le(&b, 0x01020304), 0);
	ck_assert_int_eq(buf_append_u64le(&b, 1), 0);
	ck_assert_int_eq(buf_append_u64be(&b, 0x0102), 0);
	ck_assert_uint_eq(b.len, sizeof(want));
	ck_assert_mem_eq(b.data, want, sizeof(want));
	buf_done(&b);
}
END_TEST

START_TEST(test_buf_failed_growth_leaves_the_buffer_unchanged)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append_str(&b, "keep"), 0);
	mem_fail_after(0);
	ck_assert_int_lt(buf_reserve(&b, 1 << 20), 0);
	mem_fail_reset();
	ck_assert_str_eq((char *)b.data, "keep");
	ck_assert_uint_eq(b.len, 4);
	buf_done(&b);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_appends_and_stays_nul_terminated);
	tcase_add_test(tc, test_buf_grows_past_many_doublings);
	tcase_add_test(tc, test_buf_encodes_fixed_width_integers);
	tcase_add_test(tc, test_buf_failed_growth_leaves_the_buffer_unchanged);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(buf_suite)
