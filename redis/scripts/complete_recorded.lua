-- complete_recorded.lua is CompleteRecorded (J5, L1): a batch's log lines as
-- log_append.lua stores them, its history rows, then its completions as
-- finish.lua makes them. Every record id is checked before anything is
-- written, so a stored id or one given twice stores nothing and completes
-- nothing. Two modes (ARGV[5]):
--   held  history_hold.lua has moved the history keys to their holding keys
--         (KEYS[27..30]); the script checks the rows there and, when every
--         check passes, puts the keys back, so that the rows' native
--         commands after it in the transaction go through (jobs.go,
--         completeHeld). The rows are not in ARGV.
--   rows  the script stores the rows itself, as history_append_many.lua
--         does: the path of a server without RENAME.
-- KEYS: the job family (lib.lua, 1..26), then the holding keys of histid,
-- histr, histbt, histbl (keys.go, hist)
-- ARGV[1] now (T)   ARGV[2] n refs   ARGV[3] m log lines   ARGV[4] h rows
-- ARGV[5] 'held' or 'rows'   ARGV[6..5+2n] pairs of job id, attempt (19 digits)
-- then the lines as log_append.lua takes them (from L = 6+2n): L the
-- locators, L+1.. m ids, m job ids, m rests
-- then the rows (from H = L+1+3m): H the batch, H+1 the locators, H+2.. h
-- ids (distinct in held mode: jobs.go checks), and in rows mode h members
-- Returns finish.lua's reply, or ORX_EXISTS.
local K = jobkeys()
local n, m, h = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local held = ARGV[5] == 'held'
local L = 6 + 2 * n
local H = L + 1 + 3 * m
if h > 0 then
  local ids, lists = K.histid, K.histbl
  if held then ids, lists = KEYS[27], KEYS[30] end
  if ARGV[H + 1] ~= '' and redis.call('HEXISTS', lists, ARGV[H]) == 1 then return err('EXISTS', 'history batch') end
  if held then
    for i = H + 2, H + 1 + h, CHUNK do
      for _, v in ipairs(redis.call('SMISMEMBER', ids, unpack(ARGV, i, math.min(i + CHUNK - 1, H + 1 + h)))) do
        if v == 1 then return err('EXISTS', 'history id') end
      end
    end
  end
end
if m > 0 then
  local e = newIDs(K.logid, L + 1, L + m, 'log entry id')
  if e then return e end
end
if h > 0 and not held then
  local e = newIDs(K.histid, H + 2, H + 1 + h, 'history id')
  if e then
    -- the log lines' ids were new: removing them undoes newIDs
    for i = L + 1, L + m, CHUNK do
      redis.call('SREM', K.logid, unpack(ARGV, i, math.min(i + CHUNK - 1, L + m)))
    end
    return e
  end
end
if held then
  for j = 0, 3 do
    redis.call('DEL', KEYS[17 + j])
    if redis.call('EXISTS', KEYS[27 + j]) == 1 then redis.call('RENAME', KEYS[27 + j], KEYS[17 + j]) end
  end
end
if m > 0 then storeLines(K, L, m) end
if h > 0 and not held then storeRows(K, H, h) end
local B = batch(K, watermark(K))
local ids, ats = {}, {}
for k = 1, n do
  ids[k], ats[k] = ARGV[4 + 2 * k], ARGV[5 + 2 * k]
end
local out = finishAll(B, ids, ats, CODE['completed'], ARGV[1], nil)
flush(B)
return out
