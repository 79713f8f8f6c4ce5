#!/bin/sh
# cetcdctl's answers to bad input, as etcdctl's: the exit code, the
# "Error:" line and, for what cobra rejects (flags, argument counts), the
# command's usage.  No server is needed: a closed port stands for one.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

CTL="$BUILD/agent/cetcdctl"
# Nothing listens on port 1 of our own loopback address.
DEAD="127.$((200 + $$ % 50)).$((($$ / 50) % 250 + 1)).9:1"
fails=0
expect() { # rc, stderr regexp, usage regexp ("" = no usage), command...
	want_rc=$1 want_err=$2 want_usage=$3
	shift 3
	rc=0
	"$@" </dev/null >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want_rc" ] || ! grep -Eq "$want_err" "$T/err" ||
		{ [ -n "$want_usage" ] && ! grep -Eq "$want_usage" "$T/err"; } ||
		{ [ -z "$want_usage" ] && grep -q '^USAGE:' "$T/err"; }; then
		echo "FAIL ($rc, want $want_rc): $*"
		sed 's/^/     /' "$T/err" | head -n 12
		fails=$((fails + 1))
	else
		echo "ok   $*"
	fi
}
C="$CTL --endpoints=$DEAD --dial-timeout=1s"
expect 1 '^Error: unknown flag: --bogus$' 'get \[options\] <key> \[range_end\]' $C get --bogus foo
expect 1 "^Error: unknown shorthand flag: 'z' in -z$" 'put \[options\] <key> <value>' $C put -z a b
expect 128 '^Error: put command needs 1 argument and input from stdin or 2 arguments$' 'USAGE:' $C put
expect 128 '^Error: get command needs one argument as key' 'USAGE:' $C get
expect 128 '^Error: compaction command needs 1 argument$' 'compaction \[options\] <revision>' $C compaction
expect 128 '^Error: move-leader command needs 1 argument$' 'USAGE:' $C move-leader
expect 128 '^Error: member ID is not provided$' 'member remove <memberID>' $C member remove
expect 128 '^Error: txn command does not accept argument$' 'USAGE:' $C txn x
expect 1 '^Error: flag needs an argument: --peer-urls$' 'member add' $C member add x --peer-urls
expect 1 '^Error: invalid argument "zz" for "--dial-timeout" flag: time: invalid duration "zz"$' 'get \[options\]' $CTL get foo --dial-timeout=zz
expect 1 '^Error: invalid argument "1x" for "--command-timeout" flag' 'endpoint status' $CTL endpoint status --command-timeout=1x
expect 128 '^Error: member name not provided$' '' $C member add
expect 128 '^Error: too many arguments, did you mean --peer-urls=http://a$' '' $C member add x y http://a
expect 128 '^Error: member peer urls not provided$' '' $C member add x
expect 128 '^Error: bad member ID arg \(strconv.ParseUint: parsing "zz": invalid syntax\), expecting ID in Hex$' '' $C member promote zz
expect 128 '^Error: strconv.ParseUint: parsing "g1": invalid syntax$' '' $C move-leader g1
expect 1 '^Error: strconv.ParseInt: parsing "x": invalid syntax$' '' $C compaction x
expect 4 '^Error: unsupported output format$' '' $C get foo -w bogus
expect 4 '^Error: --user is not supported yet' '' $C get foo --user=a:b
expect 4 '^Error: --password is not supported yet' '' $C get foo --password=b
expect 4 '^Error: --cacert is not supported yet' '' $C get foo --cacert=/ca.pem
expect 4 '^Error: --cert is not supported yet' '' env ETCDCTL_CERT=/c.pem $C get foo
expect 4 '^Error: unknown load option bogus$' '' $C check perf --load=bogus
expect 1 'conflicting environment variable "ETCDCTL_WRITE_OUT" is shadowed' '' env ETCDCTL_WRITE_OUT=json $C get foo -w simple
expect 128 '^Error: `--prefix` and `--from-key` cannot be set at the same time, choose one$' '' $C get a --prefix --from-key
# Flags and variables that are accepted; the dead endpoint then fails.
expect 1 '^Error: context deadline exceeded$' '' $C get foo --keepalive-time=5s --keepalive-timeout=1s
expect 1 '^Error: context deadline exceeded$' '' env ETCDCTL_ENDPOINTS="http://$DEAD" $CTL get foo
expect 1 '^Failed to get the status of endpoint http://'"$DEAD"' \(context deadline exceeded\)$' '' $CTL --endpoints="http://$DEAD" endpoint status
# Malformed txn input: etcdctl's words, exit 3, before anything is sent.
for line in 'value("foo") =' 'value "foo" = "x"' 'valu("foo") = "x"' 'ver("a") = "x"' 'mod("a") ~ "1"'; do
	printf '%s\n\n\n\n' "$line" >"$T/txn"
	rc=0
	$C txn <"$T/txn" >/dev/null 2>"$T/err" || rc=$?
	if [ "$rc" = 3 ] && grep -Eq '^Error: (malformed comparison|invalid txn compare request): ' "$T/err"; then
		echo "ok   txn: $line"
	else
		echo "FAIL txn ($rc): $line"
		cat "$T/err"
		fails=$((fails + 1))
	fi
done
printf '\nput\n' | { rc=0; $C txn 2>"$T/err" || rc=$?; [ "$rc" = 3 ] && grep -qx 'Error: invalid txn compare request: put' "$T/err"; } ||
	{ echo "FAIL txn: put without a key"; fails=$((fails + 1)); }
printf '\nput a 1\n' | { rc=0; $C txn 2>"$T/err" || rc=$?; [ "$rc" = 3 ] && grep -qx 'Error: EOF' "$T/err"; } ||
	{ echo "FAIL txn: input ending early"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ] || fail "$fails error cases differ from etcdctl"
echo "errors: ok"
