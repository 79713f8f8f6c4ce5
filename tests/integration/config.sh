#!/bin/sh
# cetcd reads its configuration as etcd does: a bad one stops it with one
# message and exit status 1; the scenario's env files are read unchanged.
# A dry run (CETCD_CHECK_CONFIG=1) prints the resolved configuration and
# exits 0 without serving (scenario A's file binds 0.0.0.0, which tests
# must not).
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
CETCD="$BUILD/node/cetcd"

# expect_fail "message substring" args...  (environment from $ENVS)
expect_fail() {
	want=$1
	shift
	rc=0
	# shellcheck disable=SC2086
	env -i $ENVS "$CETCD" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "cetcd $*: exit $rc, want 1 ($(cat "$T/err"))"
	grep -qF -- "$want" "$T/err" || fail "cetcd $*: stderr lacks '$want': $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "cetcd $*: more than one line: $(cat "$T/err")"
}

ENVS=""
expect_fail "flag provided but not defined: -foo" --foo
expect_fail "--election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]" \
	--election-timeout 100
expect_fail "URL address does not have the form \"host:port\": http://127.0.0.1" \
	--listen-peer-urls http://127.0.0.1
expect_fail "couldn't find local name \"n1\" in the initial cluster configuration" \
	--name n1 --initial-cluster n2=http://127.0.0.1:2380
expect_fail "--cert-file \"c.pem\": TLS is not supported yet" --cert-file c.pem
ENVS="ETCD_NAME=x"
expect_fail "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding command-line flag --name" \
	--name y
ENVS="ETCD_HEARTBEAT_INTERVAL=abc"
expect_fail "invalid value \"abc\" for ETCD_HEARTBEAT_INTERVAL: parse error"
ENVS=""

# Scenario A's env file, literally, as systemd's EnvironmentFile reads it.
set --
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	v=${line#*=}
	v=${v#\"}
	v=${v%\"}
	set -- "$@" "${line%%=*}=$v"
done <"$SRC/tests/server/data/scenario-a.env"
rc=0
env -i "$@" ETCD_UNKNOWN_THING=foo CETCD_CHECK_CONFIG=1 "$CETCD" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || fail "scenario A: exit $rc, want 0: $(cat "$T/err")"
grep -q '^member-id: 17ac6c9b1b6e7f0c$' "$T/out" || fail "scenario A: $(cat "$T/out")"
grep -q '^initial-cluster: apisix=http://0.0.0.0:2380,apisix=http://127.0.0.1:2380 (derived)$' "$T/out" ||
	fail "scenario A initial cluster: $(cat "$T/out")"
grep -q 'unrecognized environment variable ETCD_UNKNOWN_THING=foo' "$T/err" ||
	fail "no warning for ETCD_UNKNOWN_THING: $(cat "$T/err")"

out=$("$CETCD" --help) || fail "cetcd --help exited non-zero"
echo "$out" | grep -q -- "--initial-cluster-state 'new'" || fail "help lacks flags: $out"
echo "config: ok"
