# node/raft: the Raft consensus library (pure state machine) and its
# in-memory storage; raft_bench is a micro benchmark, not a test.
noinst_LIBRARIES += node/raft/libraft.a
node_raft_libraft_a_SOURCES = \
	node/raft/confchange.c node/raft/confchange.h \
	node/raft/log.c node/raft/log.h \
	node/raft/progress.c node/raft/progress.h \
	node/raft/quorum.c node/raft/quorum.h \
	node/raft/raft.c node/raft/raft.h \
	node/raft/storage.c node/raft/storage.h \
	node/raft/text.c \
	node/raft/types.c node/raft/types.h
node_raft_libraft_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
