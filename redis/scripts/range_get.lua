-- range_get.lua reads one page of an index and the records it names, in one
-- consistent step. The record id is the last idlen bytes of each member.
-- KEYS[1] index ZSET   KEYS[2] record HASH
-- ARGV[1] min   ARGV[2] max (ZRANGEBYLEX bounds, swapped when reverse)
-- ARGV[3] count   ARGV[4] '1' for reverse order   ARGV[5] idlen
-- Returns the records' JSON; members whose record is gone are skipped.
local rev = ARGV[4] == '1'
local cmd = rev and 'ZREVRANGEBYLEX' or 'ZRANGEBYLEX'
local ms = redis.call(cmd, KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local idlen = tonumber(ARGV[5])
local out = {}
for _, m in ipairs(ms) do
  local raw = redis.call('HGET', KEYS[2], string.sub(m, -idlen))
  if raw then out[#out + 1] = raw end
end
return out
