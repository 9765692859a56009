-- hold_release.lua closes the transaction of a plain enqueue (see
-- enqueue_check.lua) or of a history append (history_check.lua): when the
-- check held the keys (the first is a string), it deletes the strings and
-- renames the holding keys back. Sent whole with EVAL, without lib.lua.
-- KEYS[1..4] the keys the transaction writes   KEYS[5..8] their holding keys
-- Returns 1 when it released held keys, else 0.
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
for j = 1, 4 do
  redis.call('DEL', KEYS[j])
  if redis.call('EXISTS', KEYS[j + 4]) == 1 then redis.call('RENAME', KEYS[j + 4], KEYS[j]) end
end
return 1
