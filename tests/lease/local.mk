# tests/lease: etcd's leases (issue 8): the lease table on a real store
# (test_lessor.c) and through the member core in-process on one and three
# members (test_lease_member.c); the leader kill with SIGKILL and real
# clients are shell tests (leader_kill.sh, tests/compat/lease_clients.sh).
check_PROGRAMS += tests/lease/check_lease
TESTS += tests/lease/check_lease
tests_lease_check_lease_SOURCES = \
	tests/lease/test_lessor.c \
	tests/lease/test_lease_member.c
tests_lease_check_lease_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBEVENT_CFLAGS)
tests_lease_check_lease_LDADD = $(TEST_LIBS) $(LIBSERVER) $(LIBPEER) \
	$(LIBMVCC) $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBGRPC) $(LIBSYS) \
	$(LIBBASE) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) \
	$(LMDB_LIBS) $(JSONC_LIBS) $(YAML_LIBS) $(OPENSSL_LIBS) -lm

# SIGKILL of the leader while a lease is kept alive (real processes, curl).
TESTS += tests/lease/leader_kill.sh
dist_check_SCRIPTS += tests/lease/leader_kill.sh
