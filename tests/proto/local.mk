check_PROGRAMS += tests/proto/check_proto
TESTS += tests/proto/check_proto
tests_proto_check_proto_SOURCES = \
	tests/proto/test_descriptors.c \
	tests/proto/test_pjson_decode.c \
	tests/proto/test_pjson_encode.c \
	tests/proto/test_pjson_roundtrip.c \
	tests/proto/test_pjson_fuzz_corpus.c \
	tests/proto/fuzz_pjson.c tests/proto/fuzz_pjson.h \
	tests/proto/protogen.c tests/proto/protogen.h
tests_proto_check_proto_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(JSONC_CFLAGS)
tests_proto_check_proto_LDADD = $(TEST_LIBS) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) $(JSONC_LIBS)
EXTRA_DIST += tests/proto/data/gateway-3.4.23-responses.txt \
	tests/proto/fuzz_pjson_main.c \
	tests/proto/corpus
