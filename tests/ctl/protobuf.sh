#!/bin/sh
# cetcdctl -w protobuf against Debian's etcdctl 3.4, both talking to one
# cetcd member: the same bytes on stdout (decoded with protoc --decode_raw,
# the header's revision masked where a write moved it), the same exit code
# and "Error:" line for the commands etcdctl refuses.  Skipped without
# etcdctl or protoc.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

if ! command -v etcdctl >/dev/null || ! command -v protoc >/dev/null; then
	echo "skipped: etcdctl 3.4 or protoc not installed"
	exit 77
fi
CTL="$BUILD/agent/cetcdctl"
A=$(testlib_addr 56)
EP="$A:2379"
testlib_member p1 "$A" 2379 2380
G="env ETCDCTL_API=3 etcdctl --endpoints=$EP -w protobuf"
C="$CTL --endpoints=$EP -w protobuf"
fails=0

# Revisions differ between the two tools' writes: the header's revision
# (field 3 of field 1) and the create and mod revisions (2, 3) of nested
# key-values are masked; everything else must be equal.
decode() {
	protoc --decode_raw <"$1" | awk '{
		line = $0
		if (d > 0 && line ~ /^ +[23]: [0-9]+$/ && (top != "1" || line ~ /^  3:/))
			sub(/[0-9]+$/, "R", line)
		print line
		if ($0 ~ /\{$/) { if (d == 0) top = $1; d++ }
		if ($0 ~ /^ *\}$/) d--
	}'
}
# prep CMD...: run before each tool's turn, so both see the same state.
PREP=""
prep() {
	[ -z "$PREP" ] || eval "$PREP"
}
# run NAME ARGS...: both tools; stdout decoded and compared, exit codes
# compared; a failing command compares its "Error:" line.
run() {
	name=$1
	shift
	rc_g=0 rc_c=0
	prep
	$G "$@" >"$T/g.$name" 2>"$T/g.$name.err" </dev/null || rc_g=$?
	prep
	$C "$@" >"$T/c.$name" 2>"$T/c.$name.err" </dev/null || rc_c=$?
	if [ "$rc_g" -ne 0 ]; then
		grep -m1 '^Error:' "$T/g.$name.err" >"$T/g.$name.m" || true
		grep -m1 '^Error:' "$T/c.$name.err" >"$T/c.$name.m" || true
	else
		decode "$T/g.$name" >"$T/g.$name.m"
		decode "$T/c.$name" >"$T/c.$name.m"
	fi
	if [ "$rc_g" != "$rc_c" ] || ! cmp -s "$T/g.$name.m" "$T/c.$name.m" ||
		{ [ "$rc_g" -eq 0 ] && [ ! -s "$T/g.$name" ]; }; then
		echo "DIFF: $* (etcdctl exit $rc_g, cetcdctl exit $rc_c)"
		diff "$T/g.$name.m" "$T/c.$name.m" || true
		fails=$((fails + 1))
	fi
}
# same NAME ARGS...: a read, so the bytes themselves must be equal.
same() {
	run "$@"
	cmp -s "$T/g.$1" "$T/c.$1" || { echo "DIFF: bytes of $1"; fails=$((fails + 1)); }
}

P="$CTL --endpoints=$EP"
run put put k1 v1
PREP='$P del k1 >/dev/null; $P put k1 v1 >/dev/null'
run put_prev put k1 v2 --prev-kv
PREP='$P put k2 "$(printf "a\001b")" >/dev/null'
run del del k2 --prev-kv
PREP=""
$P put k2 "$(printf 'a\001b')" >/dev/null
same get get k1
same get_prefix get --prefix k
same get_keys get --prefix k --keys-only --limit 1
same get_none get nothing
run del_none del nothing
printf 'value("k1") = "v2"\n\nput k3 x\n\nget k1\n\n' >"$T/txn"
rc_g=0 rc_c=0
$P put k1 v2 >/dev/null
$G txn <"$T/txn" >"$T/g.txn" 2>/dev/null || rc_g=$?
$P del k3 >/dev/null
$C txn <"$T/txn" >"$T/c.txn" 2>/dev/null || rc_c=$?
decode "$T/g.txn" >"$T/g.txn.m"
decode "$T/c.txn" >"$T/c.txn.m"
[ "$rc_g" = "$rc_c" ] && [ -s "$T/g.txn" ] && cmp -s "$T/g.txn.m" "$T/c.txn.m" ||
	{ echo "DIFF: txn"; diff "$T/g.txn.m" "$T/c.txn.m"; fails=$((fails + 1)); }
same member_list member list
same alarm_list alarm list
run endpoint_status endpoint status
run endpoint_hashkv endpoint hashkv
run promote member promote 1234
rc=0
$C snapshot status /nonexistent >"$T/o" 2>&1 || rc=$?
[ "$rc" = 4 ] && grep -q '^Error: protobuf not supported as output format' "$T/o" ||
	{ echo "DIFF: snapshot status -w protobuf (exit $rc)"; fails=$((fails + 1)); }
# Printing no response, they print the same words in any format.
[ "$($G compaction 2)" = "compacted revision 2" ] || { echo "DIFF: etcdctl's compaction"; fails=$((fails + 1)); }
[ "$($C compaction 3)" = "compacted revision 3" ] || { echo "DIFF: compaction"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || fail "$fails differences between cetcdctl and etcdctl"
echo "protobuf: ok"
