#include "base/timeutil.h"
#include "testlib.h"

START_TEST(test_timeutil_parses_go_durations)
{
	uint64_t ns;

	ck_assert_int_eq(timeutil_parse_duration("100ms", &ns), 0);
	ck_assert_uint_eq(ns, 100 * NSEC_PER_MSEC);
	ck_assert_int_eq(timeutil_parse_duration("1.5s", &ns), 0);
	ck_assert_uint_eq(ns, 1500 * NSEC_PER_MSEC);
	ck_assert_int_eq(timeutil_parse_duration("2m30s", &ns), 0);
	ck_assert_uint_eq(ns, 150 * NSEC_PER_SEC);
	ck_assert_int_eq(timeutil_parse_duration("1h", &ns), 0);
	ck_assert_uint_eq(ns, 3600 * NSEC_PER_SEC);
	ck_assert_int_eq(timeutil_parse_duration("250us", &ns), 0);
	ck_assert_uint_eq(ns, 250 * NSEC_PER_USEC);
	ck_assert_int_eq(timeutil_parse_duration("0", &ns), 0);
	ck_assert_uint_eq(ns, 0);
}
END_TEST

START_TEST(test_timeutil_rejects_bare_numbers_and_unknown_units)
{
	uint64_t ns;

	ck_assert_int_lt(timeutil_parse_duration("5", &ns), 0);
	ck_assert_int_lt(timeutil_parse_duration("5x", &ns), 0);
	ck_assert_int_lt(timeutil_parse_duration("", &ns), 0);
	ck_assert_int_lt(timeutil_parse_duration("-1s", &ns), 0);
	ck_assert_int_lt(timeutil_parse_duration("s", &ns), 0);
}
END_TEST

START_TEST(test_timeutil_formats_like_go)
{
	char out[64];

	timeutil_format_duration(3571276, out, sizeof(out));
	ck_assert_str_eq(out, "3.571276ms");
	timeutil_format_duration(60 * NSEC_PER_SEC, out, sizeof(out));
	ck_assert_str_eq(out, "1m0s");
	timeutil_format_duration(1500 * NSEC_PER_MSEC, out, sizeof(out));
	ck_assert_str_eq(out, "1.5s");
	timeutil_format_duration(0, out, sizeof(out));
	ck_assert_str_eq(out, "0s");
	timeutil_format_duration(999, out, sizeof(out));
	ck_assert_str_eq(out, "999ns");
	timeutil_format_duration(2 * 3600 * NSEC_PER_SEC + 5 * NSEC_PER_SEC, out,
				 sizeof(out));
	ck_assert_str_eq(out, "2h0m5s");
	timeutil_format_duration(1500, out, sizeof(out));
	ck_assert_str_eq(out, "1.5µs");
}
END_TEST

START_TEST(test_timeutil_monotonic_clock_does_not_go_back)
{
	uint64_t a = timeutil_mono_ns(), b = timeutil_mono_ns();

	ck_assert_uint_ge(b, a);
	ck_assert_uint_gt(timeutil_wall_ns(), 1600000000ull * NSEC_PER_SEC);
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_timeutil_parses_go_durations);
	tcase_add_test(tc, test_timeutil_rejects_bare_numbers_and_unknown_units);
	tcase_add_test(tc, test_timeutil_formats_like_go);
	tcase_add_test(tc, test_timeutil_monotonic_clock_does_not_go_back);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(timeutil_suite)
