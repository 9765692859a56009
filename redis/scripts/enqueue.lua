-- enqueue.lua stores a batch of jobs, all or none (J1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: job JSON, one per job
-- Returns the number stored, or ORX_EXISTS when an id, a live unique key or
-- a schedule tick is taken (then nothing is stored).
local K = jobkeys()
local jobs, seen = {}, newSeen()
for i = 1, #ARGV do
  local j = cjson.decode(ARGV[i])
  local e = enqueueCheck(K, j, seen)
  if e then return e end
  jobs[i] = j
end
local wm = watermark(K)
for i, j in ipairs(jobs) do
  index(K, j, wm)
  redis.call('HSET', K.jobs, j.id, ARGV[i])
end
return #jobs
