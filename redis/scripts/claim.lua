-- claim.lua sets the follower of a job that has none (J6).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] job id   ARGV[2] node id
-- Returns 'OK' (also when the node already owns it); ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local id = ARGV[1]
local r = load(B, id)
if not r then return err('NOTFOUND', 'job') end
local f = field(r, F_F)
if f == ARGV[2] then return 'OK' end
if f ~= '' then return err('CONFLICT', 'job has another follower') end
put(B, id, setField(r, F_F, ARGV[2]))
flush(B)
return 'OK'
