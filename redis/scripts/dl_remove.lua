-- dl_remove.lua deletes a dead letter (D1).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] dead letter id
-- Returns 'OK'; ORX_NOTFOUND.
local K = jobkeys()
local raw = redis.call('HGET', K.dl, ARGV[1])
if not raw then return err('NOTFOUND', 'dead letter') end
local d = cjson.decode(raw)
redis.call('HDEL', K.dl, d.i)
redis.call('ZREM', K.dlidx, d.fa .. d.i)
return 'OK'
