-- enqueue.lua stores a batch of jobs, all or none (J1). A batch of plain
-- pending jobs takes jobs.go's enqueuePlain instead.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV: job records (codec.go), one per job
-- Returns the number stored, or ORX_EXISTS when an id, a live unique key or
-- a schedule tick is taken (then nothing is stored).
local K = jobkeys()
local n = #ARGV
local B = batch(K, watermark(K))
local e = enqueueAll(B, ARGV)
if e then return e end
flush(B)
return n
