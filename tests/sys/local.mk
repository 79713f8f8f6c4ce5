# tests/sys: the loop wrapper (timers, signals, deferred frees).
check_PROGRAMS += tests/sys/check_sys
TESTS += tests/sys/check_sys
tests_sys_check_sys_SOURCES = tests/sys/test_loop.c
tests_sys_check_sys_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_sys_check_sys_LDADD = $(TEST_LIBS) $(LIBSYS) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(LIBSYSTEMD_LIBS)
