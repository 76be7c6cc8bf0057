-- wrk -s bench/redeem.lua URL -- TOKEN RUN HOLDER...
-- POST /api/v1/redemptions, one soap for a household picked in turn, each with a fresh
-- Idempotency-Key (RUN, the thread's number and a counter), so none is a replay.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token, run, holders, n = args[1], args[2], {}, 0
  for i = 3, #args do holders[#holders + 1] = args[i] end
end

function request()
  n = n + 1
  local holder = holders[(n * 2 + tid) % #holders + 1]
  local body = '{"shop":"lh-shop","scheme":"longhua","holder":"' .. holder ..
               '","lines":[{"goods":"soap","quantity":1}]}'
  return wrk.format("POST", "/api/v1/redemptions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. n,
  }, body)
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
