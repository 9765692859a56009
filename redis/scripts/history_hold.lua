-- history_hold.lua opens the transaction of a CompleteRecorded (jobs.go,
-- completeHeld): it holds the four keys its history rows' native commands
-- write, always, so that those commands fail (WRONGTYPE) and change nothing
-- unless complete_recorded.lua, which runs next, releases them. A
-- complete_recorded.lua that is refused (a stored id) or never runs
-- (NOSCRIPT) leaves them held; hold_release.lua then puts them back. Sent
-- whole with EVAL, without lib.lua.
-- KEYS[1..4] histid, histr, histbt, histbl   KEYS[5..8] their holding keys
for j = 1, 4 do
  if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('RENAME', KEYS[j], KEYS[j + 4]) end
  redis.call('SET', KEYS[j], 'held')
end
return 1
