#!/bin/sh
# `make check-perf`: etcdctl's performance check (a minute each) against a
# three-member cetcd cluster on loopback addresses of this run's own, by
# cetcdctl and by Debian's etcdctl 3.4 (when installed).  LOAD (s, m, l,
# xl; default s) picks the workload.  Fails when either says FAIL.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

CETCD="$BUILD/node/cetcd"
CTL="$BUILD/agent/cetcdctl"
LOAD=${LOAD:-s}
base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
A1="127.$base.$sub.41" A2="127.$base.$sub.42" A3="127.$base.$sub.43"
IC="n1=http://$A1:2380,n2=http://$A2:2380,n3=http://$A3:2380"
EPS="$A1:2379,$A2:2379,$A3:2379"
i=0
for a in $A1 $A2 $A3; do
	i=$((i + 1))
	"$CETCD" --name "n$i" --data-dir "$T/d$i" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--listen-client-urls "http://$a:2379" --advertise-client-urls "http://$a:2379" \
		--initial-cluster "$IC" --initial-cluster-token perf >"$T/n$i.log" 2>&1 &
	PIDS="$PIDS $!"
done
for k in $(seq 1 100); do
	"$CTL" --endpoints="$EPS" endpoint health >/dev/null 2>&1 && break
	sleep 0.2
done
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
