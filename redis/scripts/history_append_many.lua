-- history_append_many.lua stores job attempts, all or none (L1):
-- History().Append and AppendMany.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: triples of histj member (jobID attempt(19) T(started) id), histc
-- member (T(completed) id, '' when not completed) and the row's JSON (codec.go
-- historyRec); the id is the last 36 bytes of the histj member.
-- Returns the number stored, or ORX_EXISTS when an id is stored or given
-- twice (then nothing is stored).
local K = jobkeys()
local n = #ARGV / 3
local ids = {}
for i = 1, n do ids[i] = sub(ARGV[3 * i - 2], -36) end
local stored = hmget(K.hist, ids)
local rows, byjob, bydone, nd = {}, {}, {}, 0
for i = 1, n do
  if stored[i] then return err('EXISTS', 'history id') end
  rows[2 * i - 1], rows[2 * i] = ids[i], ARGV[3 * i]
  byjob[2 * i - 1], byjob[2 * i] = '0', ARGV[3 * i - 2]
  local c = ARGV[3 * i - 1]
  if c ~= '' then
    bydone[nd + 1], bydone[nd + 2] = '0', c
    nd = nd + 2
  end
end
-- An id given twice counts once in HSET's new fields; none was stored
-- before, so deleting them all undoes it.
if hsetNew(K.hist, rows) ~= n then
  callAll('HDEL', K.hist, ids, 1)
  return err('EXISTS', 'history id')
end
callAll('ZADD', K.histj, byjob, 2)
callAll('ZADD', K.histc, bydone, 2)
return n
