-- purge_orphans.lua deletes up to budget history rows and log lines of purged
-- jobs (see purge_jobs.lua), forgetting a job once none remain.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] budget
-- Returns {rows deleted, orphans left}.
local K = jobkeys()
local budget = tonumber(ARGV[1])
local spent = 0
for _, id in ipairs(redis.call('SRANDMEMBER', K.orphans, 16)) do
  if spent >= budget then break end
  local max = budget - spent
  local hs = redis.call('ZRANGEBYLEX', K.histj, '[' .. id, '(' .. id .. '\255', 'LIMIT', 0, max)
  for _, m in ipairs(hs) do
    local hid = string.sub(m, -36)
    local raw = redis.call('HGET', K.hist, hid)
    if raw then
      local h = cjson.decode(raw)
      if h.co then redis.call('ZREM', K.histc, h.co .. hid) end
      redis.call('HDEL', K.hist, hid)
    end
    redis.call('ZREM', K.histj, m)
  end
  spent = spent + #hs
  local clean = #hs < max
  if clean then
    max = budget - spent
    clean = false
    if max > 0 then
      local ls = redis.call('ZRANGEBYLEX', K.logj, '[' .. id, '(' .. id .. '\255', 'LIMIT', 0, max)
      for _, m in ipairs(ls) do
        local lid = string.sub(m, -36)
        redis.call('HDEL', K.logs, lid)
        redis.call('ZREM', K.logt, string.sub(m, -55, -37) .. lid)
        redis.call('ZREM', K.logj, m)
      end
      spent = spent + #ls
      clean = #ls < max
    end
  end
  if clean then redis.call('SREM', K.orphans, id) end
end
return {spent, redis.call('SCARD', K.orphans)}
