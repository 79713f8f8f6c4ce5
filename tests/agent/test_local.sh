#!/bin/sh
# test_local.sh - cetcd-agent's local mode against the built cetcd: up a
# three-member cluster on loopback addresses of this test's own, the
# status/health/members tables, kill the leader (status reports it as
# etcdctl does and shows a new leader), restart it, drill failover --mode
# kill passes with plausible numbers, down leaves no member
# running; drill --mode stop and --mode pause (as JSON) pass too, a drill
# that cannot pass says FAIL and exits 1, an interrupted pause drill resumes
# the paused leader; a stale pid file is never signalled; the built-in manifest; a
# failed up shows the members' logs, and members see only their env file.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A="$BUILD/agent/cetcd-agent"
CETCD="$BUILD/node/cetcd"
# Three addresses of our own (not 127.0.0.11-13: the scenario test's).
base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
A1="127.$base.$sub.21" A2="127.$base.$sub.22" A3="127.$base.$sub.23"
S="$T/state"
cat > "$T/agent.conf" <<EOF
manifest = "$T/no-such-manifest.yaml";
timeouts = { start = "30s"; stop = "10s"; connect = "1s"; request = "3s"; };
EOF
cat > "$T/m.yaml" <<EOF
cluster:
  name: agent-local-test
  token: agent-local-test
defaults:
  config_file: /etc/cetcd/{name}.conf
  data_dir: /var/lib/cetcd/{name}
  unit: cetcd@{name}.service
  hostname: false
members:
  - name: m1
    address: $A1
  - name: m2
    address: $A2
  - name: m3
    address: $A3
drill:
  leader_timeout: 10s
  stable_time: 2s
  pause: 3s
EOF
agent() { "$A" -c "$T/agent.conf" "$@"; }
local_() { agent "$@" -f "$T/m.yaml" --state-dir "$S" --cetcd "$CETCD"; }
# Members outlive the agent: remember them so that a failure kills them.
track() {
	for f in "$S"/*.pid; do
		[ -f "$f" ] && PIDS="$PIDS $(cat "$f")"
	done
	return 0
}
rows() { grep -c '^| 127\.' "$1" || true; }
# The endpoint of the row whose IS LEADER is true.
leader_of() { awk -F'|' '$6 ~ /true/ { gsub(/ /, "", $2); print $2 }' "$1"; }
name_of() { # endpoint -> member name
	case "$1" in
	"$A1:2379") echo m1 ;; "$A2:2379") echo m2 ;; "$A3:2379") echo m3 ;;
	*) fail "no member at '$1'" ;;
	esac
}

# No manifest anywhere: the built-in cluster (no member started here).
set +e
agent kill nosuch > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "kill nosuch exits $rc"
grep -q "using the built-in cluster" "$T/err" || fail "no built-in note"
grep -q "give one of: etcd-node01, etcd-node02, etcd-node03" "$T/err" ||
	fail "built-in members: $(cat "$T/err")"

# up with members that die: the env file as EnvironmentFile= loads it, no
# ETCD_* of the agent's own, then a timeout with each member's last log lines.
cat > "$T/cetcd-fake" <<'EOF'
#!/bin/sh
echo "fake member $ETCD_NAME data=$ETCD_DATA_DIR token=$ETCD_INITIAL_CLUSTER_TOKEN leak=${ETCD_LEAK:-none}"
exit 1
EOF
chmod +x "$T/cetcd-fake"
cat > "$T/fast.conf" <<EOF
manifest = "$T/no-such-manifest.yaml";
timeouts = { start = "1s"; };
EOF
set +e
ETCD_LEAK=yes "$A" -c "$T/fast.conf" up -f "$T/m.yaml" --state-dir "$T/s3" \
	--cetcd "$T/cetcd-fake" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "up with dying members exits $rc"
grep -q "no leader after 1.0 s" "$T/err" || fail "up timeout: $(cat "$T/err")"
grep -qx "fake member m2 data=$T/s3/var/lib/cetcd/m2 token=agent-local-test leak=none" "$T/err" ||
	fail "member env or log tail: $(cat "$T/err")"

# up ----------------------------------------------------------------------
local_ up > "$T/up" 2>&1 || { track; cat "$T/up" >&2; fail "up"; }
track
grep -q '^cluster agent-local-test: leader m[123] ' "$T/up" || fail "up: $(cat "$T/up")"
for n in m1 m2 m3; do
	grep -q '^ETCD_NAME='"$n"'$' "$S/etc/cetcd/$n.conf" || fail "$n: env file"
	[ -d "$S/var/lib/cetcd/$n" ] || fail "$n: data dir not under the state dir"
	[ -s "$S/$n.log" ] || fail "$n: empty log"
done
local_ up > "$T/up2" 2>&1 || fail "second up"
[ "$(grep -c 'already running' "$T/up2")" -eq 3 ] || fail "second up: $(cat "$T/up2")"

# status / health / members: etcdctl's tables for every member ------------
local_ status > "$T/st" || fail "status exits non-zero"
[ "$(rows "$T/st")" -eq 3 ] || fail "status rows: $(cat "$T/st")"
sed -n 2p "$T/st" | tr -s ' ' |
	grep -qx '| ENDPOINT | ID | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |' ||
	fail "status header: $(head -n 2 "$T/st")"
[ "$(leader_of "$T/st" | wc -l)" -eq 1 ] || fail "not one leader: $(cat "$T/st")"
old=$(leader_of "$T/st")
old_name=$(name_of "$old")
local_ health > "$T/h" || fail "health"
[ "$(grep -c '^| 127\..*|   true |' "$T/h")" -eq 3 ] || fail "health: $(cat "$T/h")"
local_ members > "$T/mem" || fail "members"
[ "$(grep -c '| started |' "$T/mem")" -eq 3 ] || fail "members: $(cat "$T/mem")"
local_ status -w json > "$T/js" || fail "status -w json"
[ "$(grep -o '"Endpoint":' "$T/js" | wc -l)" -eq 3 ] || fail "json: $(cat "$T/js")"

# kill the leader: status reports it as etcdctl does, then a new leader ---
local_ kill "$old_name" > "$T/k" || fail "kill $old_name"
new=""
for _ in $(seq 1 100); do
	set +e
	local_ status > "$T/st" 2> "$T/st.err"
	rc=$?
	set -e
	new=$(leader_of "$T/st")
	[ -n "$new" ] && break
	sleep 0.1
done
[ "$rc" -eq 1 ] || fail "status with a member down exits $rc"
grep -qx "Failed to get the status of endpoint $old (context deadline exceeded)" "$T/st.err" ||
	fail "no etcdctl error line: $(cat "$T/st.err")"
[ "$(rows "$T/st")" -eq 2 ] || fail "rows with one down: $(cat "$T/st")"
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new leader: $(cat "$T/st")"

# restart it: it rejoins, three rows again ------------------------------
local_ restart "$old_name" > "$T/r" 2>&1 || fail "restart: $(cat "$T/r")"
track
local_ status > "$T/st" || fail "status after restart"
[ "$(rows "$T/st")" -eq 3 ] || fail "rows after restart: $(cat "$T/st")"

# drill failover --mode kill: the report and PASS ----------------------------
local_ drill failover --mode kill > "$T/dr" 2>&1 || { cat "$T/dr" >&2; fail "drill"; }
track
grep -q '^|  *verdict |  *PASS |$' "$T/dr" || fail "drill verdict: $(cat "$T/dr")"
grep -q '^|  *writes lost |  *0 |$' "$T/dr" || fail "drill lost writes"
t_leader=$(awk -F'|' '$2 ~ /time to new leader/ { print $3 + 0 }' "$T/dr")
[ "$t_leader" -gt 0 ] && [ "$t_leader" -lt 10000 ] || fail "time to new leader: $t_leader"
acked=$(awk -F'|' '$2 ~ /acknowledged writes/ { print $3 + 0 }' "$T/dr")
[ "$acked" -gt 10 ] || fail "only $acked acknowledged writes"
# The report's numbers: a leader within the timeout, writes flowing before
# and after, none lost.  check_report FILE MODE
check_report() {
	grep -q '^|  *mode |  *'"$2"' |$' "$1" || fail "$2: mode row: $(cat "$1")"
	grep -q '^|  *verdict |  *PASS |$' "$1" || fail "$2: verdict: $(cat "$1")"
	grep -q '^|  *writes lost |  *0 |$' "$1" || fail "$2: lost writes"
	grep -q '^|  *old leader is a follower |  *yes |$' "$1" ||
		fail "$2: old leader did not rejoin as a follower"
	tl=$(awk -F'|' '$2 ~ /time to new leader/ { print $3 + 0 }' "$1")
	tw=$(awk -F'|' '$2 ~ /write unavailability/ { print $3 + 0 }' "$1")
	ack=$(awk -F'|' '$2 ~ /acknowledged writes/ { print $3 + 0 }' "$1")
	[ "$tl" -gt 0 ] && [ "$tl" -lt 10000 ] || fail "$2: time to new leader $tl"
	[ "$tw" -ge 0 ] && [ "$tw" -lt 10000 ] || fail "$2: unavailability $tw"
	[ "$ack" -gt 10 ] || fail "$2: only $ack acknowledged writes"
	echo "drill $2: new leader after $tl ms, writes unavailable $tw ms, $ack writes"
}
check_report "$T/dr" kill

# --mode stop: SIGTERM, the leader hands over; the old one comes back.
local_ drill failover --mode stop > "$T/dr-stop" 2>&1 || { cat "$T/dr-stop" >&2; fail "drill stop"; }
track
check_report "$T/dr-stop" stop
# --mode pause: SIGSTOP for the manifest's 3 s, then SIGCONT; as JSON.
local_ drill failover --mode pause -w json > "$T/dr-pause" 2> "$T/dr-pause.err" ||
	{ cat "$T/dr-pause" "$T/dr-pause.err" >&2; fail "drill pause"; }
track
python3 - "$T/dr-pause" <<'PY2' || fail "pause report: $(cat "$T/dr-pause")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mode"] == "pause" and r["verdict"] == "PASS", r
assert r["writes_lost"] == 0 and r["acknowledged_writes"] > 10, r
assert 0 < r["time_to_new_leader_ms"] < 3000, r  # before the pause ends
assert r["old_leader_rejoined_as_follower"] and r["leader_stable"], r
assert r["new_leader"] != r["old_leader"], r
print("drill pause: new leader after %d ms, writes unavailable %d ms"
      % (r["time_to_new_leader_ms"], r["write_unavailability_ms"]))
PY2
# A drill that cannot pass (no leader within 1 ms) says FAIL and exits 1.
sed -e 's/leader_timeout: 10s/leader_timeout: 1ms/' -e 's/stable_time: 2s/stable_time: 500ms/' \
	"$T/m.yaml" > "$T/m-fail.yaml"
set +e
agent drill failover -f "$T/m-fail.yaml" --state-dir "$S" --cetcd "$CETCD" \
	-w json > "$T/dr-fail" 2>&1
rc=$?
set -e
track
[ "$rc" -eq 1 ] || fail "failing drill exits $rc: $(cat "$T/dr-fail")"
grep -q '"verdict":"FAIL"' "$T/dr-fail" || fail "no FAIL verdict: $(cat "$T/dr-fail")"
# Interrupting a pause drill resumes the paused leader (SIGCONT) first.
stopped_member() {
	for f in "$S"/*.pid; do
		p=$(cat "$f")
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2> /dev/null)" = T ] && echo "$p"
	done
	return 0
}
"$A" -c "$T/agent.conf" drill failover --mode pause -f "$T/m.yaml" \
	--state-dir "$S" --cetcd "$CETCD" > "$T/dr-int" 2>&1 &
dpid=$!
PIDS="$PIDS $dpid"
paused=""
for _ in $(seq 1 100); do
	paused=$(stopped_member)
	[ -n "$paused" ] && break
	sleep 0.1
done
[ -n "$paused" ] || fail "the pause drill stopped no member: $(cat "$T/dr-int")"
# (SIGTERM: a background job of a script ignores SIGINT.)
kill -TERM "$dpid"
set +e
wait "$dpid" 2> /dev/null
rc=$?
set -e
[ "$rc" -eq 143 ] || fail "the interrupted drill exits $rc, not by SIGTERM: $(cat "$T/dr-int")"
[ "$(awk '{ print $3 }' "/proc/$paused/stat")" != T ] ||
	fail "member $paused stays stopped after the drill was interrupted"
for _ in $(seq 1 100); do
	local_ status > "$T/st" 2> /dev/null && [ -n "$(leader_of "$T/st")" ] && break
	sleep 0.1
done
local_ status > "$T/st" || fail "status after the drills"
[ "$(rows "$T/st")" -eq 3 ] || fail "rows after the drills: $(cat "$T/st")"
set +e
local_ drill failover --mode bogus > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--mode bogus exits $rc"

# A stale pid file naming a process that is not a cetcd is left alone.
sleep 30 &
decoy=$!
PIDS="$PIDS $decoy"
mkdir -p "$T/s2"
echo "$decoy" > "$T/s2/m1.pid"
agent down -f "$T/m.yaml" --state-dir "$T/s2" > "$T/d2" || fail "down (decoy)"
grep -q '^m1: not running$' "$T/d2" || fail "decoy: $(cat "$T/d2")"
kill -0 "$decoy" || fail "down signalled a process that is not a cetcd"

# down leaves no member process --------------------------------------------
pids=$(cat "$S"/*.pid)
local_ down > "$T/d" || fail "down"
[ "$(grep -c ': stopped (pid ' "$T/d")" -eq 3 ] || fail "down: $(cat "$T/d")"
for p in $pids; do
	if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q cetcd; then
		fail "member pid $p still runs after down"
	fi
done
! ls "$S"/*.pid > /dev/null 2>&1 || fail "pid files left after down"
echo "test_local: ok (old leader $old_name, new leader $(name_of "$new"))"
