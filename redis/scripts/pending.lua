-- pending.lua returns up to limit due pending jobs in Pending order (J3). It
-- promotes scheduled jobs due at now first (a change of representation only).
-- KEYS: the job family (lib.lua, 1..26)
-- ARGV[1] now (T)   ARGV[2] now+1µs (T)   ARGV[3] limit
-- Returns job records, in order.
local K = jobkeys()
local now, limit = ARGV[1], tonumber(ARGV[3])
promote(K, ARGV[2])
local M = merge(K, nil, limit)
local out = {}
while #out < limit do
  local _, ids = take(M, limit - #out)
  if #ids == 0 then break end
  for _, r in ipairs(hmget(K.jobs, ids)) do
    if r and byte(r, R_ST) == C_PENDING and due(r, now) then out[#out + 1] = r end
  end
end
return out
