# tests/server: the member's configuration and IDs (the server layer's
# other parts join with the member loop).
check_PROGRAMS += tests/server/check_server
TESTS += tests/server/check_server
tests_server_check_server_SOURCES = \
	tests/server/test_config.c \
	tests/server/test_diskspace.c \
	tests/server/test_etcd_ids.c \
	tests/server/test_ids.c
tests_server_check_server_CFLAGS = $(TEST_CFLAGS)
tests_server_check_server_LDADD = $(TEST_LIBS) $(LIBSERVER) $(LIBSYS) \
	$(LIBBASE) $(YAML_LIBS) $(OPENSSL_LIBS) -lm
EXTRA_DIST += \
	tests/server/data/scenario-a.env \
	tests/server/data/scenario-b-literal-node01.env \
	tests/server/data/scenario-b-node01.env \
	tests/server/data/scenario-b-node02.env \
	tests/server/data/scenario-b-node03.env

# The member core in-process: WAL, LMDB and peer sockets for real.
check_PROGRAMS += tests/server/check_member
TESTS += tests/server/check_member
tests_server_check_member_SOURCES = tests/server/test_member.c
tests_server_check_member_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBEVENT_CFLAGS)
tests_server_check_member_LDADD = $(TEST_LIBS) $(LIBSERVER) $(LIBPEER) \
	$(LIBMVCC) $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBGRPC) $(LIBSYS) \
	$(LIBBASE) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) \
	$(LMDB_LIBS) $(JSONC_LIBS) $(YAML_LIBS) $(OPENSSL_LIBS) -lm

# Snapshots in-process: store copies, snapshot transfer to a lagging or a
# new member; and Debian's etcdctl `snapshot save` against a cetcd process.
check_PROGRAMS += tests/server/check_snapshot
TESTS += tests/server/check_snapshot
tests_server_check_snapshot_SOURCES = tests/server/test_snapshot.c
tests_server_check_snapshot_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBEVENT_CFLAGS)
tests_server_check_snapshot_LDADD = $(TEST_LIBS) $(LIBSERVER) $(LIBPEER) \
	$(LIBMVCC) $(LIBWAL) $(LIBRAFT) $(LIBPROTO) $(LIBGRPC) $(LIBSYS) \
	$(LIBBASE) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) \
	$(LMDB_LIBS) $(JSONC_LIBS) $(YAML_LIBS) $(OPENSSL_LIBS) -lm

# A member's data dir filling up for real (a tmpfs in a mount namespace of
# the test's own; skipped without root or user namespaces).
TESTS += tests/server/disk_full.sh
dist_check_SCRIPTS += tests/server/disk_full.sh
