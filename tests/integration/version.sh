#!/bin/sh
# The three programs print cetcd's version and the etcd API version (3.5).
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

out=$("$BUILD/node/cetcd" --version) || fail "cetcd --version exited non-zero"
echo "$out" | grep -q '^cetcd Version: [0-9]' || fail "cetcd --version: $out"
echo "$out" | grep -q '^API version: 3.5$' || fail "cetcd --version lacks API 3.5: $out"

out=$("$BUILD/agent/cetcdctl" version) || fail "cetcdctl version exited non-zero"
echo "$out" | grep -q '^cetcdctl version: [0-9]' || fail "cetcdctl version: $out"
echo "$out" | grep -q '^API version: 3.5$' || fail "cetcdctl version lacks API 3.5: $out"

out=$("$BUILD/agent/cetcd-agent" --version) || fail "cetcd-agent --version exited non-zero"
echo "$out" | grep -q '^cetcd-agent version: [0-9]' || fail "cetcd-agent --version: $out"
echo "version: ok"
