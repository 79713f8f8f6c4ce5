#!/bin/sh
# Maintenance.Snapshot against a cetcd member with real clients: Debian's
# etcdctl 3.4 `snapshot save` completes ("Snapshot saved at ..."), the file
# ends with the SHA-256 of what precedes it, and that is an LMDB store
# (mdb_stat reads it; the C test tests/server/check_snapshot opens one with
# node/mvcc); the JSON gateway's POST /v3/maintenance/snapshot streams the
# same bytes as {"result":{...}} chunks with etcd's remaining_bytes.  Each
# part is skipped with a message when its client is not installed.
# (`etcdctl snapshot status` reads bbolt files: not applicable to cetcd.)
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A=$(testlib_addr 21)
CP=$((20000 + $$ % 20000))
testlib_member s1 "$A" "$CP" $((CP + 1))
# Values of 2 KiB: the store spans several 32 KiB messages.
pad=$(head -c 1500 /dev/zero | base64 -w0)
for i in $(seq 1 60); do
	curl -sf -X POST "http://$A:$CP/v3/kv/put" \
		-d "{\"key\":\"$(printf "k$i" | base64)\",\"value\":\"$pad\"}" >/dev/null ||
		fail "put k$i"
done

# --- etcdctl 3.4 -----------------------------------------------------------
if command -v etcdctl >/dev/null 2>&1; then
	ETCDCTL_API=3 etcdctl --endpoints="http://$A:$CP" snapshot save "$T/saved.db" >"$T/ctl.out" 2>&1 ||
		{ cat "$T/ctl.out"; fail "etcdctl snapshot save failed"; }
	grep -q "Snapshot saved at $T/saved.db" "$T/ctl.out" || { cat "$T/ctl.out"; fail "no 'Snapshot saved at'"; }
	size=$(stat -c %s "$T/saved.db")
	[ $((size % 512)) -eq 32 ] || fail "saved size $size is not n * 512 + 32"
	head -c $((size - 32)) "$T/saved.db" >"$T/payload"
	want=$(tail -c 32 "$T/saved.db" | od -An -tx1 | tr -d ' \n')
	got=$(sha256sum "$T/payload" | cut -d' ' -f1)
	[ "$want" = "$got" ] || fail "trailer $want is not the payload's sha-256 $got"
	if command -v mdb_stat >/dev/null 2>&1; then
		mkdir "$T/store" && mv "$T/payload" "$T/store/data.mdb"
		mdb_stat -a "$T/store" >"$T/stat.out" 2>&1 || { cat "$T/stat.out"; fail "mdb_stat cannot read the store"; }
		grep -q "Status of hist" "$T/stat.out" || { cat "$T/stat.out"; fail "the store has no hist table"; }
	else
		echo "skipped: mdb_stat not installed (lmdb-utils)"
	fi
	echo "ok   etcdctl snapshot save ($size bytes)"
else
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
fi

# --- the JSON gateway --------------------------------------------------------
curl -sf -X POST "http://$A:$CP/v3/maintenance/snapshot" -d '{}' >"$T/gw.out" ||
	fail "gateway snapshot request failed"
/usr/bin/python3 - "$T/gw.out" <<'PY' || fail "gateway snapshot stream is wrong"
import base64, hashlib, json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(list(m) == ["result"] for m in msgs), msgs[:1]
res = [m["result"] for m in msgs]
blobs = [base64.b64decode(r.get("blob", "")) for r in res]
data, trailer = b"".join(blobs[:-1]), blobs[-1]
rem = [int(r.get("remaining_bytes", "0")) for r in res]
assert len(res) >= 2 and all(len(b) <= 32768 for b in blobs)
# etcd compat: remaining_bytes counts what is still to come after a chunk
acc = 0
for b, r in zip(blobs[:-1], rem[:-1]):
    acc += len(b)
    assert r == len(data) - acc, (r, len(data), acc)
assert rem[-1] == 0 and hashlib.sha256(data).digest() == trailer
assert data[:0] == b"" and len(data) % 4096 == 0
print("ok   gateway snapshot stream (%d bytes in %d messages)" % (len(data), len(res)))
PY
echo "compat snapshot: ok"
