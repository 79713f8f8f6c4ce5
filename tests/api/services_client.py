#!/usr/bin/python3
"""Client side of tests/api/test_services.c: real HTTP/1.1 (http.client) and
real gRPC (grpcio, raw protobuf from etcd3's generated etcdrpc module)
against node/api serving a fake member.

Usage: services_client.py MODE HOST:PORT [HOST:PORT2]
Prints one line per check ("ok ..." / "FAIL ...") and exits 1 if any failed.
"""
import base64
import http.client
import json
import socket
import sys
import time

import grpc
from etcd3.etcdrpc import rpc_pb2
from google.protobuf import json_format

failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)))
    sys.stdout.flush()
    if not cond:
        failures.append(name)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def http_req(target, method, path, body=None, timeout=10):
    host, port = target.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


def gw(target, path, obj):
    return http_req(target, "POST", path, json.dumps(obj) if isinstance(obj, dict) else obj)


# gRPC path, gateway path, request class, response class
METHODS = {
    "range": ("/etcdserverpb.KV/Range", "/v3/kv/range", rpc_pb2.RangeRequest, rpc_pb2.RangeResponse),
    "put": ("/etcdserverpb.KV/Put", "/v3/kv/put", rpc_pb2.PutRequest, rpc_pb2.PutResponse),
    "delete": ("/etcdserverpb.KV/DeleteRange", "/v3/kv/deleterange", rpc_pb2.DeleteRangeRequest,
               rpc_pb2.DeleteRangeResponse),
    "txn": ("/etcdserverpb.KV/Txn", "/v3/kv/txn", rpc_pb2.TxnRequest, rpc_pb2.TxnResponse),
    "compact": ("/etcdserverpb.KV/Compact", "/v3/kv/compaction", rpc_pb2.CompactionRequest,
                rpc_pb2.CompactionResponse),
    "status": ("/etcdserverpb.Maintenance/Status", "/v3/maintenance/status", rpc_pb2.StatusRequest,
               rpc_pb2.StatusResponse),
    "members": ("/etcdserverpb.Cluster/MemberList", "/v3/cluster/member/list",
                rpc_pb2.MemberListRequest, rpc_pb2.MemberListResponse),
}

HDR = '{"cluster_id":"13950058764791256063","member_id":"1259761490123835750","revision":"%d","raft_term":"2"}'


def H(rev):
    return HDR % rev


# (method, JSON request body, expected gateway body or None).  Bodies use
# base64 keys and 64-bit integers as strings, as etcd's gateway expects.
TABLE = [
    ("put", {"key": b64("gw"), "value": b64("val")}, '{"header":%s}' % H(2)),
    ("range", {"key": b64("gw")},
     '{"header":%s,"kvs":[{"key":"Z3c=","create_revision":"2","mod_revision":"2","version":"1","value":"dmFs"}],"count":"1"}' % H(2)),
    ("range", {"key": b64("missing")}, '{"header":%s}' % H(2)),
    ("put", {"key": b64("x"), "value": b64("1"), "prev_kv": True}, '{"header":%s}' % H(3)),
    ("put", {"key": b64("x"), "value": b64("2"), "prevKv": True},
     '{"header":%s,"prev_kv":{"key":"eA==","create_revision":"3","mod_revision":"3","version":"1","value":"MQ=="}}' % H(4)),
    ("range", {"key": b64("g"), "range_end": b64("z"), "count_only": True}, '{"header":%s,"count":"2"}' % H(4)),
    ("range", {"key": b64("a"), "range_end": "AA==", "keys_only": True, "limit": "1"},
     '{"header":%s,"kvs":[{"key":"Z3c=","create_revision":"2","mod_revision":"2","version":"1"}],"more":true,"count":"2"}' % H(4)),
    ("range", {"key": b64("gw"), "bogus": 1}, None),
    ("txn", {"compare": [{"key": b64("x"), "target": "VERSION", "result": "EQUAL", "version": "2"}],
             "success": [{"request_put": {"key": b64("y"), "value": b64("v")}},
                         {"request_range": {"key": b64("y")}}],
             "failure": [{"request_range": {"key": b64("x")}}]},
     '{"header":%s,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"5"}}},'
     '{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"eQ==","create_revision":"5","mod_revision":"5","version":"1","value":"dg=="}],"count":"1"}}]}' % H(5)),
    ("txn", {"compare": [{"key": b64("x"), "target": "VALUE", "result": "EQUAL", "value": b64("nope")}],
             "success": [{"requestPut": {"key": b64("y"), "value": b64("w")}}],
             "failure": [{"requestRange": {"key": b64("x")}}]},
     '{"header":%s,"responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"eA==","create_revision":"3","mod_revision":"4","version":"2","value":"Mg=="}],"count":"1"}}]}' % H(5)),
    ("txn", {"compare": [{"key": b64("nokey"), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
             "success": [{"request_delete_range": {"key": b64("y"), "prev_kv": True}}]}, None),
    ("delete", {"key": b64("gw"), "prev_kv": True},
     '{"header":%s,"deleted":"1","prev_kvs":[{"key":"Z3c=","create_revision":"2","mod_revision":"2","version":"1","value":"dmFs"}]}' % H(7)),
    ("delete", {"key": b64("gw")}, '{"header":%s}' % H(7)),
    ("compact", {"revision": "3"}, '{"header":%s}' % H(7)),
    ("range", {"key": b64("x"), "revision": "2"}, None),   # compacted
    ("range", {"key": b64("x"), "revision": "99"}, None),  # future
    ("range", {}, None),                                   # empty key
    ("put", {"key": b64("k"), "value": b64("\u00e9\u00e8")}, None),
    ("status", {}, '{"header":%s,"version":"3.5.13","dbSize":"20480","leader":"1259761490123835750",'
                   '"raftIndex":"41","raftTerm":"2","raftAppliedIndex":"41","dbSizeInUse":"16384"}' % H(8)),
    ("members", {}, None),
    ("range", '{bad', None),
    # Checks etcd's gRPC layer makes before the server (v3rpc/key.go).
    ("put", {"key": b64("k"), "value": b64("v"), "ignore_value": True}, None),
    ("put", {"key": b64("k"), "lease": "5", "ignore_lease": True}, None),
    ("txn", {"success": [{"request_put": {"key": b64("d")}}, {"request_put": {"key": b64("d")}}]}, None),
    ("txn", {"success": [{"request_delete_range": {"key": b64("a"), "range_end": b64("z")}},
                         {"request_put": {"key": b64("d")}}]}, None),
    ("txn", {"success": [{"request_txn": {"success": [{"request_put": {"key": b64("d")}}]}},
                         {"request_put": {"key": b64("d")}}]}, None),
    ("txn", {"success": [{"request_txn": {"success": [{"request_put": {"key": b64("d")}}],
                                          "failure": [{"request_put": {"key": b64("d")}}]}}]},
     '{"header":%s,"succeeded":true,"responses":[{"response_txn":{"header":{"revision":"9"},"succeeded":true,'
     '"responses":[{"response_put":{"header":{"revision":"9"}}}]}}]}' % H(9)),
    ("txn", {"success": [{}]}, None),
    ("txn", {"compare": [{"result": "EQUAL", "target": "VERSION", "version": "0"}]}, None),
    ("txn", {"success": [{"request_range": {"key": b64("r%d" % i)}} for i in range(129)]}, None),
]

# Error texts the rows above must produce (row index -> grpc code, message).
WANT_ERR = {
    14: (11, "etcdserver: mvcc: required revision has been compacted"),
    15: (11, "etcdserver: mvcc: required revision is a future revision"),
    16: (3, "etcdserver: key is not provided"),
    21: (3, "etcdserver: value is provided"),
    22: (3, "etcdserver: lease is provided"),
    23: (3, "etcdserver: duplicate key given in txn request"),
    24: (3, "etcdserver: duplicate key given in txn request"),
    25: (3, "etcdserver: duplicate key given in txn request"),
    27: (3, "etcdserver: key not found"),
    28: (3, "etcdserver: key is not provided"),
    29: (3, "etcdserver: too many operations in txn request"),
}

HTTP_OF_CODE = {0: 200, 3: 400, 5: 404, 9: 400, 11: 400, 12: 501, 14: 503, 2: 500, 4: 504}


def grpc_call(ch, method, req_bytes, timeout=5):
    path = METHODS[method][0]
    f = ch.unary_unary(path)
    try:
        return 0, f(req_bytes, timeout=timeout), ""
    except grpc.RpcError as e:
        return e.code().value[0], None, e.details()


def mode_diff(gw_target, grpc_target):
    """The same table through the gateway (member 1) and gRPC (member 2)."""
    ch = grpc.insecure_channel(grpc_target)
    for i, (method, body, want) in enumerate(TABLE):
        name = "%d %s %s" % (i, method, json.dumps(body)[:60])
        _, gpath, reqc, respc = METHODS[method]
        st, hdrs, data = gw(gw_target, gpath, body)
        if isinstance(body, str):
            # Malformed JSON: only the gateway can be sent it.
            check(name + " gateway 400 parse error", st == 400 and json.loads(data)["code"] == 3, (st, data))
            continue
        req = json_format.ParseDict(body, reqc(), ignore_unknown_fields=True)
        code, raw, details = grpc_call(ch, method, req.SerializeToString())
        if want is not None:
            check(name + " gateway body as etcd's", data.decode() == want, "%d %s" % (st, data))
        if i in WANT_ERR:
            check(name + " error as etcd's", (code, details) == WANT_ERR[i], (code, details))
        if code == 0:
            check(name + " gateway 200 + content types", st == 200
                  and hdrs.get("content-type") == "application/json"
                  and hdrs.get("grpc-metadata-content-type") == "application/grpc", (st, hdrs))
            # etcd3's generated module predates some 3.5 fields (raftAppliedIndex).
            got_gw = json_format.Parse(data, respc(), ignore_unknown_fields=True)
            got_grpc = respc.FromString(raw)
            got_grpc.DiscardUnknownFields()
            check(name + " same answer on both protocols", got_gw == got_grpc,
                  "\n gw:   %s\n grpc: %s" % (got_gw, got_grpc))
        else:
            want_body = json.dumps({"error": details, "code": code, "message": details},
                                   separators=(",", ":"), ensure_ascii=False)
            check(name + " same error on both protocols",
                  st == HTTP_OF_CODE.get(code) and json.loads(data) == json.loads(want_body)
                  and list(json.loads(data).keys()) == ["error", "code", "message"],
                  "grpc %d %r / gateway %d %s" % (code, details, st, data))
    # Explicit error texts clients match on.
    code, _, details = grpc_call(ch, "range", rpc_pb2.RangeRequest(key=b"x", revision=2).SerializeToString())
    check("compacted: OUT_OF_RANGE + etcd's text", code == 11 and
          details == "etcdserver: mvcc: required revision has been compacted", (code, details))
    st, _, data = gw(gw_target, "/v3/kv/range", {"key": b64("x"), "revision": 2})
    check("compacted over the gateway: 400 + etcd's body", st == 400 and data ==
          b'{"error":"etcdserver: mvcc: required revision has been compacted","code":11,'
          b'"message":"etcdserver: mvcc: required revision has been compacted"}', (st, data))
    code, _, details = grpc_call(ch, "range", rpc_pb2.RangeRequest().SerializeToString())
    check("empty key: INVALID_ARGUMENT", code == 3 and details == "etcdserver: key is not provided",
          (code, details))
    code, _, details = grpc_call(ch, "range", b"\xff\xff\xff")
    check("undecodable protobuf: INTERNAL", code == 13 and "unmarshalling" in details, (code, details))


def mode_http(target):
    st, h, d = http_req(target, "GET", "/version")
    v = json.loads(d)
    check("/version", st == 200 and h.get("content-type") == "application/json"
          and list(v.keys()) == ["etcdserver", "etcdcluster", "cetcd"]
          and v["etcdserver"].startswith("3.5.") and v["etcdcluster"] == "3.5.0", (st, h, d))
    st, h, d = http_req(target, "GET", "/health")
    check("/health", st == 200 and d == b'{"health":"true","reason":""}', (st, d))
    st, h, d = http_req(target, "GET", "/health?serializable=true")
    check("/health?serializable=true", st == 200 and d == b'{"health":"true","reason":""}', (st, d))
    st, h, d = http_req(target, "GET", "/livez")
    check("/livez", st == 200 and d == b"ok\n" and h.get("content-type") == "text/plain; charset=utf-8", (st, h, d))
    st, h, d = http_req(target, "GET", "/readyz?verbose")
    check("/readyz?verbose", st == 200 and d == b"[+]data_corruption ok\n[+]serializable_read ok\n"
          b"[+]linearizable_read ok\nok\n", (st, d))
    st, h, d = http_req(target, "GET", "/readyz/linearizable_read?verbose=1")
    check("/readyz/linearizable_read", st == 200 and d == b"[+]linearizable_read ok\nok\n", (st, d))
    st, h, d = http_req(target, "GET", "/livez/linearizable_read")
    check("/livez/linearizable_read 404", st == 404, (st, d))
    st, h, d = http_req(target, "GET", "/readyz?exclude=linearizable_read&verbose")
    check("/readyz?exclude=", st == 200 and b"linearizable" not in d, (st, d))
    st, h, d = http_req(target, "POST", "/livez")
    check("POST /livez 405", st == 405, st)
    st, h, d = http_req(target, "POST", "/health")
    check("POST /health 405", st == 405 and h.get("allow") == "GET", (st, h))
    st, h, d = http_req(target, "GET", "/v3beta/kv/range")
    check("GET on an RPC path 405", st == 405, st)
    st, h, d = gw(target, "/v3beta/kv/put", {"key": b64("beta"), "value": b64("v")})
    check("/v3beta/ prefix", st == 200, (st, d))
    st, h, d = gw(target, "/v3alpha/kv/range", {"key": b64("beta")})
    check("/v3alpha/ prefix", st == 200 and b'"count":"1"' in d, (st, d))
    st, h, d = gw(target, "/v3/kv/range", "")
    check("empty body is an empty request", st == 400 and b"key is not provided" in d, (st, d))
    st, h, d = http_req(target, "GET", "/v2/keys/foo")
    check("/v2 404 not available", st == 404 and b"v2" in d, (st, d))
    st, h, d = http_req(target, "GET", "/metrics")
    text = d.decode()
    check("/metrics content type", st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"),
          (st, h))
    for name, typ in [("etcd_server_has_leader", "gauge"), ("etcd_server_leader_changes_seen_total", "counter"),
                      ("etcd_server_proposals_committed_total", "gauge"),
                      ("etcd_server_proposals_applied_total", "gauge"),
                      ("etcd_server_proposals_pending", "gauge"),
                      ("etcd_server_proposals_failed_total", "counter"),
                      ("etcd_disk_wal_fsync_duration_seconds", "histogram"),
                      ("etcd_disk_backend_commit_duration_seconds", "histogram"),
                      ("etcd_mvcc_db_total_size_in_bytes", "gauge"),
                      ("etcd_mvcc_db_total_size_in_use_in_bytes", "gauge"),
                      ("etcd_network_peer_round_trip_time_seconds", "histogram"),
                      ("etcd_network_peer_sent_bytes_total", "counter"),
                      ("etcd_network_peer_received_bytes_total", "counter"),
                      ("process_resident_memory_bytes", "gauge"), ("process_open_fds", "gauge")]:
        check("/metrics has %s %s" % (name, typ), ("# TYPE %s %s\n" % (name, typ)) in text, name)
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    check("has_leader 1", vals.get("etcd_server_has_leader") == 1.0, vals.get("etcd_server_has_leader"))
    check("applied from member_info", vals.get("etcd_server_proposals_applied_total") == 41.0, vals)
    check("rss > 1 MB", vals.get("process_resident_memory_bytes", 0) > 1e6, vals)
    check("open fds > 3", vals.get("process_open_fds", 0) > 3, vals)
    check("fsync buckets as etcd's", 'etcd_disk_wal_fsync_duration_seconds_bucket{le="8.192"}' in vals,
          [k for k in vals if "fsync" in k])
    check("peer rtt labelled To", any(k.startswith('etcd_network_peer_round_trip_time_seconds_bucket{To="')
                                      for k in vals), "")
    lab = 'grpc_method="%s",grpc_service="etcdserverpb.KV",grpc_type="unary"'
    check("grpc_server_handled_total OK", vals.get('grpc_server_handled_total{grpc_code="OK",%s}' % (lab % "Put")) == 1.0,
          [(k, v) for k, v in vals.items() if "handled" in k and v])
    check("grpc_server_handled_total InvalidArgument",
          vals.get('grpc_server_handled_total{grpc_code="InvalidArgument",%s}' % (lab % "Range")) == 1.0, "")
    check("grpc_server_started_total", vals.get('grpc_server_started_total{%s}' % (lab % "Range")) == 2.0, "")
    check("pre-registered for every method",
          'grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Watch",grpc_service="etcdserverpb.Watch",'
          'grpc_type="bidi_stream"}' in vals, "")
    check("client bytes counted", vals.get("etcd_network_client_grpc_received_bytes_total", 0) > 0
          and vals.get("etcd_network_client_grpc_sent_bytes_total", 0) > 0, "")
    check("health counted", vals.get("etcd_server_health_success") == 2.0, vals.get("etcd_server_health_success"))
    # Not implemented yet: a clear answer, never a hang.
    ch = grpc.insecure_channel(target)
    try:
        it = ch.stream_stream("/etcdserverpb.Watch/Watch")(iter([rpc_pb2.WatchRequest().SerializeToString()]),
                                                             timeout=5)
        list(it)
        check("Watch without a store (fake member) UNAVAILABLE", False, "no error")
    except grpc.RpcError as e:
        check("Watch without a store (fake member) UNAVAILABLE", e.code() == grpc.StatusCode.UNAVAILABLE
              and "not available" in e.details(), (e.code(), e.details()))
    try:
        ch.unary_unary("/etcdserverpb.Auth/RoleList")(rpc_pb2.AuthRoleListRequest().SerializeToString(),
                                                     timeout=5)
        check("RoleList over gRPC UNIMPLEMENTED", False, "no error")
    except grpc.RpcError as e:
        check("RoleList over gRPC UNIMPLEMENTED", e.code() == grpc.StatusCode.UNIMPLEMENTED, e.code())
    st, h, d = gw(target, "/v3/watch", {})
    check("/v3/watch without a store 503", st == 503 and json.loads(d)["code"] == 14, (st, d))
    for p in ["/v3/auth/role/list", "/v3/auth/user/list", "/v3/auth/authenticate"]:
        st, h, d = gw(target, p, {})
        body = json.loads(d)
        check("%s 501 not implemented" % p, st == 501 and body["code"] == 12
              and "not implemented" in body["message"], (st, d))


def mode_burst(target):
    """Many calls in flight at once on both protocols."""
    import threading
    ch = grpc.insecure_channel(target)
    put = ch.unary_unary(METHODS["put"][0])
    futs = [put.future(rpc_pb2.PutRequest(key=b"burst/%03d" % i, value=b"v").SerializeToString(), timeout=10)
            for i in range(200)]
    errs = []
    for f in futs:
        try:
            f.result()
        except grpc.RpcError as e:
            errs.append(e.code())
    check("200 concurrent gRPC puts", not errs, errs[:3])

    def worker(n):
        for i in range(25):
            st, _, d = gw(target, "/v3/kv/put", {"key": b64("burst/h%d-%d" % (n, i)), "value": b64("v")})
            if st != 200:
                errs.append((st, d))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check("8 HTTP clients x 25 puts", not errs, errs[:3])
    st, _, d = gw(target, "/v3/kv/range", {"key": b64("burst/"), "range_end": b64("burst0"), "count_only": True})
    check("all 400 keys there", st == 200 and json.loads(d).get("count") == "400", d)


def mode_goaway(target):
    """The C side calls api_shutdown() once the "hold" call is at the member."""
    ch = grpc.insecure_channel(target)
    code, _, _ = grpc_call(ch, "put", rpc_pb2.PutRequest(key=b"a", value=b"b").SerializeToString())
    check("before shutdown", code == 0, code)
    held = ch.unary_unary(METHODS["range"][0]).future(
        rpc_pb2.RangeRequest(key=b"hold").SerializeToString(), timeout=3)
    time.sleep(1)
    code, _, details = grpc_call(ch, "put", rpc_pb2.PutRequest(key=b"a", value=b"c").SerializeToString(),
                                 timeout=1)
    check("after shutdown no new calls", code in (4, 14), (code, details))
    try:
        held.result()
        check("call in flight runs on after GOAWAY", False, "answered")
    except grpc.RpcError as e:
        # Held by the fake member: it ends at its own deadline, not at GOAWAY.
        check("call in flight runs on after GOAWAY", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, (e.code(), e.details()))
    try:
        http_req(target, "GET", "/health", timeout=2)
        check("listener closed", False, "connected")
    except OSError:
        check("listener closed", True)


def mode_noleader(target):
    st, h, d = http_req(target, "GET", "/health")
    check("/health without leader 503", st == 503 and d == b'{"health":"false","reason":"RAFT NO LEADER"}\n'
          and h.get("content-type") == "text/plain; charset=utf-8", (st, h, d))
    st, h, d = http_req(target, "GET", "/health?serializable=true")
    check("/health?serializable=true without leader", st == 200, (st, d))
    st, h, d = http_req(target, "GET", "/metrics")
    check("has_leader 0", b"\netcd_server_has_leader 0\n" in d, "")


def mode_nospace(target):
    st, h, d = http_req(target, "GET", "/health")
    check("/health with NOSPACE alarm", st == 503 and b'"reason":"ALARM NOSPACE"' in d, (st, d))
    st, h, d = http_req(target, "GET", "/health?exclude=NOSPACE")
    check("/health?exclude=NOSPACE", st == 200, (st, d))


def mode_fail(target):
    """The member fails the next requests (the C side chose the error)."""
    ch = grpc.insecure_channel(target)
    code, _, details = grpc_call(ch, "put", rpc_pb2.PutRequest(key=b"a", value=b"b").SerializeToString())
    st, h, d = gw(target, "/v3/kv/put", {"key": b64("a"), "value": b64("b")})
    print("grpc %d %s" % (code, details))
    print("http %d %s" % (st, d.decode()))
    st, h, d = http_req(target, "GET", "/health")
    print("health %d %s" % (st, d.decode().strip()))
    st, h, d = http_req(target, "GET", "/readyz")
    print("readyz %d %s" % (st, d.decode().replace("\n", "|")))


def mode_cancel(target):
    """Clients that give up on a request the member never answers."""
    ch = grpc.insecure_channel(target)
    code, _, _ = grpc_call(ch, "range", rpc_pb2.RangeRequest(key=b"hold1").SerializeToString(), timeout=0.3)
    check("gRPC deadline", code == 4, code)
    host, port = target.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    body = json.dumps({"key": b64("hold2")})
    s.sendall(("POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    time.sleep(0.3)
    s.close()
    ch.close()
    time.sleep(0.3)


def mode_etcd3(target):
    import etcd3
    host, port = target.rsplit(":", 1)
    c = etcd3.client(host=host, port=int(port), timeout=5)
    c.put("/app/a", "1")
    c.put("/app/b", "2")
    v, meta = c.get("/app/a")
    check("etcd3 put/get", v == b"1" and meta.version == 1, (v, meta))
    got = sorted((m.key, v) for v, m in c.get_prefix("/app/"))
    check("etcd3 get_prefix", got == [(b"/app/a", b"1"), (b"/app/b", b"2")], got)
    ok, _ = c.transaction(compare=[c.transactions.value("/app/a") == "1"],
                          success=[c.transactions.put("/app/a", "3")], failure=[])
    check("etcd3 transaction succeeded", ok and c.get("/app/a")[0] == b"3", ok)
    ok, _ = c.transaction(compare=[c.transactions.version("/app/a") == 1],
                          success=[], failure=[c.transactions.get("/app/b")])
    check("etcd3 transaction failed branch", not ok, ok)
    check("etcd3 delete", c.delete("/app/a") and c.get("/app/a")[0] is None, "")
    st = c.status()
    check("etcd3 status", st.version == "3.5.13" and st.db_size == 20480 and st.raft_term == 2, st)
    members = list(c.members)
    check("etcd3 members", len(members) == 1 and members[0].name == "n1", members)
    c.close()


def mode_etcdctl(target):
    """Debian's etcdctl 3.4 (gRPC clientv3) against the services."""
    import os
    import subprocess

    if not os.path.exists("/usr/bin/etcdctl"):
        print("skipped: etcdctl not installed")
        return

    def ctl(*args, stdin=None):
        p = subprocess.run(["/usr/bin/etcdctl", "--endpoints=http://" + target,
                            "--dial-timeout=5s", "--command-timeout=5s"] + list(args),
                           input=stdin, capture_output=True, text=True,
                           env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
        return p.returncode, p.stdout, p.stderr

    r = ctl("put", "foo", "bar")
    check("etcdctl put", r[0] == 0 and r[1] == "OK\n", r)
    r = ctl("put", "foo2", "baz")
    r = ctl("get", "foo")
    check("etcdctl get", r[0] == 0 and r[1] == "foo\nbar\n", r)
    r = ctl("get", "--prefix", "foo", "--keys-only")
    check("etcdctl get --prefix --keys-only", r[0] == 0 and r[1] == "foo\n\nfoo2\n\n", r)
    r = ctl("get", "foo", "-w", "json")
    ok = r[0] == 0
    if ok:
        j = json.loads(r[1])
        ok = j["header"]["cluster_id"] == 13950058764791256063 and j["kvs"][0]["value"] == "YmFy"
    check("etcdctl get -w json", ok, r)
    r = ctl("txn", stdin='value("foo") = "bar"\n\nput foo qux\n\nget foo\n\n')
    check("etcdctl txn", r[0] == 0 and r[1] == "SUCCESS\n\nOK\n", r)
    r = ctl("del", "--prefix", "foo")
    check("etcdctl del --prefix", r[0] == 0 and r[1] == "2\n", r)
    r = ctl("get", "foo", "--rev=1")
    check("etcdctl get --rev", r[0] == 0, r)
    r = ctl("compaction", "3")
    check("etcdctl compaction", r[0] == 0 and r[1] == "compacted revision 3\n", r)
    r = ctl("get", "foo", "--rev=2")
    check("etcdctl get compacted revision", r[0] != 0 and
          "etcdserver: mvcc: required revision has been compacted" in r[2], r)
    r = ctl("member", "list")
    check("etcdctl member list", r[0] == 0 and "n1" in r[1] and "http://127.0.0.1:2380" in r[1], r)
    r = ctl("endpoint", "status", "-w", "table")
    check("etcdctl endpoint status", r[0] == 0 and "3.5.13" in r[1] and "20 kB" in r[1], r)
    r = ctl("endpoint", "health")
    check("etcdctl endpoint health", r[0] == 0 and "is healthy" in r[1] + r[2], r)
    r = ctl("role", "list")
    check("etcdctl role list: unimplemented, not a hang", r[0] != 0 and "not implemented" in r[2], r)


def mode_etcd3gw(target):
    """Debian's python3-etcd3gw (the JSON gateway, /v3alpha/ by default)."""
    try:
        import etcd3gw
    except ImportError:
        print("skipped: python3-etcd3gw not installed")
        return
    host, port = target.rsplit(":", 1)
    c = etcd3gw.client(host=host, port=int(port))
    check("etcd3gw put", c.put("/gw/a", "1") is True, "")
    check("etcd3gw create on a new key", c.create("/gw/b", "2") is True, "")
    check("etcd3gw create on an existing key", c.create("/gw/b", "3") is False, "")
    check("etcd3gw get", c.get("/gw/a") == [b"1"], c.get("/gw/a"))
    got = sorted((m["key"], v) for v, m in c.get_prefix("/gw/"))
    check("etcd3gw get_prefix", got == [(b"/gw/a", b"1"), (b"/gw/b", b"2")], got)
    check("etcd3gw replace", c.replace("/gw/a", "1", "9") is True and c.get("/gw/a") == [b"9"], "")
    check("etcd3gw replace mismatch", c.replace("/gw/a", "1", "8") is False, "")
    check("etcd3gw delete", c.delete("/gw/a") is True and c.get("/gw/a") == [], "")
    check("etcd3gw delete_prefix", c.delete_prefix("/gw/") is True and c.get_prefix("/gw/") == [], "")
    st = c.status()
    check("etcd3gw status", st["version"] == "3.5.13" and st["raftTerm"] == "2", st)
    m = c.members()
    check("etcd3gw members", len(m) == 1 and m[0]["name"] == "n1", m)


FAKE_SNAPSHOT_SIZE = 3 * 32768 + 4096  # tests/api/fake_member.h


def fake_store():
    return bytes(((i * 7 + i // 4096) & 255) for i in range(FAKE_SNAPSHOT_SIZE))


def mode_snapshot(target):
    """Maintenance.Snapshot on gRPC (raw, and etcdctl's snapshot save)
    and on the gateway: 32 KiB chunks, etcd's remaining_bytes, then the
    SHA-256 of the store."""
    import hashlib
    import os
    import subprocess
    import tempfile

    store = fake_store()
    ch = grpc.insecure_channel(target)
    stream = ch.unary_stream("/etcdserverpb.Maintenance/Snapshot",
                             request_serializer=rpc_pb2.SnapshotRequest.SerializeToString,
                             response_deserializer=rpc_pb2.SnapshotResponse.FromString)
    msgs = list(stream(rpc_pb2.SnapshotRequest(), timeout=10))
    blobs = [m.blob for m in msgs]
    check("grpc snapshot: 32 KiB chunks then the sha-256",
          [len(b) for b in blobs] == [32768, 32768, 32768, 4096, 32] and
          b"".join(blobs[:-1]) == store and blobs[-1] == hashlib.sha256(store).digest(),
          [len(b) for b in blobs])
    check("grpc snapshot: remaining_bytes as etcd sets them",
          [m.remaining_bytes for m in msgs] == [69632, 36864, 4096, 0, 0],
          [m.remaining_bytes for m in msgs])
    ch.close()

    st, hdrs, body = http_req(target, "POST", "/v3/maintenance/snapshot", "{}")
    lines = [json.loads(l) for l in body.decode().split("\n") if l.strip()]
    res = [l.get("result", {}) for l in lines]
    data = b"".join(base64.b64decode(r.get("blob", "")) for r in res[:-1])
    check("gateway snapshot: a chunked stream of results ending with the sha-256",
          st == 200 and len(res) == 5 and data == store and
          base64.b64decode(res[-1]["blob"]) == hashlib.sha256(store).digest() and
          [r.get("remaining_bytes", "0") for r in res] == ["69632", "36864", "4096", "0", "0"],
          (st, [r.get("remaining_bytes") for r in res]))

    if not os.path.exists("/usr/bin/etcdctl"):
        print("skipped: etcdctl not installed")
        return
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.db")
        p = subprocess.run(["/usr/bin/etcdctl", "--endpoints=http://" + target,
                            "snapshot", "save", path], capture_output=True, text=True,
                           env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
        saved = open(path, "rb").read() if os.path.exists(path) else b""
        check("etcdctl snapshot save", p.returncode == 0 and
              ("Snapshot saved at " + path) in p.stdout + p.stderr and
              saved == store + hashlib.sha256(store).digest(), (p.returncode, p.stdout, p.stderr))


def main():
    mode = sys.argv[1]
    if mode == "diff":
        mode_diff(sys.argv[2], sys.argv[3])
    else:
        globals()["mode_" + mode](sys.argv[2])
    sys.exit(1 if failures else 0)


main()
