# tests/api: the client port's transport (HTTP/1.1, sniffing, routes, the
# error table) over loopback sockets, plus the fuzz corpus replay.
check_PROGRAMS += tests/api/check_api
TESTS += tests/api/check_api
tests_api_check_api_SOURCES = \
	tests/api/apitest.c tests/api/apitest.h \
	tests/api/test_errmap.c \
	tests/api/test_fuzz.c \
	tests/api/test_http1.c \
	tests/api/test_route.c
tests_api_check_api_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_api_check_api_LDADD = $(TEST_LIBS) $(LIBAPI) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(HTTP_PARSER_LIBS) -lm
EXTRA_DIST += tests/api/corpus

if FUZZING
noinst_PROGRAMS += tests/api/fuzz_http1
tests_api_fuzz_http1_SOURCES = tests/api/fuzz_http1.c
tests_api_fuzz_http1_CFLAGS = $(AM_CFLAGS)
tests_api_fuzz_http1_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_api_fuzz_http1_LDADD = $(LIBAPI) $(LIBBASE) $(LIBEVENT_LIBS) \
	$(HTTP_PARSER_LIBS) -lm
endif

# A bare transport server for wrk (see the file); not run by make check.
noinst_PROGRAMS += tests/api/bench_http1
tests_api_bench_http1_SOURCES = tests/api/bench_http1.c
tests_api_bench_http1_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_api_bench_http1_LDADD = $(LIBAPI) $(LIBBASE) $(LIBEVENT_LIBS) \
	$(HTTP_PARSER_LIBS) -lm

# The etcd services (node/api/api.h) over real sockets against a fake
# member (tests/api/fake_member.c replaces node/server's member), with
# Python gRPC, HTTP and python3-etcd3 clients (services_client.py).
check_PROGRAMS += tests/api/check_services
TESTS += tests/api/check_services
EXTRA_DIST += tests/api/services_client.py
tests_api_check_services_SOURCES = tests/api/test_services.c \
	tests/api/fake_member.c tests/api/fake_member.h \
	node/server/srvmetrics.c
tests_api_check_services_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
tests_api_check_services_LDADD = $(TEST_LIBS) $(LIBAPI) $(LIBMVCC) \
	$(LIBPROTO) \
	$(LIBGRPC) $(LIBSYS) $(LIBBASE) $(LIBEVENT_LIBS) $(NGHTTP2_LIBS) \
	$(HTTP_PARSER_LIBS) $(PROTOBUF_C_LIBS) $(JSONC_LIBS) \
	$(LIBSYSTEMD_LIBS) $(LMDB_LIBS) $(OPENSSL_LIBS) -lm
