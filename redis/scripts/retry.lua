-- retry.lua sends in-flight jobs back to pending with a retry spent, or to
-- timed_out, each only if it is still in the status and attempt the caller
-- read: Retry and Recover (J7, J8). The caller computed the backoff from the
-- RetryCount it read, which cannot change while status and attempt hold.
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] now (T)
-- ARGV[2..] groups of 6: job id, expected status, expected attempt (19
--   digits), expected retry count ('' for 0), action, value
--   action 'retry':    RetryCount+1, ScheduledAt = value (T), LastError, worker cleared
--   action 'requeue':  back to pending, worker cleared, no retry spent
--   action 'timeout':  timed_out, CompletedAt = now, LastError
--   value for retry/timeout is "T<19 digits><last error>" / the last error
-- Returns one entry per group: the job record, or false when the job moved on.
local K = jobkeys()
local now = ARGV[1]
local B = batch(K, watermark(K))
local ids = {}
for i = 2, #ARGV, 6 do ids[#ids + 1] = ARGV[i] end
prefetch(B, ids)
local out = {}
for i = 2, #ARGV, 6 do
  local id = ARGV[i]
  local r = load(B, id)
  local res = false
  if r and status(r) == ARGV[i + 1] and has(r, R_AT, ARGV[i + 2]) and field(r, F_RC) == ARGV[i + 3] then
    local action, value = ARGV[i + 4], ARGV[i + 5]
    if action == 'retry' then
      local rc = field(r, F_RC)
      r = 'p' .. sub(r, R_AT, R_SA - 1) .. sub(value, 1, 19) .. sub(r, R_TO)
      r = setField(setField(r, F_RC, incr(rc == '' and '0' or rc, 1)), F_LE, sub(value, 20))
      r = setField(r, F_W, '')
    elseif action == 'requeue' then
      r = setField('p' .. sub(r, R_AT), F_W, '')
    else
      r = setField(restate(r, 't', R_CO, now), F_LE, value)
    end
    res = put(B, id, r)
  end
  out[#out + 1] = res
end
flush(B)
return out
