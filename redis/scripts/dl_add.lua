-- dl_add.lua stores a dead letter (D1).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] dead letter JSON (fields i, fa, j, e, n)
-- Returns 'OK'; ORX_EXISTS for a duplicate id.
local K = jobkeys()
local d = cjson.decode(ARGV[1])
if redis.call('HEXISTS', K.dl, d.i) == 1 then return err('EXISTS', 'dead letter id') end
redis.call('HSET', K.dl, d.i, ARGV[1])
redis.call('ZADD', K.dlidx, 0, d.fa .. d.i)
return 'OK'
