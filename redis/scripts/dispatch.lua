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
local nsrc, byQueue = #srcs, #ARGV >= 5

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
  if nsrc == 1 then
    local q = srcs[1]
    local np = #q.p + 1
    for i = 1, n do
      if q.pos > #q.buf and not head(q) then break end
      local m = q.buf[q.pos]
      q.pos = q.pos + 1
      ms[i], rms[i], ids[i] = m, np > 1 and sub(m, np) or m, sub(m, -36)
    end
    return ms, rms, ids
  end
  for i = 1, n do
    local best, bm, bq = nil, nil, nil
    for k = 1, nsrc do
      local q = srcs[k]
      local m, h = head(q)
      if h and (not best or h < best) then best, bm, bq = h, m, q end
    end
    if not best then break end
    bq.pos = bq.pos + 1
    ms[i], rms[i], ids[i] = bm, best, sub(best, -36)
  end
  return ms, rms, ids
end

-- Pending -> dispatched: attempt + 1, DispatchedAt now, the worker if one is
-- given; out of ready, readyq, sched, into disp and wjobs, bystatus pending
-- -> inflight (the hot path of lib.lua: no flush between jobs).
local lw = worker ~= '' and lp(worker)
local DIGITS = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}
local raw, hset = B.raw, B.hset
local ready, readyq, sched, brem = B.zrem.ready, B.zrem.readyq, B.zrem.sched, B.zrem.bystatus
local badd, disp, wjobs = B.zadd.bystatus, B.zadd.disp, B.zadd.wjobs
local nh, nr, nq, ns, nbr, nba, nd, nw_ = 0, 0, 0, 0, 0, 0, 0, 0
local out, n = {}, 0
while n < limit do
  local ms, rms, ids = candidates(limit - n)
  if #ids == 0 then break end
  prefetch(B, ids)
  for i = 1, #ids do
    local id = ids[i]
    local r = raw[id]
    -- A ready job may be scheduled after now when a caller with a later
    -- clock promoted it; it is skipped, not taken.
    local due = r and byte(r, R_ST) == C_PENDING
    local sa = due and find(r, ZERO, R_SA, true) ~= R_SA and sub(r, R_SA, R_SA + 18)
    if due and (not sa or sa <= now) then
      local a, b, c = byte(r, R_VAR, R_VAR + 2)
      local pw = R_VAR + 3 + a * 100 + b * 10 + c - 5328
      a, b, c = byte(r, pw, pw + 2)
      local nw = a * 100 + b * 10 + c - 5328
      -- attempt + 1: unless it ends in 9, only its last digit changes
      local last, attempt = byte(r, R_AT + 18), nil
      if last < 57 then
        attempt = sub(r, R_AT, R_AT + 17) .. DIGITS[last - 46]
      else
        attempt = string.format('%019.0f', tonumber(sub(r, R_AT, R_AT + 18)) + 1)
      end
      local x
      if lw then
        x = 'd' .. attempt .. now .. sub(r, R_TA, pw - 1) .. lw .. sub(r, pw + 3 + nw)
      else
        x = 'd' .. attempt .. now .. sub(r, R_TA)
      end
      raw[id] = x
      n = n + 1
      out[n] = x
      hset[nh + 1], hset[nh + 2] = id, x
      nh = nh + 2
      local rm = rms[i]
      nr = nr + 1
      ready[nr] = rm
      nq = nq + 1
      readyq[nq] = byQueue and ms[i] or sub(r, R_VAR, pw - 1) .. rm
      if sa then
        ns = ns + 1
        sched[ns] = sa .. id
      end
      local cai = sub(rm, 17)
      nbr = nbr + 1
      brem[nbr] = 'pending:' .. cai
      badd[nba + 1], badd[nba + 2] = '0', 'inflight:' .. cai
      nba = nba + 2
      disp[nd + 1], disp[nd + 2] = '0', now .. id
      nd = nd + 2
      if lw or nw > 0 then
        wjobs[nw_ + 1], wjobs[nw_ + 2] = '0', (lw or sub(r, pw, pw + 2 + nw)) .. id
        nw_ = nw_ + 2
      end
    end
  end
end
flush(B)
return out
