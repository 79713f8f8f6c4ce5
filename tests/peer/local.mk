check_PROGRAMS += tests/peer/check_peer
TESTS += tests/peer/check_peer
tests_peer_check_peer_SOURCES = tests/peer/test_transport.c
tests_peer_check_peer_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_peer_check_peer_LDADD = $(TEST_LIBS) $(LIBPEER) $(LIBGRPC) $(LIBBASE) \
	$(LIBEVENT_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS) -lm
