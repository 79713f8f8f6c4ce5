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

# Each line: a command run by both CLIs with --endpoints prepended.  A
# leading "!" marks a command that must fail: only the exit code and the
# "Error:" line are compared (the usage text after it is cobra's own).
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
put foo3 v -w json
get fo --prefix --limit 1
get fo --prefix --sort-by=VALUE --order=DESCEND
get fo --prefix --print-value-only
get missing
del foo --prev-kv
del nothing
del foo3 -w json
del fo --prefix
member list
member list -w table
member list -w json
endpoint status -w json
endpoint health -w json
endpoint status
endpoint status -w table
endpoint health
endpoint health -w table
get ""
!get --bogus-flag foo
!put
CMDS

# Masks what differs by nature between two runs: durations (and the
# width they give the TOOK column) and the Raft index, which counts every
# write of both runs.
mask() {
	sed -E 's/took = [0-9.]+[µm]?s/took = T/;
		s/, [0-9]+, [0-9]+, $/, I, I, /;
		s/\| +[0-9]+ \| +[0-9]+ \| +\|$/| I | I | |/;
		s/"(revision|raftIndex|raftAppliedIndex|create_revision|mod_revision|dbSize|dbSizeInUse)":[0-9]+/"\1":N/g;
		s/"took":"[0-9.]+[µm]?s"/"took":"T"/;
		/TOOK|[0-9.]+[µm]?s \|/ { s/[0-9.]+[µm]?s/T/; s/ +/ /g; s/-+/-/g; };
		/^\+-.*-\+$/ s/-+/-/g;
		/retrying of unary invoker failed/d' "$1"
}

run_all() { # $1: label, $2: command prefix
	n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		rc=0
		eval "$2 ${cmd#!}" >"$T/$1.$n.out" 2>"$T/$1.$n.err" || rc=$?
		echo "$rc" >"$T/$1.$n.rc"
		case $cmd in
		# 3.4 prints the healthy line on stderr, 3.5 on stdout: compare both.
		"endpoint health") grep -v 'retrying of unary' "$T/$1.$n.err" >>"$T/$1.$n.out" || true ;;
		!*) : >"$T/$1.$n.out" ;;
		esac
	done <"$T/cmds"
	ETCDCTL_API=3 etcdctl --endpoints="$A:2379" del "" --from-key >/dev/null
}
run_all etcdctl "ETCDCTL_API=3 etcdctl --endpoints=$A:2379"
run_all cetcdctl "$CTL --endpoints=$A:2379"

fails=0
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	if ! cmp -s "$T/etcdctl.$n.rc" "$T/cetcdctl.$n.rc" ||
		! diff -u "$(mask "$T/etcdctl.$n.out" >"$T/m1"; echo "$T/m1")" \
			"$(mask "$T/cetcdctl.$n.out" >"$T/m2"; echo "$T/m2")" >"$T/diff"; then
		echo "DIFF: $cmd (rc $(cat "$T/etcdctl.$n.rc") vs $(cat "$T/cetcdctl.$n.rc"))"
		cat "$T/diff"
		fails=$((fails + 1))
	else
		echo "same: $cmd"
	fi
	# Errors: etcdctl's first "Error:" line must be cetcdctl's too.
	e1=$(grep -m1 '^Error:' "$T/etcdctl.$n.err" || true)
	e2=$(grep -m1 '^Error:' "$T/cetcdctl.$n.err" || true)
	if [ "$e1" != "$e2" ]; then
		echo "DIFF stderr: $cmd: '$e1' vs '$e2'"
		fails=$((fails + 1))
	fi
done <"$T/cmds"
[ "$fails" -eq 0 ] || fail "$fails differences between cetcdctl and etcdctl"
echo "vs_etcdctl: ok"
