# cetcdctl's own modules (cetcdctl's program is declared in agent/local.mk).
agent_cetcdctl_SOURCES += agent/ctl.h agent/ctl_client.c \
	agent/ctl_table.c agent/ctl_table.h \
	agent/ctl_cmd.h agent/ctl_admin.c agent/ctl_perf.c \
	agent/ctl_lease.c agent/ctl_snapshot.c \
	agent/ctl_health.c agent/agent_probe.c agent/agent_probe.h
agent_cetcdctl_CFLAGS += $(OPENSSL_CFLAGS)
agent_cetcdctl_LDADD += $(OPENSSL_LIBS)
# Offline commands (snapshot status and restore, defrag --data-dir) work on
# a member's files through the node's own layers (no format re-implemented).
agent_cetcdctl_LDADD += $(LIBSERVER) $(LIBWAL) $(LIBRAFT) $(LIBMVCC) \
	$(LIBPROTO) $(LIBBASE) $(LMDB_LIBS) $(YAML_LIBS) $(OPENSSL_LIBS)

# etcdctl's `check perf --load=s` (a minute each) against a three-member
# cetcd cluster, by cetcdctl and by Debian's etcdctl; not part of make check.
check-perf: all
	CETCD_SRCDIR=$(srcdir) BUILD=$(abs_builddir) $(SHELL) $(srcdir)/tests/ctl/perf_check.sh
.PHONY: check-perf
