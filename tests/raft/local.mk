# tests/raft: the Raft library's unit suites (check_raft) and the seeded
# cluster simulator (raft_sim).  `make soak-raft SEEDS=N` runs the simulator
# over many more seeds than make check does.
check_PROGRAMS += tests/raft/check_raft
TESTS += tests/raft/check_raft
tests_raft_check_raft_SOURCES = \
	tests/raft/test_storage.c
tests_raft_check_raft_CFLAGS = $(TEST_CFLAGS)
tests_raft_check_raft_LDADD = $(TEST_LIBS) $(LIBRAFT) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) -lm
