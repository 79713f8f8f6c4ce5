#!/bin/sh
# The smoke tier of the fault suite (make check): a few short scenarios
# against a three-member cluster, the register and the watch workloads
# (five clients, four watchers), whose histories must pass the checker,
# then, in a build configured with --enable-failpoints, each planted bug
# (CETCD_TEST_BUG) under the scenario that must expose it: the checker
# has to FAIL there, or the suite proves nothing.  Seeds are printed with a
# replay command; CETCD_TEST_SEED fixes them, FAULTS_DURATION (seconds)
# changes the length of each scenario.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "faults smoke: skipped (no /usr/bin/python3)"; exit 77; }
D=${FAULTS_DURATION:-12}
run() {
	"$PY" "$SRC/tests/faults/faults.py" --cetcd "$BUILD/node/cetcd" \
		--checker "$BUILD/tests/faults/checker" --duration "$D" "$@"
}
run --scenario kill-leader+kill-follower+term-leader || fail "kill scenario"
run --scenario links+partition-leader+pause-leader || fail "link scenario"
run --scenario torn-wal+bitflip+kill-all || fail "disk scenario"
if grep -q '^#define CETCD_FAILPOINTS 1' "$BUILD/config.h" 2>/dev/null; then
	# bitflip-closed needs small WAL segments (CETCD_WAL_SEGMENT_SIZE,
	# honoured by test builds only).
	run --scenario failpoint+bitflip-closed || fail "failpoint scenario"
fi

if grep -q '^#define CETCD_FAILPOINTS 1' "$BUILD/config.h" 2>/dev/null; then
	# Longer runs: a bug must have its chance even on a busy machine.  The
	# register bugs run without watchers: every client write counts.
	D=$((D + 8))
	run --bug local-reads --scenario partition-follower --mix 8,2,0,1 \
		--watchers 0 --expect-fail ||
		fail "the planted bug local-reads was not caught"
	run --bug ack-before-fsync --scenario kill-all --watchers 0 --expect-fail ||
		fail "the planted bug ack-before-fsync was not caught"
	run --bug split-applied-commit --scenario kill-follower --watchers 0 \
		--expect-fail ||
		fail "the planted bug split-applied-commit was not caught"
	# Watchers resume from history all the time (they move between
	# members on purpose, and after every break): the watch checker must
	# see the revision each resume skips.
	run --bug watch-skip-resume --scenario kill-follower --expect-fail ||
		fail "the planted bug watch-skip-resume was not caught"
else
	echo "faults smoke: planted bugs skipped (configure --enable-failpoints)"
fi
echo "faults smoke: ok"
