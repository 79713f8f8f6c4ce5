#!/bin/sh
# cetcdctl's offline commands on a cetcd member's files: snapshot status
# (laid out as Debian's etcdctl 3.4 lays out its own on an etcd 3.4
# snapshot, values masked), snapshot restore (a snapshot of a member
# becomes a new three-member cluster with the same keys and revision) and
# defrag --data-dir (refused while the member runs; the file shrinks and
# the member starts on it after).  Every error case names the file and
# what is wrong, with etcdctl's exit code.  Skipped without etcd/etcdctl.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

if ! command -v etcdctl >/dev/null || ! command -v etcd >/dev/null; then
	echo "skipped: etcd/etcdctl 3.4 not installed (deploy/install-deps installs them)"
	exit 77
fi
CETCD="$BUILD/node/cetcd"
CTL="$BUILD/agent/cetcdctl"
base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
ip() { echo "127.$base.$sub.$1"; }
fails=0
diffs() {
	echo "DIFF: $1"
	fails=$((fails + 1))
}

# start_cetcd NAME DATADIR OCTET INITIAL_CLUSTER [TOKEN]
start_cetcd() {
	a=$(ip "$3")
	"$CETCD" --name "$1" --data-dir "$2" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--listen-client-urls "http://$a:2379" --advertise-client-urls "http://$a:2379" \
		--initial-cluster "$4" --initial-cluster-token "${5:-etcd-cluster}" \
		>>"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	LAST=$!
}
wait_healthy() {
	for k in $(seq 1 100); do
		$CTL --endpoints="$1" endpoint health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$1 did not become healthy"
}
# stop PID: SIGTERM and wait, so the data dir is released.
stop() {
	kill "$1"
	wait "$1" 2>/dev/null || true
}

# --- a cetcd member with keys, and its snapshot ------------------------------
S=$(ip 51):2379
start_cetcd s1 "$T/s1" 51 "s1=http://$(ip 51):2380"
SPID=$LAST
wait_healthy "$S"
C="$CTL --endpoints=$S"
for i in 1 2 3; do $C put "k$i" "v$i" >/dev/null; done
$C del k3 >/dev/null
# Raft entries, so the store's applied index is well beyond what the
# restored cluster's new log reaches before its first write (that index
# must have been reset, or the write would be skipped as applied).
for i in $(seq 1 40); do
	curl -sf -X POST "http://$S/v3/kv/put" -d '{"key":"aw==","value":"dg=="}' >/dev/null ||
		fail "put through the gateway"
done
$C snapshot save "$T/c.db" >/dev/null 2>&1 || fail "snapshot save"
REV=$($C get k1 -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
# etcd compat: --command-timeout bounds snapshot save only when given.
for tool in etcdctl "$CTL"; do
	rc=0
	$tool --endpoints="$S" --command-timeout=1ms snapshot save "$T/to.db" >"$T/to.out" 2>&1 || rc=$?
	[ "$rc" = 5 ] && grep -q '^Error: context deadline exceeded$' "$T/to.out" &&
		[ ! -e "$T/to.db" ] && [ ! -e "$T/to.db.part" ] ||
		diffs "$tool snapshot save --command-timeout=1ms (exit $rc): $(tail -n 1 "$T/to.out")"
done

# --- etcd 3.4's own snapshot: the layout to follow ----------------------------
E=$(ip 52)
etcd --name e1 --data-dir "$T/e1" --listen-peer-urls "http://$E:2380" \
	--initial-advertise-peer-urls "http://$E:2380" --listen-client-urls "http://$E:2379" \
	--advertise-client-urls "http://$E:2379" --initial-cluster "e1=http://$E:2380" \
	>"$T/e1.log" 2>&1 &
EPID=$!
PIDS="$PIDS $EPID"
for k in $(seq 1 100); do
	etcdctl --endpoints="$E:2379" put a 1 >/dev/null 2>&1 && break
	sleep 0.1
done
etcdctl --endpoints="$E:2379" snapshot save "$T/e.db" >/dev/null 2>&1 || fail "etcd snapshot save"
stop "$EPID"

# --- snapshot status -----------------------------------------------------------
# Values differ (cetcd's store is not bbolt); masked, every byte of layout
# must match: table borders and widths, JSON field names, fields labels.
# A hash is hex in tables and decimal (up to 10 digits) in json and fields:
# any run of 5 or more such characters is one H.
mask() {
	sed -E 's/[0-9a-f]{5,}/H/g; s/[0-9]+(\.[0-9])? ?(B|kB|MB)/S/g; s/[0-9]+/N/g;
		s/ +/ /g; s/-+/-/g' "$1"
}
for w in simple table json fields; do
	etcdctl snapshot status "$T/e.db" -w "$w" >"$T/g.$w" 2>&1 || diffs "etcdctl status -w $w"
	$CTL snapshot status "$T/c.db" -w "$w" >"$T/c.$w" 2>&1 || diffs "cetcdctl status -w $w: $(cat "$T/c.$w")"
	mask "$T/g.$w" >"$T/g.$w.m"
	mask "$T/c.$w" >"$T/c.$w.m"
	cmp -s "$T/g.$w.m" "$T/c.$w.m" || { diffs "status -w $w layout"; diff "$T/g.$w.m" "$T/c.$w.m" || true; }
done
# The values: the member's revision, a stable hash, a size within the file.
grep -q "^\"Revision\" : $REV\$" "$T/c.fields" || diffs "status revision $(cat "$T/c.fields") want $REV"
size=$(sed -n 's/^"Size" : //p' "$T/c.fields")
[ "$size" -gt 0 ] && [ "$size" -le "$(stat -c %s "$T/c.db")" ] || diffs "status size $size"
$C snapshot save "$T/c2.db" >/dev/null 2>&1 || fail "second snapshot save"
[ "$($CTL snapshot status "$T/c2.db")" = "$(cat "$T/c.simple")" ] || diffs "status of two snapshots of one store differ"
sum=$(sha256sum "$T/c.db")
$CTL snapshot status "$T/c.db" >/dev/null
[ "$sum" = "$(sha256sum "$T/c.db")" ] && [ ! -e "$T/c.db-lock" ] || diffs "status modified the file"
$C snapshot status "$T/c.db" -w protobuf >/dev/null 2>&1 && diffs "status -w protobuf accepted"

# status_err NAME FILE PATTERN: exit 1 and an error line naming the file.
status_err() {
	rc=0
	$CTL snapshot status "$2" >"$T/err" 2>&1 || rc=$?
	if [ "$rc" != 1 ] || ! grep -q "^Error: .*$3" "$T/err"; then
		diffs "status $1 (exit $rc): $(cat "$T/err")"
	fi
}
mkdir "$T/dir"
head -c 10000 /dev/urandom >"$T/rnd.db"
head -c 20000 "$T/c.db" >"$T/trunc.db"
: >"$T/empty.db"
status_err missing "$T/nope.db" "stat $T/nope.db: no such file or directory"
status_err dir "$T/dir" "open $T/dir: is a directory"
status_err random "$T/rnd.db" "$T/rnd.db is neither a cetcd (LMDB) nor an etcd (bbolt) snapshot"
status_err truncated "$T/trunc.db" "$T/trunc.db is truncated or damaged"
status_err empty "$T/empty.db" "$T/empty.db is empty"
status_err bbolt "$T/e.db" "$T/e.db is an etcd (bbolt) snapshot"
# etcdctl's own words where it has them.
for f in "$T/nope.db" "$T/dir"; do
	a=$(etcdctl snapshot status "$f" 2>&1 || true)
	b=$($CTL snapshot status "$f" 2>&1 || true)
	[ "$a" = "$b" ] || diffs "status error: etcdctl '$a', cetcdctl '$b'"
done

# --- snapshot restore: errors as etcdctl's ------------------------------------
# restore_err ARGS...: both tools' exit code and "Error:" line are equal.
restore_err() {
	rc_g=0 rc_c=0
	etcdctl snapshot restore "$@" --data-dir "$T/rg" 2>"$T/rg.err" >/dev/null || rc_g=$?
	$CTL snapshot restore "$@" --data-dir "$T/rc" 2>"$T/rc.err" >/dev/null || rc_c=$?
	a=$(grep '^Error:' "$T/rg.err" | sed "s#$T/rg#D#g") || true
	b=$(grep '^Error:' "$T/rc.err" | sed "s#$T/rc#D#g") || true
	if [ "$rc_g" != "$rc_c" ] || [ "$a" != "$b" ] || [ -z "$b" ]; then
		diffs "restore $* (exit $rc_g vs $rc_c): '$a' vs '$b'"
	fi
	rm -rf "$T/rg" "$T/rc"
}
head -c $(($(stat -c %s "$T/c.db") - 32)) "$T/c.db" >"$T/nohash.db"
cp "$T/c.db" "$T/bad.db"
printf 'x' | dd of="$T/bad.db" bs=1 seek=200 conv=notrunc 2>/dev/null
restore_err "$T/nope.db"
restore_err "$T/nohash.db"
restore_err "$T/bad.db"
restore_err "$T/c.db" --name zz
mkdir "$T/rg" "$T/rc"
restore_err "$T/c.db"
$CTL snapshot restore "$T/e.db" --data-dir "$T/rb" >"$T/err" 2>&1 && diffs "restore of a bbolt file accepted"
grep -q "^Error: $T/e.db is not a cetcd snapshot" "$T/err" || diffs "restore bbolt: $(cat "$T/err")"
[ ! -e "$T/rb" ] || diffs "a refused restore left $T/rb"
$CTL snapshot restore "$T/nohash.db" --skip-hash-check --data-dir "$T/rs" >/dev/null 2>&1 ||
	diffs "restore --skip-hash-check"

# --- snapshot restore into a new three-member cluster --------------------------
IC="r1=http://$(ip 53):2380,r2=http://$(ip 54):2380,r3=http://$(ip 55):2380"
for i in 1 2 3; do
	$CTL snapshot restore "$T/c.db" --name "r$i" --data-dir "$T/r$i" \
		--initial-cluster "$IC" --initial-cluster-token new-token \
		--initial-advertise-peer-urls "http://$(ip $((52 + i))):2380" \
		>"$T/restore.out" 2>"$T/restore.err" || fail "restore r$i: $(cat "$T/restore.err")"
	[ ! -s "$T/restore.out" ] || diffs "restore printed on stdout"
	grep -q '"msg":"restored snapshot"' "$T/restore.err" || diffs "restore log: $(cat "$T/restore.err")"
done
RPIDS=""
for i in 1 2 3; do
	start_cetcd "r$i" "$T/r$i" $((52 + i)) "$IC" new-token
	RPIDS="$RPIDS $LAST"
done
R="$(ip 53):2379,$(ip 54):2379,$(ip 55):2379"
wait_healthy "$(ip 53):2379"
for i in 1 2 3; do
	ep=$(ip $((52 + i))):2379
	$CTL --endpoints="$ep" get --prefix k -w json --consistency=s >"$T/got" 2>&1 || diffs "get from r$i"
	$C get --prefix k -w json >"$T/want"
	a=$(sed 's/.*"kvs"://' "$T/want")
	b=$(sed 's/.*"kvs"://' "$T/got")
	[ "$a" = "$b" ] || diffs "r$i keys: $b, want $a"
	grep -q "\"revision\":$REV," "$T/got" || diffs "r$i revision: $(cat "$T/got") want $REV"
done
$CTL --endpoints="$R" member list >"$T/members"
[ "$(cut -d, -f3 "$T/members" | sort | tr -d ' \n')" = r1r2r3 ] || diffs "members: $(cat "$T/members")"
$CTL --endpoints="$R" put after restore -w json >"$T/put" || diffs "put after restore"
grep -q "\"revision\":$((REV + 1))," "$T/put" || diffs "revision after restore: $(cat "$T/put"), want $((REV + 1))"
for i in 1 2 3; do
	for k in $(seq 1 50); do
		v=$($CTL --endpoints="$(ip $((52 + i))):2379" get after --print-value-only --consistency=s 2>/dev/null || true)
		[ "$v" = restore ] && break
		sleep 0.1
	done
	[ "$v" = restore ] || diffs "r$i did not get the write after restore"
done
for p in $RPIDS; do stop "$p"; done

# --- defrag --data-dir ----------------------------------------------------------
rc=0
$CTL defrag --data-dir "$T/s1" >"$T/err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "^Failed to defragment etcd data\[$T/s1\] (the data dir is in use" "$T/err" ||
	diffs "defrag of a running member's dir (exit $rc): $(cat "$T/err")"
head -c 400000 /dev/zero | tr '\0' x >"$T/big"
for i in 1 2 3 4; do $C put "big$i" <"$T/big" >/dev/null; done
$C del --prefix big >/dev/null
rev=$($C get k1 -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
$C compaction --physical "$rev" >/dev/null
$C get --prefix k -w json | sed 's/.*"kvs"://' >"$T/before"
stop "$SPID"
db="$T/s1/member/snap/data.mdb"
before=$(stat -c %s "$db")
out=$($CTL defrag --data-dir "$T/s1" 2>&1) || diffs "defrag --data-dir: $out"
[ -z "$out" ] || diffs "defrag --data-dir printed '$out' (etcdctl 3.4 prints nothing)"
after=$(stat -c %s "$db")
[ "$after" -lt "$before" ] || diffs "defrag did not shrink $db ($before -> $after bytes)"
[ "$(stat -c %a "$db")" = 600 ] || diffs "defrag changed the mode of $db"
start_cetcd s1 "$T/s1" 51 "s1=http://$(ip 51):2380"
wait_healthy "$S"
$C get --prefix k -w json | sed 's/.*"kvs"://' >"$T/after"
cmp -s "$T/before" "$T/after" || diffs "keys after defrag: $(cat "$T/after")"
rc=0
$CTL defrag --data-dir "$T/nodir" >"$T/err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "^Failed to defragment etcd data\[$T/nodir\] (stat $T/nodir/member/snap/data.mdb: no such file or directory)" "$T/err" ||
	diffs "defrag of a missing dir (exit $rc): $(cat "$T/err")"
rc=0
$CTL defrag --data-dir "$T/e1" >"$T/err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "holds an etcd (bbolt) store" "$T/err" || diffs "defrag of an etcd dir (exit $rc): $(cat "$T/err")"

[ "$fails" -eq 0 ] || fail "$fails differences"
echo "snapshot: ok ($before -> $after bytes by defrag)"
