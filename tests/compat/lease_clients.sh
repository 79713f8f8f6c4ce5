#!/bin/sh
# Leases through real etcd clients against a three-member cetcd cluster on
# loopback addresses of this test's own: Debian's etcdctl 3.4 (gRPC),
# python3-etcd3 (gRPC) and python3-etcd3gw (the JSON gateway).  Each client
# is skipped with a message when it is not installed; the test fails if any
# installed client misbehaves.  Output formats are etcdctl's.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

testlib_cluster3 31 leasecompat


# --- etcdctl 3.4 ------------------------------------------------------------
if command -v etcdctl >/dev/null 2>&1; then
	E1="env ETCDCTL_API=3 etcdctl --endpoints=$A1:2379"
	E3="env ETCDCTL_API=3 etcdctl --endpoints=$A3:2379"
	# Defaults (100 ms / 1000 ms): etcd's minimum TTL is 2 s.
	check "etcdctl lease grant raises 1 s to the minimum TTL" sh -c "
		$E1 lease grant 1 | grep -Eqx 'lease [0-9a-f]{16} granted with TTL\(2s\)'"
	L=$($E1 lease grant 100 2>/dev/null | awk '{print $2}')
	check "etcdctl lease grant 100" test -n "$L"
	check "etcdctl put --lease (on a follower or the leader)" sh -c "
		$E3 put --lease=$L lk1 v1 | grep -qx OK && $E1 put --lease=$L lk2 v2 | grep -qx OK"
	check "etcdctl put --lease with an unknown lease: etcd's error" sh -c "
		! $E1 put --lease=1234abcd x y 2>$T/perr && grep -q 'etcdserver: requested lease not found' $T/perr"
	check "etcdctl lease timetolive --keys" sh -c "
		$E3 lease timetolive --keys $L | grep -Eqx 'lease $L granted with TTL\(100s\), remaining\([0-9]+s\), attached keys\(\[lk1 lk2\]\)'"
	check "etcdctl lease timetolive of an unknown lease" sh -c "
		$E1 lease timetolive 1234abcd | grep -qx 'lease 000000001234abcd already expired'"
	check "etcdctl lease list" sh -c "
		$E3 lease list >$T/ll && head -n 1 $T/ll | grep -Eqx 'found [0-9]+ leases' && grep -qx $L $T/ll"
	check "etcdctl lease keep-alive --once (on each member)" sh -c "
		for e in $A1 $A2 $A3; do
			env ETCDCTL_API=3 etcdctl --endpoints=\$e:2379 lease keep-alive --once $L |
				grep -qx 'lease $L keepalived with TTL(100)' || exit 1
		done"
	check "etcdctl lease revoke deletes the attached keys" sh -c "
		$E1 lease revoke $L | grep -qx 'lease $L revoked' &&
		[ -z \"\$($E3 get lk --prefix)\" ] && ! $E1 lease revoke $L 2>/dev/null"
	S=$($E1 lease grant 2 2>/dev/null | awk '{print $2}')
	check "etcdctl: a lease left alone expires and takes its key" sh -c "
		$E1 put --lease=$S short v >/dev/null && sleep 2 &&
		for k in \$(seq 1 40); do [ -z \"\$($E3 get short)\" ] && break; sleep 0.25; done &&
		[ -z \"\$($E3 get short)\" ] && $E3 lease timetolive $S | grep -q 'already expired'"
else
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
fi

# --- python3-etcd3 (gRPC) --------------------------------------------------------
if /usr/bin/python3 -c 'import etcd3' 2>/dev/null; then
	check "python3-etcd3: lease, put with it, refresh, info, revoke" \
		/usr/bin/python3 - "$A1" "$A3" <<'PY'
import sys
import time
import etcd3
a, b = (etcd3.client(host=h, port=2379) for h in sys.argv[1:3])
lease = a.lease(30)
assert lease.id > 0, lease.id
a.put("py/k1", "v1", lease=lease)
b.put("py/k2", "v2", lease=lease)
assert b.get("py/k1")[1].lease_id == lease.id
r = lease.refresh()
assert r and r[0].TTL == 30, r
r = b.refresh_lease(lease.id)
assert list(r)[0].TTL == 30
assert lease.granted_ttl == 30, lease.granted_ttl
assert 28 <= lease.remaining_ttl <= 30, lease.remaining_ttl
assert sorted(lease.keys) == [b"py/k1", b"py/k2"], lease.keys
try:
    a.put("py/bad", "x", lease=987654321)
    raise SystemExit("put with an unknown lease succeeded")
except Exception as e:
    assert "requested lease not found" in str(e), e
mine = a.lease(20, lease_id=4242)
assert mine.id == 4242
try:
    a.lease(20, lease_id=4242)
    raise SystemExit("a second grant of one ID succeeded")
except etcd3.exceptions.PreconditionFailedError:
    pass  # etcd compat: FailedPrecondition "lease already exists"
lease.revoke()
assert b.get("py/k1") == (None, None)
assert b.get("py/k2") == (None, None)
mine.revoke()
print("python3-etcd3 leases ok")
PY
else
	echo "skipped: python3-etcd3 not installed (deploy/install-deps installs it)"
fi

# --- python3-etcd3gw (the JSON gateway) -----------------------------------------
if /usr/bin/python3 -c 'import etcd3gw' 2>/dev/null; then
	check "python3-etcd3gw: lease, put with it, refresh, ttl, keys, revoke" \
		/usr/bin/python3 - "$A1" "$A2" <<'PY'
import sys
import etcd3gw
a, b = (etcd3gw.client(host=h, port=2379) for h in sys.argv[1:3])
lease = a.lease(30)
assert lease.id > 0, lease.id
assert a.put("/gwl/a", "1", lease=lease) is True
assert b.create("/gwl/b", "2", lease=lease) is True
assert lease.refresh() == 30
assert 28 <= lease.ttl() <= 30, lease.ttl()
assert sorted(lease.keys()) == [b"/gwl/a", b"/gwl/b"], lease.keys()
ids = [int(l["ID"]) for l in b.post(b.get_url("/lease/leases"), json={})["leases"]]
assert lease.id in ids, ids
assert lease.revoke() is True
assert b.get("/gwl/a") == [] and b.get("/gwl/b") == []
gone = etcd3gw.Lease(lease.id, client=b)
assert gone.refresh() == -1  # etcd compat: no TTL in the answer
assert gone.ttl() == -1
print("python3-etcd3gw leases ok")
PY
else
	echo "skipped: python3-etcd3gw not installed"
fi

[ "$fails" -eq 0 ] || fail "$fails lease client check(s) failed"
