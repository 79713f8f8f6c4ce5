# Tests: one Check binary per layer (linking only the layers it may use),
# sharing tests/lib (helpers and the one runner), plus shell integration
# tests against the built programs.  Every folder adds itself in its local.mk.
check_LIBRARIES += tests/lib/libtestlib.a
tests_lib_libtestlib_a_SOURCES = \
	tests/lib/testlib.c tests/lib/testlib.h tests/lib/check_main.c \
	tests/lib/cluster.c tests/lib/cluster.h
tests_lib_libtestlib_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS)
# Defaults for running a test binary by hand, outside make check.
tests_lib_libtestlib_a_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTESTLIB_SRCDIR='"$(abs_top_srcdir)"' -DTESTLIB_BUILDDIR='"$(abs_top_builddir)"'

TESTLIB = tests/lib/libtestlib.a
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = $(TESTLIB) $(CHECK_LIBS)
EXTRA_DIST += tests/lib/testlib.sh

include tests/base/local.mk
include tests/sys/local.mk
include tests/proto/local.mk
include tests/raft/local.mk
include tests/wal/local.mk
include tests/mvcc/local.mk
include tests/server/local.mk
include tests/api/local.mk
include tests/agent/local.mk
include tests/integration/local.mk
include tests/ctl/local.mk
include tests/grpc/local.mk
include tests/peer/local.mk
include tests/fuzz/local.mk
include tests/faults/local.mk
include tests/compat/local.mk
include tests/watch/local.mk
include tests/lease/local.mk
