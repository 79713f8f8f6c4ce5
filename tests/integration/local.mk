# Shell integration tests against the built programs.
TESTS += tests/integration/version.sh tests/integration/config.sh \
	tests/integration/member.sh tests/integration/scenario_b.sh
dist_check_SCRIPTS += tests/integration/version.sh tests/integration/config.sh \
	tests/integration/member.sh tests/integration/scenario_b.sh
# Three members killed for real, the member metrics, alarms kept across
# restarts (cluster_lib.sh: the cluster helpers they share).
TESTS += tests/integration/metrics.sh tests/integration/cluster.sh \
	tests/integration/alarm.sh
dist_check_SCRIPTS += tests/integration/metrics.sh \
	tests/integration/cluster.sh tests/integration/alarm.sh
EXTRA_DIST += tests/integration/cluster_lib.sh
