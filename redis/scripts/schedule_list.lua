-- schedule_list.lua pages schedules in name order (S1), or reads one by name.
-- KEYS[1] sch HASH   KEYS[2] names HASH   KEYS[3] list ZSET
-- ARGV[1] min (ZRANGEBYLEX)   ARGV[2] max   ARGV[3] count
-- Returns schedule JSON, in name order.
local ms = redis.call('ZRANGEBYLEX', KEYS[3], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, n in ipairs(ms) do
  local id = redis.call('HGET', KEYS[2], n)
  local raw = id and redis.call('HGET', KEYS[1], id)
  if raw then out[#out + 1] = raw end
end
return out
