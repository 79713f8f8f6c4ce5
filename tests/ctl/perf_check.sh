#!/bin/sh
# `make check-perf`: etcdctl's performance check (a minute each) against a
# three-member cetcd cluster on loopback addresses of this run's own, by
# cetcdctl and by Debian's etcdctl 3.4 (when installed).  LOAD (s, m, l,
# xl; default s) picks the workload.  Fails when either says FAIL.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

CTL="$BUILD/agent/cetcdctl"
LOAD=${LOAD:-s}
testlib_cluster3 41 perf
rc=0
echo "== cetcdctl check perf --load=$LOAD"
"$CTL" --endpoints="$EPS" check perf --load="$LOAD" || rc=1
if command -v etcdctl >/dev/null; then
	echo "== etcdctl 3.4 check perf --load=$LOAD"
	ETCDCTL_API=3 etcdctl --endpoints="$EPS" check perf --load="$LOAD" 2>&1 |
		tr '\r' '\n' | grep -v 'retrying of unary\|^ *[0-9]* / [0-9]*' || true
	ETCDCTL_API=3 etcdctl --endpoints="$EPS" get /etcdctl-check-perf/ --prefix --count-only -w fields >/dev/null 2>&1 || true
else
	echo "skipped: etcdctl not installed"
fi
[ "$rc" -eq 0 ] || fail "cetcdctl check perf --load=$LOAD failed"
echo "check-perf: ok"
