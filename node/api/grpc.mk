# gRPC transport: its own library inside the api layer so that its tests
# link it without the rest of node/api (which is built in node/api/local.mk).
noinst_LIBRARIES += node/api/libgrpc.a
LIBGRPC = node/api/libgrpc.a
node_api_libgrpc_a_SOURCES = node/api/grpc.c node/api/grpc.h
node_api_libgrpc_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS)
