-- dead_letter.lua moves the job at the given attempt (any status) out of the
-- live set into a dead letter, atomically (J7). History and logs stay.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] job id   ARGV[2] attempt   ARGV[3] dead letter id
-- ARGV[4] last error ('' takes the job's)   ARGV[5] failed at (T)
-- Returns the dead letter JSON; ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local j = load(B, ARGV[1])
if not j then return err('NOTFOUND', 'job') end
if j.at ~= ARGV[2] then return err('CONFLICT', 'job is no longer at that attempt') end
if redis.call('HEXISTS', K.dl, ARGV[3]) == 1 then return err('EXISTS', 'dead letter id') end
delete(B, j)
flush(B)
local msg = ARGV[4]
if msg == '' then msg = j.le or '' end
local d = {i = ARGV[3], j = j, e = msg, n = j.at, fa = ARGV[5]}
local raw = cjson.encode(d)
redis.call('HSET', K.dl, d.i, raw)
redis.call('ZADD', K.dlidx, 0, d.fa .. d.i)
return raw
