#!/usr/bin/python3
"""tests/faults/faults.py - one fault-injection run against a cetcd cluster.

Starts a three-member cluster on pid-derived loopback addresses, each
member's peer port behind a proxy (members advertise the proxy's URL), runs
concurrent clients (the history recorder) and watchers (the watch
recorder: gateway watch streams on keys and a prefix, each resuming on the
next member from its last seen revision + 1 when its stream breaks, and
moving on purpose every few seconds) against every member while a nemesis
injects one kind of fault, heals everything, reads the final state (every
member's revision and HashKV, every key on every member, every
acknowledged write at its revision, and the final watch history: a full
watch from revision 1 on one member) and hands the history to the C
checker (tests/faults/checker).  Stdlib only, so it runs with
/usr/bin/python3.  Test builds only: bitflip-closed and --wal-segment-size
set CETCD_WAL_SEGMENT_SIZE (small WAL segments) for the members.

Invariants:
 1. Only processes started here are signalled, by PID; every member is
    killed and the temporary directory removed on exit.
 2. A write whose outcome the client cannot know (timeout, connection lost
    after sending, an error reply) is recorded "unknown", never "fail"; only
    a refused connection (nothing was sent) and the member's "no leader"
    (Raft refused the proposal: cetcd says so only for a write that never
    reached Raft, and a write in the log that runs out of time gets "request
    timed out") make a write "fail".  A member that broke that promise shows
    as a read that no linearization explains (failed writes are dropped).
 3. Times are CLOCK_MONOTONIC nanoseconds; an operation's invoke is taken
    before its request is sent and its complete after its reply is read.
 4. The proxy of member B applies the mode of the directed link A->B to a
    connection that A opened (A is found from the socket's owner in /proc;
    a connection whose owner is not found is closed): one proxy per
    directed peer link, without changing cetcd.  A connection's bytes are
    passed in order or the connection is reset, as TCP would: "drop"
    resets the link's connections and refuses new ones, "hold" stalls
    them, "delay" delays them, "reset" resets them once.
 5. Every run prints its seed and the command that replays it.
 6. A watcher records, in its own order: start/resume (the revision asked
    for), every event (key, type, mod/create revision, version, value,
    member), progress notifications, compactions and breaks; the checker
    relies on that order.
"""
import argparse
import base64
import collections
import http.client
import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

now = time.monotonic_ns
KEYS = ["k0", "k1", "k2"]
FAILPOINTS = ["wal_before_append", "wal_after_append", "wal_after_fsync",
              "mvcc_before_commit", "mvcc_after_commit", "snap_during_save",
              "mvcc_during_compaction"]
CLIENT_TIMEOUT = 2.0


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode(errors="replace")


def log(msg):
    sys.stderr.write("faults: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- proxies

def socket_owner(peer, pids):
    """The pid (of pids) owning the TCP socket whose local end is peer."""
    ip, port = peer
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(ip))[0], port)
    inode = None
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want:
                    inode = fields[9]
                    break
    except OSError:
        return None
    if inode is None:
        return None
    target = "socket:[%s]" % inode
    for pid in pids:
        d = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(os.path.join(d, fd)) == target:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


class Proxy(threading.Thread):
    """Listens on the member's advertised peer address, forwards to its
    real peer port, each connection under the mode of its directed link."""

    def __init__(self, cluster, dst):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.dst = dst
        m = cluster.members[dst]
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((m.ip, m.proxy_port))
        self.ls.listen(16)
        self.target = (m.ip, m.peer_port)
        self.sources = collections.Counter()  # connections by source member

    def run(self):
        while not self.cluster.closing:
            try:
                c, peer = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c, peer), daemon=True).start()

    def conn(self, c, peer):
        src = None
        for _ in range(40):
            pid = socket_owner(peer, self.cluster.pids())
            if pid is not None:
                src = self.cluster.index_of_pid(pid)
                break
            time.sleep(0.005)
        self.sources[src] += 1
        if src is None:
            # Unknown source: refuse, so that no link escapes its mode; the
            # member dials again.
            c.close()
            return
        link = (src, self.dst)
        if self.cluster.link_mode(link)[0] == "drop":
            # A cut link: the dial fails (reset).
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        try:
            s = socket.create_connection(self.target, timeout=1)
        except OSError:
            c.close()
            return
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        gen = self.cluster.reset_gen.get(link, 0)
        queues = {c: collections.deque(), s: collections.deque()}
        other = {c: s, s: c}
        try:
            while not self.cluster.closing:
                mode, delay = self.cluster.link_mode(link)
                # A cut link loses its connections (reset): TCP never
                # delivers a stream with a hole in it, so the proxy must
                # not either (dropping bytes and passing the rest on
                # desynchronised the peer streams for good; invariant 4).
                if mode == "drop" or self.cluster.reset_gen.get(link, 0) != gen:
                    for x in (c, s):
                        x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                    return
                r, _, _ = select.select([c, s], [], [], 0.01)
                t = time.monotonic()
                for x in r:
                    data = x.recv(65536)
                    if not data:
                        return
                    queues[other[x]].append((t + delay / 1000.0, data))
                if mode == "hold":
                    continue
                for x, q in queues.items():
                    while q and q[0][0] <= t:
                        x.sendall(q.popleft()[1])
        except OSError:
            pass
        finally:
            c.close()
            s.close()


# ---------------------------------------------------------------- members

class Member:
    def __init__(self, idx, ip, root):
        self.idx = idx
        self.name = "m%d" % idx
        self.ip = ip
        self.client_port = 2379
        self.peer_port = 2380
        self.proxy_port = 2381
        self.dir = os.path.join(root, self.name)
        self.log = os.path.join(root, self.name + ".log")
        self.proc = None
        self.stopped = False

    @property
    def url(self):
        return "http://%s:%d" % (self.ip, self.client_port)


class Cluster:
    def __init__(self, cetcd, root, n, seed, env):
        self.cetcd = cetcd
        self.root = root
        self.closing = False
        self.env = env
        self.token = "faults-%d" % seed
        self.snapshot_count = 200
        base = os.getpid()
        a = 200 + base % 50
        b = (base // 50) % 250 + 1
        self.members = []
        for i in range(n):
            ip = "127.%d.%d.%d" % (a, b, 10 + i)
            self.members.append(Member(i, ip, root))
        self.modes = {}
        self.reset_gen = {}
        self.lock = threading.Lock()
        self.proxies = [Proxy(self, i) for i in range(n)]
        for p in self.proxies:
            p.start()

    def pids(self):
        return [m.proc.pid for m in self.members if m.proc is not None]

    def index_of_pid(self, pid):
        for m in self.members:
            if m.proc is not None and m.proc.pid == pid:
                return m.idx
        return None

    def link_mode(self, link):
        return self.modes.get(link, ("pass", 0))

    def set_link(self, src, dst, mode, delay=0):
        if mode == "reset":
            self.reset_gen[(src, dst)] = self.reset_gen.get((src, dst), 0) + 1
            return
        self.modes[(src, dst)] = (mode, delay)

    def heal_links(self):
        self.modes = {}

    def start(self, i, extra_env=None):
        m = self.members[i]
        initial = ",".join("%s=http://%s:%d" % (x.name, x.ip, x.proxy_port)
                           for x in self.members)
        args = [self.cetcd, "--name", m.name, "--data-dir", m.dir,
                "--listen-peer-urls", "http://%s:%d" % (m.ip, m.peer_port),
                "--initial-advertise-peer-urls",
                "http://%s:%d" % (m.ip, m.proxy_port),
                "--listen-client-urls", m.url, "--advertise-client-urls", m.url,
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", self.token,
                "--heartbeat-interval", "50", "--election-timeout", "500",
                "--snapshot-count", str(self.snapshot_count)]
        with open(m.log, "ab") as lf:
            lf.write(("--- start %s\n" % time.strftime("%H:%M:%S")).encode())
            lf.flush()
            env = dict(self.env)
            env.update(extra_env or {})
            m.proc = subprocess.Popen(args, stdout=lf, stderr=subprocess.STDOUT,
                                      env=env)
        m.stopped = False

    def alive(self, i):
        m = self.members[i]
        return m.proc is not None and m.proc.poll() is None

    def signal(self, i, sig):
        m = self.members[i]
        if m.proc is None or m.proc.poll() is not None:
            return
        os.kill(m.proc.pid, sig)
        if sig == signal.SIGSTOP:
            m.stopped = True
        elif sig == signal.SIGCONT:
            m.stopped = False
        elif sig in (signal.SIGKILL, signal.SIGTERM):
            if m.stopped:
                os.kill(m.proc.pid, signal.SIGCONT)
            try:
                m.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(m.proc.pid, signal.SIGKILL)
                m.proc.wait()
            m.stopped = False

    def request(self, i, path, body, timeout=2.0):
        m = self.members[i]
        conn = http.client.HTTPConnection(m.ip, m.client_port, timeout=timeout)
        try:
            conn.request("POST", path, json.dumps(body),
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise OSError("HTTP %d: %s" % (resp.status, data[:200]))
            return json.loads(data)
        finally:
            conn.close()

    def status(self, i):
        try:
            return self.request(i, "/v3/maintenance/status", {}, timeout=1.0)
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def leader(self):
        """The index of the member every live member names leader, or None."""
        for i, m in enumerate(self.members):
            if not self.alive(i) or m.stopped:
                continue
            st = self.status(i)
            if st is None or st.get("leader", "0") == "0":
                continue
            for j in range(len(self.members)):
                if not self.alive(j) or self.members[j].stopped:
                    continue
                sj = self.status(j)
                if sj is not None and sj["header"]["member_id"] == st["leader"]:
                    return j
        return None

    def agreed_leader(self):
        """The leader's member id if every member answers and names the
        same one (a member that lost its leader for good is not healed)."""
        sts = [self.status(i) for i in range(len(self.members))]
        if any(st is None for st in sts):
            return None
        leaders = {st.get("leader", "0") for st in sts}
        ids = {st["header"]["member_id"] for st in sts}
        if len(leaders) != 1 or not leaders <= ids:
            return None
        return leaders.pop()

    def wait_healthy(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.agreed_leader() is not None:
                return True
            for i in range(len(self.members)):
                if not self.alive(i):
                    return False
            time.sleep(0.1)
        return False

    def close(self):
        self.closing = True
        for i, m in enumerate(self.members):
            if m.proc is not None and m.proc.poll() is None:
                if m.stopped:
                    os.kill(m.proc.pid, signal.SIGCONT)
                os.kill(m.proc.pid, signal.SIGKILL)
                m.proc.wait()
        for p in self.proxies:
            p.ls.close()


# ---------------------------------------------------------------- history

class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = []
        self.watch = []
        self.next_id = 0

    def add(self, rec):
        with self.lock:
            rec["id"] = self.next_id
            self.next_id += 1
            self.ops.append(rec)

    def add_watch(self, rec):
        with self.lock:
            self.watch.append(rec)

    def write(self, path):
        with open(path, "w") as f:
            for rec in self.ops + self.watch:
                f.write(json.dumps(rec, sort_keys=True) + "\n")


def parse_kv(j):
    kvs = j.get("kvs", [])
    if not kvs:
        return {"found": False}
    kv = kvs[0]
    return {"found": True, "rvalue": unb64(kv.get("value", "")),
            "mod_rev": int(kv.get("mod_revision", "0")),
            "version": int(kv.get("version", "0"))}


class Client(threading.Thread):
    """One history-recording client: one connection at a time, to one
    member; after an error it moves on to the next member."""

    def __init__(self, cid, cluster, hist, seed, stop, weights):
        super().__init__(daemon=True)
        self.cid = cid
        self.cluster = cluster
        self.hist = hist
        self.rnd = random.Random(seed * 1000 + cid)
        self.stop = stop
        self.member = cid % len(cluster.members)
        self.conn = None
        self.seq = 0
        self.seen = {}
        self.weights = weights

    def drop_conn(self, move):
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        if move:
            self.member = (self.member + 1) % len(self.cluster.members)

    def one(self):
        key = self.rnd.choice(KEYS)
        op = self.rnd.choices(["read", "put", "delete", "cas"], self.weights)[0]
        rec = {"client": self.cid, "member": self.member, "op": op, "key": key}
        if op == "read":
            path, body = "/v3/kv/range", {"key": b64(key)}
        elif op == "put":
            self.seq += 1
            rec["value"] = "c%d-%d" % (self.cid, self.seq)
            path, body = "/v3/kv/put", {"key": b64(key), "value": b64(rec["value"])}
        elif op == "delete":
            path, body = "/v3/kv/deleterange", {"key": b64(key)}
        else:
            self.seq += 1
            rec["value"] = "c%d-%d" % (self.cid, self.seq)
            expect = self.seen.get(key)
            rec["expect"] = expect
            if expect is None:
                cmp = {"key": b64(key), "target": "VERSION", "result": "EQUAL",
                       "version": "0"}
            else:
                cmp = {"key": b64(key), "target": "VALUE", "result": "EQUAL",
                       "value": b64(expect)}
            path = "/v3/kv/txn"
            body = {"compare": [cmp],
                    "success": [{"request_put": {"key": b64(key),
                                                 "value": b64(rec["value"])}}],
                    "failure": [{"request_range": {"key": b64(key)}}]}
        m = self.cluster.members[self.member]
        if self.conn is None:
            self.conn = http.client.HTTPConnection(m.ip, m.client_port,
                                                   timeout=CLIENT_TIMEOUT)
            try:
                self.conn.connect()
            except OSError:
                self.drop_conn(True)
                time.sleep(0.05)
                return
        rec["invoke"] = now()
        try:
            self.conn.request("POST", path, json.dumps(body),
                              {"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            data = resp.read()
            rec["complete"] = now()
            if resp.status != 200:
                rec["error"] = data.decode(errors="replace")[:200]
                raise OSError("HTTP %d" % resp.status)
            j = json.loads(data)
        except (OSError, ValueError, http.client.HTTPException) as e:
            rec.setdefault("complete", now())
            rec.setdefault("error", str(e)[:200])
            refused = '"etcdserver: no leader"' in rec.get("error", "")
            rec["status"] = "fail" if op == "read" or refused else "unknown"
            self.hist.add(rec)
            self.drop_conn(True)
            time.sleep(0.05)
            return
        rec["status"] = "ok"
        rec["rev"] = int(j.get("header", {}).get("revision", "0"))
        if op == "read":
            rec.update(parse_kv(j))
            self.seen[key] = rec.get("rvalue")
        elif op == "put":
            self.seen[key] = rec["value"]
        elif op == "delete":
            rec["deleted"] = int(j.get("deleted", "0"))
            self.seen[key] = None
        else:
            rec["succeeded"] = bool(j.get("succeeded", False))
            if rec["succeeded"]:
                self.seen[key] = rec["value"]
            else:
                rr = j.get("responses", [{}])[0].get("response_range", {})
                rec.update(parse_kv(rr))
                self.seen[key] = rec.get("rvalue")
        self.hist.add(rec)

    def run(self):
        while not self.stop.is_set():
            self.one()
        self.drop_conn(False)


# ---------------------------------------------------------------- watchers

WATCH_QUIET = 3.0  # no byte for this long (progress comes every second): broken


class Watcher(threading.Thread):
    """One watch-recording client: a gateway watch stream (POST /v3/watch)
    on one member over a key or a prefix; when the stream breaks (EOF,
    reset, an error, silence) it resumes on the next member from its last
    seen revision + 1, as clientv3 does.  Records its starts and resumes,
    every event, every progress notification and compactions."""

    def __init__(self, wid, cluster, hist, stop, key, range_end, start, seed):
        super().__init__(daemon=True)
        self.wid = wid
        self.rnd = random.Random(seed * 1000 + 500 + wid)
        self.cluster = cluster
        self.hist = hist
        self.stop = stop
        self.key = key
        self.range_end = range_end
        self.member = wid % len(cluster.members)
        self.next = start   # the first revision not seen yet
        self.resumes = 0
        self.created = False  # a stream was created once: later ones resume
        self.n_events = 0
        self.sock = None

    def rec(self, kind, **kw):
        kw.update({"watch": self.wid, "kind": kind, "member": self.member,
                   "t": now()})
        self.hist.add_watch(kw)

    def stream(self):
        """One stream: returns when it broke or the run is over."""
        m = self.cluster.members[self.member]
        cr = {"key": b64(self.key), "start_revision": str(self.next),
              "progress_notify": True}
        if self.range_end is not None:
            cr["range_end"] = b64(self.range_end)
        conn = http.client.HTTPConnection(m.ip, m.client_port,
                                          timeout=WATCH_QUIET)
        try:
            conn.request("POST", "/v3/watch", json.dumps({"create_request": cr}),
                         {"Content-Type": "application/json"})
            self.sock = conn.sock
            resp = conn.getresponse()
            if resp.status != 200:
                raise OSError("HTTP %d" % resp.status)
            started = False
            # Real clients move between members too; moving on purpose
            # resumes from history in every scenario, faults or not.
            move_at = time.monotonic() + self.rnd.uniform(2.0, 5.0)
            while not self.stop.is_set():
                if time.monotonic() > move_at:
                    raise OSError("moved on purpose")
                line = resp.readline()
                if not line:
                    raise OSError("the stream ended")
                if not line.strip():
                    continue
                j = json.loads(line)
                if "error" in j:
                    raise OSError("stream error: %s" % str(j["error"])[:100])
                r = j.get("result", j)
                hdr_rev = int(r.get("header", {}).get("revision", "0"))
                if r.get("canceled"):
                    cpt = int(r.get("compact_revision", "0"))
                    if cpt > 0:
                        # Compacted: the revisions before cpt are gone;
                        # go on from there, recording the gap.
                        self.rec("compacted", frm=self.next,
                                 compact_revision=cpt)
                        self.next = max(self.next, cpt)
                    raise OSError("canceled: %s" % r.get("cancel_reason", ""))
                if r.get("created"):
                    if started:
                        raise OSError("a second created response")
                    started = True
                    self.rec("resume" if self.created else "start",
                             frm=self.next, key=self.key,
                             range_end=self.range_end)
                    self.created = True
                    continue
                if not started:
                    raise OSError("events before created")
                evs = r.get("events", [])
                for e in evs:
                    kv = e.get("kv", {})
                    mod = int(kv.get("mod_revision", "0"))
                    self.rec("event", key=unb64(kv.get("key", "")),
                             type=e.get("type", "PUT"), mod_rev=mod,
                             create_rev=int(kv.get("create_revision", "0")),
                             version=int(kv.get("version", "0")),
                             value=unb64(kv.get("value", "")))
                    self.n_events += 1
                    self.next = max(self.next, mod + 1)
                if not evs and not r.get("fragment"):
                    # A progress notification: everything up to hdr_rev
                    # has been sent.
                    self.rec("progress", rev=hdr_rev)
                    self.next = max(self.next, hdr_rev + 1)
        finally:
            self.sock = None
            conn.close()

    def run(self):
        while not self.stop.is_set():
            try:
                self.stream()
            except (OSError, ValueError, http.client.HTTPException) as e:
                if self.stop.is_set():
                    break
                self.rec("broken", error=str(e)[:200])
                self.member = (self.member + 1) % len(self.cluster.members)
                self.resumes += 1
                # A client's backoff: the resume starts behind, so it
                # catches up from history.
                time.sleep(self.rnd.uniform(0.1, 0.4))

    def close(self):
        s = self.sock
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# ---------------------------------------------------------------- faults

def wal_last_segment(mdir):
    wdir = os.path.join(mdir, "member", "wal")
    segs = sorted(f for f in os.listdir(wdir) if f.endswith(".wal"))
    return os.path.join(wdir, segs[-1])


def wal_records(path):
    """(offset, length) of every record in a segment, by its framing."""
    recs = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 16 <= len(data):
        hdr = data[off:off + 16]
        if hdr == b"\0" * 16:
            break
        n = struct.unpack("<I", hdr[:4])[0]
        size = 16 + ((n + 7) // 8) * 8
        if off + size > len(data):
            break
        recs.append((off, n))
        off += size
    return recs


class Nemesis(threading.Thread):
    def __init__(self, run, kind):
        super().__init__(daemon=True)
        self.run_ = run
        self.c = run.cluster
        self.kind = kind
        self.rnd = random.Random(run.seed * 7 + 1)
        self.stop = threading.Event()
        self.count = 0
        self.errors = []

    def event(self, what, **kw):
        kw.update({"fault": what, "t": now()})
        self.run_.faults.append(kw)
        self.count += 1
        log("fault %s %s" % (what, " ".join("%s=%s" % x for x in sorted(kw.items())
                                               if x[0] not in ("fault", "t"))))

    def pick(self, who):
        n = len(self.c.members)
        lead = self.c.leader()
        if who == "leader":
            return [lead if lead is not None else self.rnd.randrange(n)]
        if who == "follower":
            fs = [i for i in range(n) if i != lead]
            return [self.rnd.choice(fs)]
        if who == "majority":
            return self.rnd.sample(range(n), n // 2 + 1)
        if who == "all":
            return list(range(n))
        return [self.rnd.randrange(n)]

    def wait(self, lo, hi):
        self.stop.wait(self.rnd.uniform(lo, hi))

    def restart(self, victims):
        for i in victims:
            if not self.c.alive(i):
                self.c.start(i)

    def run(self):
        kinds = self.kind.split("+")
        self.wait(0.5, 1.0)
        while not self.stop.is_set():
            kind = self.rnd.choice(kinds)
            getattr(self, "f_" + kind.replace("-", "_"))()
            self.wait(0.5, 1.5)

    def f_none(self):
        self.wait(1, 2)

    def kill(self, who, sig, name):
        victims = self.pick(who)
        self.event(name, members=victims)
        for i in victims:
            self.c.signal(i, sig)
        self.wait(0.3, 1.5)
        self.event("restart", members=victims)
        self.restart(victims)
        # Let the cluster recover and take writes before the next fault.
        self.c.wait_healthy(10)

    def f_kill_follower(self):
        self.kill("follower", signal.SIGKILL, "kill-follower")

    def f_kill_leader(self):
        self.kill("leader", signal.SIGKILL, "kill-leader")

    def f_kill_majority(self):
        self.kill("majority", signal.SIGKILL, "kill-majority")

    def f_kill_all(self):
        self.kill("all", signal.SIGKILL, "kill-all")

    def f_term_follower(self):
        self.kill("follower", signal.SIGTERM, "term-follower")

    def f_term_leader(self):
        self.kill("leader", signal.SIGTERM, "term-leader")

    def f_term_majority(self):
        self.kill("majority", signal.SIGTERM, "term-majority")

    def f_term_all(self):
        self.kill("all", signal.SIGTERM, "term-all")

    def pause(self, who, name):
        victims = self.pick(who)
        self.event(name, members=victims)
        for i in victims:
            self.c.signal(i, signal.SIGSTOP)
        self.wait(0.5, 2.0)
        for i in victims:
            self.c.signal(i, signal.SIGCONT)
        self.event("resume", members=victims)

    def f_pause_leader(self):
        self.pause("leader", "pause-leader")

    def f_pause_follower(self):
        self.pause("follower", "pause-follower")

    def isolate(self, who, name):
        victim = self.pick(who)[0]
        mode = self.rnd.choice(["drop", "hold"])
        self.event(name, member=victim, mode=mode)
        for j in range(len(self.c.members)):
            if j != victim:
                self.c.set_link(victim, j, mode)
                self.c.set_link(j, victim, mode)
        self.wait(1.0, 3.0)
        self.c.heal_links()
        self.event("heal")
        # Healed links must bring the member back: every member names the
        # same leader again soon (the soak once found one that never did).
        if not self.c.wait_healthy(20):
            self.errors.append("member %d did not rejoin within 20 s of the heal"
                               " (%s)" % (victim, mode))

    def f_partition_leader(self):
        self.isolate("leader", "partition-leader")

    def f_partition_follower(self):
        self.isolate("follower", "partition-follower")

    def f_links(self):
        n = len(self.c.members)
        links = [(a, b) for a in range(n) for b in range(n) if a != b]
        chosen = self.rnd.sample(links, self.rnd.randint(1, 3))
        for a, b in chosen:
            mode = self.rnd.choice(["drop", "hold", "delay", "reset"])
            delay = self.rnd.choice([20, 100, 400]) if mode == "delay" else 0
            self.event("link", src=a, dst=b, mode=mode, delay=delay)
            self.c.set_link(a, b, mode, delay)
        self.wait(0.5, 2.5)
        self.c.heal_links()
        self.event("heal")

    def f_torn_wal(self):
        """Tear the last record of a follower's last segment, as a crash
        during its write would.  Without a failpoint the cut may take
        bytes that were already fsynced and acknowledged; then the member
        must stop loudly when the leader shows it the gap (and is restored
        from a copy), never run on with a hole in its log."""
        victim = self.pick("follower")[0]
        m = self.c.members[victim]
        synced = True
        if self.run_.have_failpoints:
            # Crash between a batch's write and its fsync: the last record
            # was never acknowledged, so tearing it must cost nothing.
            self.c.signal(victim, signal.SIGKILL)
            self.c.start(victim, {"CETCD_FAILPOINTS": "wal_after_append=crash%30"})
            try:
                m.proc.wait(timeout=5)
                synced = False
            except subprocess.TimeoutExpired:
                pass
        self.c.signal(victim, signal.SIGKILL)
        seg = wal_last_segment(self.c.members[victim].dir)
        keep = seg + ".faults-orig"
        shutil.copyfile(seg, keep)
        recs = wal_records(seg)
        off, n = recs[-1]
        end = off + 16 + ((n + 7) // 8) * 8
        # A crash tears a write at sector boundaries (unwritten sectors of a
        # preallocated file read as zeros), or the file ends early.
        how = self.rnd.choice(["truncate", "zero"])
        if how == "truncate":
            cut = off + 16 + self.rnd.randrange(max(n, 1))
            os.truncate(seg, cut)
        else:
            bounds = [b for b in range((off // 512 + 1) * 512, end, 512)]
            cut = self.rnd.choice(bounds) if bounds else off
            with open(seg, "r+b") as f:
                f.seek(cut)
                f.write(b"\0" * (end - cut))
        self.event("torn-wal", member=victim, file=os.path.basename(seg),
                   record=off, cut=cut, how=how, unsynced=not synced)
        self.c.start(victim)
        try:
            m.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        with open(m.log, errors="replace") as f:
            last = f.read().rsplit("--- start", 1)[-1]
        if self.c.alive(victim):
            if cut > off and "torn tail" not in last:
                self.errors.append("member %d did not log the torn tail it cut"
                                   % victim)
            outcome = "started"
        elif "data is corrupt" in last and synced:
            outcome = "refused acknowledged entries lost with the tail"
            shutil.copyfile(keep, seg)
            self.c.start(victim)
        else:
            self.errors.append("member %d did not start after a torn WAL tail:"
                               " %s" % (victim, last[-300:]))
            shutil.copyfile(keep, seg)
            self.c.start(victim)
            outcome = "failed"
        os.unlink(keep)
        self.event("torn-wal-outcome", member=victim, outcome=outcome)

    def f_failpoint(self):
        """Restart a member armed to crash at a failpoint, let it crash
        there, restart it unarmed."""
        victim = self.rnd.randrange(len(self.c.members))
        point = self.rnd.choice(FAILPOINTS)
        m = self.c.members[victim]
        self.c.signal(victim, signal.SIGKILL)
        self.c.start(victim, {"CETCD_FAILPOINTS": point + "=crash%20",
                              "CETCD_FAILPOINTS_SEED": str(self.rnd.randrange(1 << 30))})
        try:
            m.proc.wait(timeout=self.rnd.uniform(1, 4))
            self.event("failpoint", member=victim, point=point, crashed=True)
        except subprocess.TimeoutExpired:
            self.c.signal(victim, signal.SIGKILL)
            self.event("failpoint", member=victim, point=point, crashed=False)
        self.wait(0.1, 0.5)
        self.c.start(victim)

    def f_disk_full(self):
        """Fill the victim's data dir (its own small tmpfs) to the last
        byte, then free it.  A member that had to write meanwhile stops
        with "the disk is full: ..." and the fix (node/server/diskspace.h);
        it must lose nothing it acknowledged, and restarted on the freed
        disk it must rejoin."""
        victim = self.rnd.randrange(len(self.c.members))
        m = self.c.members[victim]
        filler = os.path.join(m.dir, "faults-filler")
        self.event("disk-full", member=victim)
        try:
            with open(filler, "wb") as f:
                while True:
                    f.write(b"\xff" * (1 << 20))
                    f.flush()
        except OSError:
            pass
        self.wait(1.0, 3.0)
        os.unlink(filler)
        alive = self.c.alive(victim)
        self.event("disk-freed", member=victim, survived=alive)
        if not alive:
            with open(m.log, errors="replace") as f:
                last = f.read().rsplit("--- start", 1)[-1]
            # node/server/diskspace.h: what failed on which file, the
            # free space, and the fix.
            if ("the disk is full" not in last or
                    "then restart the member" not in last):
                self.errors.append("member %d stopped on a full disk without "
                                   "saying so: %s" % (victim, last[-300:]))
            self.c.start(victim)

    def f_bitflip(self):
        victim = self.pick("follower")[0]
        self.c.signal(victim, signal.SIGKILL)
        seg = wal_last_segment(self.c.members[victim].dir)
        recs = wal_records(seg)
        keep = seg + ".faults-orig"
        shutil.copyfile(seg, keep)
        # Not the last record (that one may legitimately be a torn tail),
        # nor the first (the segment's CRC record).
        off, n = recs[self.rnd.randrange(1, max(len(recs) - 1, 2))]
        pos = off + self.rnd.randrange(16 + n)
        bit = self.rnd.randrange(8)
        with open(seg, "r+b") as f:
            f.seek(pos)
            b = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([b ^ (1 << bit)]))
        self.event("bitflip", member=victim, file=os.path.basename(seg),
                   offset=pos, bit=bit)
        self.c.start(victim)
        m = self.c.members[victim]
        try:
            rc = m.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is None:
            self.errors.append("member %d started on a WAL with a flipped bit "
                               "at offset %d" % (victim, pos))
            self.c.signal(victim, signal.SIGKILL)
        else:
            with open(m.log, errors="replace") as f:
                tail = f.read()[-4000:]
            if rc == 0 or "offset %d" % off not in tail and "wal:" not in tail:
                self.errors.append("member %d refused a flipped bit (rc %d) "
                                   "without naming the WAL offset: %s"
                                   % (victim, rc, tail[-300:]))
        shutil.copyfile(keep, seg)
        os.unlink(keep)
        self.c.start(victim)

    def closed_read_segments(self, victim):
        """The victim's closed segments that its next start reads (those
        from the one holding the newest snapshot's index on, but the last)."""
        mdir = self.c.members[victim].dir
        wdir = os.path.join(mdir, "member", "wal")
        sdir = os.path.join(mdir, "member", "snap")
        try:
            segs = sorted(f for f in os.listdir(wdir) if f.endswith(".wal"))
            snaps = sorted(f for f in os.listdir(sdir) if f.endswith(".snap"))
        except OSError:
            return []
        snap_index = int(snaps[-1][17:33], 16) if snaps else 0
        first = [int(f[17:33], 16) for f in segs]
        start = 0
        for i, idx in enumerate(first):
            if idx <= snap_index:
                start = i
        return [os.path.join(wdir, f) for f in segs[start:-1]]

    def f_bitflip_closed(self):
        """Flip a bit in a record of a closed WAL segment (small segments:
        CETCD_WAL_SEGMENT_SIZE) of a stopped follower.  Closed segments
        hold acknowledged entries, so this is not a torn tail: the member
        must refuse to start, loudly (non-zero exit; the segment file, the
        offset and the fix in its log), and serve nothing meanwhile."""
        victim = self.pick("follower")[0]
        m = self.c.members[victim]
        end = time.monotonic() + 20
        while not self.closed_read_segments(victim) and time.monotonic() < end:
            self.stop.wait(0.2)
        self.c.signal(victim, signal.SIGKILL)
        segs = self.closed_read_segments(victim)
        if not segs:
            self.errors.append("bitflip-closed: member %d closed no segment in 20 s"
                               " (is CETCD_WAL_SEGMENT_SIZE honoured?)" % victim)
            self.c.start(victim)
            return
        seg = self.rnd.choice(segs)
        recs = wal_records(seg)
        keep = seg + ".faults-orig"
        shutil.copyfile(seg, keep)
        # Not the CRC record that opens the segment (that one breaks the
        # chain, a different message); any byte of a later header or payload.
        off, n = recs[self.rnd.randrange(1, len(recs))] if len(recs) > 1 else recs[0]
        pos = off + self.rnd.randrange(16 + n)
        bit = self.rnd.randrange(8)
        with open(seg, "r+b") as f:
            f.seek(pos)
            b = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([b ^ (1 << bit)]))
        self.event("bitflip-closed", member=victim, file=os.path.basename(seg),
                   segments=len(segs), record=off, offset=pos, bit=bit)
        self.c.start(victim)
        served = None
        end = time.monotonic() + 15
        while m.proc.poll() is None and time.monotonic() < end:
            st = self.c.status(victim)
            if st is not None and served is None:
                served = st["header"].get("revision")
            time.sleep(0.05)
        rc = m.proc.poll()
        with open(m.log, errors="replace") as f:
            last = f.read().rsplit("--- start", 1)[-1]
        if rc is None:
            self.errors.append("member %d started on a closed WAL segment with a "
                               "flipped bit (%s offset %d)"
                               % (victim, os.path.basename(seg), pos))
            self.c.signal(victim, signal.SIGKILL)
        else:
            missing = [what for what, ok in (
                ("a non-zero exit", rc != 0),
                ("the segment file", os.path.basename(seg) in last),
                ("the record's offset", "offset %d" % off in last),
                ("the fix (restore or remove and add back)",
                 "restore" in last and "remove" in last))
                if not ok]
            if missing:
                self.errors.append("member %d refused a flipped bit in %s at "
                                   "offset %d without %s: %s"
                                   % (victim, os.path.basename(seg), pos,
                                      ", ".join(missing), last[-400:]))
        if served is not None:
            self.errors.append("member %d served a status (revision %s) from a "
                               "damaged WAL" % (victim, served))
        self.event("bitflip-closed-outcome", member=victim, rc=rc)
        # The fix an operator would apply: restore the data (here the
        # segment as it was) and start again.
        shutil.copyfile(keep, seg)
        os.unlink(keep)
        self.c.start(victim)


# ---------------------------------------------------------------- a run

class Run:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.faults = []
        self.root = tempfile.mkdtemp(prefix="cetcd-faults.")
        env = dict(os.environ)
        for k in ("CETCD_FAILPOINTS", "CETCD_TEST_BUG", "CETCD_WAL_SEGMENT_SIZE"):
            env.pop(k, None)
        # Watchers ask for progress notifications: a quiet stream is then
        # a broken one (WATCH_QUIET).
        env["CETCD_WATCH_PROGRESS_NOTIFY_INTERVAL_MS"] = "1000"
        if args.bug:
            env["CETCD_TEST_BUG"] = args.bug
        if args.failpoints:
            env["CETCD_FAILPOINTS"] = args.failpoints
        self.cluster = Cluster(args.cetcd, self.root, 3, self.seed, env)
        self.cluster.snapshot_count = args.snapshot_count
        config_h = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(args.cetcd))), "config.h")
        try:
            with open(config_h) as f:
                self.have_failpoints = "#define CETCD_FAILPOINTS 1" in f.read()
        except OSError:
            self.have_failpoints = False
        for need in ("failpoint", "bitflip-closed"):
            if need in args.scenario.split("+") and not self.have_failpoints:
                raise SystemExit("faults: scenario %s needs a build "
                                 "configured with --enable-failpoints" % need)
        if args.wal_segment_size or "bitflip-closed" in args.scenario.split("+"):
            # Small segments (test builds only): closed segments within
            # seconds, and segment cuts under every fault.
            env["CETCD_WAL_SEGMENT_SIZE"] = str(args.wal_segment_size or 8192)
        self.hist = History()
        self.mounts = []

    def final(self):
        c = self.cluster
        t0 = now()
        # Convergence: the same revision and raft index everywhere, then
        # HashKV at that revision.
        end = time.monotonic() + 30
        sts = []
        while time.monotonic() < end:
            sts = [c.status(i) for i in range(len(c.members))]
            if all(s is not None for s in sts):
                revs = {(s["header"]["revision"], s.get("raft_index")) for s in sts}
                if len(revs) == 1:
                    break
            time.sleep(0.2)
        finals = []
        for i in range(len(c.members)):
            st = c.status(i)
            rec = {"final": "member", "member": i,
                   "revision": int(st["header"]["revision"]) if st else -1}
            try:
                h = c.request(i, "/v3/maintenance/hashkv",
                              {"revision": str(rec["revision"])})
                rec["hash"] = int(h.get("hash", 0))
                rec["hash_revision"] = int(h["header"]["revision"])
                rec["compact_revision"] = int(h.get("compact_revision", "0"))
            except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
                rec["error"] = str(e)[:200]
            finals.append(rec)
        # Every key on every member, as linearizable reads after all else.
        for i in range(len(c.members)):
            for k in KEYS:
                rec = {"client": -1 - i, "member": i, "op": "read", "key": k,
                       "invoke": now()}
                try:
                    j = c.request(i, "/v3/kv/range", {"key": b64(k)})
                    rec["complete"] = now()
                    rec["status"] = "ok"
                    rec["rev"] = int(j["header"]["revision"])
                    rec.update(parse_kv(j))
                except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
                    rec["complete"] = now()
                    rec["status"] = "fail"
                    rec["error"] = str(e)[:200]
                self.hist.add(rec)
        # Every acknowledged write at its revision.
        for op in list(self.hist.ops):
            if op.get("status") != "ok" or op["client"] < 0:
                continue
            wrote = (op["op"] == "put" or (op["op"] == "cas" and op["succeeded"])
                     or (op["op"] == "delete" and op["deleted"] > 0))
            if not wrote:
                continue
            rec = {"final": "at", "key": op["key"], "rev": op["rev"], "of": op["id"]}
            try:
                j = c.request(op["id"] % len(c.members), "/v3/kv/range",
                              {"key": b64(op["key"]), "revision": str(op["rev"])})
                rec.update(parse_kv(j))
            except (OSError, ValueError, http.client.HTTPException) as e:
                rec["error"] = str(e)[:200]
            finals.append(rec)
        log("final checks took %.1f s" % ((now() - t0) / 1e9))
        return finals

    def watch_catch_up(self, watchers, healthy):
        """Give the watchers up to 15 s to see the last revision."""
        if not watchers or not healthy:
            return
        st = self.cluster.status(0)
        if st is None:
            return
        rev = int(st["header"]["revision"])
        end = time.monotonic() + 15
        while time.monotonic() < end and any(w.next <= rev for w in watchers):
            time.sleep(0.1)
        behind = ["w%d at %d" % (w.wid, w.next - 1) for w in watchers
                  if w.next <= rev]
        if behind:
            log("watchers still behind revision %d: %s" % (rev, ", ".join(behind)))

    def final_watch(self):
        """The final history: every event from revision 1, from one full
        watch on one healed member, up to its current revision."""
        c = self.cluster
        i = self.seed % len(c.members)
        m = c.members[i]
        out = []
        st = c.status(i)
        if st is None:
            return [{"final": "watch_end", "member": i, "revision": -1,
                     "error": "no status"}]
        rev = int(st["header"]["revision"])
        cr = {"key": b64("\0"), "range_end": b64("\0"), "start_revision": "1",
              "progress_notify": True}
        conn = http.client.HTTPConnection(m.ip, m.client_port, timeout=10)
        err = None
        seen = 0
        try:
            conn.request("POST", "/v3/watch", json.dumps({"create_request": cr}),
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            while seen < rev:
                line = resp.readline()
                if not line:
                    raise OSError("the stream ended at revision %d" % seen)
                if not line.strip():
                    continue
                r = json.loads(line)
                r = r.get("result", r)
                if r.get("canceled"):
                    raise OSError("canceled (compact_revision %s)"
                                  % r.get("compact_revision"))
                for e in r.get("events", []):
                    kv = e.get("kv", {})
                    mod = int(kv.get("mod_revision", "0"))
                    out.append({"final": "event", "key": unb64(kv.get("key", "")),
                                "type": e.get("type", "PUT"), "mod_rev": mod,
                                "create_rev": int(kv.get("create_revision", "0")),
                                "version": int(kv.get("version", "0")),
                                "value": unb64(kv.get("value", ""))})
                    seen = max(seen, mod)
                if not r.get("events") and not r.get("created"):
                    seen = max(seen, int(r.get("header", {}).get("revision", "0")))
        except (OSError, ValueError, http.client.HTTPException) as e:
            err = str(e)[:200]
        finally:
            conn.close()
        end = {"final": "watch_end", "member": i, "revision": rev}
        if err is not None:
            end["error"] = err
        log("final watch on m%d: %d events up to revision %d%s"
            % (i, len(out), rev, "" if err is None else " (" + err + ")"))
        return out + [end]

    def mount_disks(self):
        """disk-full: each member's data dir on its own small tmpfs (root
        only; the WAL preallocates 64 MiB segments, so 160 MiB each)."""
        for m in self.cluster.members:
            os.makedirs(m.dir)
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m",
                                "tmpfs", m.dir], stderr=subprocess.PIPE)
            if r.returncode != 0:
                raise RuntimeError("disk-full needs a tmpfs mount (root): %s"
                                   % r.stderr.decode(errors="replace").strip())
            self.mounts.append(m.dir)

    def unmount_disks(self):
        for d in self.mounts:
            subprocess.run(["umount", d])
        self.mounts = []

    def go(self):
        a = self.args
        c = self.cluster
        if "disk-full" in a.scenario.split("+"):
            self.mount_disks()
        for i in range(len(c.members)):
            c.start(i)
        if not c.wait_healthy(60):
            raise RuntimeError("the cluster did not become healthy")
        stop = threading.Event()
        weights = [int(x) for x in a.mix.split(",")]
        clients = [Client(i, c, self.hist, self.seed, stop, weights)
                   for i in range(a.clients)]
        wstop = threading.Event()
        watchers = []
        if a.watchers > 0:
            st = c.status(0)
            start = int(st["header"]["revision"]) + 1 if st else 1
            # Prefixes and single keys, spread over the members.
            ranges = [("k", "l"), (KEYS[0], None), ("k", "l"), (KEYS[1], None)]
            for i in range(a.watchers):
                key, end = ranges[i % len(ranges)]
                watchers.append(Watcher(i, c, self.hist, wstop, key, end,
                                        start, self.seed))
        for w in watchers:
            w.start()
        nem = Nemesis(self, a.scenario)
        for cl in clients:
            cl.start()
        nem.start()
        time.sleep(a.duration)
        nem.stop.set()
        nem.join()
        # Heal: links pass, paused members resume, dead ones restart.
        c.heal_links()
        for i, m in enumerate(c.members):
            if m.stopped:
                c.signal(i, signal.SIGCONT)
            if not c.alive(i):
                c.start(i)
        healthy = c.wait_healthy(60)
        time.sleep(0.5)
        stop.set()
        for cl in clients:
            cl.join()
        self.watch_catch_up(watchers, healthy)
        wstop.set()
        for w in watchers:
            w.close()
            w.join()
        finals = self.final() if healthy else []
        if healthy and watchers:
            finals += self.final_watch()
        out = a.out or os.path.join(self.root, "history.jsonl")
        self.hist.write(out)
        with open(out, "a") as f:
            for rec in self.faults:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
            for rec in finals:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        errors = list(nem.errors)
        if not healthy:
            errors.append("the cluster did not heal within 60 s")
        ops = self.hist.ops
        n_ok = sum(1 for o in ops if o.get("status") == "ok")
        n_unk = sum(1 for o in ops if o.get("status") == "unknown")
        log("%d operations (%d ok, %d unknown), %d fault events, history %s"
            % (len(ops), n_ok, n_unk, nem.count, out))
        if watchers:
            log("%d watchers: %d events, %d resumes" % (
                len(watchers), sum(w.n_events for w in watchers),
                sum(w.resumes for w in watchers)))
        log("peer connections through the proxies: %s" % "; ".join(
            "to m%d from %s" % (p.dst, dict(p.sources)) for p in c.proxies))

        r = subprocess.run([a.checker, out])
        return r.returncode, errors


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cetcd", required=True)
    p.add_argument("--checker", required=True)
    p.add_argument("--scenario", default="none",
                   help="fault kinds joined by '+', e.g. kill-leader+links")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--clients", type=int, default=5)
    p.add_argument("--watchers", type=int, default=4,
                   help="watch-recording clients (0: no watch workload)")
    p.add_argument("--mix", default="4,3,1,2",
                   help="weights of read,put,delete,cas")
    p.add_argument("--snapshot-count", type=int, default=200,
                   help="members' --snapshot-count (small: snapshots happen)")
    p.add_argument("--wal-segment-size", type=int, default=0,
                   help="CETCD_WAL_SEGMENT_SIZE for the members (test builds;"
                   " bitflip-closed: 8192 unless given)")
    p.add_argument("--bug", default="", help="CETCD_TEST_BUG for the members")
    p.add_argument("--failpoints", default="", help="CETCD_FAILPOINTS")
    p.add_argument("--expect-fail", action="store_true",
                   help="succeed only if the checker finds a violation")
    p.add_argument("--out", default="")
    p.add_argument("--keep", action="store_true")
    a = p.parse_args()
    if a.seed is None:
        a.seed = int(os.environ.get("CETCD_TEST_SEED", "0")) or \
            random.SystemRandom().randrange(1, 1 << 31)
    replay = ("%s --cetcd %s --checker %s --scenario %s --seed %d --duration %g"
              " --clients %d --watchers %d --mix %s --snapshot-count %d"
              % (sys.argv[0], a.cetcd, a.checker, a.scenario, a.seed,
                 a.duration, a.clients, a.watchers, a.mix, a.snapshot_count))
    if a.wal_segment_size:
        replay += " --wal-segment-size %d" % a.wal_segment_size
    if a.bug:
        replay += " --bug " + a.bug
    if a.failpoints:
        replay += " --failpoints '%s'" % a.failpoints
    if a.expect_fail:
        replay += " --expect-fail"
    log("scenario %s seed %d; replay: %s" % (a.scenario, a.seed, replay))
    run = Run(a)
    rc = 2
    try:
        rc, errors = run.go()
    except Exception as e:
        errors = ["run failed: %r" % e]
    finally:
        run.cluster.close()
        run.unmount_disks()
    for e in errors:
        log("ERROR: " + e)
    if a.expect_fail:
        # Caught: by the checker, or by a member that refused its own
        # data ("data is corrupt") so that the cluster could not heal.
        refused = []
        for m in run.cluster.members:
            try:
                with open(m.log, errors="replace") as f:
                    if "data is corrupt" in f.read():
                        refused.append(m.name)
            except OSError:
                pass
        if refused:
            log("members that refused their own data: %s" % " ".join(refused))
        ok = rc == 1 or (bool(errors) and bool(refused))
    else:
        ok = not errors and rc == 0
    if a.expect_fail and rc == 0:
        log("ERROR: the checker found no violation, but one was expected")
    if not ok or a.keep:
        log("kept %s (member logs, history)" % run.root)
        for m in run.cluster.members:
            try:
                with open(m.log, errors="replace") as f:
                    tail = f.read()[-1500:]
                sys.stderr.write("--- %s log tail:\n%s\n" % (m.name, tail))
            except OSError:
                pass
    else:
        shutil.rmtree(run.root, ignore_errors=True)
    log("%s: scenario %s seed %d; replay: %s"
        % ("ok" if ok else "FAILED", a.scenario, a.seed, replay))
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
