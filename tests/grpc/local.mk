check_PROGRAMS += tests/grpc/check_grpc
TESTS += tests/grpc/check_grpc
EXTRA_DIST += tests/grpc/client.py
tests_grpc_check_grpc_SOURCES = tests/grpc/test_grpc.c tests/grpc/test_grpc_client.c
tests_grpc_check_grpc_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS)
tests_grpc_check_grpc_LDADD = $(TEST_LIBS) $(LIBGRPC) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(NGHTTP2_LIBS) -lm
