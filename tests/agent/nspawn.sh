#!/bin/sh
# nspawn.sh - cetcd-agent against a real systemd: a throwaway container
# booted from this machine's own /usr (systemd-nspawn --volatile=yes: a
# tmpfs root, /usr read-only, nothing of the host's /etc, /var or /tmp),
# with a private network in which 127.0.0.11-13 are free.  In it, `apply`
# renders and starts the three members of a manifest as units
# (cetcd@NAME.service, user cetcd from sysusers) in parallel, as three
# hosts would, each waiting for a healthy cluster; status shows a leader;
# `drill failover --mode stop` stops and starts the leader's unit over
# sd-bus and passes; a member whose binary is missing makes apply fail
# with the unit's journal lines and what to check.  Skipped (exit 77) with
# the reason where nspawn cannot run: not root, no systemd-nspawn, or the
# container does not boot.
#
# The container's init is killed by PID when the test ends, however it
# ends (trap).  A lock keeps two runs from sharing the machine's nspawn.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

skip() {
	echo "SKIP: nspawn.sh: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to boot a container"
command -v systemd-nspawn > /dev/null || skip "no systemd-nspawn"
command -v nsenter > /dev/null || skip "no nsenter"
command -v flock > /dev/null || skip "no flock"
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd to boot"
BUILD_ABS=$(cd "$BUILD" && pwd)
[ -x "$BUILD_ABS/agent/cetcd-agent" ] && [ -x "$BUILD_ABS/node/cetcd" ] ||
	fail "build cetcd and cetcd-agent first"

# One run at a time (the lock is released when this shell exits).
exec 9> "${TMPDIR:-/tmp}/cetcd-agent-nspawn.lock"
flock -w 300 9 || skip "another nspawn.sh holds the lock for 5 minutes"

NSPAWN_PID="" INIT=""
T0=$(date +%s)
step() { echo "nspawn: $* ($(($(date +%s) - T0)) s)"; }
nspawn_cleanup() {
	# Always: the container's init by PID (its namespace dies with it).
	if [ -n "$INIT" ]; then
		kill -9 "$INIT" 2> /dev/null || true
	fi
	if [ -n "$NSPAWN_PID" ]; then
		for _ in $(seq 1 50); do
			kill -0 "$NSPAWN_PID" 2> /dev/null || break
			sleep 0.1
		done
		kill -9 "$NSPAWN_PID" 2> /dev/null || true
		wait "$NSPAWN_PID" 2> /dev/null || true
	fi
	testlib_cleanup
}
trap nspawn_cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$T/share"
cat > "$T/share/agent.conf" <<EOF
manifest = "/cetcd-test/m.yaml";
mode = "systemd";
timeouts = { start = "90s"; stop = "20s"; connect = "1s"; request = "3s"; };
EOF
cat > "$T/share/m.yaml" <<EOF
cluster:
  name: nspawn-test
  token: nspawn-test
defaults:
  binary: /cetcd-build/node/cetcd
  config_file: /etc/cetcd/{name}.conf
  data_dir: /var/lib/cetcd/{name}
  unit: cetcd@{name}.service
  hostname: false
  # Members started in parallel on a busy machine: no needless timeouts.
  start_timeout: 120s
members:
  - name: etcd-node01
    address: 127.0.0.11
  - name: etcd-node02
    address: 127.0.0.12
  - name: etcd-node03
    address: 127.0.0.13
drill:
  leader_timeout: 10s
  stable_time: 3s
EOF

# Boot ------------------------------------------------------------------
# An empty /etc is a first boot, which enables every unit by preset: mask
# the machine's own services, and the wait for a network that a private
# network with only lo never gets (the units want network-online.target).
MASK=""
for u in systemd-networkd-wait-online.service etcd.service \
	postgresql.service fio.service apt-daily.timer apt-daily-upgrade.timer \
	man-db.timer e2scrub_all.timer dpkg-db-backup.timer console-getty.service; do
	MASK="$MASK systemd.mask=$u"
done
systemd-nspawn -D / --volatile=yes --private-network --register=no --keep-unit \
	--machine="cetcd-test-$$" --console=read-only \
	--bind-ro="$BUILD_ABS:/cetcd-build" --bind="$T/share:/cetcd-test" \
	-b -- systemd.firstboot=off $MASK > "$T/boot.log" 2>&1 &
NSPAWN_PID=$!
# The container's init: a descendant of nspawn that is PID 1 in its own
# PID namespace (NSpid: HOSTPID 1).
find_init() {
	for s in /proc/[0-9]*/status; do
		p=${s#/proc/}
		p=${p%/status}
		ns=$(awk '/^NSpid:/ { print NF == 3 && $3 == 1 }' "$s" 2> /dev/null) || continue
		[ "$ns" = 1 ] || continue
		pp=$p
		while [ "$pp" -gt 1 ]; do
			pp=$(awk '/^PPid:/ { print $2 }' "/proc/$pp/status" 2> /dev/null) || break
			[ -n "$pp" ] || break
			if [ "$pp" = "$NSPAWN_PID" ]; then
				echo "$p"
				return 0
			fi
		done
	done
	return 1
}
for _ in $(seq 1 100); do
	INIT=$(find_init) && break
	kill -0 "$NSPAWN_PID" 2> /dev/null || break
	sleep 0.1
done
if [ -z "$INIT" ]; then
	tail -n 20 "$T/boot.log" >&2
	skip "systemd-nspawn did not start a container here (see above)"
fi
# Run a command in the container (all its namespaces, a clean env).
in_ct() {
	nsenter -t "$INIT" -m -u -i -n -p -C -- env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root "$@"
}
state=""
for _ in $(seq 1 600); do
	state=$(in_ct systemctl is-system-running 2> /dev/null) || true
	case "$state" in running | degraded) break ;; esac
	kill -0 "$INIT" 2> /dev/null || break
	sleep 0.1
done
case "$state" in
running | degraded) ;;
*)
	tail -n 30 "$T/boot.log" >&2
	skip "the container did not finish booting (state '$state'; see above)"
	;;
esac
step "booted (state $state)"
in_ct ip link show lo | grep -q '[<,]UP[,>]' || fail "lo is down in the container"

# apply every member, in parallel, as three hosts would --------------------
A="/cetcd-build/agent/cetcd-agent -c /cetcd-test/agent.conf"
for n in 1 2 3; do
	# shellcheck disable=SC2086
	in_ct $A apply --node "etcd-node0$n" > "$T/apply$n" 2>&1 &
	eval "APPLY$n=\$!"
done
rc=0
for n in 1 2 3; do
	eval "p=\$APPLY$n"
	wait "$p" || { rc=1; echo "--- apply etcd-node0$n failed:" >&2; cat "$T/apply$n" >&2; }
done
[ "$rc" -eq 0 ] || fail "apply"
for n in 1 2 3; do
	grep -q "^etcd-node0$n: healthy in cluster nspawn-test after " "$T/apply$n" ||
		fail "apply etcd-node0$n: $(cat "$T/apply$n")"
	grep -q "^cetcd@etcd-node0$n.service: daemon-reload, enabled, start queued" "$T/apply$n" ||
		fail "apply etcd-node0$n: $(cat "$T/apply$n")"
done
step "applied: $(grep -h 'healthy in cluster' "$T"/apply[123] | tr '\n' ';')"
in_ct id cetcd > /dev/null || fail "no cetcd user in the container"
for n in 1 2 3; do
	[ "$(in_ct systemctl is-active "cetcd@etcd-node0$n.service")" = active ] ||
		fail "cetcd@etcd-node0$n.service is not active"
	[ "$(in_ct systemctl is-enabled "cetcd@etcd-node0$n.service")" = enabled ] ||
		fail "cetcd@etcd-node0$n.service is not enabled"
done
in_ct stat -c %U /var/lib/cetcd/etcd-node01 | grep -qx cetcd || fail "data dir not owned by cetcd"
# A second apply changes nothing and finds the cluster healthy at once.
# shellcheck disable=SC2086
in_ct $A apply --node etcd-node02 > "$T/again" 2>&1 || fail "second apply: $(cat "$T/again")"
grep -q "^etcd-node02: nothing to do, all 3 files unchanged" "$T/again" ||
	fail "second apply rewrote files: $(cat "$T/again")"

# status, then drill --mode stop through sd-bus ---------------------------
# shellcheck disable=SC2086
in_ct $A status > "$T/st" 2>&1 || fail "status: $(cat "$T/st")"
[ "$(grep -c '^| 127\.0\.0\.1[123]:2379 ' "$T/st")" -eq 3 ] || fail "status: $(cat "$T/st")"
# shellcheck disable=SC2086
in_ct $A drill failover --mode stop > "$T/dr" 2>&1 || { cat "$T/dr" >&2; fail "drill --mode stop"; }
grep -q '^|  *taken down |  *unit cetcd@etcd-node0[123].service |$' "$T/dr" ||
	fail "the drill did not go through the unit: $(cat "$T/dr")"
grep -q '^|  *verdict |  *PASS |$' "$T/dr" || fail "drill verdict: $(cat "$T/dr")"
grep -q '^|  *writes lost |  *0 |$' "$T/dr" || fail "drill lost writes"
cat "$T/dr"
step "drill passed"

# A member that cannot start: apply names the host through hostnamed, then
# fails with the journal and what to check.
cat > "$T/share/fast.conf" <<EOF
timeouts = { start = "4s"; connect = "1s"; request = "1s"; };
EOF
cat > "$T/share/bad.yaml" <<EOF
cluster:
  name: nspawn-bad
defaults:
  binary: /nonexistent/cetcd
  config_file: /etc/cetcd/{name}.conf
  data_dir: /var/lib/cetcd/{name}
  unit: cetcd@{name}.service
  hostname: true
members:
  - name: etcd-bad
    address: 127.0.0.21
EOF
set +e
in_ct /cetcd-build/agent/cetcd-agent -c /cetcd-test/fast.conf apply \
	-f /cetcd-test/bad.yaml --node etcd-bad > "$T/bad" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "apply of a member that cannot start exits $rc: $(cat "$T/bad")"
grep -q "^cetcd-agent apply: etcd-bad: not healthy after " "$T/bad" || fail "bad apply: $(cat "$T/bad")"
grep -q "^Last lines of cetcd@etcd-bad.service's journal:" "$T/bad" || fail "no journal: $(cat "$T/bad")"
grep -q "/nonexistent/cetcd" "$T/bad" || fail "the journal lines miss the cause: $(cat "$T/bad")"
grep -q "^What to check:" "$T/bad" || fail "no advice: $(cat "$T/bad")"
grep -qx "hostname: etcd-bad (hostnamed)" "$T/bad" || fail "hostname: $(cat "$T/bad")"
[ "$(in_ct hostname)" = etcd-bad ] || fail "the container is named $(in_ct hostname)"
[ "$(in_ct cat /etc/hostname)" = etcd-bad ] || fail "/etc/hostname: $(in_ct cat /etc/hostname)"
step "ok"
