-- mark_running.lua moves a dispatched job at the given attempt to running (J5).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] job id   ARGV[2] attempt   ARGV[3] worker id ('' keeps)   ARGV[4] now (T)
-- Returns the job JSON; ORX_NOTFOUND or ORX_CONFLICT.
local K = jobkeys()
local B = batch(K, watermark(K))
local j = load(B, ARGV[1])
if not j then return err('NOTFOUND', 'job') end
if j.st ~= 'dispatched' or j.at ~= ARGV[2] then return err('CONFLICT', 'job is not dispatched at that attempt') end
j.st = 'running'
j.ta = ARGV[4]
if ARGV[3] ~= '' then j.w = ARGV[3] end
local raw = put(B, j)
flush(B)
return raw
