-- schedule_fire.lua enqueues a firing's jobs and advances the schedule in one
-- atomic step (S3): every check runs before any write.
-- KEYS: the job family (lib.lua, 1..26), then sch, names, list, due (27..30)
-- ARGV[1] schedule id   ARGV[2] seen next run (T)   ARGV[3] next run (T)
-- ARGV[4] fired at (T)   ARGV[5..] job records (codec.go)
-- Returns 'OK'; ORX_NOTFOUND, ORX_CONFLICT or ORX_EXISTS (nothing changed).
local K = jobkeys()
local raw = redis.call('HGET', K.sch, ARGV[1])
if not raw then return err('NOTFOUND', 'schedule') end
local s = cjson.decode(raw)
if s.nr ~= ARGV[2] then return err('CONFLICT', 'next run has moved') end
local B = batch(K, watermark(K))
local raws = {}
for i = 5, #ARGV do raws[#raws + 1] = ARGV[i] end
local e = enqueueAll(B, raws)
if e then return e end
flush(B)
redis.call('ZREM', K.due, s.nr .. s.i)
s.nr, s.lr = ARGV[3], ARGV[4]
if s.en then redis.call('ZADD', K.due, 0, s.nr .. s.i) end
redis.call('HSET', K.sch, s.i, cjson.encode(s))
return 'OK'
