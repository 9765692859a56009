-- cancel.lua moves a non-terminal job to cancelled.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] job id   ARGV[2] now (T)
-- Returns 'OK'; ORX_NOTFOUND or ORX_CONFLICT (already terminal).
local K = jobkeys()
local B = batch(K, watermark(K))
local j = load(B, ARGV[1])
if not j then return err('NOTFOUND', 'job') end
if TERMINAL[j.st] then return err('CONFLICT', 'job is already terminal') end
j.st = 'cancelled'
j.co = ARGV[2]
put(B, j)
flush(B)
return 'OK'
