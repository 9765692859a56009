-- history_purge.lua deletes up to limit history rows completed before the
-- cut-off (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] cut-off (T, exclusive)   ARGV[2] limit
-- Returns how many rows it deleted.
local K = jobkeys()
local ms = redis.call('ZRANGEBYLEX', K.histc, '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, m in ipairs(ms) do
  local hid = string.sub(m, 20)
  local raw = redis.call('HGET', K.hist, hid)
  if raw then
    local h = cjson.decode(raw)
    redis.call('ZREM', K.histj, h.j .. h.n .. (h.ta or ZERO) .. h.i)
    redis.call('HDEL', K.hist, hid)
    n = n + 1
  end
  redis.call('ZREM', K.histc, m)
end
return n
