-- mark_running_many.lua moves dispatched jobs at their attempts to running:
-- MarkRunningMany (J5).
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] worker id ('' keeps)   ARGV[2] now (T)
-- ARGV[3..] pairs of job id, attempt (19 digits)
-- Returns one code per pair: 'OK', 'NOTFOUND' or 'CONFLICT'.
local K = jobkeys()
local worker, now = ARGV[1], ARGV[2]
local B = batch(K, watermark(K))
local ids = {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
prefetch(B, ids)
local out = {}
for i, id in ipairs(ids) do
  local r = load(B, id)
  if not r then
    out[i] = 'NOTFOUND'
  elseif byte(r, R_ST) ~= C_DISPATCHED or not has(r, R_AT, ARGV[2 + 2 * i]) then
    out[i] = 'CONFLICT'
  else
    toRunning(B, id, r, now, worker)
    out[i] = 'OK'
  end
end
flush(B)
return out
