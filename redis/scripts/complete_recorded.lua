-- complete_recorded.lua is CompleteRecorded (J5, L1) in one script: a
-- batch's log lines as log_append.lua stores them, its history rows as
-- history_append_many.lua does, then its completions as finish.lua. The
-- records' ids are checked before anything is written, so a stored id or
-- one given twice stores nothing and completes nothing.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] now (T)   ARGV[2] n refs   ARGV[3] m log lines   ARGV[4] h rows
-- ARGV[5..4+2n] pairs of job id, attempt (19 digits)
-- then the lines as log_append.lua takes them (from L = 5+2n): L the
-- locators, L+1.. m ids, m job ids, m rests
-- then the rows as history_append_many.lua takes them (from H = L+1+3m):
-- H the batch, H+1 the locators, H+2.. h ids, h members
-- Returns finish.lua's reply, or ORX_EXISTS.
local K = jobkeys()
local n, m, h = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local L = 5 + 2 * n
local H = L + 1 + 3 * m
if m > 0 then
  local e = newIDs(K.logid, L + 1, L + m, 'log entry id')
  if e then return e end
end
if h > 0 then
  local e
  if ARGV[H + 1] ~= '' and redis.call('HEXISTS', K.histbl, ARGV[H]) == 1 then
    e = err('EXISTS', 'history batch')
  else
    e = newIDs(K.histid, H + 2, H + 1 + h, 'history id')
  end
  if e then
    -- the log lines' ids were new: removing them undoes newIDs
    for i = L + 1, L + m, CHUNK do
      redis.call('SREM', K.logid, unpack(ARGV, i, math.min(i + CHUNK - 1, L + m)))
    end
    return e
  end
end
if m > 0 then
  local b = struct.pack('>I6', redis.call('INCR', K.logseq))
  local zs = {}
  for i = 1, m do
    zs[2 * i - 1], zs[2 * i] = '0', ARGV[L + m + i] .. b .. ARGV[L + 2 * m + i]
  end
  callAll('ZADD', K.logr, zs, 2)
  fileBatch(K.logbt, K.logbl, b, ARGV[L])
end
if h > 0 then
  local zs = {}
  for i = 1, h do
    zs[2 * i - 1], zs[2 * i] = '0', ARGV[H + 1 + h + i]
  end
  callAll('ZADD', K.histr, zs, 2)
  fileBatch(K.histbt, K.histbl, ARGV[H], ARGV[H + 1])
end
local B = batch(K, watermark(K))
local ids, ats = {}, {}
for k = 1, n do
  ids[k], ats[k] = ARGV[3 + 2 * k], ARGV[4 + 2 * k]
end
local out = finishAll(B, ids, ats, CODE['completed'], ARGV[1], nil)
flush(B)
return out
