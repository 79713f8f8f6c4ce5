#!/usr/bin/python3
# fake_member.py - a member that answers like cetcd's JSON gateway but
# whose clock is off (its Date header is skewed), or that never answers.
# Usage: fake_member.py READY_FILE ADDR:PORT:SKEW_S:MODE...
#   MODE ok   answer /version and /v3/maintenance/status at once
#   MODE hang accept the request and answer nothing for 30 s
# The test kills it by pid.
import email.utils
import http.server
import json
import sys
import threading
import time


def handler_for(skew, mode, member_id):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def date_time_string(self, timestamp=None):
            return email.utils.formatdate(time.time() + skew, usegmt=True)

        def log_message(self, *args):
            pass

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            if mode == "hang":
                time.sleep(30)
                return
            if self.path == "/version":
                body = {"etcdserver": "3.5.13", "etcdcluster": "3.5.0"}
            else:
                body = {"header": {"cluster_id": "1", "member_id": member_id,
                                   "revision": "1", "raft_term": "2"},
                        "version": "3.5.13", "dbSize": "20480",
                        "leader": "1", "raftIndex": "4", "raftTerm": "2",
                        "raftAppliedIndex": "4", "dbSizeInUse": "20480"}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = answer
        do_POST = answer

    return H


servers = []
for i, spec in enumerate(sys.argv[2:]):
    addr, port, skew, mode = spec.split(":")
    srv = http.server.ThreadingHTTPServer(
        (addr, int(port)), handler_for(float(skew), mode, str(i + 1)))
    srv.daemon_threads = True
    servers.append(srv)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
open(sys.argv[1], "w").close()
while True:
    time.sleep(3600)
