# The member daemon: main.c parses the command line, then runs the member.
bin_PROGRAMS += node/cetcd
node_cetcd_SOURCES = node/main.c
node_cetcd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
node_cetcd_LDADD = $(LIBAPI) $(LIBSERVER) $(LIBPEER) $(LIBMVCC) $(LIBWAL) \
	$(LIBRAFT) $(LIBPROTO) $(LIBGRPC) $(LIBSYS) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(HTTP_PARSER_LIBS) $(PROTOBUF_C_LIBS) \
	$(LMDB_LIBS) $(OPENSSL_LIBS) $(JSONC_LIBS) $(YAML_LIBS) $(LIBSYSTEMD_LIBS) -lm
