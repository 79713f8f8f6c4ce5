#!/bin/sh
# The JSON gateway's streamed request bodies against a cetcd member of this
# test's own: gateway_streams.py (watch create/progress/cancel and lease
# keep-alives over one chunked request, malformed requests) and curl
# streaming a body from a fifo, as grpc-gateway's users do.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A=$(testlib_addr 22)
P=$((20000 + ($$ % 20000)))
EP="$A:$P"
testlib_member g "$A" "$P" $((P + 1))

[ -n "${GS_SKIP_PY:-}" ] || python3 "$SRC/tests/compat/gateway_streams.py" "$A" "$P" || fail "gateway_streams.py"

# curl uploads a chunked body from a fifo: the answer to the first request
# arrives while the body is still open.  curl shows what it received only
# after its (blocking) read of stdin returns, so a second request follows.
mkfifo "$T/in"
curl -sS -N -X POST -T - "http://$EP/v3/watch" <"$T/in" >"$T/curl.out" 2>&1 &
cpid=$!
PIDS="$PIDS $cpid"
exec 3>"$T/in"
printf '{"create_request":{"key":"Y3VybA=="}}' >&3
sleep 0.3
printf '{"progress_request":{}}' >&3
got=0
for k in $(seq 1 50); do
	if grep -q '"created":true' "$T/curl.out"; then
		got=1
		break
	fi
	sleep 0.1
done
exec 3>&-
kill "$cpid" 2>/dev/null || true
[ "$got" = 1 ] || { cat "$T/curl.out"; fail "curl -T - got no created while its body was open"; }
echo "ok   curl -T - from a fifo: created while the body is open"
