#!/bin/sh
# Real etcd clients against a three-member cetcd cluster on loopback
# addresses of this test's own: Debian's etcdctl 3.4 (gRPC), python3-etcd3
# (gRPC) and python3-etcd3gw (JSON gateway).  Each client is skipped with a
# message when it is not installed; the test fails if any installed client
# misbehaves.  Output structure is checked against etcd's: table headers
# byte for byte (scenario.md), json field names, simple formats.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

testlib_cluster3 11 compat
CTL="$BUILD/agent/cetcdctl --endpoints=$EPS"


# --- etcdctl 3.4 ------------------------------------------------------------
if command -v etcdctl >/dev/null 2>&1; then
	E="env ETCDCTL_API=3 etcdctl --endpoints=$EPS"
	E1="env ETCDCTL_API=3 etcdctl --endpoints=$A1:2379"
	E3="env ETCDCTL_API=3 etcdctl --endpoints=$A3:2379"
	# The header's cells are etcd's; the first column's width follows the endpoints.
	status_hdr_re='^\| +ENDPOINT +\|        ID        \| VERSION \| DB SIZE \| IS LEADER \| IS LEARNER \| RAFT TERM \| RAFT INDEX \| RAFT APPLIED INDEX \| ERRORS \|$'
	health_hdr_re='^\| +ENDPOINT +\| HEALTH \| +TOOK +\| ERROR \|$'
	member_hdr_re='^\| +ID +\| STATUS  \| NAME \| +PEER ADDRS +\| +CLIENT ADDRS +\| IS LEARNER \|$'
	check "etcdctl put on n1 prints OK" sh -c "$E1 put greeting 'hello etcd' | grep -qx OK"
	check "etcdctl get on n3 reads it" sh -c "$E3 get greeting | tr '\n' '|' | grep -qx 'greeting|hello etcd|'"
	check "etcdctl endpoint status -w table: etcd's header, one leader, 3 rows" sh -c "
		$E endpoint status -w table >$T/st && grep -Eq '$status_hdr_re' $T/st &&
		[ \$(grep -c '3.5.13' $T/st) -eq 3 ] && [ \$(grep -c '|      true |' $T/st) -eq 1 ]"
	check "etcdctl endpoint status -w json: etcd's field names" sh -c "
		$E endpoint status -w json | grep -q '\"Endpoint\":.*\"Status\":{\"header\":{\"cluster_id\":[0-9]*,\"member_id\":[0-9]*,.*\"version\":\"3.5.13\",\"dbSize\":[0-9]*,\"leader\":[0-9]*,\"raftIndex\":[0-9]*,\"raftTerm\":[0-9]*,\"raftAppliedIndex\":[0-9]*'"
	check "etcdctl endpoint status (simple)" sh -c "$E endpoint status | grep -Eq '^$A1:2379, [0-9a-f]+, 3.5.13, [0-9.]+ [kMG]?B, (true|false), false, [0-9]+, [0-9]+, [0-9]+, $'"
	check "etcdctl endpoint health -w table" sh -c "$E endpoint health -w table | grep -Eq '$health_hdr_re'"
	check "etcdctl endpoint health: three healthy endpoints" sh -c "[ \$($E endpoint health 2>&1 | grep -c 'is healthy: successfully committed proposal: took = ') -eq 3 ]"
	check "etcdctl member list -w table: three started members" sh -c "
		$E member list -w table >$T/ml && grep -Eq '$member_hdr_re' $T/ml && [ \$(grep -c '| started |' $T/ml) -eq 3 ]"
	check "etcdctl member list -w json" sh -c "$E member list -w json | grep -q '\"members\":\[{\"ID\":[0-9]*,\"name\":\"n[123]\",\"peerURLs\":\[\"http://'"
	check "etcdctl get --prefix --keys-only --sort-by" sh -c "
		$E1 put app/b 2 >/dev/null && $E1 put app/a 1 >/dev/null && $E1 put app/c 3 >/dev/null &&
		$E3 get app/ --prefix --keys-only --sort-by=VALUE --order=DESCEND | tr '\n' '|' | grep -qx 'app/c||app/b||app/a||'"
	check "etcdctl get --limit and --rev" sh -c "
		rev=\$($E1 get app/a -w json | sed 's/.*\"mod_revision\":\([0-9]*\).*/\1/') &&
		$E1 put app/a changed >/dev/null &&
		$E1 get app/a --rev=\$rev | tail -n 1 | grep -qx 1 &&
		[ \$($E1 get app/ --prefix --limit 1 | wc -l) -eq 2 ]"
	check "etcdctl txn from stdin" sh -c "
		printf 'value(\"greeting\") = \"hello etcd\"\n\nput txn yes\n\nput txn no\n\n' | $E1 txn | head -n 1 | grep -qx SUCCESS &&
		$E3 get txn --print-value-only | grep -qx yes"
	check "etcdctl del --prefix prints the count" sh -c "$E1 del app/ --prefix | grep -qx 3"
	check "etcdctl compaction" sh -c "
		rev=\$($E1 put c1 x -w json | sed 's/.*\"revision\":\([0-9]*\).*/\1/') &&
		$E1 compaction \$rev | grep -qx \"compacted revision \$rev\" &&
		! $E1 get c1 --rev=1 2>$T/cerr && grep -q 'required revision has been compacted' $T/cerr"
	# Admin commands (tests/ctl/vs_cetcd.sh compares their exact output with cetcdctl's).
	check "etcdctl endpoint hashkv: the three members agree" sh -c "
		$E endpoint hashkv >$T/hk && [ \$(wc -l <$T/hk) -eq 3 ] &&
		[ \$(cut -d' ' -f2 $T/hk | sort -u | wc -l) -eq 1 ] &&
		$E endpoint hashkv -w json | grep -q '\"HashKV\":{\"header\":{.*},\"hash\":[0-9]*,\"compact_revision\":'"
	# Maintenance.Hash (etcdctl has no command for it): the gateway on each
	# member; equal once every member has applied and compacted alike.
	hash_agree() {
		for try in $(seq 1 20); do
			for a in $A1 $A2 $A3; do
				echo "$(curl -sf -X POST -d '{}' "http://$a:2379/v3/maintenance/hash" |
					sed -n 's/.*"hash":\([0-9]*\).*/\1/p')"
			done >"$T/h"
			[ "$(grep -cx '[0-9][0-9]*' "$T/h")" -eq 3 ] &&
				[ "$(sort -u "$T/h" | wc -l)" -eq 1 ] && return 0
			sleep 0.5
		done
		cat "$T/h"
		return 1
	}
	check "Maintenance.Hash: the three members agree" hash_agree
	check "etcdctl alarm list: no alarm, exit 0" sh -c "[ -z \"\$($E alarm list)\" ]"
	check "etcdctl defrag --cluster: every member" sh -c "
		[ \$($E defrag --cluster | grep -c '^Finished defragmenting etcd member\[http://127\.') -eq 3 ]"
	check "etcdctl member add --learner, list, promote refused (not started), remove" sh -c "
		$E1 member add n4 --learner --peer-urls=http://$A1:2390 >$T/ma &&
		grep -Eq '^Member +[0-9a-f]+ added to cluster +[0-9a-f]+$' $T/ma &&
		grep -qx 'ETCD_INITIAL_CLUSTER_STATE=\"existing\"' $T/ma &&
		id=\$($E1 member list | grep ', unstarted, , http://$A1:2390, , true$' | cut -d, -f1) &&
		[ -n \"\$id\" ] &&
		lead=\$($E endpoint status | grep ', true, false, ' | cut -d, -f1) &&
		! env ETCDCTL_API=3 etcdctl --endpoints=\$lead member promote \$id 2>$T/pe &&
		grep -q 'can only promote a learner member which is in sync with leader' $T/pe &&
		$E1 member remove \$id | grep -Eq \"^Member +\$id removed from cluster\" &&
		[ \$($E1 member list | wc -l) -eq 3 ]"
	check "etcdctl move-leader to a follower, and back" sh -c "
		old=\$($E endpoint status | grep ', true, false, ' | cut -d, -f2 | tr -d ' ') &&
		new=\$($E endpoint status | grep -m1 ', false, false, ' | cut -d, -f2 | tr -d ' ') &&
		$E move-leader \$new | grep -qx \"Leadership transferred from \$old to \$new\" &&
		$E endpoint status | grep -q \"\$new, 3.5.13, .*, true, false, \" &&
		$E move-leader \$old >/dev/null"
	check "unimplemented methods fail at once, never hang" sh -c "
		! timeout 10 $E1 role list 2>$T/lerr && grep -q 'Unimplemented' $T/lerr"
else
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
fi

# --- python3-etcd3 (gRPC) --------------------------------------------------------
if /usr/bin/python3 -c 'import etcd3' 2>/dev/null; then
	check "python3-etcd3: put, get, get_prefix, delete, txn, members, status" \
		/usr/bin/python3 - "$A1" "$A3" <<'PY'
import sys
import etcd3
a, b = (etcd3.client(host=h, port=2379) for h in sys.argv[1:3])
a.put('/py/a', '1'); a.put('/py/b', '2')
assert b.get('/py/a')[0] == b'1'
assert sorted(m.key for _, m in b.get_prefix('/py/')) == [b'/py/a', b'/py/b']
ok, _ = a.transaction(compare=[a.transactions.value('/py/a') == '1'],
                      success=[a.transactions.put('/py/t', 'yes')],
                      failure=[a.transactions.put('/py/t', 'no')])
assert ok and b.get('/py/t')[0] == b'yes'
assert a.delete('/py/b') and b.get('/py/b')[0] is None
names = sorted(m.name for m in a.members)
assert names == ['n1', 'n2', 'n3'], names
s = a.status()
assert s.version == '3.5.13' and s.raft_term >= 1 and s.leader is not None
PY
else
	echo "skipped: python3-etcd3 not installed (deploy/install-deps installs it)"
fi

# --- python3-etcd3gw (JSON gateway) ------------------------------------------
if /usr/bin/python3 -c 'import etcd3gw' 2>/dev/null; then
	check "python3-etcd3gw: put, get, get_prefix, delete, members, status" \
		/usr/bin/python3 - "$A2" "$A3" <<'PY'
import sys
from etcd3gw.client import Etcd3Client
a, b = (Etcd3Client(host=h, port=2379) for h in sys.argv[1:3])
assert a.put('gw/a', '1') and a.put('gw/b', '2')
assert b.get('gw/a') == [b'1']
assert sorted(m['key'] for _, m in b.get_prefix('gw/')) == [b'gw/a', b'gw/b']
assert a.delete('gw/b') and b.get('gw/b') == []
assert sorted(m['name'] for m in a.members()) == ['n1', 'n2', 'n3']
st = a.status()
assert st['version'] == '3.5.13' and int(st['raftTerm']) >= 1
PY
else
	echo "skipped: python3-etcd3gw not installed (deploy/install-deps installs it)"
fi

[ "$fails" -eq 0 ] || fail "$fails compatibility checks failed"
echo "compat clients: ok"
