#!/bin/sh
# test_cli.sh - cetcd-agent's command line against the built binary:
# --help/--version, validate's exit codes and messages, render twice
# (created, then unchanged), --dry-run writing nothing, the hosts block
# leaving other lines alone, systemd-analyze verify on rendered units, and
# apply refusing --root, an unknown member and a host without a system bus.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A="$BUILD/agent/cetcd-agent"
# No /etc/cetcd/agent.conf of the machine may leak into the test.
NOCONF="$T/none.conf"
echo '# empty' > "$NOCONF"
agent() { "$A" -c "$NOCONF" "$@"; }

# --version and --help -----------------------------------------------------
"$A" --version | grep -q '^cetcd-agent' || fail "--version"
"$A" --help | grep -q '^Usage: cetcd-agent' || fail "--help"
for c in validate render apply up down restart kill status health members \
	clock drill version help; do
	"$A" "$c" --help > "$T/help" || fail "$c --help exits non-zero"
	grep -q "^Usage: cetcd-agent $c" "$T/help" || fail "$c --help: no usage"
done
"$A" render --help | grep -q -- '--dry-run' || fail "render --help lists --dry-run"

# apply: refuses a staged root and an unknown member; without a system
# bus (a bus address that leads nowhere) it says so and writes nothing.
set +e
agent apply -f "$SRC/etc/local.yaml" --node etcd-node01 --root "$T/r" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "apply --root exits $rc"
grep -q -- "--root does not apply here" "$T/err" || fail "apply --root: $(cat "$T/err")"
set +e
agent apply -f "$SRC/etc/local.yaml" --node nosuch > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "apply --node nosuch exits $rc"
grep -q "has no member 'nosuch'; give one of: etcd-node01" "$T/err" || fail "apply nosuch: $(cat "$T/err")"
set +e
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus" agent apply -f "$SRC/etc/local.yaml" \
	--node etcd-node01 > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "apply without a bus exits $rc"
grep -q "cannot reach the system bus" "$T/err" || fail "apply without a bus: $(cat "$T/err")"
grep -q "local mode: cetcd-agent up" "$T/err" || fail "apply without a bus: no hint"
[ ! -s "$T/out" ] || fail "apply without a bus wrote: $(cat "$T/out")"
set +e
agent frobnicate > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown command exits $rc"

# validate ------------------------------------------------------------------
set +e
agent validate -f "$SRC/etc/cluster.yaml" --node etcd-node01 > /dev/null 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "validate --node exits $rc, not 2"
grep -q -- "--node does not apply here" "$T/err" || fail "validate --node message"
for f in cluster single local cluster.example; do
	agent validate -f "$SRC/etc/$f.yaml" > "$T/out" 2> "$T/err" ||
		fail "etc/$f.yaml does not validate: $(cat "$T/err")"
	grep -q "valid: cluster" "$T/out" || fail "validate $f prints no verdict"
done
cat > "$T/bad.yaml" <<'YAML'
cluster:
  name: c
defaults:
  peer_prot: 2380
members:
  - name: n1
    address: 10.0.0.1
  - name: n1
    address: 10.0.0.1
YAML
set +e
agent validate -f "$T/bad.yaml" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "validate of a bad manifest exits $rc, not 1"
grep -qx "$T/bad.yaml:4:3: unknown key 'peer_prot' in defaults; did you mean 'peer_port'?" "$T/err" ||
	fail "no suggestion for peer_prot: $(cat "$T/err")"
grep -q "^$T/bad.yaml:8:5: duplicate member name 'n1' (first at line 6)" "$T/err" ||
	fail "no duplicate-name error: $(cat "$T/err")"
grep -q "^$T/bad.yaml:8:5: warning: 2 members" "$T/err" && fail "warned twice?"
grep -q "^$T/bad.yaml:6:3: warning: 2 members tolerate" "$T/err" ||
	fail "no even-size warning: $(cat "$T/err")"
set +e
agent validate -f "$T/missing.yaml" > /dev/null 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a missing manifest exits $rc"
grep -q "cannot read the manifest: No such file or directory" "$T/err" ||
	fail "missing manifest message"
printf 'paths = { unit_dri = "/x"; };\n' > "$T/bad.conf"
set +e
"$A" -c "$T/bad.conf" validate -f "$SRC/etc/cluster.yaml" > /dev/null 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a bad agent.conf exits $rc"
grep -q "bad.conf:1: unknown setting 'unit_dri' in paths; did you mean 'unit_dir'?" "$T/err" ||
	fail "bad agent.conf message: $(cat "$T/err")"

# render: created, then unchanged; other hosts lines kept -------------------
R="$T/root"
mkdir -p "$R/etc"
printf '127.0.0.1 localhost\n# keep me\n10.1.2.3 elsewhere\n' > "$R/etc/hosts"
cp "$R/etc/hosts" "$T/hosts.before"

agent render -f "$SRC/etc/cluster.yaml" --node etcd-node01 --root "$R" --dry-run > "$T/dry" ||
	fail "dry run failed"
grep -q '^+ETCD_NAME=etcd-node01$' "$T/dry" || fail "dry run shows no env diff"
grep -q '^dry run: 4 of 4 files would change; nothing written$' "$T/dry" ||
	fail "dry run summary: $(tail -1 "$T/dry")"
[ ! -e "$R/opt" ] || fail "dry run wrote the env file"
cmp -s "$R/etc/hosts" "$T/hosts.before" || fail "dry run changed hosts"

agent render -f "$SRC/etc/cluster.yaml" --node etcd-node01 --root "$R" > "$T/out1" ||
	fail "render failed"
grep -q "^$R/opt/etcd/conf/etcd.conf: created$" "$T/out1" || fail "env not created"
grep -q "^$R/etc/hosts: updated$" "$T/out1" || fail "hosts not updated"
cmp "$R/opt/etcd/conf/etcd.conf" "$SRC/tests/agent/golden/etcd-node01.conf" ||
	fail "env file differs from scenario.md B's"
[ "$(cat "$R/etc/hostname")" = etcd-node01 ] || fail "hostname"
head -3 "$R/etc/hosts" | cmp -s - "$T/hosts.before" || fail "hosts lines changed"
grep -qx '192.168.199.103 etcd-node03' "$R/etc/hosts" || fail "hosts block"
[ "$(grep -c '^# BEGIN cetcd$' "$R/etc/hosts")" -eq 1 ] || fail "one block"

agent render -f "$SRC/etc/cluster.yaml" --node etcd-node01 --root "$R" > "$T/out2" ||
	fail "second render failed"
[ "$(grep -c ': unchanged$' "$T/out2")" -eq 4 ] || fail "second render changed: $(cat "$T/out2")"
grep -q '^etcd-node01: nothing to do, all 4 files unchanged$' "$T/out2" ||
	fail "second render does not say so"
agent render -f "$SRC/etc/cluster.yaml" --node etcd-node01 --root "$R" --dry-run > "$T/dry2"
grep -q '^dry run: 0 of 4 files would change' "$T/dry2" || fail "dry run after render"
grep -q '^[-+@]' "$T/dry2" && fail "dry run after render shows a diff"

# Another member on the same root: only its lines change.
agent render -f "$SRC/etc/cluster.yaml" --node etcd-node02 --root "$R" > "$T/out3"
grep -q "^$R/etc/hosts: unchanged$" "$T/out3" || fail "hosts block rewritten for node02"
cmp "$R/opt/etcd/conf/etcd.conf" "$SRC/tests/agent/golden/etcd-node02.conf" ||
	fail "node02 env file"

set +e
agent render -f "$SRC/etc/cluster.yaml" -w yaml --node etcd-node01 --root "$R" > /dev/null 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "-w yaml exits $rc"
grep -q -- "-w yaml is unknown; write -w table or -w json" "$T/err" || fail "-w message"
if [ "$(hostname)" != etcd-node01 ] && [ "$(hostname)" != etcd-node02 ] &&
	[ "$(hostname)" != etcd-node03 ]; then
	set +e
	agent render -f "$SRC/etc/cluster.yaml" --root "$R" > /dev/null 2> "$T/err"
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "render without --node exits $rc"
	grep -q "no member is named like this host; give --node" "$T/err" ||
		fail "render without --node message"
fi
set +e
agent render -f "$SRC/etc/cluster.yaml" --node etcd-node09 --root "$R" > /dev/null 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unknown member exits $rc"
grep -q "has no member 'etcd-node09'; give one of: etcd-node01, etcd-node02, etcd-node03" "$T/err" ||
	fail "unknown member message"

# systemd-analyze verify on the rendered units ------------------------------
if ! systemd-analyze --version > /dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found; rendered units not verified"
	exit 0
fi
sed "s|^  binary: .*|  binary: $BUILD/node/cetcd|" "$SRC/etc/cluster.yaml" > "$T/verify.yaml"
for n in 1 2 3; do
	V="$T/verify$n"
	agent render -f "$T/verify.yaml" --node "etcd-node0$n" --root "$V" > /dev/null
	systemd-analyze verify "$V/etc/systemd/system/etcd.service" > "$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify etcd-node0$n: $(cat "$T/verify.out")"
done
sed "s|^defaults:|defaults:\n  binary: $BUILD/node/cetcd|" "$SRC/etc/local.yaml" > "$T/verify-local.yaml"
agent render -f "$T/verify-local.yaml" --node etcd-node02 --root "$T/vl" > /dev/null
systemd-analyze verify "$T/vl/etc/systemd/system/cetcd@etcd-node02.service" > "$T/verify.out" 2>&1 ||
	fail "systemd-analyze verify local: $(cat "$T/verify.out")"
sed "s|^  binary: .*|  binary: $BUILD/node/cetcd|" "$SRC/etc/single.yaml" > "$T/verify-single.yaml"
agent render -f "$T/verify-single.yaml" --node apisix --root "$T/vs" > /dev/null
systemd-analyze verify "$T/vs/etc/systemd/system/etcd.service" > "$T/verify.out" 2>&1 ||
	fail "systemd-analyze verify single: $(cat "$T/verify.out")"
[ ! -e "$T/vs/etc/hosts" ] || fail "single.yaml wrote a hosts file"
# The check can fail: a unit whose binary is missing does not verify.
agent render -f "$SRC/etc/cluster.yaml" --node etcd-node01 --root "$T/nobin" > /dev/null
if systemd-analyze verify "$T/nobin/etc/systemd/system/etcd.service" > /dev/null 2>&1; then
	fail "systemd-analyze verify accepts a unit with a missing binary"
fi
echo "ok"
