# tests/agent: the agent's manifest, settings and render (Check), and the
# command line against the built cetcd-agent (shell).
check_PROGRAMS += tests/agent/check_agent
TESTS += tests/agent/check_agent tests/agent/test_cli.sh \
	tests/agent/test_local.sh tests/agent/test_clock.sh \
	tests/agent/nspawn.sh
tests_agent_check_agent_SOURCES = \
	tests/agent/test_manifest.c \
	tests/agent/test_render.c \
	tests/agent/test_settings.c
tests_agent_check_agent_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS) \
	$(LIBCONFIG_CFLAGS)
tests_agent_check_agent_LDADD = $(TEST_LIBS) $(LIBAGENT) $(LIBBASE) \
	$(YAML_LIBS) $(LIBCONFIG_LIBS) -lm
dist_check_SCRIPTS += tests/agent/test_cli.sh tests/agent/test_local.sh \
	tests/agent/test_clock.sh tests/agent/fake_member.py \
	tests/agent/nspawn.sh
EXTRA_DIST += \
	tests/agent/corpus/bad-alias.yaml \
	tests/agent/corpus/bad-deep.yaml \
	tests/agent/corpus/bad-dup_name.yaml \
	tests/agent/corpus/bad-election_small.yaml \
	tests/agent/corpus/bad-env_url.yaml \
	tests/agent/corpus/bad-key_not_scalar.yaml \
	tests/agent/corpus/bad-listen_dup.yaml \
	tests/agent/corpus/bad-loopback_listen_clash.yaml \
	tests/agent/corpus/bad-nul_byte.yaml \
	tests/agent/corpus/bad-overrides_listen.yaml \
	tests/agent/corpus/bad-port_type.yaml \
	tests/agent/corpus/bad-tab_indent.yaml \
	tests/agent/corpus/bad-two_docs.yaml \
	tests/agent/corpus/bad-unknown_top.yaml \
	tests/agent/corpus/bad-yaml_syntax.yaml \
	tests/agent/corpus/example-cluster.example.yaml \
	tests/agent/corpus/example-cluster.yaml \
	tests/agent/corpus/example-local.yaml \
	tests/agent/corpus/example-single.yaml \
	tests/agent/corpus/hostile-anchors.yaml \
	tests/agent/corpus/hostile-binary.yaml \
	tests/agent/corpus/hostile-block-scalar.yaml \
	tests/agent/corpus/hostile-bom.yaml \
	tests/agent/corpus/hostile-complex-key.yaml \
	tests/agent/corpus/hostile-flow.yaml \
	tests/agent/corpus/hostile-long-key.yaml \
	tests/agent/corpus/hostile-null-everywhere.yaml \
	tests/agent/corpus/hostile-tags.yaml \
	tests/agent/corpus/hostile-utf16.yaml \
	tests/agent/golden/etcd-node01.conf \
	tests/agent/golden/etcd-node02.conf \
	tests/agent/golden/etcd-node03.conf

# libFuzzer target (configure --enable-fuzzing CC=clang); make check
# replays its seed corpus, tests/agent/corpus, without libFuzzer.
if FUZZING
noinst_PROGRAMS += tests/agent/fuzz_manifest
tests_agent_fuzz_manifest_SOURCES = tests/agent/fuzz_manifest.c
tests_agent_fuzz_manifest_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
tests_agent_fuzz_manifest_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_agent_fuzz_manifest_LDADD = $(LIBAGENT) $(LIBBASE) $(YAML_LIBS) \
	$(LIBCONFIG_LIBS) -lm
endif
EXTRA_DIST += tests/agent/fuzz_manifest.c
