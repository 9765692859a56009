-- schedule_fire.lua enqueues a firing's jobs and advances the schedule in one
-- atomic step (S3): every check runs before any write.
-- KEYS: the job family (lib.lua, 1..24), then sch, names, list, due (25..28)
-- ARGV[1] schedule id   ARGV[2] seen next run (T)   ARGV[3] next run (T)
-- ARGV[4] fired at (T)   ARGV[5..] job JSON
-- Returns 'OK'; ORX_NOTFOUND, ORX_CONFLICT or ORX_EXISTS (nothing changed).
local K = jobkeys()
local raw = redis.call('HGET', K.sch, ARGV[1])
if not raw then return err('NOTFOUND', 'schedule') end
local s = cjson.decode(raw)
if s.nr ~= ARGV[2] then return err('CONFLICT', 'next run has moved') end
local jobs, seen = {}, newSeen()
for i = 5, #ARGV do
  local j = cjson.decode(ARGV[i])
  local e = enqueueCheck(K, j, seen)
  if e then return e end
  jobs[#jobs + 1] = {j, ARGV[i]}
end
local wm = watermark(K)
for _, jr in ipairs(jobs) do
  index(K, jr[1], wm)
  redis.call('HSET', K.jobs, jr[1].id, jr[2])
end
redis.call('ZREM', K.due, s.nr .. s.i)
s.nr, s.lr = ARGV[3], ARGV[4]
if s.en then redis.call('ZADD', K.due, 0, s.nr .. s.i) end
redis.call('HSET', K.sch, s.i, cjson.encode(s))
return 'OK'
