-- query_round.lua reads one round of Query (jobs.go, J10): from every range
-- below, the members whose tail T(created) id lies between lo and hi, at
-- most count of each. The ranges are bystatus under each prefix given and,
-- when pending jobs are wanted, readyq under each (queue, priority) group
-- found there: a pending job without a ScheduledAt has no bystatus member
-- (lib.lua's entries). The groups are found by skip scan, one ZRANGEBYLEX
-- each, so a round costs a read per group. One script, so a job that moves
-- from readyq to bystatus (Dispatch) is read once or twice, never missed.
-- KEYS[1] bystatus   KEYS[2] readyq
-- ARGV[1] '[' (lo inclusive) or '('   ARGV[2] lo   ARGV[3] hi (exclusive)
-- ARGV[4] count   ARGV[5] n   ARGV[6..5+n] bystatus prefixes ('live:' ...)
-- ARGV[6+n] '1': read readyq   ARGV[7+n..] lp(queue) of the queues to read
-- there (none: every queue)
-- Returns, range by range, the prefix's length, the number of members read
-- and the members.
local open, lo, hi, count, n = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
local function range(key, prefix)
  local ms = redis.call('ZRANGEBYLEX', key, open .. prefix .. lo, '(' .. prefix .. hi, 'LIMIT', 0, count)
  out[#out + 1] = #prefix
  out[#out + 1] = #ms
  for i = 1, #ms do out[#out + 1] = ms[i] end
end
for i = 6, 5 + n do range(KEYS[1], ARGV[i]) end
if ARGV[6 + n] ~= '1' then return out end
-- groups reads every group of readyq between min and max: a member is
-- lp(queue) pr T id, so its first 3 + #queue + 16 bytes name its group,
-- and the next group starts after that prefix and '\255'.
local function groups(min, max)
  while true do
    local m = redis.call('ZRANGEBYLEX', KEYS[2], min, max, 'LIMIT', 0, 1)[1]
    if not m then return end
    local g = sub(m, 1, 19 + len3(m, 1))
    range(KEYS[2], g)
    min = '(' .. g .. '\255'
  end
end
if #ARGV == 6 + n then
  groups('-', '+')
else
  for i = 7 + n, #ARGV do groups('[' .. ARGV[i], '(' .. ARGV[i] .. '\255') end
end
return out
