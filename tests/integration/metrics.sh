#!/bin/sh
# /metrics of a three-member cluster carries the series etcd's dashboards
# and alerts read, fed by the member: after puts the leader's WAL fsync
# histogram counted them, the backend committed, the database size is known
# and every peer has its round trip time, sent and received bytes labelled
# with its ID in hex (etcd's To= / From=); and go-grpc-prometheus' series
# count a Watch, a Snapshot and a LeaseKeepAlive stream as etcd 3.4 does
# (with etcdctl).
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
. "$SRC/tests/integration/cluster_lib.sh"

for i in 1 2 3; do start_member "$i"; done
wait_healthy 1 2 3
L=$(leader_index)
[ -n "$L" ] || fail "no leader: $(logs)"

# sample NAME: the value of one series (NAME with its labels) in $T/m.
sample() { awk -v k="$1" '$1 == k { print $2 }' "$T/m"; }
scrape() { curl -sf "$(url "$L")/metrics" >"$T/m" || fail "GET /metrics"; }

scrape
fsync0=$(sample etcd_disk_wal_fsync_duration_seconds_count)
for n in 1 2 3 4 5 6 7 8; do put "$L" "m/$n" "v$n" || fail "put $n"; done
sleep 0.3 # a backend commit (every 100 ms) and a few heartbeats
scrape
for f in "etcd_disk_wal_fsync_duration_seconds histogram" \
	"etcd_disk_backend_commit_duration_seconds histogram" \
	"etcd_server_proposals_pending gauge" \
	"etcd_server_proposals_failed_total counter" \
	"etcd_server_proposals_committed_total gauge" \
	"etcd_server_proposals_applied_total gauge" \
	"etcd_mvcc_db_total_size_in_bytes gauge" \
	"etcd_mvcc_db_total_size_in_use_in_bytes gauge" \
	"etcd_network_peer_round_trip_time_seconds histogram" \
	"etcd_network_peer_sent_bytes_total counter" \
	"etcd_network_peer_received_bytes_total counter" \
	"process_resident_memory_bytes gauge" "process_open_fds gauge"; do
	grep -q "^# TYPE $f\$" "$T/m" || fail "no '# TYPE $f': $(cat "$T/m")"
done
fsync1=$(sample etcd_disk_wal_fsync_duration_seconds_count)
[ "$fsync1" -ge $((fsync0 + 8)) ] ||
	fail "fsync count $fsync0 -> $fsync1 after 8 puts"
grep -q '^etcd_disk_wal_fsync_duration_seconds_bucket{le="8.192"} ' "$T/m" ||
	fail "fsync buckets are not etcd's"
[ "$(sample etcd_disk_backend_commit_duration_seconds_count)" -ge 1 ] ||
	fail "no backend commit counted"
[ "$(sample etcd_server_proposals_pending)" = 0 ] || fail "pending proposals"
[ "$(sample etcd_server_proposals_failed_total)" = 0 ] || fail "failed proposals"
[ "$(sample etcd_mvcc_db_total_size_in_bytes)" -gt 0 ] || fail "db size 0"
[ "$(sample etcd_mvcc_db_total_size_in_use_in_bytes)" -gt 0 ] || fail "db in use 0"
[ "$(sample process_open_fds)" -gt 5 ] || fail "open fds"
[ "$(sample process_resident_memory_bytes)" -gt 1000000 ] || fail "rss"

# Every other member, by its ID in hex without leading zeros (types.ID).
status 1 >"$T/s" || fail status
for i in 1 2 3; do
	[ "$i" = "$L" ] && continue
	id=$(printf '%x' "$(status "$i" | json_field member_id)")
	sent=$(sample "etcd_network_peer_sent_bytes_total{To=\"$id\"}")
	recv=$(sample "etcd_network_peer_received_bytes_total{From=\"$id\"}")
	rtt=$(sample "etcd_network_peer_round_trip_time_seconds_count{To=\"$id\"}")
	[ -n "$sent" ] && [ "${sent%.*}" -gt 0 ] || fail "sent to $id: '$sent'"
	[ -n "$recv" ] && [ "${recv%.*}" -gt 0 ] || fail "received from $id: '$recv'"
	[ -n "$rtt" ] && [ "$rtt" -gt 0 ] || fail "no round trip to $id: '$rtt'"
done
# go-grpc-prometheus' series of the streams (etcd compat: the names,
# labels and codes etcd 3.4 prints for the same calls): a Watch stream and
# a Snapshot count started, one received per request, one sent per
# response and handled with their code; a LeaseKeepAlive too.
if command -v etcdctl >/dev/null; then
	E="env -i ETCDCTL_API=3 etcdctl --endpoints=$(url "$L")"
	W='grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"'
	S='grpc_method="Snapshot",grpc_service="etcdserverpb.Maintenance",grpc_type="server_stream"'
	K='grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"'
	# delta NAME LABELS CODE: how much NAME{...} moved since the
	# scrape in $T/m0 (CODE: handled_total's grpc_code, or "").
	delta() {
		k="$1{$2}"
		[ -n "$3" ] && k="$1{grpc_code=\"$3\",$2}"
		a=$(awk -v k="$k" '$1 == k { print $2 }' "$T/m0")
		b=$(sample "$k")
		echo $((${b:-0} - ${a:-0}))
	}
	# want NAME LABELS CODE N
	want() {
		d=$(delta "$1" "$2" "$3")
		[ "$d" = "$4" ] || fail "$1 $3 {$2} moved by $d, want $4: $(grep "^$1" "$T/m" | grep -v ' 0$')"
	}
	wait_lines() {
		n=0
		until [ "$(wc -l <"$1")" -ge "$2" ]; do
			n=$((n + 1))
			[ $n -lt 100 ] || fail "watch output: $(cat "$1")"
			sleep 0.05
		done
	}

	scrape
	cp "$T/m" "$T/m0"
	$E watch w/k >"$T/watch" 2>&1 &
	WP=$!
	PIDS="$PIDS $WP"
	# The created response is sent before the first put goes out: the
	# watch reports the put, whichever member applied it first.
	n=0
	until [ "$(sample "grpc_server_msg_sent_total{$W}")" != \
		"$(awk -v k="grpc_server_msg_sent_total{$W}" '$1 == k { print $2 }' "$T/m0")" ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || fail "no watch created: $(cat "$T/watch")"
		sleep 0.05
		scrape
	done
	put "$L" w/k one || fail "put w/k"
	wait_lines "$T/watch" 3
	put "$L" w/k two || fail "put w/k"
	wait_lines "$T/watch" 6
	kill "$WP"
	wait "$WP" 2>/dev/null || true
	sleep 0.2
	$E snapshot save "$T/snap.db" >"$T/snap.out" 2>&1 ||
		fail "snapshot save: $(cat "$T/snap.out")"
	size=$(wc -c <"$T/snap.db")
	chunks=$(((size - 32 + 32767) / 32768 + 1))
	KL=$($E lease grant 60 | cut -d' ' -f2)
	$E lease keep-alive --once "$KL" >/dev/null || fail "keep-alive"
	sleep 0.2
	scrape
	# created, then one response per put
	want grpc_server_started_total "$W" "" 1
	want grpc_server_msg_received_total "$W" "" 1
	want grpc_server_msg_sent_total "$W" "" 3
	want grpc_server_handled_total "$W" Canceled 1
	want grpc_server_handled_total "$W" OK 0
	# the store in 32 KiB messages, then its SHA-256
	want grpc_server_started_total "$S" "" 1
	want grpc_server_msg_received_total "$S" "" 1
	want grpc_server_msg_sent_total "$S" "" "$chunks"
	want grpc_server_handled_total "$S" OK 1
	want grpc_server_started_total "$K" "" 1
	want grpc_server_msg_received_total "$K" "" 1
	want grpc_server_msg_sent_total "$K" "" 1
	want grpc_server_handled_total "$K" Unavailable 1
else
	echo "metrics: stream counters skipped (no etcdctl)"
fi
echo "metrics: ok"
