-- The benchmark's wrk script for one fixed request (loadgen's mode=fixed):
-- it defines no request() and no response(), so wrk sends its one prepared
-- request and reads answers without calling Lua for each of them (wrk.lua's
-- per-request calls doubled wrk's user time; on a 2-core machine wrk's CPU
-- is taken from the server under test).  The path and headers come
-- from wrk's command line; done() prints the same line as wrk.lua's (result.lua).
-- A status other than 2xx or 3xx is counted by wrk itself (errors.status).

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local result = require "result"

function done(summary, latency, requests)
  result.write(summary, latency, summary.requests - summary.errors.status, 0, 0)
end
