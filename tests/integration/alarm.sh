#!/bin/sh
# etcd keeps its alarms in the backend: a NOSPACE alarm raised by a full
# quota is still active after a restart, even when the entry that raised it
# is behind a snapshot (snapshot-count 5, so the restart does not replay
# it), and writes stay refused until it is disarmed.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
. "$SRC/tests/integration/cluster_lib.sh"
IC="n1=http://$A:2380"
CLUSTER_ARGS="--quota-backend-bytes 200000 --max-request-bytes 1048576 --snapshot-count 5"

alarms() {
	curl -sf -m 5 -X POST "$(url 1)/v3/maintenance/alarm" -d '{"action":"GET"}'
}

start_member 1
wait_healthy 1
alarms | grep -q NOSPACE && fail "an alarm before any write: $(alarms)"
printf '{"key":"%s","value":"%s"}' "$(b64 big)" \
	"$(head -c 65536 /dev/zero | base64 -w0)" >"$T/big.json"
n=0
while :; do
	out=$(curl -s -m 10 -X POST "$(url 1)/v3/kv/put" -d @"$T/big.json")
	echo "$out" | grep -q "database space exceeded" && break
	echo "$out" | grep -q '"revision"' || fail "put: $out"
	n=$((n + 1))
	[ $n -lt 50 ] || fail "the quota never filled: $(logs)"
	sleep 0.15 # the quota counts the committed store (every 100 ms)
done
i=0
until alarms | grep -q '"alarm":"NOSPACE"'; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "no NOSPACE alarm: $(alarms)"
	sleep 0.1
done
# Entries after the alarm's, so that a snapshot covers it.
for d in 1 2 3 4 5 6 7 8; do
	curl -sf -m 10 -X POST "$(url 1)/v3/kv/deleterange" -d "{\"key\":\"$(b64 "none$d")\"}" \
		>/dev/null || fail "delete $d"
done
kill -TERM "$PID_1"
wait "$PID_1" || fail "SIGTERM: $(logs)"
ls "$T/d1/member/snap/"*.snap >/dev/null 2>&1 || fail "no snapshot: $(ls -R "$T/d1")"

start_member 1
wait_leader 1
alarms | grep -q '"alarm":"NOSPACE"' || fail "the alarm was lost at restart: $(alarms)"
out=$(curl -s -m 10 -X POST "$(url 1)/v3/kv/put" -d "{\"key\":\"$(b64 small)\",\"value\":\"eA==\"}")
echo "$out" | grep -q "database space exceeded" || fail "small put with the alarm on: $out"
curl -sf -m 5 -X POST "$(url 1)/v3/maintenance/alarm" \
	-d '{"action":"DEACTIVATE","alarm":"NOSPACE"}' >/dev/null || fail "disarm"
alarms | grep -q NOSPACE && fail "still armed: $(alarms)"
kill -TERM "$PID_1"
wait "$PID_1" || fail "SIGTERM: $(logs)"
start_member 1
wait_healthy 1
alarms | grep -q NOSPACE && fail "disarmed alarm back after restart: $(alarms)"
echo "alarm: ok"
