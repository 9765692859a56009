-- mark_running_many.lua moves dispatched jobs at their attempts to running:
-- MarkRunningMany (J5).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] worker id ('' keeps)   ARGV[2] now (T)
-- ARGV[3..] pairs of job id, attempt
-- Returns one code per pair: 'OK', 'NOTFOUND' or 'CONFLICT'.
local K = jobkeys()
local worker, now = ARGV[1], ARGV[2]
local B = batch(K, watermark(K))
local ids = {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
prefetch(B, ids)
local out = {}
for i = 3, #ARGV, 2 do
  local j = load(B, ARGV[i])
  if not j then
    out[#out + 1] = 'NOTFOUND'
  elseif j.st ~= 'dispatched' or j.at ~= ARGV[i + 1] then
    out[#out + 1] = 'CONFLICT'
  else
    j.st = 'running'
    j.ta = now
    if worker ~= '' then j.w = worker end
    put(B, j)
    out[#out + 1] = 'OK'
  end
end
flush(B)
return out
