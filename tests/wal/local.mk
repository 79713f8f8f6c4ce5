check_PROGRAMS += tests/wal/check_wal
TESTS += tests/wal/check_wal
tests_wal_check_wal_SOURCES = \
	tests/wal/waltest.c tests/wal/waltest.h \
	tests/wal/test_wal.c tests/wal/test_snapfile.c \
	tests/wal/test_walstore.c
tests_wal_check_wal_CFLAGS = $(TEST_CFLAGS)
tests_wal_check_wal_LDADD = $(TEST_LIBS) $(LIBWAL) $(LIBRAFT) $(LIBPROTO) \
	$(LIBBASE) $(PROTOBUF_C_LIBS) -lm
