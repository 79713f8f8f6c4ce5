# node/api: the client port: etcd's services on gRPC and the JSON gateway
# (api, services), the HTTP/1.1 transport, sniffing, the error table.
noinst_LIBRARIES += node/api/libapi.a
node_api_libapi_a_SOURCES = \
	node/api/api.c node/api/api.h node/api/api_int.h \
	node/api/services.c \
	node/api/watch.c \
	node/api/snapshot.c \
	node/api/lease_stream.c \
	node/api/jstream.c \
	node/api/errmap.c node/api/errmap.h \
	node/api/http1.c node/api/http1.h \
	node/api/listener.c node/api/listener.h \
	node/api/route.c node/api/route.h
node_api_libapi_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(JSONC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS)
