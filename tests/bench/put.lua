-- put.lua: wrk script, POST /v3/kv/put of a new random key each time with a
-- 256-byte value (env VALUE_SIZE), through the JSON gateway.
local b64c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64c:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local value
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  value = b64(string.rep("v", tonumber(os.getenv("VALUE_SIZE") or "256")))
end

function request()
  local key = string.format("bench/%08x%08x", math.random(0, 0x7fffffff),
                            math.random(0, 0x7fffffff))
  return wrk.format("POST", "/v3/kv/put", headers,
                    '{"key":"' .. b64(key) .. '","value":"' .. value .. '"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d secs=%.3f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
