noinst_LIBRARIES += node/peer/libpeer.a
node_peer_libpeer_a_SOURCES = \
	node/peer/transport.c node/peer/transport.h
node_peer_libpeer_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
