-- schedule_register.lua creates a schedule or updates the one with the same
-- name (S1). An update keeps id and created, and next/last run when the spec
-- (ex, tz, iv) is unchanged.
-- KEYS: the job family (lib.lua, 1..26), then sch, names, list, due (27..30)
-- ARGV[1] schedule JSON (fields i, n, nr, lr, en, ca, ex, tz, iv, ...)
-- Returns the stored JSON; ORX_EXISTS when a new schedule's id is taken.
local K = jobkeys()
local s = cjson.decode(ARGV[1])
local oldId = redis.call('HGET', K.names, s.n)
if oldId then
  local old = cjson.decode(redis.call('HGET', K.sch, oldId))
  s.i, s.ca = old.i, old.ca
  if s.ex == old.ex and s.tz == old.tz and s.iv == old.iv then s.nr, s.lr = old.nr, old.lr end
  redis.call('ZREM', K.due, old.nr .. old.i)
else
  if redis.call('HEXISTS', K.sch, s.i) == 1 then return err('EXISTS', 'schedule id') end
  redis.call('HSET', K.names, s.n, s.i)
  redis.call('ZADD', K.list, 0, s.n)
end
if s.en then redis.call('ZADD', K.due, 0, s.nr .. s.i) end
local raw = cjson.encode(s)
redis.call('HSET', K.sch, s.i, raw)
return raw
