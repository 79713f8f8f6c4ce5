# tests/watch: etcd's Watch service end to end, against real cetcd member
# processes (1 and 3 members, a leader SIGKILLed) with a grpcio and raw
# HTTP client (watch_client.py); skipped when python3-grpcio or protoc is
# missing.  The benchmark is tests/bench/watch_bench.py (not in make check).
check_PROGRAMS += tests/watch/check_watch
TESTS += tests/watch/check_watch
EXTRA_DIST += tests/watch/watch_client.py
tests_watch_check_watch_SOURCES = tests/watch/test_watch.c
tests_watch_check_watch_CFLAGS = $(TEST_CFLAGS)
tests_watch_check_watch_LDADD = $(TEST_LIBS) $(LIBBASE) -lm
