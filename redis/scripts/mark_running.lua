-- mark_running.lua moves a dispatched job at the given attempt to running (J5).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] job id   ARGV[2] attempt (19 digits)   ARGV[3] worker id ('' keeps)   ARGV[4] now (T)
-- Returns the job record; ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local code = markRunning(B, {ARGV[1]}, {ARGV[2]}, ARGV[4], ARGV[3])[2]
if code == 'NOTFOUND' then return err('NOTFOUND', 'job') end
if code == 'CONFLICT' then return err('CONFLICT', 'job is not dispatched at that attempt') end
flush(B)
return B.raw[ARGV[1]]
