-- schedule_update.lua changes one schedule: SetEnabled, Advance, Remove (S1, S3).
-- KEYS: the job family (lib.lua, 1..26), then sch, names, list, due (27..30)
-- ARGV[1] schedule id   ARGV[2] op: 'enable', 'disable', 'advance', 'remove'
-- advance: ARGV[3] seen next run (T)  ARGV[4] next run (T)  ARGV[5] last run (T or '')
-- Returns 'OK'; ORX_NOTFOUND, or ORX_CONFLICT when advance saw another next run.
local K = jobkeys()
local raw = redis.call('HGET', K.sch, ARGV[1])
if not raw then return err('NOTFOUND', 'schedule') end
local s = cjson.decode(raw)
local op = ARGV[2]
if op == 'advance' and s.nr ~= ARGV[3] then return err('CONFLICT', 'next run has moved') end
redis.call('ZREM', K.due, s.nr .. s.i)
if op == 'remove' then
  redis.call('HDEL', K.sch, s.i)
  redis.call('HDEL', K.names, s.n)
  redis.call('ZREM', K.list, s.n)
  return 'OK'
elseif op == 'enable' then
  s.en = '1'
elseif op == 'disable' then
  s.en = nil
else
  s.nr = ARGV[4]
  s.lr = ARGV[5]
  if s.lr == '' then s.lr = nil end
end
if s.en then redis.call('ZADD', K.due, 0, s.nr .. s.i) end
redis.call('HSET', K.sch, s.i, cjson.encode(s))
return 'OK'
