check_PROGRAMS += tests/proto/check_proto
TESTS += tests/proto/check_proto
tests_proto_check_proto_SOURCES = \
	tests/proto/test_descriptors.c \
	tests/proto/test_pjson_decode.c \
	tests/proto/test_pjson_encode.c
tests_proto_check_proto_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(JSONC_CFLAGS)
tests_proto_check_proto_LDADD = $(TEST_LIBS) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) $(JSONC_LIBS)
