-- purge_jobs.lua deletes up to limit terminal jobs completed before the
-- cut-off (J9) and records their ids in orphans, so purge_orphans.lua deletes
-- their history and logs in bounded steps; a crash in between leaves the
-- work recorded, never lost.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] cut-off (T, exclusive)   ARGV[2] limit
-- Returns how many jobs it deleted.
local K = jobkeys()
local ms = redis.call('ZRANGEBYLEX', K.done, '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local B = batch(K, watermark(K))
local ids = {}
for i, m in ipairs(ms) do ids[i] = sub(m, 20) end
prefetch(B, ids)
local gone, orphans = {}, {}
for i, id in ipairs(ids) do
  if load(B, id) then
    delete(B, id)
    orphans[#orphans + 1] = id
  else
    gone[#gone + 1] = ms[i]
  end
end
flush(B)
callAll('ZREM', K.done, gone, 1)
callAll('SADD', K.orphans, orphans, 1)
return #orphans
