noinst_LIBRARIES += node/server/libserver.a
node_server_libserver_a_SOURCES = \
	node/server/server.c
