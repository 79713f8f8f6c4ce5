check_PROGRAMS += tests/mvcc/check_mvcc
TESTS += tests/mvcc/check_mvcc
tests_mvcc_check_mvcc_SOURCES = \
	tests/mvcc/helpers.h \
	tests/mvcc/test_mvcc.c \
	tests/mvcc/test_model.c \
	tests/mvcc/test_durability.c \
	tests/mvcc/test_etcd.c
tests_mvcc_check_mvcc_CFLAGS = $(TEST_CFLAGS) $(LMDB_CFLAGS) $(JSONC_CFLAGS)
tests_mvcc_check_mvcc_LDADD = $(TEST_LIBS) $(LIBMVCC) $(LIBPROTO) $(LIBBASE) \
	$(LMDB_LIBS) $(JSONC_LIBS) -lm
