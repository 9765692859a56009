-- release.lua clears the follower of up to batch jobs a node owns (J6). The
-- caller repeats it until it returns fewer than batch.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] node id   ARGV[2] batch
-- Returns how many jobs it released.
local K = jobkeys()
local p = lp(ARGV[1])
local ms = redis.call('ZRANGEBYLEX', K.fol, '[' .. p, '(' .. p .. '\255', 'LIMIT', 0, tonumber(ARGV[2]))
local B = batch(K, watermark(K))
local ids = {}
for i, m in ipairs(ms) do ids[i] = sub(m, -36) end
prefetch(B, ids)
local gone = {}
for i, id in ipairs(ids) do
  local r = load(B, id)
  if r then
    put(B, id, setField(r, F_F, ''))
  else
    gone[#gone + 1] = ms[i]
  end
end
flush(B)
callAll('ZREM', K.fol, gone, 1)
return #ms
