-- member_update.lua sets one field of a worker or node (status, role), or
-- adds a delta to a counter, never below zero (W1, W2).
-- KEYS[1] member HASH (id -> JSON)
-- ARGV[1] id   ARGV[2] 'set' or 'add'   ARGV[3] field   ARGV[4] value or delta
-- Returns the field's new value; ORX_NOTFOUND.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return err('NOTFOUND', 'member') end
local m = cjson.decode(raw)
local f = ARGV[3]
if ARGV[2] == 'set' then
  m[f] = ARGV[4]
else
  local v = tonumber(m[f] or '0') + tonumber(ARGV[4])
  if v < 0 then v = 0 end
  m[f] = string.format('%.0f', v)
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(m))
return m[f]
