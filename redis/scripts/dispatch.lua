-- dispatch.lua moves up to limit due pending jobs, in Pending order
-- (priority desc, created asc, id asc), to dispatched and returns them (J4).
-- It first promotes scheduled jobs that became due at now.
-- KEYS: the job family (lib.lua, 1..24)
-- ARGV[1] now (T)   ARGV[2] now+1µs (T)   ARGV[3] limit
-- ARGV[4] worker id ('' for none)   ARGV[5..] queues (none: every queue)
-- Returns the dispatched jobs' records, in order.
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
local byQueue = #ARGV >= 5

-- head returns the source's next member and that member without its
-- prefix (a ready member), or nil.
local function head(q)
  if q.pos > #q.buf then
    if q.done then return nil end
    q.buf = redis.call('ZRANGEBYLEX', q.key, q.min, q.max, 'LIMIT', q.off, chunk)
    q.off, q.pos = q.off + #q.buf, 1
    if #q.buf < chunk then q.done = true end
    if #q.buf == 0 then return nil end
  end
  local m = q.buf[q.pos]
  if q.p == '' then return m, m end
  return m, sub(m, #q.p + 1)
end

-- candidates returns the next n members in Pending order (a k-way merge of
-- the sources), their ready members and their job ids.
local function candidates(n)
  local ms, rms, ids = {}, {}, {}
  for i = 1, n do
    local best, bm, bq = nil, nil, nil
    for _, q in ipairs(srcs) do
      local m, h = head(q)
      if h and (not best or h < best) then best, bm, bq = h, m, q end
    end
    if not best then break end
    bq.pos = bq.pos + 1
    ms[i], rms[i], ids[i] = bm, best, sub(best, -36)
  end
  return ms, rms, ids
end

local lw = worker ~= '' and lp(worker)
local out = {}
while #out < limit do
  local ms, rms, ids = candidates(limit - #out)
  if #ids == 0 then break end
  prefetch(B, ids)
  for i, id in ipairs(ids) do
    local r = load(B, id)
    -- A ready job may be scheduled after now when a caller with a later
    -- clock promoted it; it is skipped, not taken.
    if r and byte(r, R_ST) == C_PENDING and due(r, now) then
      -- dispatched: attempt + 1, DispatchedAt now, the worker if one is given
      local pw, nw = wspan(r)
      local nr = 'd' .. string.format('%019.0f', tonumber(at(r, R_AT)) + 1) .. now
      if lw then
        nr = nr .. sub(r, R_TA, pw - 1) .. lw .. sub(r, pw + 3 + nw)
      else
        nr = nr .. sub(r, R_TA)
      end
      touch(B, id, nr)
      out[#out + 1] = nr
      local rm = rms[i]
      zrem(B, 'ready', rm)
      zrem(B, 'readyq', byQueue and ms[i] or sub(r, R_VAR, pw - 1) .. rm)
      local cai = sub(rm, 17)
      zrem(B, 'bystatus', 'pending:' .. cai)
      zadd(B, 'bystatus', 'inflight:' .. cai)
      if not has(r, R_SA, ZERO) then zrem(B, 'sched', at(r, R_SA) .. id) end
      zadd(B, 'disp', now .. id)
      if lw then
        zadd(B, 'wjobs', lw .. id)
      elseif nw > 0 then
        zadd(B, 'wjobs', sub(r, pw, pw + 2 + nw) .. id)
      end
    end
  end
end
flush(B)
return out
