# cetcdctl and cetcd-agent link node/base and node/proto only (design.md).
bin_PROGRAMS += agent/cetcdctl agent/cetcd-agent
AGENT_LIBS = $(LIBPROTO) $(LIBBASE) $(PROTOBUF_C_LIBS) $(JSONC_LIBS) \
	$(LIBCURL_LIBS) $(YAML_LIBS) $(LIBCONFIG_LIBS) $(LIBSYSTEMD_LIBS) -lm
AGENT_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(JSONC_CFLAGS) \
	$(LIBCURL_CFLAGS) $(YAML_CFLAGS) $(LIBCONFIG_CFLAGS)

agent_cetcdctl_SOURCES = agent/ctl_main.c
agent_cetcdctl_CFLAGS = $(AGENT_CFLAGS)
agent_cetcdctl_LDADD = $(AGENT_LIBS)

# The agent's modules, in a library so that tests/agent links them too.
noinst_LIBRARIES += agent/libagent.a
agent_libagent_a_SOURCES = \
	agent/diff.c agent/diff.h \
	agent/fsutil.c agent/fsutil.h \
	agent/manifest.c agent/manifest.h \
	agent/render.c agent/render.h \
	agent/settings.c agent/settings.h
agent_libagent_a_CFLAGS = $(AGENT_CFLAGS)
LIBAGENT = agent/libagent.a

agent_cetcd_agent_SOURCES = agent/agent_main.c
agent_cetcd_agent_CFLAGS = $(AGENT_CFLAGS)
agent_cetcd_agent_LDADD = $(LIBAGENT) $(AGENT_LIBS)
# Local mode and the cluster views reuse cetcdctl's client and tables.
agent_cetcd_agent_SOURCES += agent/agent_local.c agent/agent_local.h \
	agent/agent_cluster.c agent/agent_drill.c agent/agent_probe.c \
	agent/agent_probe.h agent/agent_apply.c agent/agent_systemd.c \
	agent/agent_systemd.h agent/ctl.h agent/ctl_client.c \
	agent/ctl_table.c agent/ctl_table.h
