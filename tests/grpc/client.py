#!/usr/bin/python3
"""gRPC client for tests/grpc: real grpcio against cetcd's gRPC transport.

Usage: client.py HOST:PORT.  Runs every scenario, prints one line each, and
exits 1 if any failed.  Messages are raw bytes (no protobuf): the transport
under test does not look inside them.
"""
import sys
import threading
import time

import grpc

target = sys.argv[1]
failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def main():
    ch = grpc.insecure_channel(target)
    grpc.channel_ready_future(ch).result(timeout=10)
    unary = ch.unary_unary("/test.Echo/Unary")
    check("unary echo", unary(b"hello", timeout=5) == b"olleh")
    check("unary empty message", unary(b"", timeout=5) == b"")
    big = bytes(range(256)) * 4000  # 1 MB, many DATA frames
    check("unary 1 MB", unary(big, timeout=10) == big[::-1])

    try:
        ch.unary_unary("/etcdserverpb.KV/Nope")(b"x", timeout=5)
        check("unknown method", False, "no error")
    except grpc.RpcError as e:
        check("unknown method", e.code() == grpc.StatusCode.UNIMPLEMENTED
              and "unknown method /etcdserverpb.KV/Nope" in e.details(),
              "%s %s" % (e.code(), e.details()))

    try:
        ch.unary_unary("/test.Echo/Fail")(b"x", timeout=5)
        check("error status", False, "no error")
    except grpc.RpcError as e:
        check("error status", e.code() == grpc.StatusCode.FAILED_PRECONDITION
              and e.details() == "etcdserver: no leader \u00e9%",
              "%s %r" % (e.code(), e.details()))

    try:
        ch.unary_unary("/test.Echo/Never")(b"x", timeout=0.3)
        check("deadline", False, "no error")
    except grpc.RpcError as e:
        check("deadline", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED,
              str(e.code()))

    try:
        unary(b"x" * (2 << 20), timeout=10)
        check("oversized request", False, "no error")
    except grpc.RpcError as e:
        check("oversized request", e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED,
              "%s %s" % (e.code(), e.details()))

    check("answer from a later loop turn",
          ch.unary_unary("/test.Echo/Later")(b"abc", timeout=5) == b"abc")

    got = list(ch.unary_stream("/test.Echo/Stream")(b"7", timeout=5))
    check("server stream", got == [b"%d" % i for i in range(7)], repr(got))

    msgs = [b"a", b"bb", b"ccc"]
    got = list(ch.stream_stream("/test.Echo/Bidi")(iter(msgs), timeout=5))
    check("bidi echo", got == msgs, repr(got))

    futs = [unary.future(b"%03d" % i, timeout=10) for i in range(64)]
    check("64 concurrent calls on one connection",
          all(f.result() == (b"%03d" % i)[::-1] for i, f in enumerate(futs)))

    # A client that cancels a stream: the server must see on_close.
    stop = threading.Event()

    def gen():
        yield b"first"
        stop.wait(5)

    call = ch.stream_stream("/test.Echo/Bidi")(gen(), timeout=10)
    first = next(call)
    call.cancel()
    stop.set()
    check("bidi cancel", first == b"first")

    # Flood: the server produces 32 MB; this client reads slowly at first.
    it = ch.unary_stream("/test.Echo/Flood")(b"", timeout=60)
    time.sleep(1.0)
    total = sum(len(m) for m in it)
    check("flood delivered completely", total == 32 << 20, str(total))
    ch.close()


main()
sys.exit(1 if failures else 0)
