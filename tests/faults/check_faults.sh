#!/bin/sh
# make check-faults: every fault kind, one scenario each, against the
# register workload (reads, puts, deletes, CAS on three keys by five
# clients) and the watch workload (four watchers on keys and a prefix,
# resuming on another member whenever a stream breaks).  FAULTS_DURATION
# seconds per scenario (default 30); seeds are printed with a replay
# command.  bitflip-closed (a flipped bit in a closed WAL segment) and
# failpoint need a build configured with --enable-failpoints.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
D=${FAULTS_DURATION:-30}
failed=""
extra=""
# A full disk needs a tmpfs of its own (root); failpoints a test build.
[ "$(id -u)" = 0 ] && extra="disk-full" || echo "check-faults: disk-full skipped (not root)"
if grep -q '^#define CETCD_FAILPOINTS 1' "$BUILD/config.h"; then
	extra="$extra failpoint bitflip-closed"
else
	echo "check-faults: failpoint, bitflip-closed skipped (configure --enable-failpoints)"
fi
for s in none kill-follower kill-leader kill-majority kill-all \
	term-follower term-leader term-majority term-all \
	pause-follower pause-leader partition-follower partition-leader links \
	torn-wal bitflip $extra; do
	echo "=== check-faults: $s"
	/usr/bin/python3 "$SRC/tests/faults/faults.py" --cetcd "$BUILD/node/cetcd" \
		--checker "$BUILD/tests/faults/checker" --duration "$D" --scenario "$s" ||
		failed="$failed $s"
done
[ -z "$failed" ] || fail "scenarios failed:$failed"
echo "check-faults: ok"
