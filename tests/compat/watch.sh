#!/bin/sh
# Watch through real etcd clients against a cetcd member on a loopback
# address of this test's own: Debian's etcdctl 3.4 `watch` (key, --prefix,
# --rev, --prev-kv, a compacted --rev), python3-etcd3 (watch, watch_prefix,
# events, cancel) over gRPC and python3-etcd3gw (watch, watch_prefix) over
# the JSON gateway.  Each client is skipped with a message when it is not
# installed; the test fails if any installed client misbehaves.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A=$(testlib_addr 21)
P=$((20000 + ($$ % 20000)))
EP="$A:$P"
testlib_member w "$A" "$P" $((P + 1))


# Wait until file $1 has at least $2 lines (5 s).
wait_lines() {
	for k in $(seq 1 50); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- etcdctl 3.4 ---------------------------------------------------------------
if command -v etcdctl >/dev/null 2>&1; then
	E="env ETCDCTL_API=3 etcdctl --endpoints=$EP"
	# watch_case NAME LINES WRITES ARGS...: run `etcdctl watch ARGS` in the
	# background, run the shell commands WRITES, wait for LINES lines of
	# output in $T/watch.NAME, stop the watch.
	watch_case() {
		out="$T/watch.$1" n=$2 writes=$3
		shift 3
		: >"$out"
		$E watch "$@" >"$out" 2>&1 &
		wpid=$!
		PIDS="$PIDS $wpid"
		sleep 0.5
		sh -c "$writes" >/dev/null
		wait_lines "$out" "$n" || true
		kill "$wpid" 2>/dev/null || true
		wait "$wpid" 2>/dev/null || true
	}
	lines() { tr '\n' '|' <"$T/watch.$1"; }
	watch_case key 6 "$E put wk v1 && $E put other x && $E put wk v2" wk
	check "etcdctl watch KEY: PUT lines, only the key" test "$(lines key)" = "PUT|wk|v1|PUT|wk|v2|"
	watch_case prefix 6 "$E put wp/a 1 && $E put wq 2 && $E del wp/a" --prefix wp/
	check "etcdctl watch --prefix: PUT and DELETE ($(lines prefix))" test "$(lines prefix)" = "PUT|wp/a|1|DELETE|wp/a||"
	rev=$($E put hist h1 -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
	$E put hist h2 >/dev/null
	watch_case rev 6 true --rev="$rev" hist
	check "etcdctl watch --rev: replays history" test "$(lines rev)" = "PUT|hist|h1|PUT|hist|h2|"
	watch_case prevkv 5 "$E put hist new" --prev-kv hist
	check "etcdctl watch --prev-kv: previous key and value first" test "$(lines prevkv)" = "PUT|hist|h2|hist|new|"
	crev=$($E put c x -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
	$E compaction "$crev" >/dev/null
	check "etcdctl watch --rev below the compaction: canceled, exit 5" sh -c "
		timeout 10 $E watch --rev=2 c >$T/cw 2>&1; rc=\$?; cat $T/cw;
		[ \$rc -eq 5 ] && grep -q 'required revision has been compacted' $T/cw"
else
	echo "skipped: etcdctl not installed (deploy/install-deps installs etcd-client)"
fi

# --- python3-etcd3 (gRPC) ----------------------------------------------------------
if /usr/bin/python3 -c 'import etcd3' 2>/dev/null; then
	check "python3-etcd3: watch, watch_prefix, events, cancel, start_revision" \
		/usr/bin/python3 - "$A" "$P" <<'PY'
import sys, threading, time
import etcd3
c = etcd3.client(host=sys.argv[1], port=int(sys.argv[2]))
evs, cancel = c.watch('py/k')
def writes():
    time.sleep(0.3)
    c.put('py/k', 'a'); c.put('py/other', 'x'); c.delete('py/k')
threading.Thread(target=writes).start()
got = []
for e in evs:
    got.append(e)
    if len(got) == 2:
        cancel()
assert isinstance(got[0], etcd3.events.PutEvent) and got[0].value == b'a', got
assert isinstance(got[1], etcd3.events.DeleteEvent) and got[1].key == b'py/k', got
first = got[0].mod_revision
evs, cancel = c.watch_prefix('py/', start_revision=first)
keys = []
for e in evs:
    keys.append((e.key, e.mod_revision))
    if len(keys) == 3:
        cancel()
assert [k for k, _ in keys] == [b'py/k', b'py/other', b'py/k'], keys
assert keys[0][1] == first and keys[0][1] < keys[1][1] < keys[2][1], keys
t = threading.Timer(0.3, lambda: c.put('py/once', '1')); t.start()
ev = c.watch_once('py/once', timeout=5)
assert ev.value == b'1', ev
PY
else
	echo "skipped: python3-etcd3 not installed (deploy/install-deps installs it)"
fi

# --- python3-etcd3gw (JSON gateway) -------------------------------------------
if /usr/bin/python3 -c 'import etcd3gw' 2>/dev/null; then
	check "python3-etcd3gw: watch and watch_prefix through /v3/watch" \
		/usr/bin/python3 - "$A" "$P" <<'PY'
import sys, threading, time
from etcd3gw.client import Etcd3Client
c = Etcd3Client(host=sys.argv[1], port=int(sys.argv[2]))
evs, cancel = c.watch('gw/k')
def writes():
    time.sleep(0.5)
    c.put('gw/k', 'a'); c.put('gw/other', 'x'); c.delete('gw/k')
threading.Thread(target=writes).start()
got = []
for e in evs:
    got.append(e)
    if len(got) == 2:
        cancel()
assert got[0]['kv']['key'] == b'gw/k' and got[0]['kv']['value'] == b'a' and 'type' not in got[0], got
assert got[1].get('type') == 'DELETE', got
evs, cancel = c.watch_prefix('gw/', start_revision=int(got[0]['kv']['mod_revision']))
keys = []
for e in evs:
    keys.append(e['kv']['key'])
    if len(keys) == 3:
        cancel()
assert keys == [b'gw/k', b'gw/other', b'gw/k'], keys
t = threading.Timer(0.5, lambda: c.put('gw/once', '1')); t.start()
ev = c.watch_once('gw/once', timeout=5)
assert ev['kv']['value'] == b'1', ev
PY
else
	echo "skipped: python3-etcd3gw not installed (deploy/install-deps installs it)"
fi

[ "$fails" -eq 0 ] || fail "$fails watch compatibility checks failed"
echo "compat watch: ok"
