noinst_LIBRARIES += node/api/libapi.a
node_api_libapi_a_SOURCES = \
	node/api/api.c
node_api_libapi_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS) $(JSONC_CFLAGS) $(PROTOBUF_C_CFLAGS)
