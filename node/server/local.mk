# node/server: configuration and identity, and the member core (member.h):
# Raft, the WAL, the MVCC store and the peer transport on one loop.
noinst_LIBRARIES += node/server/libserver.a
node_server_libserver_a_SOURCES = \
	node/server/apply.c node/server/apply.h \
	node/server/config.c node/server/config.h \
	node/server/diskspace.c node/server/diskspace.h \
	node/server/ids.c node/server/ids.h \
	node/server/lessor.c node/server/lessor.h \
	node/server/member.c node/server/member.h node/server/member_int.h \
	node/server/member_conf.c node/server/member_lease.c \
	node/server/member_metrics.c node/server/member_open.c \
	node/server/member_snap.c \
	node/server/raftmsg.c node/server/raftmsg.h \
	node/server/restore.c node/server/restore.h \
	node/server/srvmetrics.c node/server/srvmetrics.h \
	node/server/snapcopy.c node/server/snapcopy.h
node_server_libserver_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(OPENSSL_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS) $(LMDB_CFLAGS)
