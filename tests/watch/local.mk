# tests/watch: etcd's Watch service end to end, against real cetcd member
# processes (1 and 3 members, a leader SIGKILLed) with a grpcio and raw
# HTTP client (watch_client.py); skipped when python3-grpcio or protoc is
# missing.
check_PROGRAMS += tests/watch/check_watch
TESTS += tests/watch/check_watch
EXTRA_DIST += tests/watch/watch_client.py
tests_watch_check_watch_SOURCES = tests/watch/test_watch.c
tests_watch_check_watch_CFLAGS = $(TEST_CFLAGS)
tests_watch_check_watch_LDADD = $(TEST_LIBS) $(LIBBASE) -lm

# The Watch benchmark client (tests/bench/watch_bench.sh runs it against a
# member it starts); built, never run by make check.
noinst_PROGRAMS += tests/bench/watch_bench
tests_bench_watch_bench_SOURCES = tests/bench/watch_bench.c
tests_bench_watch_bench_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
tests_bench_watch_bench_LDADD = $(LIBPROTO) $(LIBGRPC) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) $(JSONC_LIBS) -lm
EXTRA_DIST += tests/bench/watch_bench.sh
