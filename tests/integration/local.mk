# Shell integration tests against the built programs.
TESTS += tests/integration/version.sh tests/integration/config.sh \
	tests/integration/member.sh tests/integration/scenario_b.sh
dist_check_SCRIPTS += tests/integration/version.sh tests/integration/config.sh \
	tests/integration/member.sh tests/integration/scenario_b.sh
