-- dl_requeue.lua removes a dead letter and enqueues its job again under the
-- original id, pending, with run state cleared and Attempt kept (D1).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] dead letter id
-- Returns the job record; ORX_NOTFOUND, or ORX_EXISTS when a live job holds
-- the id, the unique key or the schedule tick (the dead letter stays).
local K = jobkeys()
local raw = redis.call('HGET', K.dl, ARGV[1])
if not raw then return err('NOTFOUND', 'dead letter') end
local d = cjson.decode(raw)
local r = d.j
-- pending; dispatched, started, completed and scheduled times, the cleaned
-- flag, worker, follower, retry count and last error cleared
r = 'p' .. sub(r, R_AT, R_DA - 1) .. ZERO .. ZERO .. ZERO .. sub(r, R_PR, R_SA - 1) .. ZERO ..
  sub(r, R_TO, R_CC - 1) .. '0' .. sub(r, R_TK)
for _, k in ipairs({F_W, F_F, F_RC, F_LE}) do r = setField(r, k, '') end
local B = batch(K, watermark(K))
local id = sub(r, R_ID, R_ID + 35)
local e = enqueueCheck(B, id, r, newSeen())
if e then return e end
redis.call('HDEL', K.dl, d.i)
redis.call('ZREM', K.dlidx, d.fa .. d.i)
r = put(B, id, r)
flush(B)
return r
