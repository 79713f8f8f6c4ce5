# gRPC over HTTP/2: loop-driven I/O plumbing beside the sys layer, used by
# both node/api (client port) and node/peer (Raft between members).  Its own
# library so that its tests link it without the rest of the tree.
noinst_LIBRARIES += node/sys/libgrpc.a
LIBGRPC = node/sys/libgrpc.a
node_sys_libgrpc_a_SOURCES = node/sys/grpc.c node/sys/grpc.h \
	node/sys/grpc_wire.c node/sys/grpc_wire.h \
	node/sys/grpc_client.c node/sys/grpc_client.h
node_sys_libgrpc_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS)
