#!/usr/bin/env bash
# compare.sh - cetcd against Debian's etcd 3.4 on the same loopback
# addresses, through the HTTP/JSON gateway (not part of make check; the
# numbers are in README.md).
#
#   tests/bench/compare.sh [cetcd|etcd]...     (default: both, cetcd first)
#
# For each server: a fresh three-member cluster on $ADDR_PREFIX{1,2,3}
# (default 127.0.0.4 -> 127.0.0.41-43, ports 2379/2380; never the .11-.13 of
# other checkouts), then
#   - time from start to ready (every member answers /health true);
#   - VmRSS and RssAnon of each member, idle;
#   - wrk (DUR, default 10s, each point once): put at 1, 16 and 128
#     connections, linearizable and serializable range at 16 and 128, all on
#     the leader; requests/s, p50, p99 and the servers' CPU per request
#     (utime + stime of the three members from /proc/PID/stat);
#   - 100 000 keys (fill/%08d, 256-byte values, Txns of 100 puts), then
#     VmRSS and RssAnon again.
#   - with CHECK_PERF="m l" (loads of `etcdctl check perf`, 60 s each, over
#     gRPC): its throughput, slowest request, stddev and verdict.
# Results: one line per figure in $OUT (default /tmp/cetcd-compare.tsv):
#   server <TAB> figure <TAB> value
# Environment: CETCD_BIN (default /tmp/perf-o2/node/cetcd), ETCD_BIN
# (/usr/bin/etcd), ETCDCTL_BIN (/usr/bin/etcdctl), DUR, ADDR_PREFIX, OUT,
# KEYS (100000), CHECK_PERF.
# Every process started is stopped by its PID; data dirs are removed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CETCD_BIN=${CETCD_BIN:-/tmp/perf-o2/node/cetcd}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
DUR=${DUR:-10s}
ADDR_PREFIX=${ADDR_PREFIX:-127.0.0.4}
OUT=${OUT:-/tmp/cetcd-compare.tsv}
KEYS=${KEYS:-100000}
HZ=$(getconf CLK_TCK)
PIDS=()
WORK=""

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -z "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT

addr() { echo "$ADDR_PREFIX$1"; }
url() { echo "http://$(addr "$1"):2379"; }
record() { printf '%s\t%s\t%s\n' "$SERVER" "$1" "$2" | tee -a "$OUT"; }

for i in 1 2 3; do
	if ss -ltn | grep -q "$(addr "$i"):23[78][90] "; then
		echo "compare.sh: $(addr "$i") is in use; set ADDR_PREFIX" >&2
		exit 1
	fi
done

start_cluster() {
	local bin=$1 ic="" i
	WORK=$(mktemp -d /tmp/cetcd-compare.XXXXXX)
	for i in 1 2 3; do
		ic="$ic${ic:+,}m$i=http://$(addr "$i"):2380"
	done
	PIDS=()
	T0=$(date +%s%N)
	for i in 1 2 3; do
		env -i "$bin" --name "m$i" --data-dir "$WORK/m$i" \
			--listen-peer-urls "http://$(addr "$i"):2380" \
			--initial-advertise-peer-urls "http://$(addr "$i"):2380" \
			--listen-client-urls "$(url "$i")" \
			--advertise-client-urls "$(url "$i")" \
			--initial-cluster "$ic" --initial-cluster-token compare \
			--initial-cluster-state new >"$WORK/log$i" 2>&1 &
		PIDS+=("$!")
	done
	for i in 1 2 3; do
		local n=0
		until curl -sf -m 1 "$(url "$i")/health" 2>/dev/null | grep -q '"health":"true"'; do
			n=$((n + 1))
			if [ $n -gt 600 ]; then
				echo "member $i not ready: $(tail "$WORK/log$i")" >&2
				exit 1
			fi
			sleep 0.01
		done
	done
	record start_to_ready_ms $((($(date +%s%N) - T0) / 1000000))
}

stop_cluster() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
	rm -rf "$WORK"
	WORK=""
}

# mem LABEL: VmRSS and RssAnon (kB) of each member.
mem() {
	local i=0 p
	for p in "${PIDS[@]}"; do
		i=$((i + 1))
		record "m$i.$1.VmRSS_kB" "$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")"
		record "m$i.$1.RssAnon_kB" "$(awk '/^RssAnon:/ {print $2}' "/proc/$p/status")"
	done
}

cpu_ticks() {
	local t=0 p
	for p in "${PIDS[@]}"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}

leader_url() {
	local i s
	for i in 1 2 3; do
		s=$(curl -sf -X POST "$(url "$i")/v3/maintenance/status" -d '{}') || continue
		# etcd's gateway quotes the uint64s; the leader is its own member_id.
		if [ "$(echo "$s" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')" = \
			"$(echo "$s" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')" ]; then
			url "$i"
			return
		fi
	done
	echo "no leader" >&2
	exit 1
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# point NAME SCRIPT CONNS [ENV=V]: one wrk run on the leader.
point() {
	local name=$1 script=$2 conns=$3 t=2 c0 c1 res req secs
	shift 3
	[ "$conns" -ge 2 ] || t=1
	c0=$(cpu_ticks)
	res=$(env "$@" wrk -t"$t" -c"$conns" -d"$DUR" -s "$HERE/$script" "$LEADER")
	c1=$(cpu_ticks)
	res=$(echo "$res" | grep '^RESULT')
	req=$(echo "$res" | field requests)
	secs=$(echo "$res" | field secs)
	record "$name.rps" "$(awk -v n="$req" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')"
	record "$name.p50_ms" "$(awk -v v="$(echo "$res" | field p50_us)" 'BEGIN{printf "%.2f", v / 1000}')"
	record "$name.p99_ms" "$(awk -v v="$(echo "$res" | field p99_us)" 'BEGIN{printf "%.2f", v / 1000}')"
	record "$name.errors" "$(echo "$res" | field errors)"
	record "$name.server_cpu_us_per_req" \
		"$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$req" 'BEGIN{printf "%.0f", n ? d / hz * 1e6 / n : 0}')"
}

# check_perf LOAD: etcdctl check perf against all three members.
check_perf() {
	local out lines
	out=$(env -i ETCDCTL_API=3 "${ETCDCTL_BIN:-/usr/bin/etcdctl}" \
		--endpoints="$(url 1),$(url 2),$(url 3)" check perf --load="$1" 2>&1 |
		tr '\r' '\n') || true
	# (etcdctl 3.4 prints the slowest and stddev failures without FAIL:)
	lines=$(echo "$out" | grep -E '^(PASS|FAIL)|Slowest|Stddev') || true
	[ -n "$lines" ] || { echo "check perf: $out" | tail -5 >&2; return 0; }
	echo "$lines" | sed "s/^/  /"
	record "check_perf.$1.writes_per_s" \
		"$(echo "$lines" | sed -nE 's/.*Throughput (is|too low:) ([0-9.]+) writes\/s.*/\2/p')"
	record "check_perf.$1.slowest_s" \
		"$(echo "$lines" | sed -nE 's/.*Slowest request took (too long: )?([0-9.]+)s.*/\2/p')"
	record "check_perf.$1.stddev_s" \
		"$(echo "$lines" | sed -nE 's/.*Stddev (is|too high:) ([0-9.]+)s.*/\2/p')"
	record "check_perf.$1.verdict" "$(echo "$lines" | tail -n 1 | awk '{print $1}' | tr -d :)"
}

fill() {
	python3 - "$(addr 1)" "$KEYS" <<'EOF'
import base64, http.client, json, sys
host, keys = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, 2379)
val = base64.b64encode(b"x" * 256).decode()
for start in range(0, keys, 100):
    ops = [{"request_put": {"key": base64.b64encode(b"fill/%08d" % k).decode(),
                            "value": val}}
           for k in range(start, min(start + 100, keys))]
    c.request("POST", "/v3/kv/txn", json.dumps({"success": ops}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or b"error" in body:
        sys.exit("txn at %d: %d %s" % (start, r.status, body[:200]))
EOF
}

run_server() {
	SERVER=$1
	local bin=$2
	start_cluster "$bin"
	sleep 2
	mem idle
	LEADER=$(leader_url)
	curl -sf -X POST "$LEADER/v3/kv/put" \
		-d '{"key":"YmVuY2gtcmVhZC1rZXk=","value":"eA=="}' >/dev/null
	for c in 1 16 128; do point "put.c$c" put.lua "$c"; done
	for c in 16 128; do point "lin.c$c" range.lua "$c" SERIALIZABLE=0; done
	for c in 16 128; do point "ser.c$c" range.lua "$c" SERIALIZABLE=1; done
	for l in ${CHECK_PERF:-}; do check_perf "$l"; done
	local t0
	t0=$(date +%s%N)
	fill
	record fill_100k_s "$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN{printf "%.1f", d / 1e9}')"
	sleep 2
	mem "keys$KEYS"
	stop_cluster
}

[ $# -gt 0 ] || set -- cetcd etcd
for s in "$@"; do
	case "$s" in
	cetcd) run_server cetcd "$CETCD_BIN" ;;
	etcd) run_server etcd "$ETCD_BIN" ;;
	*) echo "unknown server $s" >&2; exit 2 ;;
	esac
done
