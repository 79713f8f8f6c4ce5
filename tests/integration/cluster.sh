#!/bin/sh
# Three cetcd processes on loopback, killed for real:
#  1. kill -9 all three at once under a write load (two writers of unique
#     keys, one through the leader, one through a follower); restarted,
#     every acknowledged write is on every member (a linearizable range
#     on each member reads its own store once it applied the read index);
#  2. kill -9 the leader: the others elect a new one and take writes; the
#     old leader restarted rejoins as a follower, does not take leadership
#     back, and every member reaches the same raft and applied index;
#  3. MemberRemove a follower: etcd's removed member stops a second later
#     (exit status 0, "permanently removed" in its log) and the two left
#     still take writes.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
. "$SRC/tests/integration/cluster_lib.sh"

for i in 1 2 3; do start_member "$i"; done
wait_healthy 1 2 3
L=$(leader_index)
[ -n "$L" ] || fail "no leader: $(logs)"
F=$((L % 3 + 1))

# writer I NAME: puts NAME/1, NAME/2, ... through member I until killed,
# appending each acknowledged key to $T/acked.NAME.
writer() {
	n=0
	while :; do
		n=$((n + 1))
		if put "$1" "$2/$n" "v$n" 2>/dev/null; then
			echo "$2/$n" >>"$T/acked.$2"
		fi
	done
}
: >"$T/acked.a"
: >"$T/acked.b"
writer "$L" a &
WA=$!
PIDS="$PIDS $WA"
writer "$F" b &
WB=$!
PIDS="$PIDS $WB"
n=0
until [ "$(cat "$T/acked.a" "$T/acked.b" | wc -l)" -ge 20 ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "writers acknowledged too little: $(logs)"
	sleep 0.05
done
kill -9 "$PID_1" "$PID_2" "$PID_3"
for i in 1 2 3; do wait "$(pid_of "$i")" 2>/dev/null || true; done
sleep 0.2 # the writers' last requests fail on the closed sockets
kill "$WA" "$WB" 2>/dev/null || true
wait "$WA" "$WB" 2>/dev/null || true
acked=$(cat "$T/acked.a" "$T/acked.b" | wc -l)

for i in 1 2 3; do start_member "$i"; done
wait_healthy 1 2 3
for i in 1 2 3; do
	# keys "a/" .. "c" (exclusive): both writers' keys, all of them.
	curl -sf -m 10 -X POST "$(url "$i")/v3/kv/range" \
		-d "{\"key\":\"$(b64 a/)\",\"range_end\":\"$(b64 c)\",\"keys_only\":true}" \
		>"$T/range$i" || fail "range on n$i: $(logs)"
	for k in $(cat "$T/acked.a" "$T/acked.b"); do
		grep -q "\"$(b64 "$k")\"" "$T/range$i" ||
			fail "n$i lost acknowledged write $k (of $acked): $(logs)"
	done
done
echo "cluster: $acked acknowledged writes survived kill -9 of all members"

# 2. The leader killed, then restarted.
L=$(leader_index)
[ -n "$L" ] || fail "no leader after restart: $(logs)"
kill -9 "$(pid_of "$L")"
wait "$(pid_of "$L")" 2>/dev/null || true
O1=$((L % 3 + 1))
O2=$((O1 % 3 + 1))
n=0
until put "$O1" after-failover yes 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "no write after the leader died: $(logs)"
	sleep 0.1
done
L2=$(leader_index)
[ -n "$L2" ] && [ "$L2" != "$L" ] || fail "new leader '$L2' (old $L): $(logs)"
start_member "$L"
wait_healthy "$L"
put "$O2" after-restart yes || fail "put after the old leader came back"
n=0
while :; do
	same=1
	first=""
	for i in 1 2 3; do
		s=$(status "$i") || fail "status n$i"
		ix="$(echo "$s" | json_field raftIndex)/$(echo "$s" | json_field raftAppliedIndex)"
		[ -z "$first" ] && first=$ix
		[ "$ix" = "$first" ] || same=0
	done
	[ $same = 1 ] && break
	n=$((n + 1))
	[ $n -lt 100 ] || fail "indexes do not converge: $(logs)"
	sleep 0.1
done
sleep 2 # two election timeouts of the restarted member
[ "$(leader_index)" != "$L" ] || fail "the old leader n$L took leadership back: $(logs)"
L2=$(leader_index)
[ -n "$L2" ] || fail "no leader: $(logs)"
echo "cluster: old leader n$L rejoined as a follower; index $first everywhere"

# 3. Remove a follower.
R=$((L2 % 3 + 1))
rid=$(status "$R" | json_field member_id)
curl -sf -m 10 -X POST "$(url "$L2")/v3/cluster/member/remove" -d "{\"ID\":\"$rid\"}" \
	>"$T/rm" || fail "member remove: $(cat "$T/rm")"
n=0
while kill -0 "$(pid_of "$R")" 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "removed member n$R still running: $(logs)"
	sleep 0.1
done
rc=0
wait "$(pid_of "$R")" || rc=$?
[ "$rc" = 0 ] || fail "removed member exited $rc, want 0: $(logs)"
grep -q "permanently removed from the cluster" "$T/log$R" ||
	fail "no removal message: $(tail "$T/log$R")"
K=$((R % 3 + 1))
put "$K" after-remove yes || fail "put after the removal"
curl -sf -X POST "$(url "$K")/v3/cluster/member/list" -d '{}' >"$T/ml" || fail "member list"
[ "$(grep -o '"ID"' "$T/ml" | wc -l)" = 2 ] || fail "member list: $(cat "$T/ml")"
echo "cluster: ok"
