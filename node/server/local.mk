# node/server: the member's configuration and identity now; apply,
# proposals, membership and bootstrap join with the member loop (issue 6).
noinst_LIBRARIES += node/server/libserver.a
node_server_libserver_a_SOURCES = \
	node/server/config.c node/server/config.h \
	node/server/ids.c node/server/ids.h
node_server_libserver_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(OPENSSL_CFLAGS)
