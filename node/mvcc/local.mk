noinst_LIBRARIES += node/mvcc/libmvcc.a
node_mvcc_libmvcc_a_SOURCES = \
	node/mvcc/mvcc.c node/mvcc/mvcc.h
node_mvcc_libmvcc_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)

# In-process benchmark (not a test); numbers only mean something in a build
# without sanitizers.
noinst_PROGRAMS += node/mvcc/mvcc-bench
node_mvcc_mvcc_bench_SOURCES = node/mvcc/mvcc_bench.c
node_mvcc_mvcc_bench_LDADD = $(LIBMVCC) $(LIBBASE) $(LMDB_LIBS)
