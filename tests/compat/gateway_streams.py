#!/usr/bin/python3
# gateway_streams.py HOST PORT - the JSON gateway's streamed request bodies
# (/v3/watch, /v3/lease/keepalive): several JSON requests sent over the life
# of one chunked request, each answered as it arrives (etcd 3.4's
# grpc-gateway behaviour, checked with curl against etcd 3.4.23).  Prints
# "ok ..." or "FAIL ..." lines; exits 1 on any failure.
import base64, json, socket, sys, time, urllib.request

HOST, PORT = sys.argv[1], int(sys.argv[2])
fails = 0


def check(name, cond, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else " %r" % (detail,)), flush=True)
    if not cond:
        fails += 1


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unary(path, body):
    req = urllib.request.Request("http://%s:%d%s" % (HOST, PORT, path), json.dumps(body).encode())
    return json.loads(urllib.request.urlopen(req, timeout=5).read())


class Stream:
    """One POST with a chunked body, read as a chunked answer."""

    def __init__(self, path, expect=True):
        self.s = socket.create_connection((HOST, PORT), timeout=5)
        head = "POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n" % path
        if expect:
            head += "Expect: 100-continue\r\n"
        self.s.sendall((head + "\r\n").encode())
        self.buf = b""
        self.status = None
        self.chunked = False
        self.ended = False

    def send(self, text):
        b = text.encode()
        self.s.sendall(b"%x\r\n%s\r\n" % (len(b), b))

    def end(self):
        self.s.sendall(b"0\r\n\r\n")

    def _fill(self, deadline):
        self.s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return False
        if not d:
            raise EOFError
        self.buf += d
        return True

    def _head(self, deadline):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i].decode(), self.buf[i + 4:]
                status = int(head.split()[1])
                if status == 100:
                    continue
                self.status = status
                self.headers = head.lower()
                self.chunked = "transfer-encoding: chunked" in self.headers
                return True
            if time.time() > deadline or not self._fill(deadline):
                return False

    def read(self, timeout=3.0):
        """The next message (a dict), "END" when the stream ended, None on
        timeout; a non-streamed answer comes back as (status, dict)."""
        deadline = time.time() + timeout
        if self.status is None and not self._head(deadline):
            return None
        if not self.chunked:
            n = int([l for l in self.headers.split("\r\n") if l.startswith("content-length:")][0].split(":")[1])
            while len(self.buf) < n:
                if not self._fill(deadline):
                    return None
            return (self.status, json.loads(self.buf[:n]))
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                n = int(self.buf[:i], 16)
                if n == 0:
                    self.ended = True
                    return "END"
                if len(self.buf) >= i + 2 + n + 2:
                    data = self.buf[i + 2:i + 2 + n]
                    self.buf = self.buf[i + 2 + n + 2:]
                    return json.loads(data)
            if time.time() > deadline or not self._fill(deadline):
                return None

    def close(self):
        self.s.close()


def res(m):
    return m["result"] if isinstance(m, dict) and "result" in m else {}


# --- watch: create, event, progress, cancel over one request -----------------
import os
# etcd 3.4 serves /v3 and /v3beta; cetcd also /v3alpha (etcd3gw 2.0).
for prefix in os.environ.get("GS_PREFIXES", "/v3 /v3beta /v3alpha").split():
    key = "gs" + prefix.strip("/")
    w = Stream(prefix + "/watch")
    w.send(json.dumps({"create_request": {"key": b64(key)}}))
    m = w.read()
    check(prefix + "/watch: created before the body ends", res(m).get("created") is True, m)
    unary("/v3/kv/put", {"key": b64(key), "value": b64("v1")})
    m = w.read()
    ev = res(m).get("events", [{}])
    check(prefix + "/watch: event while the body is open", ev[0].get("kv", {}).get("value") == b64("v1"), m)
    w.send(json.dumps({"progress_request": {}}))
    m = w.read()
    check(prefix + "/watch: progress request answered with watch_id -1", res(m).get("watch_id") == "-1", m)
    w.send(json.dumps({"cancel_request": {"watch_id": "0"}}))
    m = w.read()
    check(prefix + "/watch: cancel request answered", res(m).get("canceled") is True, m)
    unary("/v3/kv/put", {"key": b64(key), "value": b64("v2")})
    m = w.read(0.5)
    check(prefix + "/watch: no event after the cancel", m is None, m)
    w.close()

# Two requests in one piece, and one request split over pieces.
w = Stream("/v3/watch")
w.send('{"create_request":{"key":"%s"}} {"create_request":{"key":"%s"}}{"create_' % (b64("gsa"), b64("gsb")))
w.send('request":{"key":"%s"}}' % b64("gsc"))
ids = [res(w.read()).get("watch_id", "0") for _ in range(3)]
check("watch: requests packed in one piece and split over two", ids == ["0", "1", "2"], ids)
w.close()

# --- watch: a malformed message mid-stream ends the input, not the stream ----
w = Stream("/v3/watch")
w.send(json.dumps({"create_request": {"key": b64("gsm")}}))
w.read()
w.send('{"cancel_request":x}')
w.send(json.dumps({"cancel_request": {"watch_id": "0"}}))
unary("/v3/kv/put", {"key": b64("gsm"), "value": b64("after")})
m = w.read()
check("watch: after a malformed request the watch still delivers", res(m).get("events", [{}])[0].get("kv", {}).get("value") == b64("after"), m)
m = w.read(0.5)
check("watch: requests after a malformed one are ignored", m is None, m)
w.close()

# --- a malformed first message: the decoder's error, gRPC Unknown ------------
for path in ("/v3/watch", "/v3/lease/keepalive"):
    w = Stream(path)
    w.send("{x")
    w.send("}")
    m = w.read()
    check(path + ": malformed first request is a 500 with code 2", isinstance(m, tuple) and m[0] == 500 and m[1].get("code") == 2, m)
    w.close()

# --- lease keep-alive: one request, many renewals -----------------------------
lid = unary("/v3/lease/grant", {"TTL": 2})["ID"]
k = Stream("/v3/lease/keepalive")
ttls = []
t0 = time.time()
for i in range(5):
    k.send(json.dumps({"ID": lid}))
    m = k.read()
    ttls.append(res(m).get("TTL"))
    time.sleep(0.6)
check("lease/keepalive: each request answered while the body is open", ttls == ["2"] * 5, ttls)
ttl = unary("/v3/lease/timetolive", {"ID": lid})
check("lease/keepalive: the lease outlived its TTL (%.1f s)" % (time.time() - t0), int(ttl.get("TTL", "-1")) > 0, ttl)
k.send(json.dumps({"ID": "5"}))
m = k.read()
check("lease/keepalive: an unknown lease answers without TTL", res(m).get("ID") == "5" and "TTL" not in res(m), m)
k.end()
m = k.read()
check("lease/keepalive: the end of the body ends the stream", m == "END", m)
k.close()

# An empty body: an empty stream (etcd: the server loop sees EOF at once).
k = Stream("/v3/lease/keepalive")
k.end()
m = k.read()
check("lease/keepalive: an empty body gives an empty stream", m == "END" and k.status == 200, m)
k.close()

sys.exit(1 if fails else 0)
