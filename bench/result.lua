-- The result line both wrk scripts print from done(): "FAMD-BENCH " and one
-- JSON object of wrk's counts and latency percentiles, and the script's own
-- counts of answers (loadgen.py reads it).
local result = {}

function result.write(summary, latency, ok, challenged, unexpected)
  local e = summary.errors
  io.write(string.format(
    'FAMD-BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"timeout":%d,"status":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"ok":%d,"challenged":%d,"unexpected":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max, ok, challenged, unexpected))
end

return result
