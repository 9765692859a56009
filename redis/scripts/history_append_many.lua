-- history_append_many.lua stores job attempts, all or none (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: history JSON, one per row (fields as history_append.lua)
-- Returns the number stored, or ORX_EXISTS when an id is stored or given
-- twice (then nothing is stored).
local K = jobkeys()
local rows, seen = {}, {}
for i = 1, #ARGV do
  local h = cjson.decode(ARGV[i])
  if seen[h.i] or redis.call('HEXISTS', K.hist, h.i) == 1 then return err('EXISTS', 'history id') end
  seen[h.i] = true
  rows[i] = h
end
for i, h in ipairs(rows) do
  redis.call('HSET', K.hist, h.i, ARGV[i])
  redis.call('ZADD', K.histj, 0, h.j .. h.n .. (h.ta or ZERO) .. h.i)
  if h.co then redis.call('ZADD', K.histc, 0, h.co .. h.i) end
end
return #rows
