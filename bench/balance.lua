-- wrk -s bench/balance.lua URL -- TOKEN HOLDER...
-- GET /api/v1/accounts/longhua/<holder>, households in turn.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token, holders, n = args[1], {}, 0
  for i = 2, #args do holders[#holders + 1] = args[i] end
end

function request()
  n = n + 1
  local holder = holders[(n * 2 + tid) % #holders + 1]
  return wrk.format("GET", "/api/v1/accounts/longhua/" .. holder, {["Authorization"] = "Bearer " .. token})
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
