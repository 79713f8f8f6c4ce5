# cetcdctl's own modules (cetcdctl's program is declared in agent/local.mk).
agent_cetcdctl_SOURCES += agent/ctl.h agent/ctl_client.c \
	agent/ctl_table.c agent/ctl_table.h
