noinst_LIBRARIES += node/wal/libwal.a
node_wal_libwal_a_SOURCES = \
	node/wal/walio.c node/wal/walio.h \
	node/wal/walrec.c node/wal/walrec.h \
	node/wal/wal.c node/wal/wal.h \
	node/wal/snapfile.c node/wal/snapfile.h \
	node/wal/walstore.c node/wal/walstore.h
node_wal_libwal_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
