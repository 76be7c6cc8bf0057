-- wrk -s bench/bare.lua URL: GET / of bench/bare.py, reporting as the other two scripts do.

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
