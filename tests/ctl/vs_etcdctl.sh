#!/bin/sh
# cetcdctl against Debian's etcdctl 3.4, both talking to a real etcd 3.4
# started here on a loopback address of this test's own: the same command
# sequence, each from an empty key space, must print the same (timings
# masked) and exit the same.  Skipped when etcd or etcdctl is not installed.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "skipped: etcd / etcdctl not installed (deploy/install-deps installs etcd-server and etcd-client)"
	exit 77
fi
CTL="$BUILD/agent/cetcdctl"
# An address of our own in 127.0.0.0/8 (pid-derived, like testlib.c).
A="127.$((200 + $$ % 50)).$((($$ / 50) % 250 + 1)).$((($$ / 12500) % 250 + 2))"
etcd --name n1 --data-dir "$T/etcd" \
	--listen-client-urls "http://$A:2379" --advertise-client-urls "http://$A:2379" \
	--listen-peer-urls "http://$A:2380" --initial-advertise-peer-urls "http://$A:2380" \
	--initial-cluster "n1=http://$A:2380" >"$T/etcd.log" 2>&1 &
PIDS="$!"
for i in $(seq 1 100); do
	ETCDCTL_API=3 etcdctl --endpoints="$A:2379" endpoint health >/dev/null 2>&1 && break
	sleep 0.1
done

# Each line: a command run by both CLIs with --endpoints prepended (the
# syntax is in tests/ctl/compare.sh).  Each pass starts from an empty key
# space.  (endpoint hashkv is not here: etcd 3.4's gateway has no HashKV
# path; tests/ctl/vs_cetcd.sh compares it against cetcd.)
cat >"$T/cmds" <<'CMDS'
put foo bar
put foo bar2 --prev-kv
put foo2 x
put zoo z
get foo
get fo --prefix
get foo --keys-only
get foo --hex
get foo zoo
get "" --from-key
get foo -w json
get fo --prefix --limit 1 -w json
get fo --prefix --sort-by=VALUE --order=DESCEND
get missing
del foo --prev-kv
del nothing
del fo --prefix
member list -w table
member list -w json
endpoint status -w json
endpoint health -w json
endpoint status
endpoint status -w table
endpoint health
endpoint health -w table
get ""
put foo bar -w fields
put foo baz --prev-kv -w fields
get foo -w fields
del foo --prev-kv -w fields
get foo -w table
put foo bar
!get foo --print-value-only -w json
get foo --consistency=s --print-value-only
get fo --prefix --rev=$REV
get "\x00" --from-key --limit=1 --hex
endpoint status -w fields
endpoint health -w fields
endpoint status --cluster
endpoint status --cluster -w json
TXN1 txn
TXN1 txn -w json
TXN1 txn -w fields
TXN2 txn
TXN2 txn -i
TXN3 txn -w fields
!TXNBAD1 txn
!TXNBAD2 txn
!TXNBAD3 txn
!TXNBAD4 txn
!TXNBAD5 txn
!TXNBAD6 txn
!TXNEOF txn
!txn extra
compaction $REV
!compaction $REV --physical
!compaction
!compaction x
!compaction 100000
alarm list
alarm list -w json
!alarm list -w table
alarm disarm
defrag
member add n2 --peer-urls=http://$PEER2 --learner
member list
member list -w json
!member add n3 --peer-urls=http://$PEER3 --learner
!member promote $LEARNER
member update $SELF --peer-urls=http://$A:2380
member update $SELF --peer-urls=http://$A:2380 -w json
!member update $SELF --peer-urls=http://$A:2380 -w fields
member remove $LEARNER
member add n4 --peer-urls=http://$PEER4 -w json --learner
member remove $LEARNER -w json
!member add
!member add x y http://a
!member update $SELF
!move-leader 1
!get foo --dial-timeout=zz
!get --prefix --from-key foo
!get foo bar --prefix
!get foo --sort-by=bogus
!get foo --consistency=x
!get --bogus-flag foo
!put
CMDS

# Inputs of the txn lines (TXNn <command>: stdin from $T/TXNn).
printf 'value("foo") = "bar"\n\nput a 1\nget foo\ndel zz --prev-kv\n\nput b 2\n\n' >"$T/TXN1"
printf 'mod("foo") > "1000000"\n\nput a 1\n\nput b 2 --prev-kv\nget fo --prefix --keys-only\n\n' >"$T/TXN2"
printf 'ver("foo") = "1"\ncreate("foo") != "0"\nval("foo") = "bar"\n\ndel a\nget "f" --from-key --limit=1\n\n\n' >"$T/TXN3"
printf 'value("foo") =\n' >"$T/TXNBAD1"
printf 'valu("foo") = "x"\n' >"$T/TXNBAD2"
printf 'ver("foo") = "x"\n' >"$T/TXNBAD3"
printf '\nput\n' >"$T/TXNBAD4"
printf '\nfoo x\n' >"$T/TXNBAD5"
printf 'value "foo" = "x"\n' >"$T/TXNBAD6"
printf 'value("foo") = "bar"\n\nput a 1\n' >"$T/TXNEOF"
# Peer addresses of members that are added but never started.
PEER2="$A:2390" PEER3="$A:2391" PEER4="$A:2392"

EPS="$A:2379"
CMDS="$T/cmds"
reset_between() { ETCDCTL_API=3 etcdctl --endpoints="$A:2379" del "" --from-key >/dev/null; }
reset_between=reset_between
. "$SRC/tests/ctl/compare.sh"
compare_run
[ "$fails" -eq 0 ] || fail "$fails differences between cetcdctl and etcdctl"
echo "vs_etcdctl: ok"
