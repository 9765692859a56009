-- cancel.lua moves a non-terminal job to cancelled.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] job id   ARGV[2] now (T)
-- Returns 'OK'; ORX_NOTFOUND or ORX_CONFLICT (already terminal).
local K = jobkeys()
local B = batch(K, watermark(K))
local id = ARGV[1]
local r = load(B, id)
if not r then return err('NOTFOUND', 'job') end
if TERMINAL[status(r)] then return err('CONFLICT', 'job is already terminal') end
put(B, id, restate(r, 'x', R_CO, ARGV[2]))
flush(B)
return 'OK'
