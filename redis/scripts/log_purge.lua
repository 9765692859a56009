-- log_purge.lua deletes up to limit log entries written before the cut-off (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] cut-off (T, exclusive)   ARGV[2] limit
-- Returns how many entries it deleted.
local K = jobkeys()
local ms = redis.call('ZRANGEBYLEX', K.logt, '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, m in ipairs(ms) do
  local lid = string.sub(m, 20)
  local raw = redis.call('HGET', K.logs, lid)
  if raw then
    -- the entry's sequence (19 digits), then its JSON
    local e = cjson.decode(string.sub(raw, 20))
    redis.call('ZREM', K.logj, e.j .. string.sub(raw, 1, 19) .. e.ts .. e.i)
    redis.call('HDEL', K.logs, lid)
    n = n + 1
  end
  redis.call('ZREM', K.logt, m)
end
return n
