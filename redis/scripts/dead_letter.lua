-- dead_letter.lua moves the job at the given attempt (any status) out of the
-- live set into a dead letter, atomically (J7). History and logs stay.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] job id   ARGV[2] attempt (19 digits)   ARGV[3] dead letter id
-- ARGV[4] last error ('' takes the job's)   ARGV[5] failed at (T)
-- Returns the dead letter JSON (j: the job's record); ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local id = ARGV[1]
local r = load(B, id)
if not r then return err('NOTFOUND', 'job') end
if not has(r, R_AT, ARGV[2]) then return err('CONFLICT', 'job is no longer at that attempt') end
if redis.call('HEXISTS', K.dl, ARGV[3]) == 1 then return err('EXISTS', 'dead letter id') end
delete(B, id)
flush(B)
local msg = ARGV[4]
if msg == '' then msg = field(r, F_LE) end
local d = {i = ARGV[3], j = r, e = msg, n = string.match(at(r, R_AT), '^0*(%d+)$'), fa = ARGV[5]}
local raw = cjson.encode(d)
redis.call('HSET', K.dl, d.i, raw)
redis.call('ZADD', K.dlidx, 0, d.fa .. d.i)
return raw
