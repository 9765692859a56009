-- mark_running_many.lua moves dispatched jobs at their attempts to running:
-- MarkRunningMany (J5).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] worker id ('' keeps)   ARGV[2] now (T)
-- ARGV[3..] pairs of job id, attempt (19 digits)
-- Returns the pairs it did not move: place (1-based) and 'NOTFOUND' or
-- 'CONFLICT', flat (lib.lua, markRunning); empty when all moved.
local K = jobkeys()
local B = batch(K, watermark(K))
local ids, ats = {}, {}
for i = 3, #ARGV, 2 do
  local k = (i - 1) / 2
  ids[k], ats[k] = ARGV[i], ARGV[i + 1]
end
local out = markRunning(B, ids, ats, ARGV[2], ARGV[1])
flush(B)
return out
