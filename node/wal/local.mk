noinst_LIBRARIES += node/wal/libwal.a
node_wal_libwal_a_SOURCES = \
	node/wal/wal.c
