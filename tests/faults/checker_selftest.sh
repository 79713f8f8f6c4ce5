#!/bin/sh
# The checker tests itself on hand-made histories: every good_*.jsonl must
# pass (exit 0) and every bad_*.jsonl must be caught (exit 1, a VIOLATION
# line).  Each bad history breaks exactly one property (its name says
# which), so every check of the checker is seen to fail once; the
# bad_watch_* ones break a watcher's stream (a missing event, one twice,
# two swapped, a wrong value, a progress notification claiming too much)
# or the final watch history (an acknowledged write missing).
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
CHECKER="$BUILD/tests/faults/checker"
n=0
for h in "$SRC"/tests/faults/data/good_*.jsonl; do
	"$CHECKER" "$h" >"$T/out" 2>&1 || fail "$(basename "$h") should pass: $(cat "$T/out")"
	n=$((n + 1))
done
for h in "$SRC"/tests/faults/data/bad_*.jsonl; do
	rc=0
	"$CHECKER" "$h" >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$(basename "$h") should fail with 1, got $rc: $(cat "$T/out")"
	grep -q '^VIOLATION' "$T/out" || fail "$(basename "$h"): no VIOLATION line"
	n=$((n + 1))
done
# Bad input is refused, not checked.
echo '{"watch":0,"member":0}' >"$T/bad"
rc=0
"$CHECKER" "$T/bad" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a watch line without a kind: exit $rc, want 2"
echo '{"op":"put","key":"k","status":"ok"}' >"$T/bad"
rc=0
"$CHECKER" "$T/bad" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a put without a value: exit $rc, want 2"
echo "checker_selftest: ok ($n histories)"
