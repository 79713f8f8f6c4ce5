noinst_LIBRARIES += node/raft/libraft.a
node_raft_libraft_a_SOURCES = \
	node/raft/raft.c
