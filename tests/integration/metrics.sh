#!/bin/sh
# /metrics of a three-member cluster carries the series etcd's dashboards
# and alerts read, fed by the member: after puts the leader's WAL fsync
# histogram counted them, the backend committed, the database size is known
# and every peer has its round trip time, sent and received bytes labelled
# with its ID in hex (etcd's To= / From=).
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
echo "metrics: ok"
