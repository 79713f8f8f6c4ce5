#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "testlib.h"

static char last[512];
static int lines;

static void capture(enum log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
	lines++;
}

START_TEST(test_log_drops_lines_above_the_level)
{
	log_set_sink(capture, NULL);
	log_set_level(LOG_LVL_WARN);
	lines = 0;
	log_info("hidden %d", 1);
	log_debug("hidden too");
	ck_assert_int_eq(lines, 0);
	log_error("shown %s", "x");
	ck_assert_int_eq(lines, 1);
	ck_assert_str_eq(last, "shown x");
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LVL_INFO);
}
END_TEST

START_TEST(test_log_parses_etcd_levels)
{
	enum log_level l;

	ck_assert_int_eq(log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("WARN", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_WARN);
	ck_assert_int_eq(log_level_parse("panic", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_ERROR);
	ck_assert_int_lt(log_level_parse("loud", &l), 0);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_log_drops_lines_above_the_level);
	tcase_add_test(tc, test_log_parses_etcd_levels);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(log_suite)
