#!/bin/sh
# A member whose data dir's filesystem fills up (a real 80 MiB tmpfs, in a
# mount namespace of the test's own so that nothing outlives it; root, or
# an unprivileged user namespace): writes it acknowledged before are kept,
# it stops with exit status 1 and one error line naming the file, the free
# space, the data dir and the fix, tells systemd the same in STATUS=, and
# restarted once space is freed it serves every acknowledged write.
if [ -z "${CETCD_DISKFULL_NS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then ns="unshare -m --propagation private"
	else ns="unshare -rm --propagation private"; fi
	if ! $ns true 2>/dev/null; then
		echo "skipped: no mount namespace of our own (needs root or user namespaces)"
		exit 77
	fi
	CETCD_DISKFULL_NS=1 exec $ns sh "$0" "$@"
fi
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"
command -v curl >/dev/null 2>&1 || { echo "skipped: curl not installed"; exit 77; }

DISK="$T/disk"
mkdir "$DISK"
mount -t tmpfs -o size=80m tmpfs "$DISK" || { echo "skipped: cannot mount a tmpfs"; exit 77; }
trap 'umount -l "$DISK" 2>/dev/null; testlib_cleanup' EXIT
DD="$DISK/s.etcd"

base=$((($$ % 200) + 20))
sub=$((($$ / 200) % 250 + 1))
A="127.$base.$sub.31"
CETCD="$BUILD/node/cetcd"

# sd_notify messages, one a line.
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace") + "\n")
        f.flush()
' "$T/notify.sock" "$T/notify.log" &
PIDS="$PIDS $!"
for k in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done

start() {
	NOTIFY_SOCKET="$T/notify.sock" "$CETCD" --name s --data-dir "$DD" \
		--listen-peer-urls "http://$A:2380" --initial-advertise-peer-urls "http://$A:2380" \
		--listen-client-urls "http://$A:2379" --advertise-client-urls "http://$A:2379" \
		--initial-cluster "s=http://$A:2380" >>"$T/s.log" 2>&1 &
	P=$!
	PIDS="$PIDS $P"
	for k in $(seq 1 100); do
		curl -s -m 2 "http://$A:2379/health" | grep -q '"health":"true"' && return 0
		sleep 0.1
	done
	tail -n 20 "$T/s.log"
	fail "the member did not become healthy"
}
b64() { printf %s "$1" | base64 -w0; }
# put key value-file: prints the revision when acknowledged
put() {
	printf '{"key":"%s","value":"' "$(b64 "$1")" >"$T/body"
	base64 -w0 <"$2" >>"$T/body"
	printf '"}' >>"$T/body"
	curl -s -m 10 -X POST "http://$A:2379/v3/kv/put" --data-binary @"$T/body" |
		sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p'
}

start
head -c 30000 /dev/urandom >"$T/v"
for i in 1 2 3 4 5; do
	[ -n "$(put "k$i" "$T/v")" ] || fail "put k$i before the disk filled"
	echo "k$i" >>"$T/acked"
done

# Fill the filesystem to the last byte, then write until the member stops.
dd if=/dev/zero of="$DISK/filler" bs=1M 2>/dev/null || true
[ "$(df -k --output=avail "$DISK" | tail -n 1 | tr -d ' ')" = 0 ] || fail "the tmpfs is not full"
for i in $(seq 6 60); do
	kill -0 "$P" 2>/dev/null || break
	[ -n "$(put "k$i" "$T/v")" ] && echo "k$i" >>"$T/acked"
done
rc=0
wait "$P" || rc=$?
[ "$rc" = 1 ] || { tail -n 5 "$T/s.log"; fail "exit status $rc on a full disk, not 1"; }
echo "acknowledged: $(wc -l <"$T/acked") writes; the member stopped with status 1"

errs=$(grep -c 'level=error' "$T/s.log" || true)
[ "$errs" = 1 ] || { cat "$T/s.log"; fail "$errs error lines, not one"; }
line=$(grep 'level=error' "$T/s.log")
for want in "the disk is full: " "failed on $DD/member/" "No space left on device" \
	"the filesystem at $DISK has " "(data dir $DD)" \
	"free space on $DISK or move the data dir, then restart the member"; do
	case "$line" in *"$want"*) ;; *) fail "the error line lacks '$want': $line" ;; esac
done
grep -q "^STATUS=stopped: the disk is full: .*free space on $DISK or move the data dir" "$T/notify.log" ||
	{ cat "$T/notify.log"; fail "no STATUS= for the full disk"; }
grep -q '^STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"

# Space freed: every acknowledged write is back, with its value.
rm "$DISK/filler"
start
want=$(base64 -w0 <"$T/v")
while read -r k; do
	got=$(curl -s -m 10 -X POST "http://$A:2379/v3/kv/range" -d "{\"key\":\"$(b64 "$k")\"}" |
		sed -n 's/.*"value":"\([^"]*\)".*/\1/p')
	[ "$got" = "$want" ] || fail "acknowledged $k lost after the restart"
done <"$T/acked"
kill "$P"
wait "$P" || fail "the restarted member did not stop cleanly"
echo "disk_full: ok"
