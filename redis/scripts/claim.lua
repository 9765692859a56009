-- claim.lua sets the follower of a job that has none (J6).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] job id   ARGV[2] node id
-- Returns 'OK' (also when the node already owns it); ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local j = load(B, ARGV[1])
if not j then return err('NOTFOUND', 'job') end
if j.f == ARGV[2] then return 'OK' end
if j.f then return err('CONFLICT', 'job has another follower') end
j.f = ARGV[2]
put(B, j)
flush(B)
return 'OK'
