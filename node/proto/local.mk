# .proto files are compiled by protoc-c at build time into the build tree.
PROTO_FILES = \
	node/proto/raftpb.proto
PROTO_GEN_C = $(PROTO_FILES:.proto=.pb-c.c)
PROTO_GEN_H = $(PROTO_FILES:.proto=.pb-c.h)

noinst_LIBRARIES += node/proto/libproto.a
node_proto_libproto_a_SOURCES = \
	node/proto/proto.c node/proto/proto.h
nodist_node_proto_libproto_a_SOURCES = $(PROTO_GEN_C) $(PROTO_GEN_H)
node_proto_libproto_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(JSONC_CFLAGS)

BUILT_SOURCES += $(PROTO_GEN_C) $(PROTO_GEN_H)
CLEANFILES += $(PROTO_GEN_C) $(PROTO_GEN_H)
EXTRA_DIST += $(PROTO_FILES)

node/proto/%.pb-c.c node/proto/%.pb-c.h: $(srcdir)/node/proto/%.proto
	$(AM_V_GEN)$(MKDIR_P) node/proto && \
	$(PROTOC_C) -I$(srcdir)/node/proto --c_out=node/proto $<
