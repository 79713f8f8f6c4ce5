# Shell integration tests against the built programs.
TESTS += tests/integration/version.sh
dist_check_SCRIPTS += tests/integration/version.sh
