#!/bin/sh
# Soak: random seeds over a mix of every fault kind (register and watch
# workloads; in a failpoint build with small WAL segments, so that segment
# cuts happen under every fault), for as long as asked.
#   tests/faults/soak.sh SECONDS   (run from the build directory, or set
#   CETCD_BUILDDIR/CETCD_SRCDIR).  Stops at the first failing run and
# prints its replay command (faults.py prints one for every run).
. "${CETCD_SRCDIR:-$(dirname "$0")/../..}/tests/lib/testlib.sh"
SRC=${CETCD_SRCDIR:-$(dirname "$0")/../..}
END=$(($(date +%s) + ${1:-600}))
ALL=kill-follower+kill-leader+kill-majority+kill-all+term-follower+term-leader
ALL=$ALL+term-majority+term-all+pause-follower+pause-leader+partition-follower
ALL=$ALL+partition-leader+links+torn-wal+bitflip
[ "$(id -u)" = 0 ] && ALL=$ALL+disk-full
grep -q '^#define CETCD_FAILPOINTS 1' "$BUILD/config.h" && ALL=$ALL+failpoint+bitflip-closed
runs=0
while [ "$(date +%s)" -lt "$END" ]; do
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	/usr/bin/python3 "$SRC/tests/faults/faults.py" --cetcd "$BUILD/node/cetcd" \
		--checker "$BUILD/tests/faults/checker" --duration "${FAULTS_DURATION:-60}" \
		--scenario "$ALL" --seed "$seed" || fail "soak run $runs (seed $seed) failed"
	runs=$((runs + 1))
done
echo "soak: ok ($runs runs)"
