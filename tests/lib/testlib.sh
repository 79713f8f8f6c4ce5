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
# testlib_addr N: a loopback address of this test's own, 127.x.y.N with x
# and y from its pid, so that parallel tests do not meet.
testlib_addr() {
	echo "127.$((($$ % 200) + 20)).$((($$ / 200) % 250 + 1)).$1"
}
# testlib_member NAME HOST CLIENT_PORT PEER_PORT [FLAG...]: start a
# one-member cluster (data dir $T/NAME, log $T/NAME.log, pid added to
# PIDS) and wait up to 20 s for its /health, else fail with the log's tail.
testlib_member() {
	_tm_n=$1 _tm_h=$2 _tm_c=$3 _tm_p=$4
	shift 4
	"$BUILD/node/cetcd" --name "$_tm_n" --data-dir "$T/$_tm_n" \
		--listen-peer-urls "http://$_tm_h:$_tm_p" \
		--initial-advertise-peer-urls "http://$_tm_h:$_tm_p" \
		--listen-client-urls "http://$_tm_h:$_tm_c" \
		--advertise-client-urls "http://$_tm_h:$_tm_c" \
		--initial-cluster "$_tm_n=http://$_tm_h:$_tm_p" "$@" >"$T/$_tm_n.log" 2>&1 &
	PIDS="$PIDS $!"
	for _tm_i in $(seq 200); do
		if curl -fs -m 2 "http://$_tm_h:$_tm_c/health" 2>/dev/null | grep -q '"health":"true"'; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$T/$_tm_n.log" >&2
	fail "member $_tm_n did not become healthy on $_tm_h:$_tm_c"
}
