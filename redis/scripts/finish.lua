-- finish.lua moves in-flight jobs at their attempts to a terminal status:
-- Complete, CompleteMany, Fail and TimeOut (J5).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] status   ARGV[2] now (T)   ARGV[3] '' keeps LastError, '=' .. text sets it to text
-- ARGV[4..] pairs of job id, attempt (19 digits)
-- Returns the pairs it did not move: place (1-based) and 'NOTFOUND' or
-- 'CONFLICT', flat (lib.lua, finishAll); empty when all moved.
local K = jobkeys()
local msg = nil
if ARGV[3] ~= '' then msg = sub(ARGV[3], 2) end
local B = batch(K, watermark(K))
local ids, ats = {}, {}
for i = 4, #ARGV, 2 do
  local k = (i - 2) / 2
  ids[k], ats[k] = ARGV[i], ARGV[i + 1]
end
local out = finishAll(B, ids, ats, CODE[ARGV[1]], ARGV[2], msg)
flush(B)
return out
