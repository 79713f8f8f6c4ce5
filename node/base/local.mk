noinst_LIBRARIES += node/base/libbase.a
node_base_libbase_a_SOURCES = \
	node/base/buf.c node/base/buf.h \
	node/base/crc32c.c node/base/crc32c.h \
	node/base/err.c node/base/err.h \
	node/base/failpoint.c node/base/failpoint.h \
	node/base/list.h \
	node/base/log.c node/base/log.h \
	node/base/mem.c node/base/mem.h \
	node/base/metrics.c node/base/metrics.h \
	node/base/timeutil.c node/base/timeutil.h \
	node/base/version.c node/base/version.h
