-- release.lua clears the follower of up to batch jobs a node owns (J6). The
-- caller repeats it until it returns fewer than batch.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] node id   ARGV[2] batch
-- Returns how many jobs it released.
local K = jobkeys()
local p = lp(ARGV[1])
local ms = redis.call('ZRANGEBYLEX', K.fol, '[' .. p, '(' .. p .. '\255', 'LIMIT', 0, tonumber(ARGV[2]))
local wm = watermark(K)
for _, m in ipairs(ms) do
  local j = loadJob(K, string.sub(m, -36))
  if j then
    unindex(K, j)
    j.f = nil
    index(K, j, wm)
    save(K, j)
  else
    redis.call('ZREM', K.fol, m)
  end
end
return #ms
