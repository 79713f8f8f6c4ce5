-- range.lua: wrk script, POST /v3/kv/range of one key ("bench-read-key",
-- base64 below) through the JSON gateway; SERIALIZABLE=1 makes it
-- serializable.  The request is static, so wrk builds it once.
wrk.method = "POST"
wrk.path = "/v3/kv/range"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"YmVuY2gtcmVhZC1rZXk="' ..
  (os.getenv("SERIALIZABLE") == "1" and ',"serializable":true' or "") .. '}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d secs=%.3f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
