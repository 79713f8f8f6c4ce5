#!/bin/sh
# Watch benchmark (not run by make check): starts one cetcd member on a
# loopback address of its own and runs tests/bench/watch_bench (events/s
# to 1 and to 1000 watchers of one prefix under a put load, put-to-event
# latency p50/p99).  Use a build without sanitizers for numbers:
#     BUILD=build-rel tests/bench/watch_bench.sh [SECONDS] [WRITERS]
set -eu
BUILD=${BUILD:-build}
SECONDS_=${1:-5}
WRITERS=${2:-16}
T=$(mktemp -d "${TMPDIR:-/tmp}/watch-bench.XXXXXX")
A="127.$((($$ % 100) + 100)).$((($$ / 100) % 250 + 1)).41"
"$BUILD/node/cetcd" --name b --data-dir "$T/d" \
	--listen-peer-urls "http://$A:23800" --initial-advertise-peer-urls "http://$A:23800" \
	--listen-client-urls "http://$A:23790" --advertise-client-urls "http://$A:23790" \
	--initial-cluster "b=http://$A:23800" >"$T/log" 2>&1 &
PID=$!
trap 'kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 1 50); do
	curl -fs "http://$A:23790/health" >/dev/null 2>&1 && break
	sleep 0.1
done
# The member's CPU time in clock ticks (on a shared machine the member may
# get only part of a core: CPU per event is the comparable number).
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
hz=$(getconf CLK_TCK)
for w in 1 1000; do
	c0=$(cpu)
	out=$("$BUILD/tests/bench/watch_bench" "$A" 23790 "$w" "$SECONDS_" "$WRITERS")
	c1=$(cpu)
	ev=$(echo "$out" | sed 's/.* events\/s=\([0-9]*\).*/\1/')
	echo "$out"
	awk -v t=$((c1 - c0)) -v hz="$hz" -v ev="$ev" -v s="$SECONDS_" 'BEGIN {
		# No comparison among the printf arguments: awk reads ">" there as a redirection.
		cpu = t / hz; per = 0; if (ev + 0 != 0) per = 1e6 * cpu / (ev * s)
		printf "  member CPU %.2f s of %s s (%.0f%% of a core), %.2f us per delivered event\n",
		cpu, s, 100 * cpu / s, per }'
done
