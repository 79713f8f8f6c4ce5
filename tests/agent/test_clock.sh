#!/bin/sh
# test_clock.sh - cetcd-agent against fake members (tests/agent/
# fake_member.py): clock reads each member's clock from its Date header
# and flags one 5 s ahead (table and -w json, exit 1), accepts it under a
# larger clock_skew_max; status warns about it on stderr and keeps stdout
# etcdctl's table; members that never answer are all probed at once, so
# status with three of them takes one request timeout, not three.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

A="$BUILD/agent/cetcd-agent"
base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
P=23790
ip() { echo "127.$base.$sub.$1"; }
cat > "$T/agent.conf" <<EOF2
manifest = "$T/no-such-manifest.yaml";
timeouts = { connect = "1s"; request = "1s"; };
EOF2
agent() { "$A" -c "$T/agent.conf" "$@"; }
# manifest FILE FIRST_OCTET [DRILL LINES]: three members at .FIRST..FIRST+2
manifest() {
	{
		printf 'cluster:\n  name: clock-test\ndefaults:\n  client_port: %s\n' "$P"
		printf '  peer_port: %s\n  hostname: false\n' $((P + 1))
		printf '  config_file: /etc/cetcd/{name}.conf\n  data_dir: /var/lib/cetcd/{name}\n'
		printf '  unit: cetcd@{name}.service\nmembers:\n'
		for k in 0 1 2; do
			printf '  - name: f%s\n    address: %s\n' $((k + 1)) "$(ip $(($2 + k)))"
		done
		[ -z "${3:-}" ] || printf 'drill:\n  %s\n' "$3"
	} > "$1"
}
manifest "$T/skew.yaml" 31
manifest "$T/lenient.yaml" 31 "clock_skew_max: 10s"
manifest "$T/hang.yaml" 41
"$SRC/tests/agent/fake_member.py" "$T/ready" "$(ip 31):$P:0:ok" \
	"$(ip 32):$P:5:ok" "$(ip 33):$P:0:ok" "$(ip 41):$P:0:hang" \
	"$(ip 42):$P:0:hang" "$(ip 43):$P:0:hang" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do
	[ -e "$T/ready" ] && break
	sleep 0.1
done
[ -e "$T/ready" ] || fail "the fake members did not start"

# clock: f2 is 5 s ahead --------------------------------------------------
set +e
agent clock -f "$T/skew.yaml" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "clock with a skewed member exits $rc: $(cat "$T/out" "$T/err")"
sed -n 2p "$T/out" | tr -s ' ' | grep -qx '| ENDPOINT | NAME | OFFSET | UNCERTAINTY | ERROR |' ||
	fail "clock header: $(cat "$T/out")"
[ "$(grep -c "^| 127\.$base\.$sub\.3[123]:$P |" "$T/out")" -eq 3 ] || fail "clock rows: $(cat "$T/out")"
grep -q '^largest difference: f2 ahead of f[13] by ' "$T/out" || fail "clock summary: $(cat "$T/out")"
grep -q 'TOO FAR APART$' "$T/out" || fail "clock verdict: $(cat "$T/out")"
grep -q '^warning: the clock of f2 is .* ahead of f[13]' "$T/err" || fail "clock warning: $(cat "$T/err")"
agent clock -f "$T/skew.yaml" -w json > "$T/js" 2> /dev/null && fail "clock -w json exits 0"
python3 - "$T/js" <<'PY' || fail "clock json: $(cat "$T/js")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False and r["ahead"] == "f2" and r["max_skew_ms"] == 500, r
# 8 probes over a second pin the 1 s Date resolution down to a few 100 ms.
assert 4500 < r["difference_ms"] < 5500, r
assert r["difference_at_least_ms"] > 4000, r
m = {x["name"]: x for x in r["members"]}
assert abs(m["f2"]["offset_ms"] - 5000) < 500 and abs(m["f1"]["offset_ms"]) < 500, m
assert all(x["uncertainty_ms"] < 400 for x in r["members"]), m
print("clock: f2 ahead by %.0f ms (at least %.0f ms)" % (r["difference_ms"], r["difference_at_least_ms"]))
PY
# ... which a 10 s clock_skew_max (manifest drill:) allows.
agent clock -f "$T/lenient.yaml" > "$T/out" 2> "$T/err" || fail "lenient clock: $(cat "$T/out" "$T/err")"
grep -q ': ok$' "$T/out" || fail "lenient verdict: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "lenient clock warns: $(cat "$T/err")"

# status: the table on stdout, the clock warning on stderr ----------------
agent status -f "$T/skew.yaml" > "$T/out" 2> "$T/err" || fail "status: $(cat "$T/err")"
[ "$(grep -c '^| 127\.' "$T/out")" -eq 3 ] || fail "status rows: $(cat "$T/out")"
! grep -q warning "$T/out" || fail "warning on stdout"
grep -q '^warning: the clock of f2 is .* ahead of f[13]' "$T/err" || fail "status warning: $(cat "$T/err")"
agent status -f "$T/lenient.yaml" > "$T/out" 2> "$T/err" || fail "lenient status"
[ ! -s "$T/err" ] || fail "lenient status warns: $(cat "$T/err")"

# Members that never answer: probed in parallel ---------------------------
# (2 s each: one after the other would take 6 s; a busy machine adds some)
cat > "$T/slow.conf" <<EOF2
timeouts = { connect = "2s"; request = "2s"; };
EOF2
t0=$(date +%s%N)
set +e
"$A" -c "$T/slow.conf" status -f "$T/hang.yaml" > "$T/out" 2> "$T/err"
rc=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 1 ] || fail "status of hanging members exits $rc"
[ "$(grep -c '^Failed to get the status of endpoint 127\..* (context deadline exceeded)$' "$T/err")" -eq 3 ] ||
	fail "hanging members: $(cat "$T/err")"
[ "$ms" -lt 5000 ] || fail "status of three hanging members took $ms ms (one timeout is 2000 ms)"
set +e
agent health -f "$T/hang.yaml" -w json > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "health of hanging members exits $rc"
[ "$(grep -o '"health":false' "$T/out" | wc -l)" -eq 3 ] || fail "health json: $(cat "$T/out")"
echo "test_clock: ok (status of three hanging members: $ms ms)"
