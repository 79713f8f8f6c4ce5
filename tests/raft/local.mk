# tests/raft: the Raft library's unit suites (check_raft) and the seeded
# cluster simulator (raft_sim).  `make soak-raft SEEDS=N` runs the simulator
# over many more seeds than make check does.
check_PROGRAMS += tests/raft/check_raft
TESTS += tests/raft/check_raft
tests_raft_check_raft_SOURCES = \
	tests/raft/harness.c tests/raft/harness.h \
	tests/raft/test_features.c \
	tests/raft/test_golden.c \
	tests/raft/test_more.c \
	tests/raft/test_paper.c \
	tests/raft/test_quorum.c \
	tests/raft/test_storage.c
tests_raft_check_raft_CFLAGS = $(TEST_CFLAGS)
tests_raft_check_raft_LDADD = $(TEST_LIBS) $(LIBRAFT) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) -lm

# The simulator: make check runs 2000 seeds (SEEDS overrides).
check_PROGRAMS += tests/raft/raft_sim
TESTS += tests/raft/raft_sim
tests_raft_raft_sim_SOURCES = tests/raft/raft_sim.c
tests_raft_raft_sim_CFLAGS = $(AM_CFLAGS)
tests_raft_raft_sim_LDADD = $(LIBRAFT) $(LIBPROTO) $(LIBBASE) $(PROTOBUF_C_LIBS)

# make soak-raft SEEDS=10000 [SEED_START=n] [SIM_TICKS=n]
soak-raft: tests/raft/raft_sim
	SEEDS=$${SEEDS:-2000} tests/raft/raft_sim
.PHONY: soak-raft

# Micro benchmark (not a test): tests/raft/raft_bench [seconds]; meaningful
# only in a build configured without --enable-sanitizers.
noinst_PROGRAMS += tests/raft/raft_bench
tests_raft_raft_bench_SOURCES = tests/raft/raft_bench.c
tests_raft_raft_bench_LDADD = $(LIBRAFT) $(LIBPROTO) $(LIBBASE) $(PROTOBUF_C_LIBS)
EXTRA_DIST += tests/raft/testdata/election.txt
