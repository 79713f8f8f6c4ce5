# .proto files are compiled by protoc-c at build time into the build tree.
# kv.proto and auth.proto come before rpc.proto, which imports them;
# internal.proto (cetcd's Raft requests) imports rpc.proto.
PROTO_FILES = \
	node/proto/raftpb.proto \
	node/proto/kv.proto \
	node/proto/auth.proto \
	node/proto/rpc.proto \
	node/proto/internal.proto
PROTO_GEN_C = $(PROTO_FILES:.proto=.pb-c.c)
PROTO_GEN_H = $(PROTO_FILES:.proto=.pb-c.h)

noinst_LIBRARIES += node/proto/libproto.a
node_proto_libproto_a_SOURCES = \
	node/proto/pjson.c node/proto/pjson.h \
	node/proto/proto.c node/proto/proto.h
nodist_node_proto_libproto_a_SOURCES = $(PROTO_GEN_C) $(PROTO_GEN_H)
node_proto_libproto_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(JSONC_CFLAGS)

BUILT_SOURCES += $(PROTO_GEN_C) $(PROTO_GEN_H)
CLEANFILES += $(PROTO_GEN_C) $(PROTO_GEN_H)
EXTRA_DIST += $(PROTO_FILES)

# protoc-c's INIT macros cast protobuf_c_empty_string's const away, which
# -Wcast-qual rejects wherever a macro is expanded; going through uintptr_t
# says the same without the warning (the string is never written).
node/proto/%.pb-c.c node/proto/%.pb-c.h: $(srcdir)/node/proto/%.proto
	$(AM_V_GEN)$(MKDIR_P) node/proto && \
	$(PROTOC_C) -I$(srcdir)/node/proto --c_out=node/proto $< && \
	$(SED) -i 's/(char \*)protobuf_c_empty_string/(char *)(uintptr_t)protobuf_c_empty_string/g' \
		node/proto/$*.pb-c.c node/proto/$*.pb-c.h
