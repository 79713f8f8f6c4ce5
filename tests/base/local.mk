check_PROGRAMS += tests/base/check_base
TESTS += tests/base/check_base
tests_base_check_base_SOURCES = \
	tests/base/test_buf.c \
	tests/base/test_crc32c.c \
	tests/base/test_err.c \
	tests/base/test_list.c \
	tests/base/test_log.c \
	tests/base/test_mem.c \
	tests/base/test_metrics.c \
	tests/base/test_timeutil.c
tests_base_check_base_CFLAGS = $(TEST_CFLAGS)
tests_base_check_base_LDADD = $(TEST_LIBS) $(LIBBASE) -lm
