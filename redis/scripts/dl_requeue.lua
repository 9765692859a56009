-- dl_requeue.lua removes a dead letter and enqueues its job again under the
-- original id, pending, with run state cleared and Attempt kept (D1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] dead letter id
-- Returns the job JSON; ORX_NOTFOUND, or ORX_EXISTS when a live job holds
-- the id, the unique key or the schedule tick (the dead letter stays).
local K = jobkeys()
local raw = redis.call('HGET', K.dl, ARGV[1])
if not raw then return err('NOTFOUND', 'dead letter') end
local d = cjson.decode(raw)
local j = d.j
j.st = 'pending'
j.rc, j.le, j.w, j.f, j.sa, j.da, j.ta, j.co, j.cc = nil, nil, nil, nil, nil, nil, nil, nil, nil
local B = batch(K, watermark(K))
local e = enqueueCheck(B, j, newSeen())
if e then return e end
redis.call('HDEL', K.dl, d.i)
redis.call('ZREM', K.dlidx, d.fa .. d.i)
raw = put(B, j)
flush(B)
return raw
