#!/bin/sh
# A single cetcd member as systemd runs it: it tells the service manager
# READY=1 once it serves clients (with STATUS= lines), answers puts and
# reads on the JSON gateway, stops gracefully on SIGTERM (STOPPING=1, exit
# 0), and restarted on its data dir serves the same data.  Skipped without
# curl; the sd_notify part needs python3 for the test's NOTIFY_SOCKET.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
CETCD="$BUILD/node/cetcd"
command -v curl >/dev/null 2>&1 || { echo "member: skipped (no curl)"; exit 77; }

# An address of this test's own (the C tests use 127.100-199.x.y).
A="127.250.$(($$ % 250)).$((($$ / 250) % 250 + 1))"
URL="http://$A:2379"

start() {
	env -i NOTIFY_SOCKET="${NOTIFY:-}" "$CETCD" --name solo --data-dir "$T/data" \
		--listen-peer-urls "http://$A:2380" \
		--initial-advertise-peer-urls "http://$A:2380" \
		--listen-client-urls "$URL" --advertise-client-urls "$URL" \
		>>"$T/log" 2>&1 &
	PID=$!
	PIDS="$PIDS $PID"
	i=0
	until curl -sf "$URL/health" 2>/dev/null | grep -q '"health":"true"'; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "no healthy member after 10 s: $(cat "$T/log")"
		kill -0 "$PID" 2>/dev/null || fail "cetcd exited: $(cat "$T/log")"
		sleep 0.05
	done
}

stop() {
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	[ "$rc" = 0 ] || fail "SIGTERM: exit $rc, want 0: $(cat "$T/log")"
}

NOTIFY=""
if command -v python3 >/dev/null 2>&1; then
	NOTIFY="$T/notify.sock"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a")
while True:
    out.write(s.recv(4096).decode() + "\n")
    out.flush()
' "$NOTIFY" "$T/notify.log" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -S "$NOTIFY" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "notify listener did not start"
		sleep 0.05
	done
fi

start
# greeting = "hello etcd" (base64, as the gateway wants bytes).
out=$(curl -sf -X POST "$URL/v3/kv/put" -d '{"key":"Z3JlZXRpbmc=","value":"aGVsbG8gZXRjZA=="}') ||
	fail "put failed: $(cat "$T/log")"
echo "$out" | grep -q '"revision":"2"' || fail "put: $out"
stop
if [ -n "$NOTIFY" ]; then
	grep -q '^READY=1$' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
	grep -q '^STATUS=leader, leader [0-9a-f]*, term 2, applied index [0-9]*$' "$T/notify.log" ||
		fail "no STATUS: $(cat "$T/notify.log")"
	grep -q '^STOPPING=1$' "$T/notify.log" || fail "no STOPPING=1: $(cat "$T/notify.log")"
	[ "$(grep -n '^READY=1$' "$T/notify.log" | cut -d: -f1)" -lt \
		"$(grep -n '^STOPPING=1$' "$T/notify.log" | cut -d: -f1)" ] ||
		fail "STOPPING=1 before READY=1: $(cat "$T/notify.log")"
fi

start
out=$(curl -sf -X POST "$URL/v3/kv/range" -d '{"key":"Z3JlZXRpbmc="}') || fail "range failed"
echo "$out" | grep -q '"value":"aGVsbG8gZXRjZA=="' || fail "after restart: $out"
echo "$out" | grep -q '"revision":"2"' || fail "after restart: $out"
stop
echo "member: ok"
