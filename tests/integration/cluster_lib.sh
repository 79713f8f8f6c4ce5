# cluster_lib.sh - sourced by the three-member shell tests after testlib.sh:
# members n1..n3 of one cluster on this test's own loopback address
# (127.251.x.y from the pid; the C tests use 127.100-199, member.sh
# 127.250), client port 2379+10(i-1), peer port 2380+10(i-1), data in $T/di,
# log in $T/logi.  Needs curl.
CETCD="$BUILD/node/cetcd"
command -v curl >/dev/null 2>&1 || { echo "$0: skipped (no curl)"; exit 77; }
A="127.251.$(($$ % 250)).$((($$ / 250) % 250 + 1))"
CLUSTER_ARGS=""
IC="n1=http://$A:2380,n2=http://$A:2390,n3=http://$A:2400"

url() { echo "http://$A:$((2369 + 10 * $1))"; }

# start_member I [ARGS...]: start (or restart) member I; $PID_I its pid.
start_member() {
	i=$1
	shift
	env -i "$CETCD" --name "n$i" --data-dir "$T/d$i" \
		--listen-peer-urls "http://$A:$((2370 + 10 * i))" \
		--initial-advertise-peer-urls "http://$A:$((2370 + 10 * i))" \
		--listen-client-urls "$(url "$i")" \
		--advertise-client-urls "$(url "$i")" \
		--initial-cluster "$IC" --initial-cluster-token "tok-$$" \
		--initial-cluster-state new \
		$CLUSTER_ARGS "$@" >>"$T/log$i" 2>&1 &
	eval "PID_$i=$!"
	PIDS="$PIDS $!"
}

pid_of() { eval "echo \$PID_$1"; }

logs() { for i in 1 2 3; do echo "--- n$i"; tail -n 30 "$T/log$i" 2>/dev/null; done; }

# wait_healthy I...: each member answers /health true (it knows a leader).
wait_healthy() {
	for i in "$@"; do
		n=0
		until curl -sf -m 2 "$(url "$i")/health" 2>/dev/null |
			grep -q '"health":"true"'; do
			n=$((n + 1))
			[ $n -lt 300 ] || fail "n$i not healthy after 15 s: $(logs)"
			kill -0 "$(pid_of "$i")" 2>/dev/null || fail "n$i exited: $(logs)"
			sleep 0.05
		done
	done
}

# wait_leader I: the member knows a leader (/health says false while an
# alarm is active, as etcd's).
wait_leader() {
	n=0
	until [ "$(status "$1" 2>/dev/null | json_field leader)" != "" ] &&
		[ "$(status "$1" | json_field leader)" != 0 ]; do
		n=$((n + 1))
		[ $n -lt 300 ] || fail "n$1 has no leader after 15 s: $(logs)"
		kill -0 "$(pid_of "$1")" 2>/dev/null || fail "n$1 exited: $(logs)"
		sleep 0.05
	done
}

b64() { printf %s "$1" | base64 -w0; }

# put I KEY VALUE: 0 when the write was acknowledged.
put() {
	curl -sf -m 10 -X POST "$(url "$1")/v3/kv/put" \
		-d "{\"key\":\"$(b64 "$2")\",\"value\":\"$(b64 "$3")\"}" >/dev/null
}

# status I: the member's /v3/maintenance/status JSON.
status() { curl -sf -m 5 -X POST "$(url "$1")/v3/maintenance/status" -d '{}'; }

# json_field NAME: the first "NAME":"value" (etcd's gateway quotes int64s).
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([0-9a-zA-Z]*\)\"\{0,1\}.*/\1/p" | head -n 1; }

# leader_index: the index (1..3) of the member the others follow, or "".
leader_index() {
	for i in 1 2 3; do
		s=$(status "$i" 2>/dev/null) || continue
		lead=$(echo "$s" | json_field leader)
		self=$(echo "$s" | json_field member_id)
		[ -n "$lead" ] && [ "$lead" = "$self" ] && { echo "$i"; return; }
	done
	echo ""
}
