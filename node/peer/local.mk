noinst_LIBRARIES += node/peer/libpeer.a
node_peer_libpeer_a_SOURCES = \
	node/peer/peer.c
