-- mark_running_many.lua moves dispatched jobs at their attempts to running:
-- MarkRunningMany (J5).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] worker id ('' keeps)   ARGV[2] now (T)
-- ARGV[3..] pairs of job id, attempt
-- Returns one code per pair: 'OK', 'NOTFOUND' or 'CONFLICT'.
local K = jobkeys()
local worker, now = ARGV[1], ARGV[2]
local out, wm = {}, watermark(K)
for i = 3, #ARGV, 2 do
  local j = loadJob(K, ARGV[i])
  if not j then
    out[#out + 1] = 'NOTFOUND'
  elseif j.st ~= 'dispatched' or j.at ~= ARGV[i + 1] then
    out[#out + 1] = 'CONFLICT'
  else
    unindex(K, j)
    j.st = 'running'
    j.ta = now
    if worker ~= '' then j.w = worker end
    index(K, j, wm)
    save(K, j)
    out[#out + 1] = 'OK'
  end
end
return out
