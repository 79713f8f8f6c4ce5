# Shell integration tests against the built programs.
TESTS += tests/integration/version.sh tests/integration/config.sh
dist_check_SCRIPTS += tests/integration/version.sh tests/integration/config.sh
