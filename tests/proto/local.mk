check_PROGRAMS += tests/proto/check_proto
TESTS += tests/proto/check_proto
tests_proto_check_proto_SOURCES = \
	tests/proto/test_descriptors.c \
	tests/proto/test_pjson_decode.c \
	tests/proto/test_pjson_encode.c \
	tests/proto/test_pjson_roundtrip.c \
	tests/proto/test_pjson_scalars.c \
	tests/proto/test_pjson_fuzz_corpus.c \
	tests/proto/fuzz_pjson.c tests/proto/fuzz_pjson.h \
	tests/proto/protogen.c tests/proto/protogen.h
tests_proto_check_proto_CFLAGS = $(TEST_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	-I$(top_builddir)/tests/proto \
	$(JSONC_CFLAGS)
tests_proto_check_proto_LDADD = $(TEST_LIBS) $(LIBPROTO) $(LIBBASE) \
	$(PROTOBUF_C_LIBS) $(JSONC_LIBS)
EXTRA_DIST += tests/proto/data/gateway-3.4.23-responses.txt \
	tests/proto/fuzz_pjson_main.c \
	tests/proto/corpus

# Test-only messages for scalar types and labels etcd's API does not use.
TEST_PROTO_FILES = tests/proto/testpb.proto tests/proto/testpb2.proto
TEST_PROTO_GEN = $(TEST_PROTO_FILES:.proto=.pb-c.c) \
	$(TEST_PROTO_FILES:.proto=.pb-c.h)
nodist_tests_proto_check_proto_SOURCES = $(TEST_PROTO_GEN)
BUILT_SOURCES += $(TEST_PROTO_GEN)
CLEANFILES += $(TEST_PROTO_GEN)
EXTRA_DIST += $(TEST_PROTO_FILES)

tests/proto/%.pb-c.c tests/proto/%.pb-c.h: $(srcdir)/tests/proto/%.proto
	$(AM_V_GEN)$(MKDIR_P) tests/proto && \
	$(PROTOC_C) -I$(srcdir)/tests/proto --c_out=tests/proto $< && \
	$(SED) -i 's/(char \*)protobuf_c_empty_string/(char *)(uintptr_t)protobuf_c_empty_string/g' \
		tests/proto/$*.pb-c.c tests/proto/$*.pb-c.h
