#!/bin/sh
# tests/wal/bench_wal.sh - WAL append throughput next to the disk's raw
# fdatasync rate (fio), in one scratch directory.  A benchmark, not a test:
# run it once, briefly, on a quiet machine, from a build without sanitizers.
#   sh tests/wal/bench_wal.sh BUILDDIR [DIR] [SECONDS]
set -eu
builddir=${1:?usage: bench_wal.sh BUILDDIR [DIR] [SECONDS]}
secs=${3:-2}
if [ -n "${2:-}" ]; then
	# A directory of the caller's: use a fresh subdirectory, remove only it.
	mkdir -p "$2"
	dir=$(mktemp -d "$2/cetcd-bench-wal.XXXXXX")
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-bench-wal.XXXXXX")
fi
trap 'rm -rf "$dir"' EXIT
echo "== fio: raw sequential write + fdatasync, 2300-byte writes (etcd's disk check)"
if command -v fio >/dev/null 2>&1; then
	fio --name=fdatasync --directory="$dir" --rw=write --ioengine=sync \
		--fdatasync=1 --bs=2300 --size=22m --runtime="$secs" \
		--time_based=0 --output-format=normal 2>&1 |
		grep -E 'IOPS|sync.*percentiles|50.00th|99.00th' || true
	rm -f "$dir"/fdatasync*
else
	echo "fio not installed (Debian package: fio)"
fi
echo "== cetcd WAL: one wal_save (one fdatasync) per batch"
"$builddir/tests/wal/bench_wal" "$dir" "$secs"
