#!/bin/sh
# cetcdctl's streaming commands against Debian's etcdctl 3.4, both talking
# to one cetcd member on a loopback address of this test's own:
# `lease keep-alive` over one stream (the member's
# grpc_server_started_total counts one LeaseKeepAlive stream for many
# keep-alive messages, and the lease outlives its TTL); `watch` with an
# exec-command (ETCD_WATCH_* in its environment, a failing command),
# ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END and their argument errors;
# `watch -i` with watch and progress lines over one stream; `endpoint
# health` probing every endpoint at once (two endpoints that accept but
# never answer cost one --command-timeout, not two).
# Lease IDs are masked.  Skipped without etcdctl.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

if ! command -v etcdctl >/dev/null; then
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
	exit 77
fi
CTL="$BUILD/agent/cetcdctl"
A=$(testlib_addr 43)
P=$((20000 + ($$ % 20000)))
EP="$A:$P"
testlib_member s1 "$A" "$P" $((P + 1))
G="env ETCDCTL_API=3 etcdctl --endpoints=$EP"
C="$CTL --endpoints=$EP"
fails=0
diffs() {
	echo "DIFF: $*"
	fails=$((fails + 1))
}
metric() { # the member's counter $1 for method $2
	curl -s "http://$EP/metrics" | grep "^$1{grpc_method=\"$2\"" | sed 's/.* //'
}

# --- lease keep-alive: one stream, lease outlives its TTL --------------------
KC=$($G lease grant 4 | cut -d' ' -f2)
KG=$($G lease grant 4 | cut -d' ' -f2)
s0=$(metric grpc_server_started_total LeaseKeepAlive)
m0=$(metric grpc_server_msg_received_total LeaseKeepAlive)
$C lease keep-alive "$KC" >"$T/c.ka" 2>&1 &
KA=$!
$G lease keep-alive "$KG" >"$T/g.ka" 2>&1 &
GKA=$!
PIDS="$PIDS $KA $GKA"
sleep 6
s1=$(metric grpc_server_started_total LeaseKeepAlive)
m1=$(metric grpc_server_msg_received_total LeaseKeepAlive)
$G lease timetolive "$KC" | grep -q 'remaining(' || diffs "the kept-alive lease expired"
# etcdctl talks gRPC to the member (one stream too); cetcdctl the gateway.
[ $((s1 - s0)) -eq 2 ] || diffs "keep-alive streams opened: $((s1 - s0)), want 2 (one each)"
[ $((m1 - m0)) -ge 6 ] || diffs "keep-alive messages: $((m1 - m0)), want >= 6 (TTL/3 rounds)"
$G lease revoke "$KC" >/dev/null
$G lease revoke "$KG" >/dev/null
for p in $KA $GKA; do
	rc=0
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || diffs "keep-alive exit $rc"
done
for t in c g; do
	sed -E 's/[0-9a-f]{16}/LEASE/g' "$T/$t.ka" | uniq >"$T/$t.ka.m"
done
cmp -s "$T/g.ka.m" "$T/c.ka.m" || { diffs "lease keep-alive output"; diff "$T/g.ka.m" "$T/c.ka.m" || true; }
[ "$(grep -c keepalived "$T/c.ka")" -ge 3 ] || { diffs "cetcdctl keep-alive rounds"; cat "$T/c.ka"; }

# --- watch [key] [range_end] -- exec-command ---------------------------------
# argument errors: exit code and the Error line
for args in "a --" "" "a -- echo x@ETCDCTL_WATCH_KEY=a" "a@ETCDCTL_WATCH_KEY=a" \
	"@ETCDCTL_WATCH_RANGE_END=b"; do
	envs=${args#*@}
	[ "$envs" = "$args" ] && envs=""
	a=${args%@*}
	rc_g=0 rc_c=0
	# shellcheck disable=SC2086
	env $envs $G watch $a >"$T/g.err" 2>&1 || rc_g=$?
	# shellcheck disable=SC2086
	env $envs $C watch $a >"$T/c.err" 2>&1 || rc_c=$?
	if [ "$rc_g" != "$rc_c" ] || [ "$(head -n 1 "$T/g.err")" != "$(head -n 1 "$T/c.err")" ]; then
		diffs "watch $args (exit $rc_g vs $rc_c)"
		head -n 1 "$T/g.err" "$T/c.err"
	fi
done
S='echo "R=$ETCD_WATCH_REVISION T=$ETCD_WATCH_EVENT_TYPE K=$ETCD_WATCH_KEY V=$ETCD_WATCH_VALUE"'
# The writes come first and the watchers replay them (--rev): no race with
# how long a watcher takes to start on a busy machine.
R=$($G put exa 'q"x	y' -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
$G put exb "$(printf 'caf\303\251\\')" >/dev/null
$G del exa >/dev/null
$G put wj 1 >/dev/null
$G put wi 2 >/dev/null
W=""
for t in g c; do
	[ $t = g ] && X=$G || X=$C
	$X watch --rev="$R" --prefix ex -- sh -c "$S" >"$T/$t.x1" 2>&1 &
	W="$W $!"
	ETCDCTL_WATCH_KEY=ex ETCDCTL_WATCH_RANGE_END=ez $X watch --rev="$R" -- sh -c "$S; exit 3" \
		>"$T/$t.x2" 2>&1 &
	eval "F$t=\$!"
done
PIDS="$PIDS $W $Fg $Fc"
for k in $(seq 1 100); do
	[ "$(grep -c R= "$T/g.x1")" -ge 3 ] && [ "$(grep -c R= "$T/c.x1")" -ge 3 ] && break
	sleep 0.1
done
for p in $W; do kill "$p"; done
for t in g c; do
	rc=0
	eval "wait \$F$t" || rc=$?
	[ "$rc" = 1 ] || diffs "watch exec-command that fails: exit $rc ($t)"
done
for f in x1 x2; do
	if ! grep -q 'R=' "$T/g.$f" || ! cmp -s "$T/g.$f" "$T/c.$f"; then
		diffs "watch exec-command ($f)"
		diff "$T/g.$f" "$T/c.$f" || true
	fi
done

# --- watch -i: watch (with exec-command) and progress lines ------------------
W=""
for t in g c; do
	[ $t = g ] && X=$G || X=$C
	(printf 'progress\nwatch wi --rev=%s\nbogus\nwatch wj --rev=%s -- sh -c "echo hi $ETCD_WATCH_KEY"\n' "$R" "$R"
		sleep 1
		printf 'progress\n'
		sleep 3) | $X watch -i >"$T/$t.wi" 2>&1 &
	W="$W $!"
done
PIDS="$PIDS $W"
rc_i=""
for p in $W; do
	rc=0
	wait "$p" || rc=$?
	rc_i="$rc_i $rc"
done
[ "$rc_i" = " 3 3" ] || diffs "watch -i exit codes$rc_i"
# The error for "bogus" goes to stderr at once, while the progress and watch
# lines before it arrive from the member: in etcdctl too, where it lands
# among them is a race.  It is compared apart; the rest in order.
for t in g c; do
	sed -E 's/^progress notify: [0-9]+$/progress notify: N/' "$T/$t.wi" |
		grep -v '^Invalid command' >"$T/$t.wi.m" || true
	grep '^Invalid command' "$T/$t.wi" >>"$T/$t.wi.m" || true
done
if ! grep -q '^progress notify' "$T/g.wi.m" || ! cmp -s "$T/g.wi.m" "$T/c.wi.m"; then
	diffs "watch -i"
	diff "$T/g.wi.m" "$T/c.wi.m" || true
fi
for line in 'watch wc --' 'watch wa --bogus' 'watch wa -x'; do
	rc_g=0 rc_c=0
	echo "$line" | $G watch -i >"$T/g.wl" 2>&1 || rc_g=$?
	echo "$line" | $C watch -i >"$T/c.wl" 2>&1 || rc_c=$?
	if [ "$rc_g" != "$rc_c" ] || ! cmp -s "$T/g.wl" "$T/c.wl"; then
		diffs "watch -i: $line (exit $rc_g vs $rc_c)"
		diff "$T/g.wl" "$T/c.wl" || true
	fi
done

# --- endpoint health: all endpoints at once --------------------------------
python3 -c '
import socket, sys, time
ss = []
for p in sys.argv[2:]:
    s = socket.socket()
    s.bind((sys.argv[1], int(p)))
    s.listen(16)
    ss.append(s)
time.sleep(60)' "$A" $((P + 2)) $((P + 3)) &
PIDS="$PIDS $!"
sleep 0.5
EPS="$EP,$A:$((P + 2)),$A:$((P + 3))"
for t in g c; do
	[ $t = g ] && X="env ETCDCTL_API=3 etcdctl" || X=$CTL
	s0=$(date +%s%N)
	rc=0
	$X --endpoints="$EPS" --command-timeout=4s endpoint health >"$T/$t.h" 2>&1 || rc=$?
	ms=$((($(date +%s%N) - s0) / 1000000))
	echo "endpoint health ($t), two silent endpoints, --command-timeout=4s: exit $rc, $ms ms"
	[ "$rc" = 1 ] || diffs "endpoint health exit $rc ($t)"
	[ "$ms" -lt 7900 ] || diffs "endpoint health took $ms ms ($t): not in parallel"
	grep -v '"level":"warn"' "$T/$t.h" | sed -E 's/took = [0-9.]+[mµn]?s/took = T/' | sort >"$T/$t.h.m"
done
cmp -s "$T/g.h.m" "$T/c.h.m" || { diffs "endpoint health output"; diff "$T/g.h.m" "$T/c.h.m" || true; }

[ "$fails" -eq 0 ] || fail "$fails differences"
echo "vs_streams: ok"
