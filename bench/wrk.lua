-- The benchmark's wrk script: builds each request and prints one JSON line
-- of results at the end.  Arguments (after "--" on wrk's command line) are
-- key=value pairs:
--   (mode=fixed, the same request every time, is wrk-fixed.lua's: see loadgen.py)
--   mode=info   domain=D first=I last=J           GET /api/accounts/userN@D/info, N random in [I, J]
--   mode=me     domain=D first=I step=S count=C   GET /api/accounts/me as a random API-key holder
--   mode=admin  domain=D key=K [page=P | pages=L]  GET /api/accounts?page=P (or random in [1, L])
--   mode=digest domain=D first=I last=J password=W  DIGEST challenge then answer on /api/accounts/me
--     (one account per wrk thread, picked at random in [I, J]: a 401 does not say
--     whose challenge it is, and a nonce is only valid for its own account)
-- Bench accounts are userN@D (N is the id) with the API key "benchkey" .. N
-- zero-padded to 40 characters, and the clear password W.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local md5 = require "md5"
local result = require "result"

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

local options = {}
ok, challenged, unexpected = 0, 0, 0 -- globals: done() reads them with thread:get
local pending = {}

local function api_key(id)
  return string.format("benchkey%032d", id)
end

local function from(id)
  return "sip:user" .. id .. "@" .. options.domain
end

function init(args)
  for _, pair in ipairs(args) do
    local name, value = pair:match("^([%w_]+)=(.*)$")
    options[name] = value
  end
  math.randomseed((thread_number or 1) * 7919 + os.time())
  for _, name in ipairs({ "first", "last", "step", "count", "page", "pages" }) do
    options[name] = tonumber(options[name])
  end
  if options.mode == "digest" then
    options.id = math.random(options.first, options.last)
  end
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if name:lower() == wanted then return value end
  end
end

local function answer(id, challenge)
  local realm = challenge:match('realm="([^"]*)"')
  local nonce = challenge:match('nonce="([^"]*)"')
  local opaque = challenge:match('opaque="([^"]*)"')
  local uri = "/api/accounts/me"
  local cnonce = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  local nc = "00000001"
  local ha1 = md5("user" .. id .. ":" .. realm .. ":" .. options.password)
  local ha2 = md5("GET:" .. uri)
  local response = md5(table.concat({ ha1, nonce, nc, cnonce, "auth", ha2 }, ":"))
  return string.format(
    'Digest username="user%d",realm="%s",nonce="%s",uri="%s",algorithm=MD5,qop=auth,'
      .. 'nc=%s,cnonce="%s",response="%s",opaque="%s"',
    id, realm, nonce, uri, nc, cnonce, response, opaque)
end

function request()
  local mode = options.mode
  if mode == "info" then
    local id = math.random(options.first, options.last)
    return wrk.format("GET", "/api/accounts/user" .. id .. "@" .. options.domain .. "/info")
  elseif mode == "me" then
    local id = options.first + options.step * math.random(0, options.count - 1)
    return wrk.format("GET", "/api/accounts/me", { ["From"] = from(id), ["x-api-key"] = api_key(id) })
  elseif mode == "admin" then
    local page = options.page or math.random(1, options.pages)
    return wrk.format("GET", "/api/accounts?page=" .. page,
      { ["From"] = "sip:admin@" .. options.domain, ["x-api-key"] = options.key })
  else -- digest: answer a pending challenge if there is one, else ask for one
    local authorization = table.remove(pending)
    if authorization then
      return wrk.format("GET", "/api/accounts/me",
        { ["From"] = from(options.id), ["Authorization"] = authorization })
    end
    return wrk.format("GET", "/api/accounts/me", { ["From"] = from(options.id) })
  end
end

function response(status, headers, body)
  if options.mode ~= "digest" then
    return
  end
  if status == 200 then
    ok = ok + 1
  elseif status == 401 then
    challenged = challenged + 1
    local challenge = header(headers, "www-authenticate")
    if challenge then
      table.insert(pending, answer(options.id, challenge))
    else
      unexpected = unexpected + 1
    end
  else
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_challenged, total_unexpected = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + (thread:get("ok") or 0)
    total_challenged = total_challenged + (thread:get("challenged") or 0)
    total_unexpected = total_unexpected + (thread:get("unexpected") or 0)
  end
  result.write(summary, latency, total_ok, total_challenged, total_unexpected)
end
