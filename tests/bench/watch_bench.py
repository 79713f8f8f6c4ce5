#!/usr/bin/python3
"""Watch benchmark (not run by make check): events per second delivered to
1 and to 1000 watchers of one prefix while writers put into it, and the
put-to-event latency (p50/p99: from just before the put is sent to the
watcher's receipt of the event; the value carries the send time).

Usage:
    tests/bench/watch_bench.py [--cetcd BUILD/node/cetcd | --endpoint HOST:PORT]
                               [--seconds 5] [--writers 4] [--watchers 1,1000]

With --cetcd (default BUILD=./build) it starts one member on a loopback
address in a temporary directory and kills it at the end.  Watchers are
spread over 4 processes and 100 watches per stream, so the client is not the
bottleneck for 1000 watchers; writers are separate processes too.
Messages come from cetcd's own node/proto files through protoc.
"""
import argparse
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def gen_pb(d):
    subprocess.check_call(["protoc", "-I", os.path.join(SRC, "node/proto"), "--python_out=" + d] +
                          [os.path.join(SRC, "node/proto", f) for f in ("rpc.proto", "kv.proto", "auth.proto")])


def watcher_proc(pbdir, target, n_watch, per_stream, ready, go, stop, out):
    sys.path.insert(0, pbdir)
    import grpc
    import queue
    import rpc_pb2
    ch = grpc.insecure_channel(target)
    f = ch.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=lambda m: m.SerializeToString(),
                         response_deserializer=rpc_pb2.WatchResponse.FromString)
    count = [0]
    lat = []
    lock = threading.Lock()
    n_streams = (n_watch + per_stream - 1) // per_stream
    created = threading.Semaphore(0)
    calls = []

    def run(n):
        reqs = queue.Queue()
        for _ in range(n):
            reqs.put(rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"b/", range_end=b"b0")))
        call = f(iter(reqs.get, None))
        calls.append((call, reqs))
        sample = 0
        try:
            for r in call:
                if r.created:
                    created.release()
                    continue
                now = time.time_ns()
                k = len(r.events)
                sample += k
                with lock:
                    count[0] += k
                    if sample >= 50:  # about every 50th event: a latency sample
                        sample = 0
                        lat.append(now - int(r.events[-1].kv.value))
                if stop.is_set():
                    break
        except grpc.RpcError:
            pass

    ths = []
    left = n_watch
    for _ in range(n_streams):
        n = min(per_stream, left)
        left -= n
        th = threading.Thread(target=run, args=(n,), daemon=True)
        th.start()
        ths.append(th)
    for _ in range(n_watch):
        created.acquire()
    ready.release()
    go.wait()
    t0 = time.time()
    with lock:
        count[0] = 0
        lat.clear()
    stop.wait()
    t1 = time.time()
    with lock:
        got = count[0]
        samples = list(lat)
    for call, reqs in calls:
        call.cancel()
        reqs.put(None)
    out.put((got, t1 - t0, samples))


def writer_proc(pbdir, target, go, stop, out):
    sys.path.insert(0, pbdir)
    import grpc
    import rpc_pb2
    ch = grpc.insecure_channel(target)
    put = ch.unary_unary("/etcdserverpb.KV/Put", request_serializer=lambda m: m.SerializeToString(),
                         response_deserializer=rpc_pb2.PutResponse.FromString)
    go.wait()
    n = 0
    while not stop.is_set():
        put(rpc_pb2.PutRequest(key=b"b/%d" % (n % 100), value=str(time.time_ns()).encode()), timeout=10)
        n += 1
    out.put(n)


def run_case(pbdir, target, n_watch, seconds, writers):
    ready = mp.Semaphore(0)
    go = mp.Event()
    stop = mp.Event()
    wout = mp.Queue()
    pout = mp.Queue()
    n_procs = 1 if n_watch == 1 else 4
    per = [n_watch // n_procs + (1 if i < n_watch % n_procs else 0) for i in range(n_procs)]
    ws = [mp.Process(target=watcher_proc, args=(pbdir, target, n, 100, ready, go, stop, wout)) for n in per]
    for p in ws:
        p.start()
    for _ in ws:
        ready.acquire()
    wr = [mp.Process(target=writer_proc, args=(pbdir, target, go, stop, pout)) for _ in range(writers)]
    for p in wr:
        p.start()
    time.sleep(0.5)
    go.set()
    time.sleep(seconds)
    stop.set()
    puts = sum(pout.get() for _ in wr)
    events, lat, dur = 0, [], seconds
    for _ in ws:
        c, d, l = wout.get()
        events += c
        lat += l
        dur = d
    for p in ws + wr:
        p.join(5)
    lat.sort()

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6 if lat else float("nan")

    print("watchers=%-5d puts/s=%8.0f events/s=%10.0f (expected %10.0f) latency p50=%.2f ms p99=%.2f ms"
          " (%d samples)" % (n_watch, puts / dur, events / dur, puts / dur * n_watch, pct(0.5), pct(0.99),
                             len(lat)))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cetcd", default=os.path.join(os.getcwd(), "build/node/cetcd"))
    ap.add_argument("--endpoint")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--watchers", default="1,1000")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="watch-bench.")
    member = None
    try:
        pbdir = os.path.join(tmp, "pb")
        os.mkdir(pbdir)
        gen_pb(pbdir)
        if a.endpoint:
            target = a.endpoint
        else:
            addr = "127.%d.%d.31" % (100 + os.getpid() % 100, 1 + (os.getpid() // 100) % 250)
            target = addr + ":23790"
            member = subprocess.Popen(
                [a.cetcd, "--name", "b", "--data-dir", os.path.join(tmp, "d"),
                 "--listen-peer-urls", "http://%s:23800" % addr,
                 "--initial-advertise-peer-urls", "http://%s:23800" % addr,
                 "--listen-client-urls", "http://" + target, "--advertise-client-urls", "http://" + target,
                 "--initial-cluster", "b=http://%s:23800" % addr],
                stdout=open(os.path.join(tmp, "log"), "w"), stderr=subprocess.STDOUT)
            time.sleep(1)
        for n in [int(x) for x in a.watchers.split(",")]:
            run_case(pbdir, target, n, a.seconds, a.writers)
    finally:
        if member:
            member.send_signal(signal.SIGKILL)
            member.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
