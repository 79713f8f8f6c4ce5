#!/bin/sh
# make check-faults: every fault kind, one scenario each, against the
# register workload (reads, puts, deletes, CAS on three keys by five
# clients).  FAULTS_DURATION seconds per scenario (default 30); seeds are
# printed with a replay command.  The watch workload does not exist yet.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
D=${FAULTS_DURATION:-30}
failed=""
extra=""
# A full disk needs a tmpfs of its own (root); failpoints a test build.
[ "$(id -u)" = 0 ] && extra="disk-full" || echo "check-faults: disk-full skipped (not root)"
if grep -q '^#define CETCD_FAILPOINTS 1' "$BUILD/config.h"; then
	extra="$extra failpoint"
else
	echo "check-faults: failpoint skipped (configure --enable-failpoints)"
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
