noinst_LIBRARIES += node/mvcc/libmvcc.a
node_mvcc_libmvcc_a_SOURCES = \
	node/mvcc/mvcc.c node/mvcc/mvcc.h
node_mvcc_libmvcc_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
