-- dispatch.lua moves up to limit due pending jobs, in Pending order
-- (priority desc, created asc, id asc), to dispatched and returns them (J4).
-- It first promotes scheduled jobs that became due at now.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] now (T)   ARGV[2] now+1µs (T)   ARGV[3] limit
-- ARGV[4] worker id ('' for none)   ARGV[5..] queues (none: every queue)
-- Returns the dispatched jobs' JSON, in order.
local K = jobkeys()
local now, limit, worker = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local wm = promote(K, ARGV[2])
local picked = {}

-- A ready job may be scheduled after now when a caller with a later clock
-- promoted it; it is skipped, not taken.
local function consider(m)
  local j = loadJob(K, string.sub(m, -36))
  if j and j.st == 'pending' and due(j, now) then picked[#picked + 1] = j end
end

local chunk = limit + 16
if #ARGV < 5 then
  local off = 0
  while #picked < limit do
    local ms = redis.call('ZRANGEBYLEX', K.ready, '-', '+', 'LIMIT', off, chunk)
    if #ms == 0 then break end
    for _, m in ipairs(ms) do
      consider(m)
      if #picked == limit then break end
    end
    off = off + #ms
  end
else
  -- k-way merge of the queues' ranges of readyq, by the member after lp(queue).
  local qs = {}
  for i = 5, #ARGV do
    local p = lp(ARGV[i])
    qs[#qs + 1] = {p = p, min = '[' .. p, max = '(' .. p .. '\255', buf = {}, pos = 1, off = 0, done = false}
  end
  local function head(q)
    if q.pos > #q.buf then
      if q.done then return nil end
      q.buf = redis.call('ZRANGEBYLEX', K.readyq, q.min, q.max, 'LIMIT', q.off, chunk)
      q.off, q.pos = q.off + #q.buf, 1
      if #q.buf < chunk then q.done = true end
      if #q.buf == 0 then return nil end
    end
    return string.sub(q.buf[q.pos], #q.p + 1)
  end
  while #picked < limit do
    local best, bq = nil, nil
    for _, q in ipairs(qs) do
      local h = head(q)
      if h and (not best or h < best) then best, bq = h, q end
    end
    if not best then break end
    bq.pos = bq.pos + 1
    consider(best)
  end
end

local out = {}
for i, j in ipairs(picked) do
  unindex(K, j)
  j.st = 'dispatched'
  j.da = now
  j.at = incr(j.at, 1)
  if worker ~= '' then j.w = worker end
  index(K, j, wm)
  out[i] = save(K, j)
end
return out
