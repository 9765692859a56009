-- log_append.lua stores log entries, all or none, in the order given (L1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: triples of job id, T(timestamp) id, and the entry's JSON object
-- (codec.go logRec); the script numbers the entries in order and stores each
-- as its sequence (19 digits) followed by the JSON.
-- Returns the number stored; ORX_EXISTS for a duplicate id (nothing stored).
local K = jobkeys()
local n = #ARGV / 3
local ids = {}
for i = 1, n do ids[i] = sub(ARGV[3 * i - 1], 20) end
local stored = hmget(K.logs, ids)
for i = 1, n do
  if stored[i] then return err('EXISTS', 'log entry id') end
end
local first = redis.call('INCRBY', K.logseq, n) - n
local rows, byjob, bytime = {}, {}, {}
for i = 1, n do
  local s, tsid = string.format('%019d', first + i), ARGV[3 * i - 1]
  rows[2 * i - 1], rows[2 * i] = ids[i], s .. ARGV[3 * i]
  byjob[2 * i - 1], byjob[2 * i] = '0', ARGV[3 * i - 2] .. s .. tsid
  bytime[2 * i - 1], bytime[2 * i] = '0', tsid
end
-- An id given twice counts once in HSET's new fields; none was stored
-- before, so deleting them all undoes it (and the sequence numbers it took
-- are only skipped).
if hsetNew(K.logs, rows) ~= n then
  callAll('HDEL', K.logs, ids, 1)
  return err('EXISTS', 'log entry id')
end
callAll('ZADD', K.logj, byjob, 2)
callAll('ZADD', K.logt, bytime, 2)
return n
