-- history_append.lua stores one job attempt (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] history JSON (fields i, j, n (attempt, 19 digits), ta, co, ...)
-- Returns 'OK'; ORX_EXISTS for a duplicate id.
local K = jobkeys()
local h = cjson.decode(ARGV[1])
if redis.call('HEXISTS', K.hist, h.i) == 1 then return err('EXISTS', 'history id') end
redis.call('HSET', K.hist, h.i, ARGV[1])
redis.call('ZADD', K.histj, 0, h.j .. h.n .. (h.ta or ZERO) .. h.i)
if h.co then redis.call('ZADD', K.histc, 0, h.co .. h.i) end
return 'OK'
