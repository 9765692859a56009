-- log_append.lua stores log entries, all or none, in the order given (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: triples of job id, T(timestamp) id, and the entry's JSON object
-- (codec.go logRec without s); the script numbers the entries in order and
-- adds "s" (the sequence, 19 digits) to each object.
-- Returns the number stored; ORX_EXISTS for a duplicate id (nothing stored).
local K = jobkeys()
local n = #ARGV / 3
local ids, seen = {}, {}
for i = 1, n do
  local id = sub(ARGV[3 * i - 1], 20)
  if seen[id] then return err('EXISTS', 'log entry id') end
  seen[id] = true
  ids[i] = id
end
local stored = hmget(K.logs, ids)
for i = 1, n do
  if stored[i] then return err('EXISTS', 'log entry id') end
end
local first = redis.call('INCRBY', K.logseq, n) - n
local rows, byjob, bytime = {}, {}, {}
for i = 1, n do
  local s, tsid, raw = string.format('%019d', first + i), ARGV[3 * i - 1], ARGV[3 * i]
  rows[2 * i - 1], rows[2 * i] = ids[i], sub(raw, 1, -2) .. ',"s":"' .. s .. '"}'
  byjob[2 * i - 1], byjob[2 * i] = '0', ARGV[3 * i - 2] .. s .. tsid
  bytime[2 * i - 1], bytime[2 * i] = '0', tsid
end
callAll('HSET', K.logs, rows, 2)
callAll('ZADD', K.logj, byjob, 2)
callAll('ZADD', K.logt, bytime, 2)
return n
