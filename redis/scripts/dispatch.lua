-- dispatch.lua moves up to limit due pending jobs, in Pending order
-- (priority desc, created asc, id asc), to dispatched and returns them (J4).
-- It first promotes scheduled jobs that became due at now.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] now (T)   ARGV[2] now+1µs (T)   ARGV[3] limit
-- ARGV[4] worker id ('' for none)   ARGV[5..] queues (none: every queue)
-- Returns the dispatched jobs' JSON, in order.
local K = jobkeys()
local now, limit, worker = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local B = batch(K, promote(K, ARGV[2]))
local chunk = limit + 16

-- Each source is one ordered range of ready members: all of ready, or one
-- queue's part of readyq (p is its lp(queue) prefix). Nothing is written
-- before the end, so offsets into the ranges stay valid.
local srcs = {}
if #ARGV < 5 then
  srcs[1] = {key = K.ready, p = '', min = '-', max = '+', buf = {}, pos = 1, off = 0, done = false}
else
  for i = 5, #ARGV do
    local p = lp(ARGV[i])
    srcs[#srcs + 1] = {key = K.readyq, p = p, min = '[' .. p, max = '(' .. p .. '\255', buf = {}, pos = 1, off = 0, done = false}
  end
end

-- head returns the source's next member without its prefix, or nil.
local function head(q)
  if q.pos > #q.buf then
    if q.done then return nil end
    q.buf = redis.call('ZRANGEBYLEX', q.key, q.min, q.max, 'LIMIT', q.off, chunk)
    q.off, q.pos = q.off + #q.buf, 1
    if #q.buf < chunk then q.done = true end
    if #q.buf == 0 then return nil end
  end
  if q.p == '' then return q.buf[q.pos] end
  return string.sub(q.buf[q.pos], #q.p + 1)
end

-- candidates returns the ids of the next n members in Pending order: a
-- k-way merge of the sources.
local function candidates(n)
  local ids = {}
  while #ids < n do
    local best, bq = nil, nil
    for _, q in ipairs(srcs) do
      local h = head(q)
      if h and (not best or h < best) then best, bq = h, q end
    end
    if not best then break end
    bq.pos = bq.pos + 1
    ids[#ids + 1] = string.sub(best, -36)
  end
  return ids
end

-- A ready job may be scheduled after now when a caller with a later clock
-- promoted it; it is skipped, not taken.
local out = {}
while #out < limit do
  local ids = candidates(limit - #out)
  if #ids == 0 then break end
  prefetch(B, ids)
  for _, id in ipairs(ids) do
    local j = load(B, id)
    if j and j.st == 'pending' and due(j, now) then
      j.st = 'dispatched'
      j.da = now
      j.at = incr(j.at, 1)
      if worker ~= '' then j.w = worker end
      out[#out + 1] = put(B, j)
    end
  end
end
flush(B)
return out
