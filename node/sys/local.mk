noinst_LIBRARIES += node/sys/libsys.a
node_sys_libsys_a_SOURCES = \
	node/sys/sys.c node/sys/sys.h \
	node/sys/loop.c node/sys/loop.h
node_sys_libsys_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBSYSTEMD_CFLAGS)
