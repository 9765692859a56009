-- enqueue_check.lua opens the transaction of a plain enqueue (jobs.go,
-- enqueuePlain): MULTI, this script, HSET jobs, ZADD readyq, SADD queues,
-- hold_release.lua, EXEC (J1). It checks that no id of the batch is
-- stored. When one is, it holds the three keys the batch's commands
-- write: each is renamed to its holding key (O(1)) and replaced by a
-- string, so the HSET, ZADD and SADD that follow fail (WRONGTYPE) and
-- change nothing; hold_release.lua puts the keys back before EXEC ends,
-- and no other client runs in between.
-- It is sent whole with EVAL and without lib.lua: an EVALSHA that met
-- NOSCRIPT inside MULTI would fail alone and leave the writes unchecked.
-- KEYS[1..3] jobs, readyq, queues   KEYS[4..6] their holding keys
-- ARGV: the batch's job ids (distinct: jobs.go checks)
-- Returns 0 when every id is free, 1 when one is taken (the keys are held).
local n = #ARGV
for i = 1, n, 1000 do
  local v = redis.call('HMGET', KEYS[1], unpack(ARGV, i, math.min(i + 999, n)))
  for k = 1, #v do
    if v[k] then
      local h = #KEYS / 2
      for j = 1, h do
        if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('RENAME', KEYS[j], KEYS[j + h]) end
        redis.call('SET', KEYS[j], 'held')
      end
      return 1
    end
  end
end
return 0
