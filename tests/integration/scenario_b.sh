#!/bin/sh
# Scenario B (scenario.md) on one machine: three cetcd processes on
# 127.0.0.11-13, ports 2379/2380, each started from its env file with only
# the data dir changed and the 127.0.0.1 listeners left out (on real hosts
# each has its own 127.0.0.1; here they would collide).  Then the drill:
# put on node01, get on node03; kill -9 the leader, a new one is elected
# and takes writes; the old leader restarted rejoins as a follower and
# serves every write.  Serialized across checkouts with a lock, since the
# addresses are fixed; skipped without curl or when the ports are taken.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
CETCD="$BUILD/node/cetcd"
command -v curl >/dev/null 2>&1 || { echo "scenario_b: skipped (no curl)"; exit 77; }
if command -v flock >/dev/null 2>&1; then
	exec 9>"${TMPDIR:-/tmp}/cetcd-scenario-b.lock"
	flock -w 120 9 || { echo "scenario_b: skipped (lock busy)"; exit 77; }
fi

# start N: node0N from its env file.
start() {
	n=$1
	set --
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		k=${line%%=*}
		v=${line#*=}
		v=${v#\"}
		v=${v%\"}
		case $k in
		ETCD_DATA_DIR) v="$T/node0$n" ;;
		ETCD_LISTEN_PEER_URLS | ETCD_LISTEN_CLIENT_URLS) v=${v%%,*} ;;
		esac
		set -- "$@" "$k=$v"
	done <"$SRC/tests/server/data/scenario-b-node0$n.env"
	env -i "$@" "$CETCD" >>"$T/node0$n.log" 2>&1 &
	eval "PID$n=$!"
	PIDS="$PIDS $!"
}

url() { echo "http://127.0.0.1$1:2379"; }

# healthy N: wait until node0N (the process started here) reports a leader.
healthy() {
	i=0
	until curl -sf "$(url "$1")/health" 2>/dev/null | grep -q '"health":"true"'; do
		i=$((i + 1))
		eval "p=\$PID$1"
		kill -0 "$p" 2>/dev/null || fail "node0$1 exited: $(cat "$T/node0$1.log")"
		[ $i -lt 300 ] || fail "node0$1 not healthy after 15 s: $(cat "$T/node0$1.log")"
		sleep 0.05
	done
}

leader_of() {
	curl -sf -X POST "$(url "$1")/v3/maintenance/status" -d '{}' |
		sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p'
}
member_of() {
	curl -sf -X POST "$(url "$1")/v3/maintenance/status" -d '{}' |
		sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p'
}

put() { # node key-b64 value-b64
	curl -sf -X POST "$(url "$1")/v3/kv/put" -d "{\"key\":\"$2\",\"value\":\"$3\"}" >/dev/null
}
get() { # node key-b64: the value (base64) or nothing
	curl -sf -X POST "$(url "$1")/v3/kv/range" -d "{\"key\":\"$2\"}" |
		sed -n 's/.*"value":"\([^"]*\)".*/\1/p'
}

# Someone else (a person or another checkout) may run this cluster now.
for n in 1 2 3; do
	if curl -s -m 1 -o /dev/null "$(url $n)/health" 2>/dev/null; then
		echo "scenario_b: skipped (127.0.0.1$n:2379 is in use)"
		exit 77
	fi
done
start 1
start 2
start 3
healthy 1
healthy 2
healthy 3

# greeting = "hello etcd"
put 1 Z3JlZXRpbmc= aGVsbG8gZXRjZA== || fail "put on node01"
[ "$(get 3 Z3JlZXRpbmc=)" = "aGVsbG8gZXRjZA==" ] || fail "get on node03: $(get 3 Z3JlZXRpbmc=)"

lead=$(leader_of 1)
[ -n "$lead" ] || fail "no leader"
ln=""
for n in 1 2 3; do
	[ "$(member_of $n)" = "$lead" ] && ln=$n
done
[ -n "$ln" ] || fail "leader $lead is none of the three"
eval "kill -9 \$PID$ln"
eval "wait \$PID$ln" 2>/dev/null || true
a=$((ln % 3 + 1))
b=$((a % 3 + 1))
i=0
while :; do
	l=$(leader_of $a || true)
	[ -n "$l" ] && [ "$l" != "$lead" ] && [ "$l" != 0 ] && break
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no new leader after killing node0$ln"
	sleep 0.05
done
put $a YWZ0ZXI= a2lsbA== || fail "put after the leader's loss"
[ "$(get $b YWZ0ZXI=)" = "a2lsbA==" ] || fail "get after the leader's loss"
newlead=$(leader_of $a)

# The old leader comes back as a follower; the leader stays put.
start "$ln"
healthy "$ln"
i=0
until [ "$(get "$ln" YWZ0ZXI=)" = "a2lsbA==" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "node0$ln did not catch up"
	sleep 0.05
done
[ "$(leader_of "$ln")" = "$newlead" ] || fail "leadership moved back: $(leader_of "$ln") != $newlead"
[ "$(get "$ln" Z3JlZXRpbmc=)" = "aGVsbG8gZXRjZA==" ] || fail "old write lost on node0$ln"
echo "scenario_b: ok"
