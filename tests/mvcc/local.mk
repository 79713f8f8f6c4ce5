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

# Many more random model runs than make check affords (the issue's
# "thousands of seeded runs"): make check-mvcc-long
check-mvcc-long: tests/mvcc/check_mvcc
	CETCD_MVCC_RUNS=2000 CK_RUN_SUITE=mvcc-model CK_TIMEOUT_MULTIPLIER=1000 \
		./tests/mvcc/check_mvcc
.PHONY: check-mvcc-long
