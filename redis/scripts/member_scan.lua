-- member_scan.lua filters and orders workers or nodes in the store (W2).
-- KEYS[1] member HASH (id -> JSON)
-- ARGV[1] mode:
--   'available' ARGV[2] queue, ARGV[3] limit: active workers of the queue
--               below max concurrency, least loaded first, then id
--   'dead'      ARGV[2] cut-off (T): not offline, last heartbeat before the
--               cut-off, oldest first, then id
--   'followers' ARGV[3] limit: active nodes by job count, then id
-- Returns member JSON, in order.
local mode = ARGV[1]
local rows = {}
local vals = redis.call('HVALS', KEYS[1])
for _, raw in ipairs(vals) do
  local m = cjson.decode(raw)
  local keep
  if mode == 'available' then
    keep = m.st == 'active' and tonumber(m.cl or '0') < tonumber(m.mc or '0') and
      string.find('\0' .. (m.qs or '') .. '\0', '\0' .. ARGV[2] .. '\0', 1, true) ~= nil
  elseif mode == 'dead' then
    keep = m.st ~= 'offline' and (m.lh or ZERO) < ARGV[2]
  else
    keep = m.st == 'active'
  end
  if keep then rows[#rows + 1] = {m = m, raw = raw} end
end
local function num(v) return tonumber(v or '0') end
table.sort(rows, function(a, b)
  local x, y
  if mode == 'available' then x, y = num(a.m.cl), num(b.m.cl)
  elseif mode == 'dead' then x, y = a.m.lh or ZERO, b.m.lh or ZERO
  else x, y = num(a.m.jc), num(b.m.jc) end
  if x ~= y then return x < y end
  return a.m.i < b.m.i
end)
local limit = tonumber(ARGV[3] or '0')
if mode == 'dead' then limit = #rows end
local out = {}
for i = 1, math.min(limit, #rows) do out[i] = rows[i].raw end
return out
