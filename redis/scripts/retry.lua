-- retry.lua sends in-flight jobs back to pending with a retry spent, or to
-- timed_out, each only if it is still in the status and attempt the caller
-- read: Retry and Recover (J7, J8). The caller computed the backoff from the
-- RetryCount it read, which cannot change while status and attempt hold.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] now (T)
-- ARGV[2..] groups of 6: job id, expected status, expected attempt,
--   expected retry count, action, value
--   action 'retry':    RetryCount+1, ScheduledAt = value (T), LastError, worker cleared
--   action 'requeue':  back to pending, worker cleared, no retry spent
--   action 'timeout':  timed_out, CompletedAt = now, LastError
--   value for retry/timeout is "T<19 digits><last error>" / the last error
-- Returns one entry per group: the job JSON, or false when the job moved on.
local K = jobkeys()
local now = ARGV[1]
local B = batch(K, watermark(K))
local ids = {}
for i = 2, #ARGV, 6 do ids[#ids + 1] = ARGV[i] end
prefetch(B, ids)
local out = {}
for i = 2, #ARGV, 6 do
  local j = load(B, ARGV[i])
  local res = false
  if j and j.st == ARGV[i + 1] and j.at == ARGV[i + 2] and (j.rc or '0') == ARGV[i + 3] then
    local action, value = ARGV[i + 4], ARGV[i + 5]
    if action == 'retry' then
      j.st = 'pending'
      j.rc = incr(j.rc, 1)
      j.sa = string.sub(value, 1, 19)
      j.le = string.sub(value, 20)
      j.w = nil
    elseif action == 'requeue' then
      j.st = 'pending'
      j.w = nil
    else
      j.st = 'timed_out'
      j.co = now
      j.le = value
    end
    res = put(B, j)
  end
  out[#out + 1] = res
end
flush(B)
return out
