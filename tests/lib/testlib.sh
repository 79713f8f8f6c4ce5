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
# testlib_cluster3 N TOKEN: a three-member cluster on testlib_addr N, N+1,
# N+2 (A1 A2 A3; client port 2379, peer port 2380; names n1-n3, data dirs
# $T/d1-d3, logs $T/n1.log-n3.log, pids PID1-PID3, all in PIDS), with IC
# and EPS set; waits up to 20 s for every member's /health, else fails.
testlib_cluster3() {
	A1=$(testlib_addr "$1") A2=$(testlib_addr $(($1 + 1))) A3=$(testlib_addr $(($1 + 2)))
	IC="n1=http://$A1:2380,n2=http://$A2:2380,n3=http://$A3:2380"
	EPS="$A1:2379,$A2:2379,$A3:2379"
	_tc_i=0
	for _tc_a in $A1 $A2 $A3; do
		_tc_i=$((_tc_i + 1))
		"$BUILD/node/cetcd" --name "n$_tc_i" --data-dir "$T/d$_tc_i" \
			--listen-peer-urls "http://$_tc_a:2380" --initial-advertise-peer-urls "http://$_tc_a:2380" \
			--listen-client-urls "http://$_tc_a:2379" --advertise-client-urls "http://$_tc_a:2379" \
			--initial-cluster "$IC" --initial-cluster-token "$2" >"$T/n$_tc_i.log" 2>&1 &
		PIDS="$PIDS $!"
		eval "PID$_tc_i=$!"
	done
	for _tc_i in $(seq 200); do
		_tc_ok=1
		for _tc_a in $A1 $A2 $A3; do
			curl -fs -m 2 "http://$_tc_a:2379/health" 2>/dev/null | grep -q '"health":"true"' || _tc_ok=0
		done
		[ "$_tc_ok" = 0 ] || return 0
		sleep 0.1
	done
	tail -n 20 "$T"/n*.log >&2
	fail "cluster did not become healthy"
}
# check DESCRIPTION COMMAND...: run the command, print ok/FAIL with its
# output, and count failures in $fails.
fails=0
check() {
	_ck_d=$1
	shift
	if "$@" >"$T/out" 2>"$T/err"; then
		echo "ok   $_ck_d"
	else
		echo "FAIL $_ck_d"
		sed 's/^/     /' "$T/out" "$T/err" | grep -v 'retrying of unary' | head -n 20
		fails=$((fails + 1))
	fi
}
