-- history_check.lua opens the transaction of a history append (records.go,
-- appendNative): MULTI, this script, SADD histid, ZADD histr and, with
-- completed rows, HSET histbl and ZADD histbt, hold_release.lua, EXEC (L1).
-- It checks that no id of the rows is stored and that the batch is not
-- filed. When one is, it holds the four keys the commands write, as
-- enqueue_check.lua does, so that every one of them fails (WRONGTYPE) and
-- changes nothing. Sent whole with EVAL, without lib.lua.
-- KEYS[1..4] histid, histr, histbt, histbl   KEYS[5..8] their holding keys
-- ARGV[1] the batch ('' when no row is completed)   ARGV[2..] the rows'
-- ids (16 bytes, distinct: records.go checks)
-- Returns 0 when every id is free, 1 when one is taken (the keys are held).
local n, taken = #ARGV, ARGV[1] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1
for i = 2, n, 1000 do
  if taken then break end
  for _, v in ipairs(redis.call('SMISMEMBER', KEYS[1], unpack(ARGV, i, math.min(i + 999, n)))) do
    if v == 1 then taken = true end
  end
end
if not taken then return 0 end
for j = 1, 4 do
  if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('RENAME', KEYS[j], KEYS[j + 4]) end
  redis.call('SET', KEYS[j], 'held')
end
return 1
