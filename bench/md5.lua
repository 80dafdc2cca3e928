-- MD5 (RFC 1321) in LuaJIT, for the DIGEST answers of the benchmark's wrk
-- script: wrk's Lua has no hash functions of its own.  Returns a function
-- from a string to its lowercase hex digest.

local bit = require "bit"
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local lshift, rol, tobit, bswap, tohex = bit.lshift, bit.rol, bit.tobit, bit.bswap, bit.tohex

local K, S = {}, {}
for i = 0, 63 do
  K[i] = tobit(math.floor(math.abs(math.sin(i + 1)) * 2 ^ 32))
end
local shifts = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 } }
for i = 0, 63 do
  S[i] = shifts[math.floor(i / 16) + 1][i % 4 + 1]
end

local function padded(message)
  local bits = #message * 8
  local tail = {}
  for i = 0, 7 do
    tail[#tail + 1] = string.char(math.floor(bits / 256 ^ i) % 256)
  end
  return message .. "\128" .. string.rep("\0", (55 - #message) % 64) .. table.concat(tail)
end

return function(message)
  message = padded(message)
  local h0, h1, h2, h3 = tobit(0x67452301), tobit(0xefcdab89), tobit(0x98badcfe), tobit(0x10325476)
  local X = {}
  for chunk = 1, #message, 64 do
    for j = 0, 15 do
      local a, b, c, d = message:byte(chunk + j * 4, chunk + j * 4 + 3)
      X[j] = bor(a, lshift(b, 8), lshift(c, 16), lshift(d, 24))
    end
    local A, B, C, D = h0, h1, h2, h3
    for i = 0, 63 do
      local F, g
      if i < 16 then
        F, g = bor(band(B, C), band(bnot(B), D)), i
      elseif i < 32 then
        F, g = bor(band(D, B), band(bnot(D), C)), (5 * i + 1) % 16
      elseif i < 48 then
        F, g = bxor(B, C, D), (3 * i + 5) % 16
      else
        F, g = bxor(C, bor(B, bnot(D))), (7 * i) % 16
      end
      A, D, C, B = D, C, B, tobit(B + rol(tobit(A + F + K[i] + X[g]), S[i]))
    end
    h0, h1, h2, h3 = tobit(h0 + A), tobit(h1 + B), tobit(h2 + C), tobit(h3 + D)
  end
  return tohex(bswap(h0)) .. tohex(bswap(h1)) .. tohex(bswap(h2)) .. tohex(bswap(h3))
end
