check_PROGRAMS += tests/wal/check_wal
TESTS += tests/wal/check_wal
tests_wal_check_wal_SOURCES = \
	tests/wal/waltest.c tests/wal/waltest.h \
	tests/wal/test_wal.c tests/wal/test_snapfile.c \
	tests/wal/test_walstore.c
tests_wal_check_wal_CFLAGS = $(TEST_CFLAGS)
tests_wal_check_wal_LDADD = $(TEST_LIBS) $(LIBWAL) $(LIBRAFT) $(LIBPROTO) \
	$(LIBBASE) $(PROTOBUF_C_LIBS) -lm

# The WAL fuzz target: its seed corpus replayed through the same entry point
# in `make check` with the normal compiler; `make fuzz-wal` (configure
# --enable-fuzzing with CC=clang) runs libFuzzer for FUZZ_SECONDS.
check_PROGRAMS += tests/wal/fuzz_wal_replay
TESTS += tests/wal/fuzz_wal_replay
tests_wal_fuzz_wal_replay_SOURCES = tests/wal/fuzz_wal.c tests/wal/fuzz_replay.c
tests_wal_fuzz_wal_replay_LDADD = $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) -lm
EXTRA_DIST += tests/wal/corpus

FUZZ_SECONDS ?= 60
if FUZZING
noinst_PROGRAMS += tests/wal/fuzz_wal
tests_wal_fuzz_wal_SOURCES = tests/wal/fuzz_wal.c
tests_wal_fuzz_wal_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_wal_fuzz_wal_LDADD = $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) -lm

fuzz-wal: tests/wal/fuzz_wal
	$(MKDIR_P) fuzz-corpus/wal
	tests/wal/fuzz_wal -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		fuzz-corpus/wal $(srcdir)/tests/wal/corpus
else
fuzz-wal:
	@echo "fuzz-wal: configure with CC=clang --enable-fuzzing first" >&2; exit 1
endif
fuzz: fuzz-wal
.PHONY: fuzz fuzz-wal

# Benchmark (not a test): tests/wal/bench_wal.sh BUILDDIR runs it next to
# fio; build without sanitizers for numbers.
noinst_PROGRAMS += tests/wal/bench_wal
tests_wal_bench_wal_SOURCES = tests/wal/bench_wal.c
tests_wal_bench_wal_LDADD = $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) -lm
EXTRA_DIST += tests/wal/bench_wal.sh
