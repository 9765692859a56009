-- query_round.lua reads one round of Query (jobs.go, J10): from every
-- source below, the first count members whose tail T(created) id lies
-- between lo and hi. The sources are bystatus under each prefix given and,
-- when pending jobs are wanted, readyq: a pending job without a ScheduledAt
-- has no bystatus member (lib.lua's entries). readyq is one source: its
-- (queue, priority) groups, each a range ordered by that tail, are found by
-- skip scan (one ZRANGEBYLEX each) and merged here in a heap (lib.lua's
-- sift), each read a few members at a time, so a round reads about count
-- members however many groups there are. One script, so a job that moves
-- from readyq to bystatus (Dispatch) is read once or twice, never missed.
-- KEYS[1] bystatus   KEYS[2] readyq
-- ARGV[1] '[' (lo inclusive) or '('   ARGV[2] lo   ARGV[3] hi (exclusive)
-- ARGV[4] count   ARGV[5] n   ARGV[6..5+n] bystatus prefixes ('live:' ...)
-- ARGV[6+n] '1': read readyq   ARGV[7+n..] lp(queue) of the queues to read
-- there (none: every queue)
-- Returns, source by source, the length of the prefix its members carry
-- before the tail (0 for readyq, whose tails come alone), the number of
-- members and the members.
local open, lo, hi, count, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
local function emit(plen, ms)
  out[#out + 1] = plen
  out[#out + 1] = #ms
  for i = 1, #ms do out[#out + 1] = ms[i] end
end
for i = 6, 5 + n do
  local p = ARGV[i]
  emit(#p, redis.call('ZRANGEBYLEX', KEYS[1], open .. p .. lo, '(' .. p .. hi, 'LIMIT', 0, count))
end
if ARGV[6 + n] ~= '1' then return out end

-- The groups between min and max: a member is lp(queue) pr T id, so its
-- first 3 + #queue + 16 bytes name its group, and the next group starts
-- after that prefix and '\255'.
local groups = {}
local function scan(min, max)
  while true do
    local m = redis.call('ZRANGEBYLEX', KEYS[2], min, max, 'LIMIT', 0, 1)[1]
    if not m then return end
    local g = sub(m, 1, 19 + len3(m, 1))
    groups[#groups + 1] = g
    min = '(' .. g .. '\255'
  end
end
if #ARGV == 6 + n then
  scan('-', '+')
else
  for i = 7 + n, #ARGV do scan('[' .. ARGV[i], '(' .. ARGV[i] .. '\255') end
end

local H, nh = {}, 0
local first = math.max(2, math.ceil(count / math.max(#groups, 1)))
for _, g in ipairs(groups) do
  local q = {np = #g + 1, min = open .. g .. lo, max = '(' .. g .. hi, size = first}
  q.buf = redis.call('ZRANGEBYLEX', KEYS[2], q.min, q.max, 'LIMIT', 0, first)
  q.len, q.pos, q.off, q.done = #q.buf, 1, #q.buf, #q.buf < first
  if q.len > 0 then
    q.h = sub(q.buf[1], q.np)
    nh = nh + 1
    H[nh] = q
  end
end
for j = math.floor(nh / 2), 1, -1 do sift(H, j, nh) end
local tails = {}
while #tails < count and nh > 0 do
  local q = H[1]
  tails[#tails + 1] = q.h
  q.pos = q.pos + 1
  if q.pos > q.len and not q.done then
    q.size = math.min(q.size * 2, count)
    q.buf = redis.call('ZRANGEBYLEX', KEYS[2], q.min, q.max, 'LIMIT', q.off, q.size)
    q.len, q.pos, q.off = #q.buf, 1, q.off + #q.buf
    q.done = q.len < q.size
  end
  if q.pos > q.len then
    -- drained: the last source takes its place
    H[1] = H[nh]
    H[nh] = nil
    nh = nh - 1
  else
    q.h = sub(q.buf[q.pos], q.np)
  end
  if nh > 1 then sift(H, 1, nh) end
end
emit(0, tails)
return out
