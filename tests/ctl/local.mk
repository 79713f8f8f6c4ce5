check_PROGRAMS += tests/ctl/check_ctl
TESTS += tests/ctl/check_ctl
tests_ctl_check_ctl_SOURCES = \
	tests/ctl/test_table.c \
	agent/ctl_table.c agent/ctl_table.h
tests_ctl_check_ctl_CFLAGS = $(TEST_CFLAGS)
tests_ctl_check_ctl_LDADD = $(TEST_LIBS) $(LIBBASE) -lm
TESTS += tests/ctl/vs_etcdctl.sh
dist_check_SCRIPTS += tests/ctl/vs_etcdctl.sh
TESTS += tests/ctl/errors.sh tests/ctl/vs_cetcd.sh tests/ctl/vs_lease_watch.sh
dist_check_SCRIPTS += tests/ctl/errors.sh tests/ctl/vs_cetcd.sh \
	tests/ctl/compare.sh tests/ctl/perf_check.sh \
	tests/ctl/vs_lease_watch.sh
TESTS += tests/ctl/snapshot.sh tests/ctl/protobuf.sh
dist_check_SCRIPTS += tests/ctl/snapshot.sh tests/ctl/protobuf.sh
# Streaming commands: lease keep-alive over one stream, watch exec.
TESTS += tests/ctl/vs_streams.sh
dist_check_SCRIPTS += tests/ctl/vs_streams.sh
