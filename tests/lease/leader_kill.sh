#!/bin/sh
# A lease kept alive across a leader killed with SIGKILL is not revoked;
# left alone it then expires on both survivors at one revision.  Three real
# cetcd processes on loopback addresses of this test's own, spoken to
# through the JSON gateway with curl (keep-alives go to whichever member
# answers, followers forward them to the leader).
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

command -v curl >/dev/null 2>&1 || { echo "skipped: curl not installed"; exit 77; }
CETCD="$BUILD/node/cetcd"
base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
A1="127.$base.$sub.21" A2="127.$base.$sub.22" A3="127.$base.$sub.23"
IC="n1=http://$A1:2380,n2=http://$A2:2380,n3=http://$A3:2380"
i=0
for a in $A1 $A2 $A3; do
	i=$((i + 1))
	# 20 ms / 200 ms: etcd's minimum TTL is 1 s.
	"$CETCD" --name "n$i" --data-dir "$T/d$i" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--listen-client-urls "http://$a:2379" --advertise-client-urls "http://$a:2379" \
		--initial-cluster "$IC" --initial-cluster-token leasekill \
		--heartbeat-interval 20 --election-timeout 200 >"$T/n$i.log" 2>&1 &
	eval "P$i=$!"
	PIDS="$PIDS $!"
done

gw() { # address, path, JSON body
	curl -s -m 5 -X POST "http://$1:2379$2" -d "$3" || true
}
healthy() {
	curl -s -m 2 "http://$1:2379/health" | grep -q '"health":"true"'
}
for k in $(seq 1 100); do
	healthy $A1 && healthy $A2 && healthy $A3 && break
	sleep 0.1
done
healthy $A1 && healthy $A2 && healthy $A3 || { tail -n 20 "$T"/n*.log; fail "cluster did not become healthy"; }

# "lk" (base64 bGs=) on a lease of 4 s: a busy host may take a second per
# request, so the keep-alives (every 300 ms plus that) get some slack.
ID=$(gw $A1 /v3/lease/grant '{"TTL":"4"}' | sed -n 's/.*"ID":"\([0-9]*\)".*/\1/p')
[ -n "$ID" ] || fail "lease grant: no ID"
echo "$(date +%T.%N) granted $ID" >"$T/ka.log"

# Keep it alive through whichever member answers (ka.log has the answers).
(
	while :; do
		for a in $A1 $A2 $A3; do
			r=$(gw $a /v3/lease/keepalive "{\"ID\":\"$ID\"}")
			echo "$(date +%T.%N) $a $r" >>"$T/ka.log"
			echo "$r" | grep -q '"TTL":"4"' && break
		done
		sleep 0.3
	done
) >/dev/null 2>&1 &
KA=$!
PIDS="$PIDS $KA"
ka_fail() {
	tail -n 20 "$T/ka.log" | sed 's/"header":{[^}]*},//'
	fail "$@"
}
gw $A2 /v3/kv/put "{\"key\":\"bGs=\",\"value\":\"dg==\",\"lease\":\"$ID\"}" | grep -q '"revision"' ||
	ka_fail "put with the lease"

# Find and kill the leader.
lead=$(gw $A1 /v3/maintenance/status '{}' | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')
[ -n "$lead" ] || fail "no leader in status"
victim=""
for i in 1 2 3; do
	eval "a=\$A$i"
	id=$(gw $a /v3/maintenance/status '{}' | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')
	[ "$id" = "$lead" ] && victim=$i
done
[ -n "$victim" ] || fail "leader $lead not found"
eval "kill -9 \$P$victim"
echo "killed the leader n$victim"
S1="" S2=""
for i in 1 2 3; do
	[ "$i" = "$victim" ] && continue
	eval "a=\$A$i"
	if [ -z "$S1" ]; then S1=$a; else S2=$a; fi
done

# Two TTLs pass while the survivors elect a leader (which extends every
# lease by its TTL and an election timeout).
sleep 8
for a in $S1 $S2; do
	gw $a /v3/kv/range '{"key":"bGs=","serializable":true}' | grep -q '"count":"1"' ||
		ka_fail "the kept-alive key is gone on $a after the leader kill"
done
ttl=$(gw $S1 /v3/lease/timetolive "{\"ID\":\"$ID\"}" | sed -n 's/.*"TTL":"\([0-9-]*\)".*/\1/p')
[ -n "$ttl" ] && [ "$ttl" -ge 0 ] || ka_fail "timetolive after the leader kill: TTL '$ttl'"
echo "ok   kept alive across the leader kill (TTL $ttl)"

# Left alone, it expires on both survivors at one revision.
kill "$KA" 2>/dev/null || true
wait "$KA" 2>/dev/null || true
gone() {
	for a in $S1 $S2; do
		gw $a /v3/kv/range '{"key":"bGs=","serializable":true}' | grep -q '"count"' && return 1
	done
	return 0
}
for k in $(seq 1 60); do
	gone && break
	sleep 0.25
done
revs=""
for a in $S1 $S2; do
	out=$(gw $a /v3/kv/range '{"key":"bGs=","serializable":true}')
	echo "$out" | grep -q '"count"' && fail "the key outlived its lease on $a: $out"
	revs="$revs $(echo "$out" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')"
done
set -- $revs
[ "$#" -eq 2 ] && [ "$1" = "$2" ] || fail "survivors disagree on the revision:$revs"
ttl=$(gw $S2 /v3/lease/timetolive "{\"ID\":\"$ID\"}" | sed -n 's/.*"TTL":"\([0-9-]*\)".*/\1/p')
[ "$ttl" = "-1" ] || fail "timetolive of the expired lease: '$ttl'"
echo "ok   expired on both survivors at revision $1"
