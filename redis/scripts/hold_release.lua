-- hold_release.lua closes the transaction of a plain enqueue (see
-- enqueue_check.lua) or of a history append (history_check.lua): when the
-- check held the keys (the first is a string), it deletes the strings and
-- renames the holding keys back. Sent whole with EVAL, without lib.lua.
-- KEYS[1..n] the keys the transaction writes   KEYS[n+1..2n] their holding keys
-- Returns 1 when it released held keys, else 0.
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local h = #KEYS / 2
for j = 1, h do
  redis.call('DEL', KEYS[j])
  if redis.call('EXISTS', KEYS[j + h]) == 1 then redis.call('RENAME', KEYS[j + h], KEYS[j]) end
end
return 1
