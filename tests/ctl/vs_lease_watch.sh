#!/bin/sh
# cetcdctl's lease, watch and snapshot save commands against Debian's etcdctl 3.4, both
# talking to one cetcd member on a loopback address of this test's own.
# Watchers of both tools run side by side over the same writes, so even
# revisions must match; lease IDs and remaining TTLs are masked.  Failing
# commands compare the exit code and the "Error:" line.  Skipped without
# etcdctl.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

if ! command -v etcdctl >/dev/null; then
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
	exit 77
fi
CTL="$BUILD/agent/cetcdctl"
A=$(testlib_addr 41)
EP="$A:2379"
testlib_member n1 "$A" 2379 2380
G="env ETCDCTL_API=3 etcdctl --endpoints=$EP"
C="$CTL --endpoints=$EP"
fails=0

mask() {
	sed -E 's/"(ID|id|ttl|revision)":-?[0-9]+/"\1":N/g;
		s/^"(ID|TTL|Revision)" : -?[0-9]+$/"\1" : N/;
		s/[0-9a-f]{16}/LEASE/g;
		s/remaining\([0-9]+s\)/remaining(Ns)/;
		/retrying of unary invoker failed/d' "$1"
}

# run NAME ARGS...: both tools, stdout+exit code compared after masking;
# a failing command compares only its first "Error:" line.
run() {
	name=$1
	shift
	rc_g=0 rc_c=0
	$G "$@" >"$T/g.$name" 2>"$T/g.$name.err" || rc_g=$?
	$C "$@" >"$T/c.$name" 2>"$T/c.$name.err" || rc_c=$?
	if [ "$rc_g" -ne 0 ]; then
		grep -m1 '^Error:' "$T/g.$name.err" >"$T/g.$name" || true
		grep -m1 '^Error:' "$T/c.$name.err" >"$T/c.$name" || true
	fi
	mask "$T/g.$name" >"$T/g.$name.m"
	mask "$T/c.$name" >"$T/c.$name.m"
	if [ "$rc_g" != "$rc_c" ] || ! cmp -s "$T/g.$name.m" "$T/c.$name.m"; then
		echo "DIFF: $* (etcdctl exit $rc_g, cetcdctl exit $rc_c)"
		diff "$T/g.$name.m" "$T/c.$name.m" || true
		fails=$((fails + 1))
	fi
}

# --- lease ------------------------------------------------------------------
L=$($G lease grant 100 | cut -d' ' -f2)
$G put lk1 v --lease="$L" >/dev/null
$G put lk2 v --lease="$L" >/dev/null
run grant lease grant 60
run grant_json lease grant 60 -w json
run grant_fields lease grant 60 -w fields
run ttl lease timetolive "$L"
run ttl_keys lease timetolive "$L" --keys
run ttl_keys_json lease timetolive "$L" --keys -w json
run ttl_json lease timetolive "$L" -w json
run ttl_fields lease timetolive "$L" --keys -w fields
run ttl_gone lease timetolive 1234
run ttl_gone_json lease timetolive 1234 -w json
run list lease list
run list_json lease list -w json
run list_fields lease list -w fields
run ka_once lease keep-alive --once "$L"
run ka_once_json lease keep-alive --once "$L" -w json
run ka_gone lease keep-alive --once 1234
run revoke_gone lease revoke 1234
run bad_id lease timetolive zz
run bad_ttl lease grant x
run no_ttl lease grant
run table lease list -w table
R1=$($G lease grant 60 | cut -d' ' -f2)
R2=$($G lease grant 60 | cut -d' ' -f2)
$G lease revoke "$R1" >"$T/g.revoke"
$C lease revoke "$R2" >"$T/c.revoke"
[ "$(mask "$T/g.revoke")" = "$(mask "$T/c.revoke")" ] ||
	{ echo "DIFF: lease revoke"; fails=$((fails + 1)); }
$C lease timetolive "$R2" | grep -q 'already expired' ||
	{ echo "DIFF: the lease cetcdctl revoked is still there"; fails=$((fails + 1)); }

# keep-alive renews until the lease is revoked, then says so and exits 0.
K=$($G lease grant 3 | cut -d' ' -f2)
$C lease keep-alive "$K" >"$T/ka" 2>&1 &
KA=$!
PIDS="$PIDS $KA"
sleep 2.5
$G lease revoke "$K" >/dev/null
rc=0
wait "$KA" || rc=$?
if [ "$rc" -ne 0 ] || [ "$(grep -c "^lease $K keepalived with TTL(3)$" "$T/ka")" -lt 2 ] ||
	[ "$(tail -n 1 "$T/ka")" != "lease $K expired or revoked." ]; then
	echo "DIFF: lease keep-alive (exit $rc):"
	cat "$T/ka"
	fails=$((fails + 1))
fi

# --- watch ------------------------------------------------------------------
# The writes come first and every watcher replays them from revision R
# (or 1), so no watcher can miss one by starting late on a busy machine;
# each pair of watchers is stopped by PID once their outputs agree (or
# after 30 s, and the comparison below reports the difference).
R=$($G put wmark x -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
R=$((R + 1))
$G put w 1 >/dev/null
$G put wa 2 >/dev/null
$G put w 3 >/dev/null
$G del w >/dev/null
$G put wa 5 >/dev/null
$G put wb 6 --lease="$L" >/dev/null
set -- "w --prefix --prev-kv --rev=$R" "w -w json --rev=$R" "w -w fields --rev=$R" \
	"w wz --rev=$R" "w --rev=1" "wa --rev=$R"
W=""
i=0
for args in "$@"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	$G watch $args >"$T/g.w$i" 2>&1 &
	W="$W $!"
	# shellcheck disable=SC2086
	$C watch $args >"$T/c.w$i" 2>&1 &
	W="$W $!"
done
(printf 'watch wa --rev=%s\nbogus\nwatch\n' "$R"; sleep 6) | $G watch -i >"$T/g.wi" 2>&1 &
WI="$!"
(printf 'watch wa --rev=%s\nbogus\nwatch\n' "$R"; sleep 6) | $C watch -i >"$T/c.wi" 2>&1 &
WI="$WI $!"
PIDS="$PIDS $W $WI"
for _ in $(seq 60); do
	same=1
	for i in $(seq $#); do
		{ [ -s "$T/g.w$i" ] && cmp -s "$T/g.w$i" "$T/c.w$i"; } || same=0
	done
	[ "$same" = 1 ] && break
	sleep 0.5
done
sleep 0.5 # a late duplicate would show up now
for p in $W; do kill "$p"; done
for p in $W; do wait "$p" 2>/dev/null || true; done
rc_i=""
for p in $WI; do
	rc=0
	wait "$p" || rc=$?
	rc_i="$rc_i $rc"
done
[ "$rc_i" = " 3 3" ] || { echo "DIFF: watch -i exit codes$rc_i"; fails=$((fails + 1)); }
i=0
for args in "$@" i; do
	i=$((i + 1))
	f=w$i
	[ "$args" = i ] && f=wi
	if ! [ -s "$T/g.$f" ] || ! cmp -s "$T/g.$f" "$T/c.$f"; then
		echo "DIFF: watch $args"
		diff "$T/g.$f" "$T/c.$f" || true
		fails=$((fails + 1))
	fi
done
run watch_both watch a b --prefix

# --- snapshot save ----------------------------------------------------------
# Both save the member's snapshot: the same stdout (but the path), the same
# zap log messages on stderr, files of the same size whose last 32 bytes are
# the SHA-256 of the rest, and no .part left behind.
$G snapshot save "$T/g.db" >"$T/g.snap" 2>"$T/g.snap.err" || fails=$((fails + 1))
$C snapshot save "$T/c.db" >"$T/c.snap" 2>"$T/c.snap.err" || fails=$((fails + 1))
sed -i "s|$T/g.db|FILE|" "$T/g.snap"
sed -i "s|$T/c.db|FILE|" "$T/c.snap"
cmp -s "$T/g.snap" "$T/c.snap" || { echo "DIFF: snapshot save stdout"; diff "$T/g.snap" "$T/c.snap"; fails=$((fails + 1)); }
msgs() { sed -E 's/.*"caller":"([^"]*)","msg":"([^"]*)".*/\1 \2/' "$1"; }
[ "$(msgs "$T/g.snap.err")" = "$(msgs "$T/c.snap.err")" ] ||
	{ echo "DIFF: snapshot save stderr"; cat "$T/g.snap.err" "$T/c.snap.err"; fails=$((fails + 1)); }
[ "$(stat -c %s "$T/g.db")" = "$(stat -c %s "$T/c.db")" ] ||
	{ echo "DIFF: snapshot sizes"; ls -l "$T"/*.db; fails=$((fails + 1)); }
sz=$(stat -c %s "$T/c.db")
want=$(head -c $((sz - 32)) "$T/c.db" | sha256sum | cut -d' ' -f1)
got=$(tail -c 32 "$T/c.db" | od -An -tx1 | tr -d ' \n')
[ "$want" = "$got" ] || { echo "DIFF: cetcdctl's snapshot trailer is not its SHA-256"; fails=$((fails + 1)); }
[ ! -e "$T/c.db.part" ] || { echo "DIFF: snapshot .part left behind"; fails=$((fails + 1)); }
# snapshot status, restore and defrag --data-dir: tests/ctl/snapshot.sh.
run snap_args snapshot save

[ "$fails" -eq 0 ] || fail "$fails differences between cetcdctl and etcdctl"
echo "vs_lease_watch: ok"
