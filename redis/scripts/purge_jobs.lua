-- purge_jobs.lua deletes up to limit terminal jobs completed before the
-- cut-off (J9) and records their ids in orphans, so purge_orphans.lua deletes
-- their history and logs in bounded steps; a crash in between leaves the
-- work recorded, never lost.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] cut-off (T, exclusive)   ARGV[2] limit
-- Returns how many jobs it deleted.
local K = jobkeys()
local ms = redis.call('ZRANGEBYLEX', K.done, '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, m in ipairs(ms) do
  local j = loadJob(K, string.sub(m, 20))
  if j then
    unindex(K, j)
    redis.call('HDEL', K.jobs, j.id)
    redis.call('SADD', K.orphans, j.id)
    n = n + 1
  else
    redis.call('ZREM', K.done, m)
  end
end
return n
