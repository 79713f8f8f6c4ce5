noinst_LIBRARIES += node/raft/libraft.a
node_raft_libraft_a_SOURCES = \
	node/raft/storage.c node/raft/storage.h \
	node/raft/types.c node/raft/types.h
