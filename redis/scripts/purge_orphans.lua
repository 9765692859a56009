-- purge_orphans.lua deletes up to about budget history rows and log lines of
-- purged jobs (see purge_jobs.lua), forgetting a job once none remain (J9).
-- The locators it reads to unfile the rows count against the budget too.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] budget, then pairs of an orphan's id and its 16 bytes (jobs.go
-- takes them from the orphan set)
-- Returns {rows deleted and locators read, orphans left}.
local K = jobkeys()
local budget = tonumber(ARGV[1])
local spent = 0
for i = 2, #ARGV, 2 do
  if spent >= budget then break end
  local jid = ARGV[i + 1]
  local lo, hi = '[' .. jid, '(' .. jid .. '\255'
  local max = budget - spent
  local hs = redis.call('ZRANGEBYLEX', K.histr, lo, hi, 'LIMIT', 0, max)
  spent = spent + #hs + dropRows(K.histid, K.histr, K.histbt, K.histbl, hs, 57, 16, 33, 56)
  local clean = #hs < max
  if clean then
    max = budget - spent
    clean = false
    if max > 0 then
      local ls = redis.call('ZRANGEBYLEX', K.logr, lo, hi, 'LIMIT', 0, max)
      spent = spent + #ls + dropRows(K.logid, K.logr, K.logbt, K.logbl, ls, 17, 6, 25, 42)
      clean = #ls < max
    end
  end
  if clean then redis.call('SREM', K.orphans, ARGV[i]) end
end
return {spent, redis.call('SCARD', K.orphans)}
