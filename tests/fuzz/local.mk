# A short libFuzzer run of every fuzz target (skipped without clang's
# libFuzzer); the corpora are also replayed by each suite with gcc.
TESTS += tests/fuzz/libfuzzer_smoke.sh
dist_check_SCRIPTS += tests/fuzz/libfuzzer_smoke.sh
