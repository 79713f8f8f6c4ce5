# testlib.sh - sourced by shell integration tests.
# Gives: $BUILD, $SRC, a temp dir $T removed on exit, fail(), and kills every
# pid in $PIDS on exit (only processes the test started).
set -eu
BUILD=${CETCD_BUILDDIR:-.}
SRC=${CETCD_SRCDIR:-.}
T=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-test.XXXXXX")
PIDS=""
testlib_cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	[ -n "${CETCD_TEST_KEEP:-}" ] || rm -rf "$T"
}
trap testlib_cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
