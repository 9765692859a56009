-- enqueue.lua stores a batch of jobs, all or none (J1).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV: job records (codec.go), one per job
-- Returns the number stored, or ORX_EXISTS when an id, a live unique key or
-- a schedule tick is taken (then nothing is stored).
local K = jobkeys()
local n = #ARGV
local e = enqueuePlain(K, ARGV)
if e == true then return n end
if e then return e end
local B = batch(K, watermark(K))
e = enqueueAll(B, ARGV)
if e then return e end
flush(B)
return n
