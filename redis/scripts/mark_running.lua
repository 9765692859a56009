-- mark_running.lua moves a dispatched job at the given attempt to running (J5).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] job id   ARGV[2] attempt (19 digits)   ARGV[3] worker id ('' keeps)   ARGV[4] now (T)
-- Returns the job record; ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local id = ARGV[1]
local r = load(B, id)
if not r then return err('NOTFOUND', 'job') end
if byte(r, R_ST) ~= C_DISPATCHED or not has(r, R_AT, ARGV[2]) then
  return err('CONFLICT', 'job is not dispatched at that attempt')
end
toRunning(B, id, r, ARGV[4], ARGV[3])
flush(B)
return B.raw[id]
